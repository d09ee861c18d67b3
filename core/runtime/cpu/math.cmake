# math kernels (listed in kernels_math.def).
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kernels_math.def
  ${CMAKE_CURRENT_LIST_DIR}/math_ml.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_unary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_binary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_cast.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_linalg.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_hardmax.cpp
)
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/math_tfidf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/math_tree.cpp
)
