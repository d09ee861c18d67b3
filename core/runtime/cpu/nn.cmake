# nn kernels (listed in kernels_nn.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_nn.def
  ${CMAKE_CURRENT_LIST_DIR}/nn_util.h
  ${CMAKE_CURRENT_LIST_DIR}/nn_norm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_loss.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_quant.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_grid.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_detect.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_rnn.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tflite_rnn.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_deform.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nn_signal.cpp
)
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/nn_training.cpp
)
