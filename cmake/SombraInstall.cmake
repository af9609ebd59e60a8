include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sombra
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS sombra sombra_db sombra_btree sombra_pager sombra_wal sombra_env sombra_util
        EXPORT sombraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SOMBRA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sombra)
install(EXPORT sombraTargets NAMESPACE sombra:: DESTINATION ${SOMBRA_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sombraConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sombraConfig.cmake INSTALL_DESTINATION ${SOMBRA_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sombraConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sombraConfig.cmake
              ${PROJECT_BINARY_DIR}/sombraConfigVersion.cmake
        DESTINATION ${SOMBRA_CMAKE_DIR})
