# control kernels (listed in kernels_control.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_control.def
)
