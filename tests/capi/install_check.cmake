# ctest driver (capi_install): install the build into a fresh prefix, then
# build examples/c/hello.c against it twice, as docs/c-api.md says: with
# pkg-config (cc ... $(pkg-config --cflags --libs sombra)) and with
# find_package(sombra CONFIG) + sombra::sombra_c; run both. Arguments:
# BUILD_DIR, SOURCE_DIR, WORK, CC, C_FLAGS and LINK_FLAGS (the build's, so a
# sanitizer build links).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(RUN_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
set(PREFIX ${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})

file(GLOB_RECURSE PC_FILES ${PREFIX}/*/sombra.pc)
list(LENGTH PC_FILES n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one installed sombra.pc, found: ${PC_FILES}")
endif()
get_filename_component(PC_DIR ${PC_FILES} DIRECTORY)
get_filename_component(LIB_DIR ${PC_DIR} DIRECTORY)
foreach(f ${PREFIX}/include/sombra/c.h ${LIB_DIR}/libsombra.so ${LIB_DIR}/libsombra.so.1)
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
set(HELLO ${SOURCE_DIR}/examples/c/hello.c)
set(ENV{LD_LIBRARY_PATH} ${LIB_DIR})

# 1. pkg-config (the .pc file finds its prefix from its own place).
set(ENV{PKG_CONFIG_PATH} ${PC_DIR})
run(pkg-config --cflags --libs sombra)
string(STRIP "${RUN_OUTPUT}" PC_FLAGS)
separate_arguments(PC_FLAGS UNIX_COMMAND "${PC_FLAGS}")
separate_arguments(EXTRA UNIX_COMMAND "${C_FLAGS} ${LINK_FLAGS}")
run(${CC} -std=c99 -Wall -Wextra -pedantic -Werror ${EXTRA} ${HELLO} ${PC_FLAGS}
    -o ${WORK}/hello-pc)
run(${WORK}/hello-pc ${WORK}/pc.db)
if(NOT RUN_OUTPUT MATCHES "apple = red\n  banana -> yellow\n  cherry -> dark red\n")
  message(FATAL_ERROR "hello (pkg-config) printed:\n${RUN_OUTPUT}")
endif()

# 2. find_package(sombra CONFIG) and the imported target sombra::sombra_c.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/capi/consumer -B ${WORK}/cmake -G Ninja
    -DCMAKE_PREFIX_PATH=${PREFIX} -DHELLO_SOURCE=${HELLO} "-DCMAKE_C_FLAGS=${C_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK}/cmake)
run(${WORK}/cmake/hello ${WORK}/cmake.db)
if(NOT RUN_OUTPUT MATCHES "apple = red\n  banana -> yellow\n  cherry -> dark red\n")
  message(FATAL_ERROR "hello (find_package) printed:\n${RUN_OUTPUT}")
endif()
message(STATUS "libsombra.so builds and runs with pkg-config and with find_package")
