// The implicit-GEMM packer for convolutions (see conv_implicit.h): the portable version and the
// dispatch (the AVX2 one is in conv_implicit_avx2.cpp).
#include "conv_implicit.h"

#include <algorithm>

namespace ew::rt::cpu {

#include "conv_implicit_impl.inc"

void convImplicitPackPortable(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    const ImplicitConv& g = *static_cast<const ImplicitConv*>(ctx);
    const int64_t T = g.KH * g.KW, plane = g.H * g.W;
    PanelWalker walk;
    walk.start(g, n0);
    Segment segs[16];
    int64_t rowBase[16];
    Run runs[16];
    int count[2];
    for (int64_t j0 = 0; j0 < nc; j0 += 16) {
        const int nSegs = walk.segments(g, std::min<int64_t>(16, nc - j0), segs);
        walk.advance(g, 16);
        float* panel = out + j0 * kc;
        for (int64_t i = 0; i < g.KH; ++i) {
            segmentRows(g, i, segs, nSegs, rowBase);
            for (int64_t jj = 0; jj < g.KW; ++jj) {
                const int64_t t = i * g.KW + jj;
                int64_t c0, c1;
                channelRange(T, g.Cg, t, k0, kc, c0, c1);
                if (c0 >= c1) continue;
                tapRuns(g, jj, segs, nSegs, rowBase, runs, count);
                for (int64_t c = c0; c < c1; ++c) {
                    const float* xc = g.x + c * plane;
                    float* dst = panel + (c * T + t - k0) * 16;
                    std::fill(dst, dst + 16, 0.f);
                    const Run* r = runs;
                    for (int h = 0; h < 2; ++h)
                        for (int q = 0; q < count[h]; ++q, ++r)
                            for (int32_t l = r->lo; l < r->hi; ++l) dst[h * 8 + l] = xc[r->off + l * g.sw];
                }
            }
        }
    }
}

PackPanelsFn convImplicitPacker() {
#if defined(__x86_64__) || defined(__i386__)
    if (sgemmUsesAvx2()) return convImplicitPackAvx2;
#endif
    return convImplicitPackPortable;
}

} // namespace ew::rt::cpu
