// The depthwise kernel compiled with -mavx2 -mfma (see conv_depthwise.cpp for the dispatch).
#if defined(__x86_64__) || defined(__i386__)
#include "conv_depthwise.h"

#include "runtime/thread_pool.h"

namespace ew::rt::cpu {
#define EW_DW_NAME depthwiseConvAvx2
#include "conv_depthwise_impl.inc"
#undef EW_DW_NAME
} // namespace ew::rt::cpu
#endif
