# The parts of the core and the layering between them, enforced by the build.
#
# Each part (lib/, kernel/base/, kernel/lock/, ...) is a static library whose headers are
# reachable only through its own include root: a directory in the build tree holding links to
# the part's headers, at the paths the sources use ("kernel/lock/spinlock.h"). A part's
# compile line has its own root and those of the parts it links (PUBLIC, so transitively),
# and never the source tree. So a part that includes a header of a part it does not link
# does not compile. And a part may link only parts defined before it (checked below), so the
# list in kernel/CMakeLists.txt reads bottom-up and the layers form a DAG by construction.
# tests/layering checks that a forbidden include fails and an allowed one compiles.
#
#   lichen_part(NAME DIR dir [EXCLUDE file...] [FILES file...] DEPS part...)
#
# NAME becomes target lichen_NAME. DIR: every .h and .cc directly in `dir` (not below),
# minus EXCLUDE (file names). FILES: individual files instead (paths from the source root).
function(lichen_part name)
  cmake_parse_arguments(P "" "DIR" "EXCLUDE;FILES;DEPS" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/parts/${name})
  file(REMOVE_RECURSE ${root})
  set(files ${P_FILES})
  if(P_DIR)
    file(GLOB globbed CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
         ${PROJECT_SOURCE_DIR}/${P_DIR}/*.h ${PROJECT_SOURCE_DIR}/${P_DIR}/*.cc)
    foreach(f ${globbed})
      get_filename_component(base ${f} NAME)
      if(NOT base IN_LIST P_EXCLUDE)
        list(APPEND files ${f})
      endif()
    endforeach()
  endif()
  set(sources)
  foreach(f ${files})
    if(f MATCHES "\\.h$")
      get_filename_component(dir ${root}/${f} DIRECTORY)
      file(MAKE_DIRECTORY ${dir})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${f} ${root}/${f} SYMBOLIC)
    else()
      list(APPEND sources ${PROJECT_SOURCE_DIR}/${f})
    endif()
  endforeach()
  get_property(defined GLOBAL PROPERTY LICHEN_PARTS)
  foreach(dep ${P_DEPS})
    if(NOT dep IN_LIST defined)
      message(FATAL_ERROR "part ${name} links ${dep}, which is not a part defined below it")
    endif()
  endforeach()
  list(TRANSFORM P_DEPS PREPEND lichen_)
  add_library(lichen_${name} STATIC ${sources})
  target_include_directories(lichen_${name} PUBLIC ${root})
  target_link_libraries(lichen_${name} PUBLIC ${P_DEPS} lichen_freestanding)
  set_property(GLOBAL APPEND PROPERTY LICHEN_PARTS ${name})
endfunction()
