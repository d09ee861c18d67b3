// Det (LU with partial pivoting, in double) and Einsum (general: implicit or explicit output,
// repeated labels as diagonals, broadcasting ellipsis, any number of operands).
#include "kernel_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

// ---- Det -------------------------------------------------------------------------------------

using DetFn = void (*)(const void*, void*, int64_t batch, int64_t m, double* work, ThreadPool&);

template <typename T>
void runDet(const void* iv, void* ov, int64_t batch, int64_t m, double* work, ThreadPool& pool) {
    const T* in = static_cast<const T*>(iv);
    T* out = static_cast<T*>(ov);
    pool.parallelFor(0, batch, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            double* a = work + b * m * m;
            const T* src = in + b * m * m;
            for (int64_t i = 0; i < m * m; ++i)
                a[i] = static_cast<double>(load(src[i]));
            double det = 1.0;
            for (int64_t c = 0; c < m; ++c) {
                int64_t p = c;
                for (int64_t r = c + 1; r < m; ++r)
                    if (std::abs(a[r * m + c]) > std::abs(a[p * m + c])) p = r;
                if (a[p * m + c] == 0.0) {
                    det = 0.0;
                    break;
                }
                if (p != c) {
                    for (int64_t k = 0; k < m; ++k)
                        std::swap(a[p * m + k], a[c * m + k]);
                    det = -det;
                }
                const double piv = a[c * m + c];
                det *= piv;
                for (int64_t r = c + 1; r < m; ++r) {
                    const double f = a[r * m + c] / piv;
                    if (f == 0.0) continue;
                    for (int64_t k = c + 1; k < m; ++k)
                        a[r * m + k] -= f * a[c * m + k];
                }
            }
            out[b] = store<T>(det);
        }
    });
}

class DetKernel final : public Kernel {
  public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const auto& d = x.dims();
        if (d.size() < 2 || d[d.size() - 1] != d[d.size() - 2])
            return ctx.error(StatusCode::InvalidInput,
                             "input " + dimsText(d) + " is not a (batch of) square matrices");
        m_fn = nullptr;
        dispatch<EW_FLOAT_TYPES>(x.dtype(),
                                 [&](auto tag) { m_fn = &runDet<typename decltype(tag)::type>; });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        m_m = d.back();
        std::span<const int64_t> batchDims(d.data(), d.size() - 2);
        m_batch = numElementsOf(batchDims);
        ctx.setOutput(0, x.dtype(), batchDims);
        ctx.setScratchBytes(static_cast<std::size_t>(m_batch * m_m * m_m) * sizeof(double));
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(ctx.input(0).raw(), ctx.output(0).raw(), m_batch, m_m,
             reinterpret_cast<double*>(ctx.scratch()), ctx.pool());
    }

  private:
    int64_t m_batch = 0, m_m = 0;
    DetFn m_fn = nullptr;
};

// ---- Einsum ----------------------------------------------------------------------------------

constexpr int kLetters = 52; ///< 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51 (ASCII order)
constexpr int kMaxLabels = kLetters + kMaxRank; ///< letters plus one label per ellipsis dim
constexpr int kMaxOperands = 16;
constexpr int kEllipsis = -1; ///< marks the ellipsis inside a parsed term

struct Term {
    std::vector<int> labels; ///< letters, with kEllipsis where "..." stood
    bool hasEllipsis() const {
        return std::find(labels.begin(), labels.end(), kEllipsis) != labels.end();
    }
};

bool parseTerm(std::string_view s, Term& t, std::string& why) {
    t.labels.clear();
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ') continue;
        if (c == '.') {
            if (s.substr(i, 3) != "..." || t.hasEllipsis()) {
                why = "malformed ellipsis in '" + std::string(s) + "'";
                return false;
            }
            t.labels.push_back(kEllipsis);
            i += 2;
        } else if (c >= 'A' && c <= 'Z') {
            t.labels.push_back(c - 'A');
        } else if (c >= 'a' && c <= 'z') {
            t.labels.push_back(26 + (c - 'a'));
        } else {
            why = std::string("invalid character '") + c + "'";
            return false;
        }
    }
    return true;
}

/// Shapes-resolved plan: output and reduction labels with every operand's stride per label
/// (repeated labels in one operand add their strides, size-1 dims broadcast with stride 0).
struct EinsumPlan {
    int operands = 0;
    int outLabels = 0, redLabels = 0;
    int64_t outSize[kMaxLabels] = {}, redSize[kMaxLabels] = {};
    int64_t outStride[kMaxOperands][kMaxLabels] = {}, redStride[kMaxOperands][kMaxLabels] = {};
    int64_t outCount = 0;
    bool emptyReduction = false; ///< a reduced label has size 0: the output is all zeros
};

template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<Compute<T>>, double,
                               std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <typename T> void runEinsum(const EinsumPlan& p, RunContext& ctx) {
    T* out = ctx.output(0).data<T>();
    const T* in[kMaxOperands];
    for (int k = 0; k < p.operands; ++k)
        in[k] = ctx.input(static_cast<std::size_t>(k)).data<T>();
    if (p.emptyReduction) {
        for (int64_t i = 0; i < p.outCount; ++i)
            out[i] = store<T>(Acc<T>(0));
        return;
    }
    const int K = p.operands, nO = p.outLabels, nR = p.redLabels;
    const int last = nR - 1; // nR >= 1: the plan always has at least a size-1 reduction label
    const int64_t innerN = p.redSize[last];
    int64_t redTotal = 1;
    for (int j = 0; j < nR; ++j)
        redTotal *= p.redSize[j];
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(redTotal * K, 1));
    ctx.pool().parallelFor(0, p.outCount, grain, [&](int64_t b, int64_t e) {
        int64_t oidx[kMaxLabels];
        int64_t base[kMaxOperands] = {};
        int64_t rem = b;
        for (int j = nO - 1; j >= 0; --j) {
            oidx[j] = rem % p.outSize[j];
            rem /= p.outSize[j];
            for (int k = 0; k < K; ++k)
                base[k] += oidx[j] * p.outStride[k][j];
        }
        for (int64_t o = b; o < e; ++o) {
            Acc<T> acc = 0;
            int64_t ridx[kMaxLabels] = {};
            int64_t off[kMaxOperands];
            for (int k = 0; k < K; ++k)
                off[k] = base[k];
            for (int64_t r = 0; r < redTotal; r += innerN) {
                for (int64_t i = 0; i < innerN; ++i) {
                    Acc<T> prod =
                        static_cast<Acc<T>>(load(in[0][off[0] + i * p.redStride[0][last]]));
                    for (int k = 1; k < K; ++k)
                        prod *= static_cast<Acc<T>>(load(in[k][off[k] + i * p.redStride[k][last]]));
                    acc += prod;
                }
                for (int j = last - 1; j >= 0; --j) {
                    for (int k = 0; k < K; ++k)
                        off[k] += p.redStride[k][j];
                    if (++ridx[j] < p.redSize[j]) break;
                    for (int k = 0; k < K; ++k)
                        off[k] -= ridx[j] * p.redStride[k][j];
                    ridx[j] = 0;
                }
            }
            out[o] = store<T>(acc);
            for (int j = nO - 1; j >= 0; --j) {
                for (int k = 0; k < K; ++k)
                    base[k] += p.outStride[k][j];
                if (++oidx[j] < p.outSize[j]) break;
                for (int k = 0; k < K; ++k)
                    base[k] -= oidx[j] * p.outStride[k][j];
                oidx[j] = 0;
            }
        }
    });
}

class EinsumKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        std::string eq = ctx.node().attrString("equation");
        std::string why;
        std::size_t arrow = eq.find("->");
        std::string lhs = eq.substr(0, arrow);
        m_explicit = arrow != std::string::npos;
        m_terms.clear();
        std::size_t start = 0;
        for (;;) {
            std::size_t comma = lhs.find(',', start);
            Term t;
            if (!parseTerm(std::string_view(lhs).substr(start, comma == std::string::npos
                                                                   ? std::string::npos
                                                                   : comma - start),
                           t, why))
                return ctx.error(StatusCode::InvalidInput, "equation '" + eq + "': " + why);
            m_terms.push_back(std::move(t));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        if (m_explicit) {
            if (!parseTerm(std::string_view(eq).substr(arrow + 2), m_out, why))
                return ctx.error(StatusCode::InvalidInput, "equation '" + eq + "': " + why);
            for (std::size_t i = 0; i < m_out.labels.size(); ++i)
                for (std::size_t j = i + 1; j < m_out.labels.size(); ++j)
                    if (m_out.labels[i] == m_out.labels[j] && m_out.labels[i] != kEllipsis)
                        return ctx.error(StatusCode::InvalidInput,
                                         "equation '" + eq + "': output label repeated");
        }
        if (m_terms.size() != ctx.numInputs())
            return ctx.error(StatusCode::InvalidInput,
                             "equation '" + eq + "' has " + std::to_string(m_terms.size()) +
                                 " operands for " + std::to_string(ctx.numInputs()) + " inputs");
        if (m_terms.size() > static_cast<std::size_t>(kMaxOperands))
            return ctx.error(StatusCode::Unsupported,
                             "more than " + std::to_string(kMaxOperands) + " operands");
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const int K = static_cast<int>(m_terms.size());
        DataType dt = ctx.input(0).dtype();
        for (int k = 1; k < K; ++k)
            if (ctx.input(static_cast<std::size_t>(k)).dtype() != dt)
                return ctx.error(StatusCode::InvalidInput, "inputs have different types");
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(
            dt, [&](auto tag) { m_fn = &runEinsum<typename decltype(tag)::type>; });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported, "type " + typeName(dt) + " is not supported");

        // Ellipsis rank: the broadcast of every operand's ellipsis part (right-aligned).
        int ell = 0;
        for (int k = 0; k < K; ++k) {
            const Term& t = m_terms[static_cast<std::size_t>(k)];
            int rank = static_cast<int>(ctx.input(static_cast<std::size_t>(k)).rank());
            int letters = static_cast<int>(t.labels.size()) - (t.hasEllipsis() ? 1 : 0);
            if (t.hasEllipsis() ? rank < letters : rank != letters)
                return ctx.error(StatusCode::InvalidInput, "operand " + std::to_string(k) +
                                                               " has rank " + std::to_string(rank) +
                                                               ", its term has " +
                                                               std::to_string(letters) + " labels");
            if (t.hasEllipsis()) ell = std::max(ell, rank - letters);
        }
        if (ell > kMaxRank)
            return ctx.error(StatusCode::Unsupported, "ellipsis covers too many dims");

        // Label sizes (size-1 dims broadcast) and per-operand strides.
        int64_t size[kMaxLabels];
        std::fill(std::begin(size), std::end(size), -1);
        auto& P = m_plan;
        P = EinsumPlan{};
        P.operands = K;
        int64_t stride[kMaxOperands][kMaxLabels] = {};
        for (int k = 0; k < K; ++k) {
            const Term& t = m_terms[static_cast<std::size_t>(k)];
            const Tensor& x = ctx.input(static_cast<std::size_t>(k));
            int rank = static_cast<int>(x.rank());
            int letters = static_cast<int>(t.labels.size()) - (t.hasEllipsis() ? 1 : 0);
            int myEll = rank - letters;
            std::vector<int64_t> strides;
            rowMajorStrides(x.dims(), strides);
            bool seen[kMaxLabels] = {};
            int dim = 0;
            for (int lab : t.labels) {
                int n = lab == kEllipsis ? myEll : 1;
                for (int q = 0; q < n; ++q, ++dim) {
                    int id = lab == kEllipsis ? kLetters + (ell - myEll + q) : lab;
                    int64_t d = x.dims()[static_cast<std::size_t>(dim)];
                    if (seen[id]) {
                        // Diagonal: a repeated label within one operand needs equal dims.
                        int64_t prev = -1;
                        for (std::size_t pd = 0; pd < static_cast<std::size_t>(dim); ++pd)
                            if (labelAt(t, myEll, ell, static_cast<int>(pd)) == id)
                                prev = x.dims()[pd];
                        if (prev != d)
                            return ctx.error(
                                StatusCode::InvalidInput,
                                "operand " + std::to_string(k) + ": repeated label with dims " +
                                    std::to_string(prev) + " and " + std::to_string(d));
                    }
                    seen[id] = true;
                    if (d != 1) {
                        if (size[id] > 1 && size[id] != d)
                            return ctx.error(StatusCode::InvalidInput,
                                             "label dims " + std::to_string(size[id]) + " and " +
                                                 std::to_string(d) + " do not match");
                        size[id] = d;
                        stride[k][id] += strides[static_cast<std::size_t>(dim)];
                    } else if (size[id] < 0) {
                        size[id] = 1;
                    }
                }
            }
        }
        // A size-1 dim whose label is larger elsewhere broadcasts: its stride stays 0, which
        // the loop above already ensured (dims of 1 never add a stride).

        // Output labels.
        std::vector<int> outs;
        if (m_explicit) {
            for (int lab : m_out.labels) {
                if (lab == kEllipsis) {
                    for (int q = 0; q < ell; ++q)
                        outs.push_back(kLetters + q);
                } else {
                    if (size[lab] < 0)
                        return ctx.error(StatusCode::InvalidInput,
                                         "output label does not appear in the inputs");
                    outs.push_back(lab);
                }
            }
        } else {
            for (int q = 0; q < ell; ++q)
                outs.push_back(kLetters + q);
            for (int lab = 0; lab < kLetters; ++lab)
                if (appearsOnce(lab)) outs.push_back(lab);
        }
        bool isOut[kMaxLabels] = {};
        m_outDims.clear();
        P.outCount = 1;
        for (int lab : outs) {
            isOut[lab] = true;
            P.outSize[P.outLabels] = size[lab];
            for (int k = 0; k < K; ++k)
                P.outStride[k][P.outLabels] = stride[k][lab];
            ++P.outLabels;
            m_outDims.push_back(size[lab]);
            P.outCount *= size[lab];
        }
        for (int lab = 0; lab < kMaxLabels; ++lab) {
            if (size[lab] < 0 || isOut[lab]) continue;
            if (size[lab] == 0) P.emptyReduction = true;
            P.redSize[P.redLabels] = size[lab];
            for (int k = 0; k < K; ++k)
                P.redStride[k][P.redLabels] = stride[k][lab];
            ++P.redLabels;
        }
        if (P.redLabels == 0) { // a single pass of the reduction loop
            P.redSize[0] = 1;
            P.redLabels = 1;
        }
        ctx.setOutput(0, dt, m_outDims);
        return {};
    }

    void run(RunContext& ctx) override { m_fn(m_plan, ctx); }

  private:
    /// Label id of dim `dim` of an operand whose ellipsis covers `myEll` dims.
    static int labelAt(const Term& t, int myEll, int ell, int dim) {
        int d = 0;
        for (int lab : t.labels) {
            int n = lab == kEllipsis ? myEll : 1;
            for (int q = 0; q < n; ++q, ++d)
                if (d == dim) return lab == kEllipsis ? kLetters + (ell - myEll + q) : lab;
        }
        return -1;
    }
    /// Implicit output keeps letters that occur exactly once in the whole left-hand side.
    bool appearsOnce(int lab) const {
        int n = 0;
        for (const Term& t : m_terms)
            n += static_cast<int>(std::count(t.labels.begin(), t.labels.end(), lab));
        return n == 1;
    }

    std::vector<Term> m_terms;
    Term m_out;
    bool m_explicit = false;
    EinsumPlan m_plan;
    std::vector<int64_t> m_outDims;
    void (*m_fn)(const EinsumPlan&, RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeDet() {
    return std::make_unique<cpu::DetKernel>();
}
std::unique_ptr<Kernel> makeEinsum() {
    return std::make_unique<cpu::EinsumKernel>();
}

} // namespace ew::rt
