// The integer tile kernels on AVX-512 VNNI (vpdpbusd / vpdpwssd on 256-bit vectors): the same
// tiles, layouts and requantizing stores as int8_gemm_avx2.cpp (int8_tile_impl.inc), one
// instruction per depth step and row half where AVX2 needs two or three, and no int16 saturation
// on the u8 x s8 route. This file alone is compiled with -mavx512f -mavx512vl -mavx512bw
// -mavx512vnni; int8_gemm.cpp calls into it only when the CPU has those (int8UsesVnni).
#if defined(__x86_64__) || defined(__i386__)
#include "int8_gemm.h"

// GCC 12's AVX-512 headers build the undefined operand of the masked conversions (vpmovdb, the
// 256 -> 512 bit casts) from an uninitialised local, and warn about it at every use: thousands
// of -Wmaybe-uninitialized lines from the headers, none about this file's code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
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
    microStoreRunTyped(route, kp, a, h, b, e, ch0, run, out, ldr);
}

void qDwChannelsVnni(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch) {
    dwChannelsRun(p, g0, g1, e, y, scratch);
}

bool qDepthwisePlaneU8Vnni(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
    if (!p.x8 || p.KH * ((p.KW + 3) / 4) > 64 || (p.sw != 1 && p.sw != 2) || e.out == QEpilogue::Out::Int32) return false;
    const bool three = p.KH * ((p.KW + 3) / 4) == 3;
    auto run = [&](auto sw, auto* y) {
        constexpr int SW = decltype(sw)::value;
        if (three) dwPlanStepsU8<SW, 3>(p, ch, e, y + at);
        else dwPlanStepsU8<SW, 0>(p, ch, e, y + at);
    };
    auto typed = [&](auto sw) {
        if (e.out == QEpilogue::Out::UInt8) run(sw, static_cast<uint8_t*>(out));
        else run(sw, static_cast<int8_t*>(out));
    };
    if (p.sw == 1) typed(QCount<1>{});
    else typed(QCount<2>{});
    return true;
}

} // namespace ew::rt::cpu
#endif
