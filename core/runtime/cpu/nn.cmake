# nn kernels (listed in kernels_nn.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_nn.def
)
