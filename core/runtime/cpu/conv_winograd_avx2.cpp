// Winograd tile transforms compiled with -mavx2 -mfma; conv_winograd.cpp picks them at run time.
#if defined(__x86_64__) || defined(__i386__)
#include <cstdint>

namespace ew::rt::cpu {
constexpr int64_t kBlk = 16;
#define EW_WG_NAME(f) f##Avx2
#include "conv_winograd_kernels.inc"
#undef EW_WG_NAME
} // namespace ew::rt::cpu
#endif
