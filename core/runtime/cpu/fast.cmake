# Optimized FP32 building blocks (packed SGEMM with fused epilogues). Files named *_avx2.cpp get
# AVX2+FMA code generation; everything else stays baseline x86-64 and dispatches at run time.
target_sources(ew_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sgemm.h
  ${CMAKE_CURRENT_LIST_DIR}/sgemm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sgemm_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sgemm_micro.h
  ${CMAKE_CURRENT_LIST_DIR}/conv_implicit.h
  ${CMAKE_CURRENT_LIST_DIR}/conv_implicit_impl.inc
  ${CMAKE_CURRENT_LIST_DIR}/conv_implicit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_implicit_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_winograd.h
  ${CMAKE_CURRENT_LIST_DIR}/conv_depthwise.h
  ${CMAKE_CURRENT_LIST_DIR}/conv_depthwise.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_depthwise_impl.inc
  ${CMAKE_CURRENT_LIST_DIR}/conv_depthwise_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_pwdw.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_winograd.cpp
  ${CMAKE_CURRENT_LIST_DIR}/conv_winograd_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/activation.h
  ${CMAKE_CURRENT_LIST_DIR}/activation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/activation_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fused_gemm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/int8_gemm.h ${CMAKE_CURRENT_LIST_DIR}/int8_gemm.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_gemm_avx2.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_gemm_vnni.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_tile_impl.inc ${CMAKE_CURRENT_LIST_DIR}/int8_kernels.h ${CMAKE_CURRENT_LIST_DIR}/int8_conv.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_matmul.cpp
  ${CMAKE_CURRENT_LIST_DIR}/int8_eltwise.h ${CMAKE_CURRENT_LIST_DIR}/int8_eltwise.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_eltwise_avx2.cpp
)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|i.86")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/sgemm_avx2.cpp ${CMAKE_CURRENT_LIST_DIR}/conv_implicit_avx2.cpp ${CMAKE_CURRENT_LIST_DIR}/conv_depthwise_avx2.cpp ${CMAKE_CURRENT_LIST_DIR}/conv_winograd_avx2.cpp ${CMAKE_CURRENT_LIST_DIR}/int8_gemm_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
  # The integer tiles on AVX-512 VNNI (256-bit vpdpbusd / vpdpwssd), called only where the CPU has it.
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/int8_gemm_vnni.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mavx512f;-mavx512vl;-mavx512bw;-mavx512vnni")
  # Vector activations round like the portable loops (HardSigmoid's a * x + b: no contraction).
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/activation_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=off")
  # QAdd must round like the float QDQ kernels: no FMA, no contraction.
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/int8_eltwise_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-ffp-contract=off")
endif()
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/int8_eltwise.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
