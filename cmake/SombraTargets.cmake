# sombra_add_layer(NAME SOURCES... DEPS ...): one static library per layer folder.
# Public headers live in include/; layer-internal headers are included as
# "<layer>/<file>.h" relative to lib/.
# -Wno-restrict: GCC 12 reports false -Wrestrict positives inside
# std::string concatenation at -O2 (GCC bug 105329).
set(SOMBRA_WARNINGS -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
    $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local -Wno-restrict>)

function(sombra_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/lib>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_options(${name} PRIVATE ${SOMBRA_WARNINGS})
  target_compile_features(${name} PUBLIC cxx_std_20)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${name})
endfunction()
