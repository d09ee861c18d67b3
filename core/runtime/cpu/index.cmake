# index kernels (listed in kernels_index.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_index.def
  ${CMAKE_CURRENT_LIST_DIR}/index_util.h
  ${CMAKE_CURRENT_LIST_DIR}/index_reduce.cpp
  ${CMAKE_CURRENT_LIST_DIR}/index_scan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/index_gather_scatter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/index_generate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/index_layout.cpp
)
