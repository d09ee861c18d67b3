// The integer tile kernels on AVX-512 VNNI (vpdpbusd / vpdpwssd on 256-bit vectors): the same
// tiles, layouts and requantizing stores as int8_gemm_avx2.cpp (int8_tile_impl.inc), one
// instruction per depth step and row half where AVX2 needs two or three, and no int16 saturation
// on the u8 x s8 route. This file alone is compiled with -mavx512f -mavx512vl -mavx512bw
// -mavx512vnni; int8_gemm.cpp calls into it only when the CPU has those (int8UsesVnni).
#if defined(__x86_64__) || defined(__i386__)
#include "int8_gemm.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>

namespace ew::rt::cpu {

namespace {

#define EW_INT8_VNNI 1
#include "int8_tile_impl.inc"
#undef EW_INT8_VNNI

} // namespace

void qMicroStoreRunVnni(int route, int64_t kp, const int16_t* a, int h, const int16_t* b, const QEpilogue& e,
                        int64_t ch0, const QTileRun& run, void* out, int64_t ldr) {
    switch (e.out) {
    case QEpilogue::Out::UInt8: return microStoreRunH(route, kp, a, h, b, e, ch0, run, static_cast<uint8_t*>(out), ldr);
    case QEpilogue::Out::Int8: return microStoreRunH(route, kp, a, h, b, e, ch0, run, static_cast<int8_t*>(out), ldr);
    case QEpilogue::Out::Int32: return microStoreRunH(route, kp, a, h, b, e, ch0, run, static_cast<int32_t*>(out), ldr);
    }
}

} // namespace ew::rt::cpu
#endif
