# control kernels (listed in kernels_control.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_control.def
  ${CMAKE_CURRENT_LIST_DIR}/control_util.h
  ${CMAKE_CURRENT_LIST_DIR}/control_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control_if.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control_scan.cpp
)
