# Install rules and Debian packages (included last by the root CMakeLists).
#   cmake --install BUILD [--prefix P]   headers, libraries, cairn and
#     cairn-bench, cairnConfig.cmake (find_package(cairn)), cairn.pc and
#     cairn-toolkit.pc (pkg-config)
#   cpack --config BUILD/CPackConfig.cmake   .deb packages: libcairn (the
#     shared libraries; empty in a static build), libcairn-dev (headers,
#     CMake and pkg-config files, static libraries), cairn-tools (binaries)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CAIRN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cairn)

# Shared libraries carry the ABI version: while the project is 0.x every
# minor version may break it, so the soname names major.minor.
set(CAIRN_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set_target_properties(cairn_api cairn_core cairn_toolkit PROPERTIES
  VERSION ${PROJECT_VERSION} SOVERSION ${CAIRN_SOVERSION})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cairn
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/cairn/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cairn COMPONENT dev)

install(TARGETS cairn_api cairn_core cairn_toolkit EXPORT cairnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(CAIRN_BUILD_TOOLS)
  # Installed under any prefix, the programs find the shared libraries
  # installed beside them (no LD_LIBRARY_PATH needed).
  if(BUILD_SHARED_LIBS)
    file(RELATIVE_PATH CAIRN_BIN_TO_LIB "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
    set_target_properties(cairn cairn-bench PROPERTIES INSTALL_RPATH "$ORIGIN/${CAIRN_BIN_TO_LIB}")
  endif()
  install(TARGETS cairn cairn-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()

install(EXPORT cairnTargets NAMESPACE cairn:: FILE cairnTargets.cmake
  DESTINATION ${CAIRN_CMAKE_DIR} COMPONENT dev)
set(CAIRN_SHARED_LIBS ${BUILD_SHARED_LIBS})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cairnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cairnConfig.cmake INSTALL_DESTINATION ${CAIRN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cairnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cairnConfig.cmake ${PROJECT_BINARY_DIR}/cairnConfigVersion.cmake
  DESTINATION ${CAIRN_CMAKE_DIR} COMPONENT dev)

# pkg-config: a static build's users need the dependencies at link time too.
if(BUILD_SHARED_LIBS)
  set(CAIRN_PC_DEPS "Requires.private")
else()
  set(CAIRN_PC_DEPS "Requires")
endif()
file(RELATIVE_PATH CAIRN_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" CAIRN_PC_TO_PREFIX "${CAIRN_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cairn.pc.in ${PROJECT_BINARY_DIR}/cairn.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/cairn-toolkit.pc.in
  ${PROJECT_BINARY_DIR}/cairn-toolkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cairn.pc ${PROJECT_BINARY_DIR}/cairn-toolkit.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

set(CPACK_PACKAGE_NAME cairn)
set(CPACK_PACKAGE_VENDOR "Cairn")
set(CPACK_PACKAGE_CONTACT "Cairn developers <cairn@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Cairn: an embedded event store and event-sourcing toolkit")
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own libraries are in the libcairn package, named in Depends below;
# dpkg-shlibdeps finds them in the build tree and adds the system ones.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/src ${PROJECT_BINARY_DIR}/toolkit)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_LIB_PACKAGE_NAME libcairn${CAIRN_SOVERSION})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcairn-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libcairn${CAIRN_SOVERSION} (= ${PROJECT_VERSION}), libre2-dev, libsimdjson-dev, libsodium-dev, libsqlite3-dev, nlohmann-json3-dev, pkg-config")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME cairn-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION database)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libcairn${CAIRN_SOVERSION} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_LIB_DESCRIPTION "Cairn event store: shared libraries")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Cairn event store: headers, CMake and pkg-config files")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "Cairn event store: the cairn command and cairn-bench")
include(CPack)
