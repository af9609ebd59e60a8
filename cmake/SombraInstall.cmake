include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sombra
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN c.h EXCLUDE)  # with libsombra.so only, below
install(TARGETS sombra sombra_db sombra_btree sombra_pager sombra_wal sombra_env sombra_util
        EXPORT sombraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The C API (SOMBRA_BUILD_C_API; docs/c-api.md): libsombra.so.N and its
# links, <sombra/c.h>, the imported target sombra::sombra_c in the same
# package, and sombra.pc for pkg-config. sombra.pc finds the prefix from its
# own place (${pcfiledir}), so `cmake --install --prefix P` anywhere works.
if(SOMBRA_BUILD_C_API)
  install(TARGETS sombra_c
          EXPORT sombraTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/include/sombra/c.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sombra)
  set(SOMBRA_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  if(IS_ABSOLUTE "${SOMBRA_PC_DIR}")
    set(SOMBRA_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  else()
    file(RELATIVE_PATH SOMBRA_PC_UP "/prefix/${SOMBRA_PC_DIR}" "/prefix")
    string(REGEX REPLACE "/$" "" SOMBRA_PC_UP "${SOMBRA_PC_UP}")
    set(SOMBRA_PC_PREFIX "\${pcfiledir}/${SOMBRA_PC_UP}")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/sombra.pc.in ${PROJECT_BINARY_DIR}/sombra.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/sombra.pc DESTINATION ${SOMBRA_PC_DIR})
endif()

set(SOMBRA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sombra)
install(EXPORT sombraTargets NAMESPACE sombra:: DESTINATION ${SOMBRA_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sombraConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sombraConfig.cmake INSTALL_DESTINATION ${SOMBRA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sombraConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sombraConfig.cmake
              ${PROJECT_BINARY_DIR}/sombraConfigVersion.cmake
        DESTINATION ${SOMBRA_CMAKE_DIR})
