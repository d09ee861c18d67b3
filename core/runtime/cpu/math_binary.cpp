// Binary elementwise math with multidirectional broadcasting: Mod (Python-style or C fmod),
// BitShift, BitwiseAnd/Or/Xor; and PRelu, whose slope broadcasts unidirectionally to X.
#include "kernel_util.h"

#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

enum class MathBin { ModFloor, ModTrunc, ShiftLeft, ShiftRight, And, Or, Xor, PRelu };

template <MathBin Op, typename C> inline C apply(C a, C b) {
    if constexpr (Op == MathBin::ModTrunc || Op == MathBin::ModFloor) {
        if constexpr (std::is_floating_point_v<C>) {
            C r = std::fmod(a, b);
            if constexpr (Op == MathBin::ModFloor)
                if (r != C(0) && ((r < C(0)) != (b < C(0)))) r += b;
            return r;
        } else {
            // x % 0 and INT_MIN % -1 trap on x86; both are pinned to 0.
            if (b == C(0)) return C(0);
            if constexpr (std::is_signed_v<C>)
                if (b == C(-1)) return C(0);
            C r = static_cast<C>(a % b);
            if constexpr (Op == MathBin::ModFloor && std::is_signed_v<C>)
                if (r != C(0) && ((r < C(0)) != (b < C(0)))) r = static_cast<C>(r + b);
            return r;
        }
    } else if constexpr (Op == MathBin::ShiftLeft) {
        return b >= C(sizeof(C) * 8) ? C(0) : static_cast<C>(a << b);
    } else if constexpr (Op == MathBin::ShiftRight) {
        return b >= C(sizeof(C) * 8) ? C(0) : static_cast<C>(a >> b);
    } else if constexpr (Op == MathBin::And)
        return static_cast<C>(a & b);
    else if constexpr (Op == MathBin::Or)
        return static_cast<C>(a | b);
    else if constexpr (Op == MathBin::Xor)
        return static_cast<C>(a ^ b);
    else {
        if constexpr (std::is_unsigned_v<C>)
            return a;
        else
            return a < C(0) ? static_cast<C>(a * b) : a;
    }
}

using BinFn = void (*)(const Broadcaster<2>&, const void*, const void*, void*, ThreadPool&);

template <MathBin Op, typename T>
void runBin(const Broadcaster<2>& bc, const void* av, const void* bv, void* ov, ThreadPool& pool) {
    const T* A = static_cast<const T*>(av);
    const T* B = static_cast<const T*>(bv);
    T* O = static_cast<T*>(ov);
    pool.parallelFor(0, bc.outerSize(), chunkRows(bc.innerSize()), [&](int64_t r0, int64_t r1) {
        bc.forRows(r0, r1, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            const T* pa = A + off[0];
            const T* pb = B + off[1];
            T* po = O + o;
            if (st[0] == 1 && st[1] == 1) {
                for (int64_t i = 0; i < n; ++i)
                    po[i] = store<T>(apply<Op>(load(pa[i]), load(pb[i])));
            } else if (st[0] == 1 && st[1] == 0) {
                const auto b = load(pb[0]);
                for (int64_t i = 0; i < n; ++i)
                    po[i] = store<T>(apply<Op>(load(pa[i]), b));
            } else {
                for (int64_t i = 0; i < n; ++i)
                    po[i] = store<T>(apply<Op>(load(pa[i * st[0]]), load(pb[i * st[1]])));
            }
        });
    });
}

template <MathBin Op> BinFn pickBin(DataType t) {
    BinFn fn = nullptr;
    auto set = [&](auto tag) { fn = &runBin<Op, typename decltype(tag)::type>; };
    if constexpr (Op == MathBin::ModTrunc)
        dispatch<EW_NUMERIC_TYPES>(t, set);
    else if constexpr (Op == MathBin::ModFloor)
        dispatch<EW_INT_TYPES>(t, set); // floats need fmod=1
    else if constexpr (Op == MathBin::ShiftLeft || Op == MathBin::ShiftRight)
        dispatch<EW_UNSIGNED_INT_TYPES>(t, set);
    else if constexpr (Op == MathBin::PRelu)
        dispatch<EW_FLOAT_TYPES, EW_INT_TYPES>(t, set);
    else
        dispatch<EW_INT_TYPES>(t, set);
    return fn;
}

enum class Family { Mod, BitShift, And, Or, Xor, PRelu };

template <Family F> class MathBinaryKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        if constexpr (F == Family::Mod) m_fmod = ctx.node().attrInt("fmod", 0) != 0;
        if constexpr (F == Family::BitShift) {
            std::string dir = ctx.node().attrString("direction");
            if (dir == "LEFT")
                m_left = true;
            else if (dir != "RIGHT")
                return ctx.error(StatusCode::InvalidInput,
                                 "direction must be LEFT or RIGHT, not '" + dir + "'");
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (a.dtype() != b.dtype())
            return ctx.error(StatusCode::InvalidInput, "inputs have different types (" +
                                                           typeName(a.dtype()) + ", " +
                                                           typeName(b.dtype()) + ")");
        bool ok;
        if constexpr (F == Family::PRelu) {
            // Unidirectional: the output has X's shape.
            m_outDims = a.dims();
            ok = m_bc.make(m_outDims, {a.dims(), b.dims()});
        } else {
            ok = broadcastShapes(a.dims(), b.dims(), m_outDims) &&
                 m_bc.make(m_outDims, {a.dims(), b.dims()});
        }
        if (!ok)
            return ctx.error(StatusCode::InvalidInput, "shapes " + dimsText(a.dims()) + " and " +
                                                           dimsText(b.dims()) +
                                                           " do not broadcast");
        m_fn = pick(a.dtype());
        if (!m_fn) {
            if (F == Family::Mod && !m_fmod && ir::isFloatingPoint(a.dtype()))
                return ctx.error(StatusCode::InvalidInput,
                                 "fmod must be 1 for floating-point inputs");
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(a.dtype()) + " is not supported");
        }
        ctx.setOutput(0, a.dtype(), m_outDims);
        int64_t n = numElementsOf(m_outDims);
        m_alias = a.numElements() == n ? 0 : (F != Family::PRelu && b.numElements() == n ? 1 : -1);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_bc, ctx.input(0).raw(), ctx.input(1).raw(), ctx.output(0).raw(), ctx.pool());
    }
    int inPlaceInput() const override { return m_alias; }

  private:
    BinFn pick(DataType t) const {
        if constexpr (F == Family::Mod)
            return m_fmod ? pickBin<MathBin::ModTrunc>(t) : pickBin<MathBin::ModFloor>(t);
        else if constexpr (F == Family::BitShift)
            return m_left ? pickBin<MathBin::ShiftLeft>(t) : pickBin<MathBin::ShiftRight>(t);
        else if constexpr (F == Family::And)
            return pickBin<MathBin::And>(t);
        else if constexpr (F == Family::Or)
            return pickBin<MathBin::Or>(t);
        else if constexpr (F == Family::Xor)
            return pickBin<MathBin::Xor>(t);
        else
            return pickBin<MathBin::PRelu>(t);
    }

    bool m_fmod = false, m_left = false;
    std::vector<int64_t> m_outDims;
    Broadcaster<2> m_bc;
    BinFn m_fn = nullptr;
    int m_alias = -1;
};

} // namespace
} // namespace cpu

using cpu::Family;
std::unique_ptr<Kernel> makeMod() {
    return std::make_unique<cpu::MathBinaryKernel<Family::Mod>>();
}
std::unique_ptr<Kernel> makeBitShift() {
    return std::make_unique<cpu::MathBinaryKernel<Family::BitShift>>();
}
std::unique_ptr<Kernel> makeBitwiseAnd() {
    return std::make_unique<cpu::MathBinaryKernel<Family::And>>();
}
std::unique_ptr<Kernel> makeBitwiseOr() {
    return std::make_unique<cpu::MathBinaryKernel<Family::Or>>();
}
std::unique_ptr<Kernel> makeBitwiseXor() {
    return std::make_unique<cpu::MathBinaryKernel<Family::Xor>>();
}
std::unique_ptr<Kernel> makePRelu() {
    return std::make_unique<cpu::MathBinaryKernel<Family::PRelu>>();
}

} // namespace ew::rt
