# ctest driver: install the built project into a fresh prefix, then build and
# run the consumer with find_package(sombra CONFIG), and again with
# add_subdirectory. Arguments: BUILD_DIR, SOURCE_DIR, WORK, CXX_FLAGS, LINK_FLAGS
# (the flags of the build under test, so a sanitizer build links), BUILD_TYPE
# (the same build type, so the add_subdirectory build's compiles are ccache
# hits of the build under test's).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${WORK}/pkg -G Ninja
    -DCMAKE_PREFIX_PATH=${WORK}/prefix "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK}/pkg)
run(${WORK}/pkg/consumer ${WORK}/pkg/consumer.db)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${WORK}/sub -G Ninja
    -DSOMBRA_SOURCE_DIR=${SOURCE_DIR} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK}/sub --target consumer)
run(${WORK}/sub/consumer ${WORK}/sub/consumer.db)
message(STATUS "find_package(sombra CONFIG) and add_subdirectory both work")
