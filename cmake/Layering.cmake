# The layering check (scripts/check_layering.py, docs/ARCHITECTURE.md) runs before any of the
# project's libraries compiles: a source that includes a header its layer may not use, core
# or session code including QtGui/QtWidgets, LibTorch outside plugins/torch, or a file over
# the length limit fails the build.
find_program(PARAMSCOPE_CHECK_PYTHON NAMES python3 REQUIRED)
set(_qt_include "")
get_target_property(_qt_core_includes Qt6::Core INTERFACE_INCLUDE_DIRECTORIES)
foreach(_dir IN LISTS _qt_core_includes)
  get_filename_component(_name "${_dir}" NAME)
  if(_name STREQUAL "QtCore")
    get_filename_component(_qt_include "${_dir}" DIRECTORY)
  endif()
endforeach()
file(GLOB_RECURSE _paramscope_layered_sources CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/core/*.h" "${PROJECT_SOURCE_DIR}/core/*.cpp"
  "${PROJECT_SOURCE_DIR}/plugins/*.h" "${PROJECT_SOURCE_DIR}/plugins/*.cpp"
  "${PROJECT_SOURCE_DIR}/cli/*.h" "${PROJECT_SOURCE_DIR}/cli/*.cpp"
  "${PROJECT_SOURCE_DIR}/session/*.h" "${PROJECT_SOURCE_DIR}/session/*.cpp"
  "${PROJECT_SOURCE_DIR}/ui/*.h" "${PROJECT_SOURCE_DIR}/ui/*.cpp"
  "${PROJECT_SOURCE_DIR}/tools/*.h" "${PROJECT_SOURCE_DIR}/tools/*.cpp"
  "${PROJECT_SOURCE_DIR}/app/*.h" "${PROJECT_SOURCE_DIR}/app/*.cpp")
set(PARAMSCOPE_QT_INCLUDE "${_qt_include}")  # for the check's own test (tests/layering)
set(_stamp "${PROJECT_BINARY_DIR}/layering.stamp")
add_custom_command(OUTPUT "${_stamp}"
  COMMAND "${PARAMSCOPE_CHECK_PYTHON}" "${PROJECT_SOURCE_DIR}/scripts/check_layering.py"
          "${PROJECT_SOURCE_DIR}" --qt-include "${_qt_include}" --stamp "${_stamp}"
  DEPENDS ${_paramscope_layered_sources} "${PROJECT_SOURCE_DIR}/scripts/check_layering.py"
  COMMENT "Checking the layering (scripts/check_layering.py)"
  VERBATIM)
add_custom_target(paramscope_layering DEPENDS "${_stamp}")

# Every library of the project waits for the check.
function(paramscope_layered)
  foreach(_target IN LISTS ARGN)
    if(TARGET ${_target})
      add_dependencies(${_target} paramscope_layering)
    endif()
  endforeach()
endfunction()
