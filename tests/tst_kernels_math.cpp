// Math kernel family (core/runtime/cpu/kernels_math.def): hand-written rows with exact expected
// values for the tricky semantics (half-to-even rounding, Python vs C modulo, shifts past the
// width, Einsum diagonals and ellipsis broadcasting, Hardmax ties and the pre-13 flattening),
// errors that name the node, thread-count determinism, and the ONNX node suite restricted to
// tests whose ops are all this family's or the base list's.
#define EW_TEST_COUNT_ALLOCATIONS
#include "kernel_test_util.h"
#include "test_util.h"

#include "conformance_runner.h"
#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>

using namespace ew;
using namespace ew::test;
using ir::DataType;
using rt::Tensor;

namespace {

/// The ops of this family (kernels_math.def).
const std::set<std::string>& familyOps() { return kernelListOps(KernelList::Math); }

/// Ops a covered node-suite test may use besides the family's: the base list in kernels.def
/// (without the other families' lists it includes).
const std::set<std::string>& baseOps() { return kernelListOps(KernelList::Base); }

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using A = ir::Attribute;

/// Exact for integers and bools; floats within 1e-6 relative (float16 within its precision).
/// NaN matches NaN, infinities must match exactly.
bool matches(const Tensor& got, const Out& want, QString& why) {
    return sameValues(got, want, want.dt == DataType::Float16 ? 1e-3 : 1e-6,
                      ir::isFloatingPoint(want.dt) ? 1e-6 : 0.0, why);
}

struct Case {
    const char* name;
    std::string op;
    std::vector<In> ins;
    std::vector<A> (*attrs)();
    std::vector<Out> outs;
    int64_t opset = 18;
};

constexpr DataType F = DataType::Float, D = DataType::Double, H = DataType::Float16, I8 = DataType::Int8,
                   I16 = DataType::Int16, I32 = DataType::Int32, I64 = DataType::Int64, U8 = DataType::UInt8,
                   U16 = DataType::UInt16, U32 = DataType::UInt32, U64 = DataType::UInt64, B = DataType::Bool;

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        // Trigonometric and hyperbolic functions, float and double.
        {"Acos", "Acos", {{"x", F, {2}, {0.5, 1}}}, none, {{F, {2}, {1.0471975511965979, 0}}}},
        {"Acosh", "Acosh", {{"x", D, {2}, {2, 1}}}, none, {{D, {2}, {1.3169578969248166, 0}}}},
        {"Asin", "Asin", {{"x", F, {2}, {0.5, -1}}}, none, {{F, {2}, {0.5235987755982989, -1.5707963267948966}}}},
        {"Asinh", "Asinh", {{"x", F, {1}, {1}}}, none, {{F, {1}, {0.881373587019543}}}},
        {"Atan", "Atan", {{"x", D, {2}, {1, -kInf}}}, none, {{D, {2}, {0.7853981633974483, -1.5707963267948966}}}},
        {"Atanh out of domain", "Atanh", {{"x", F, {3}, {0.5, 1, 2}}}, none, {{F, {3}, {0.5493061443340548, kInf, kNaN}}}},
        {"Cos", "Cos", {{"x", F, {1}, {1}}}, none, {{F, {1}, {0.5403023058681398}}}},
        {"Cosh", "Cosh", {{"x", F, {1}, {1}}}, none, {{F, {1}, {1.5430806348152437}}}},
        {"Sin float16", "Sin", {{"x", H, {2}, {1, 0}}}, none, {{H, {2}, {0.8414709848078965, 0}}}},
        {"Sinh", "Sinh", {{"x", F, {1}, {1}}}, none, {{F, {1}, {1.1752011936438014}}}},
        {"Tan", "Tan", {{"x", D, {1}, {1}}}, none, {{D, {1}, {1.5574077246549023}}}},

        // Round is half-to-even, not half-away-from-zero; Sign keeps NaN and works on integers.
        {"Round half to even", "Round", {{"x", F, {8}, {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6}}}, none,
         {{F, {8}, {-2, -2, 0, 0, 2, 2, 2, -3}}}},
        {"Round float16", "Round", {{"x", H, {3}, {0.5, 1.5, 3.5}}}, none, {{H, {3}, {0, 2, 4}}}},
        {"Sign float", "Sign", {{"x", F, {4}, {-3, 0, 2.5, kNaN}}}, none, {{F, {4}, {-1, 0, 1, kNaN}}}},
        {"Sign int8", "Sign", {{"x", I8, {3}, {-128, 0, 127}}}, none, {{I8, {3}, {-1, 0, 1}}}},
        {"Sign uint32", "Sign", {{"x", U32, {2}, {0, 7}}}, none, {{U32, {2}, {0, 1}}}},

        // Activations.
        {"Softplus stable", "Softplus", {{"x", F, {5}, {-1, 0, 2, 100, -100}}}, none,
         {{F, {5}, {0.31326168751822286, 0.6931471805599453, 2.1269280110429727, 100, 3.720076e-44}}}},
        {"Softsign", "Softsign", {{"x", F, {3}, {-3, 0, 1}}}, none, {{F, {3}, {-0.75, 0, 0.5}}}},
        {"Elu alpha 2", "Elu", {{"x", F, {3}, {-1, 0, 3}}}, [] { return attrs(A::makeFloat("alpha", 2.f)); },
         {{F, {3}, {-1.2642411176571153, 0, 3}}}},
        {"Selu defaults", "Selu", {{"x", F, {3}, {-1, 0, 2}}}, none, {{F, {3}, {-1.1113307412864784, 0, 2.1014020442962646}}}},
        {"Celu alpha 2", "Celu", {{"x", F, {2}, {-1, 3}}}, [] { return attrs(A::makeFloat("alpha", 2.f)); },
         {{F, {2}, {-0.7869386805747332, 3}}}},
        {"ThresholdedRelu strict", "ThresholdedRelu", {{"x", F, {4}, {-2, 1, 1.5, 3}}}, none, {{F, {4}, {0, 0, 1.5, 3}}}},
        {"Shrink soft", "Shrink", {{"x", F, {5}, {-2, -1, 0, 1, 2}}},
         [] { return attrs(A::makeFloat("lambd", 1.5f), A::makeFloat("bias", 1.5f)); }, {{F, {5}, {-0.5, 0, 0, 0, 0.5}}}},
        {"Shrink int8", "Shrink", {{"x", I8, {5}, {-3, -1, 0, 2, 3}}},
         [] { return attrs(A::makeFloat("lambd", 1.5f), A::makeFloat("bias", 1.f)); }, {{I8, {5}, {-2, 0, 0, 1, 2}}}},
        {"Mish", "Mish", {{"x", F, {3}, {-1, 0, 2}}}, none, {{F, {3}, {-0.30340146137410895, 0, 1.9439589595339946}}}},
        {"Gelu exact", "Gelu", {{"x", F, {2}, {1, -1}}}, none, {{F, {2}, {0.8413447460685429, -0.15865525393145707}}}, 20},
        {"Gelu tanh", "Gelu", {{"x", D, {2}, {1, -1}}}, [] { return attrs(A::makeString("approximate", "tanh")); },
         {{D, {2}, {0.8411919906082768, -0.15880800939172324}}}, 20},
        {"Swish alpha 2", "Swish", {{"x", F, {2}, {0.5, -0.5}}}, [] { return attrs(A::makeFloat("alpha", 2.f)); },
         {{F, {2}, {0.5 * 0.7310585786300049, -0.5 * 0.2689414213699951}}}, 24},
        {"PRelu slope per channel", "PRelu", {{"x", F, {2, 3}, {-1, -2, 3, 4, -5, -6}}, {"s", F, {3}, {0.5, 2, 10}, true}},
         none, {{F, {2, 3}, {-0.5, -4, 3, 4, -10, -60}}}},
        {"PRelu int32 scalar slope", "PRelu", {{"x", I32, {3}, {-3, 0, 3}}, {"s", I32, {1}, {4}}}, none,
         {{I32, {3}, {-12, 0, 3}}}},

        // IsInf / IsNaN.
        {"IsInf both", "IsInf", {{"x", F, {4}, {kInf, -kInf, kNaN, 1}}}, none, {{B, {4}, {1, 1, 0, 0}}}},
        {"IsInf negative only", "IsInf", {{"x", D, {3}, {kInf, -kInf, 0}}},
         [] { return attrs(A::makeInt("detect_positive", 0)); }, {{B, {3}, {0, 1, 0}}}},
        {"IsNaN float16", "IsNaN", {{"x", H, {3}, {kNaN, kInf, 0}}}, none, {{B, {3}, {1, 0, 0}}}},

        // Mod: Python-style (sign of the divisor) unless fmod=1 (sign of the dividend).
        {"Mod int32 floor", "Mod", {{"a", I32, {6}, {-4, 7, 5, 4, -7, 8}}, {"b", I32, {6}, {2, -3, 8, -2, 3, 5}}}, none,
         {{I32, {6}, {0, -2, 5, 0, 2, 3}}}, 13},
        {"Mod int64 fmod", "Mod", {{"a", I64, {4}, {7, -7, 7, -7}}, {"b", I64, {4}, {3, 3, -3, -3}}},
         [] { return attrs(A::makeInt("fmod", 1)); }, {{I64, {4}, {1, -1, 1, -1}}}, 13},
        {"Mod int8 traps pinned", "Mod", {{"a", I8, {3}, {-128, 5, -5}}, {"b", I8, {3}, {-1, 0, 0}}}, none,
         {{I8, {3}, {0, 0, 0}}}, 13},
        {"Mod uint8 broadcast", "Mod", {{"a", U8, {2, 2}, {200, 7, 9, 255}}, {"b", U8, {2}, {7, 4}}}, none,
         {{U8, {2, 2}, {4, 3, 2, 3}}}, 13},
        {"Mod float fmod", "Mod", {{"a", F, {3}, {-5.5, 5.5, 3}}, {"b", F, {3}, {2, -2, 1.5}}},
         [] { return attrs(A::makeInt("fmod", 1)); }, {{F, {3}, {-1.5, 1.5, 0}}}, 13},
        {"Mod float16 fmod", "Mod", {{"a", H, {2}, {-5.5, 7}}, {"b", H, {2}, {2, -4}}},
         [] { return attrs(A::makeInt("fmod", 1)); }, {{H, {2}, {-1.5, 3}}}, 13},

        // Bit operations.
        {"BitShift left uint8 wraps", "BitShift", {{"a", U8, {4}, {16, 4, 200, 1}}, {"b", U8, {4}, {1, 2, 1, 8}}},
         [] { return attrs(A::makeString("direction", "LEFT")); }, {{U8, {4}, {32, 16, 144, 0}}}, 11},
        {"BitShift right uint64", "BitShift", {{"a", U64, {3}, {1024, 7, 1}}, {"b", U64, {1}, {3}}},
         [] { return attrs(A::makeString("direction", "RIGHT")); }, {{U64, {3}, {128, 0, 0}}}, 11},
        {"BitShift right uint16 past width", "BitShift", {{"a", U16, {2}, {65535, 65535}}, {"b", U16, {2}, {15, 16}}},
         [] { return attrs(A::makeString("direction", "RIGHT")); }, {{U16, {2}, {1, 0}}}, 11},
        {"BitwiseAnd int8", "BitwiseAnd", {{"a", I8, {3}, {-1, 6, -128}}, {"b", I8, {3}, {5, 3, 127}}}, none,
         {{I8, {3}, {5, 2, 0}}}},
        {"BitwiseOr int16 broadcast", "BitwiseOr", {{"a", I16, {2, 1}, {1, -32768}}, {"b", I16, {2}, {2, 4}}}, none,
         {{I16, {2, 2}, {3, 5, -32766, -32764}}}},
        {"BitwiseXor uint32", "BitwiseXor", {{"a", U32, {2}, {0xF0F0, 1}}, {"b", U32, {2}, {0xFFFF, 1}}}, none,
         {{U32, {2}, {0x0F0F, 0}}}},
        {"BitwiseNot", "BitwiseNot", {{"x", I32, {3}, {0, 5, -1}}}, none, {{I32, {3}, {-1, -6, 0}}}},
        {"BitwiseNot uint8", "BitwiseNot", {{"x", U8, {2}, {0, 170}}}, none, {{U8, {2}, {255, 85}}}},

        // Casts.
        {"CastLike float->int32", "CastLike", {{"x", F, {3}, {1.9, -1.9, 3}}, {"t", I32, {1}, {0}}}, none,
         {{I32, {3}, {1, -1, 3}}}, 15},
        {"CastLike double->float16", "CastLike", {{"x", D, {2}, {0.1, 70000}}, {"t", H, {0}, {}}}, none,
         {{H, {2}, {0.0999755859375, kInf}}}, 15},
        {"CastLike int64->bool", "CastLike", {{"x", I64, {3}, {0, -5, 2}}, {"t", B, {1}, {0}, true}}, none,
         {{B, {3}, {0, 1, 1}}}, 21},
        {"BitCast float->int32", "BitCast", {{"x", F, {2}, {1, -2}}}, [] { return attrs(A::makeInt("to", 6)); },
         {{I32, {2}, {1065353216, -1073741824}}}, 26},
        {"BitCast uint8->bool normalizes", "BitCast", {{"x", U8, {3}, {0, 1, 2}}},
         [] { return attrs(A::makeInt("to", 9)); }, {{B, {3}, {0, 1, 1}}}, 26},
        {"BitCast int64->double", "BitCast", {{"x", I64, {1}, {4607182418800017408.0}}},
         [] { return attrs(A::makeInt("to", 11)); }, {{D, {1}, {1}}}, 26},

        // Det.
        {"Det 2x2", "Det", {{"x", F, {2, 2}, {1, 2, 3, 4}}}, none, {{F, {}, {-2}}}, 11},
        {"Det batch pivot and singular", "Det",
         {{"x", D, {3, 3, 3}, {0, 1, 0, 1, 0, 0, 0, 0, 1, /**/ 1, 2, 3, 4, 5, 6, 7, 8, 9, /**/ 2, 0, 0, 0, 3, 0, 1, 1, 4}}},
         none, {{D, {3}, {-1, 0, 24}}}, 11},
        {"Det 1x1 float16", "Det", {{"x", H, {2, 1, 1}, {3, -0.5}}}, none, {{H, {2}, {3, -0.5}}}, 11},

        // Einsum.
        {"Einsum matmul implicit", "Einsum", {{"a", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", F, {3, 1}, {1, 0, -1}}},
         [] { return attrs(A::makeString("equation", "ij,jk")); }, {{F, {2, 1}, {-2, -2}}}, 12},
        {"Einsum implicit transpose", "Einsum", {{"a", I32, {2, 3}, {1, 2, 3, 4, 5, 6}}},
         [] { return attrs(A::makeString("equation", "ba")); }, {{I32, {3, 2}, {1, 4, 2, 5, 3, 6}}}, 12},
        {"Einsum trace", "Einsum", {{"a", F, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}},
         [] { return attrs(A::makeString("equation", "ii")); }, {{F, {}, {15}}}, 12},
        {"Einsum diagonal", "Einsum", {{"a", I64, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}},
         [] { return attrs(A::makeString("equation", "ii->i")); }, {{I64, {3}, {1, 5, 9}}}, 12},
        {"Einsum batch diagonal ellipsis", "Einsum", {{"a", F, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}},
         [] { return attrs(A::makeString("equation", "...ii->...i")); }, {{F, {2, 2}, {1, 4, 5, 8}}}, 12},
        {"Einsum ellipsis broadcast", "Einsum",
         {{"a", F, {2, 1, 1, 2}, {1, 2, 3, 4}}, {"b", F, {3, 2, 1}, {1, 1, 2, 0, 0, 2}}},
         [] { return attrs(A::makeString("equation", "...ij,...jk->...ik")); },
         {{F, {2, 3, 1, 1}, {3, 2, 4, 7, 6, 8}}}, 12},
        {"Einsum implicit keeps ellipsis first", "Einsum", {{"a", F, {2, 3}, {1, 2, 3, 4, 5, 6}}},
         [] { return attrs(A::makeString("equation", "i...")); }, {{F, {3, 2}, {1, 4, 2, 5, 3, 6}}}, 12},
        {"Einsum sum all", "Einsum", {{"a", D, {2, 2}, {1, 2, 3, 4}}},
         [] { return attrs(A::makeString("equation", "ij->")); }, {{D, {}, {10}}}, 12},
        {"Einsum outer three operands", "Einsum", {{"a", F, {2}, {1, 2}}, {"b", F, {2}, {1, 10}}, {"c", F, {1}, {3}}},
         [] { return attrs(A::makeString("equation", "i,j,k->kji")); }, {{F, {1, 2, 2}, {3, 6, 30, 60}}}, 12},
        {"Einsum repeated label across operands", "Einsum",
         {{"a", F, {2, 2}, {1, 2, 3, 4}}, {"b", F, {2, 2}, {1, 0, 0, 1}}},
         [] { return attrs(A::makeString("equation", "ij,ij->i")); }, {{F, {2}, {1, 4}}}, 12},
        {"Einsum spaces and uppercase order", "Einsum", {{"a", F, {2, 1}, {1, 2}}},
         [] { return attrs(A::makeString("equation", " aB ")); }, {{F, {1, 2}, {1, 2}}}, 12},
        {"Einsum zero-size reduction", "Einsum", {{"a", F, {2, 0}, {}}, {"b", F, {0, 3}, {}}},
         [] { return attrs(A::makeString("equation", "ij,jk->ik")); }, {{F, {2, 3}, {0, 0, 0, 0, 0, 0}}}, 12},

        // Hardmax: first maximum wins; opset < 13 flattens to 2-D at axis.
        {"Hardmax ties first", "Hardmax", {{"x", F, {2, 3}, {1, 3, 3, -1, -2, -1}}}, none,
         {{F, {2, 3}, {0, 1, 0, 1, 0, 0}}}, 13},
        {"Hardmax axis 0", "Hardmax", {{"x", D, {2, 2}, {1, 5, 2, 4}}}, [] { return attrs(A::makeInt("axis", 0)); },
         {{D, {2, 2}, {0, 1, 1, 0}}}, 13},
        {"Hardmax opset 11 flattens", "Hardmax", {{"x", F, {2, 2, 2}, {1, 2, 3, 0, 9, 1, 1, 1}}}, none,
         {{F, {2, 2, 2}, {0, 0, 1, 0, 1, 0, 0, 0}}}, 11},
        {"Hardmax float16", "Hardmax", {{"x", H, {3}, {0.5, 2, 1}}}, none, {{H, {3}, {0, 1, 0}}}, 13},
    };
    return c;
}

struct ErrorCase {
    const char* name;
    std::string op;
    std::vector<In> ins;
    std::vector<A> (*attrs)();
    int64_t opset;
    StatusCode code;
};

const std::vector<ErrorCase>& errorCases() {
    static const std::vector<ErrorCase> c = {
        {"Mod float without fmod", "Mod", {{"a", F, {1}, {1}}, {"b", F, {1}, {1}}}, none, 13, StatusCode::InvalidInput},
        {"BitShift bad direction", "BitShift", {{"a", U8, {1}, {1}}, {"b", U8, {1}, {1}}},
         [] { return attrs(A::makeString("direction", "UP")); }, 11, StatusCode::InvalidInput},
        {"BitShift signed", "BitShift", {{"a", I32, {1}, {1}}, {"b", I32, {1}, {1}}},
         [] { return attrs(A::makeString("direction", "LEFT")); }, 11, StatusCode::Unsupported},
        {"Gelu bad approximate", "Gelu", {{"x", F, {1}, {1}}}, [] { return attrs(A::makeString("approximate", "erf")); },
         20, StatusCode::InvalidInput},
        {"Det not square", "Det", {{"x", F, {2, 3}, {1, 2, 3, 4, 5, 6}}}, none, 11, StatusCode::InvalidInput},
        {"BitCast width mismatch", "BitCast", {{"x", F, {1}, {1}}}, [] { return attrs(A::makeInt("to", 7)); }, 26,
         StatusCode::InvalidInput},
        {"Einsum rank mismatch", "Einsum", {{"a", F, {2, 2}, {1, 2, 3, 4}}},
         [] { return attrs(A::makeString("equation", "ijk->i")); }, 12, StatusCode::InvalidInput},
        {"Einsum dim mismatch", "Einsum", {{"a", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", F, {2, 3}, {1, 2, 3, 4, 5, 6}}},
         [] { return attrs(A::makeString("equation", "ij,jk->ik")); }, 12, StatusCode::InvalidInput},
        {"Einsum bad character", "Einsum", {{"a", F, {2}, {1, 2}}}, [] { return attrs(A::makeString("equation", "i1")); },
         12, StatusCode::InvalidInput},
        {"Einsum operand count", "Einsum", {{"a", F, {2}, {1, 2}}}, [] { return attrs(A::makeString("equation", "i,i")); },
         12, StatusCode::InvalidInput},
        {"Einsum output label not in inputs", "Einsum", {{"a", F, {2}, {1, 2}}},
         [] { return attrs(A::makeString("equation", "i->j")); }, 12, StatusCode::InvalidInput},
        {"Einsum diagonal dims differ", "Einsum", {{"a", F, {2, 3}, {1, 2, 3, 4, 5, 6}}},
         [] { return attrs(A::makeString("equation", "ii->i")); }, 12, StatusCode::InvalidInput},
        {"Hardmax axis out of range", "Hardmax", {{"x", F, {2}, {1, 2}}}, [] { return attrs(A::makeInt("axis", 1)); },
         13, StatusCode::InvalidInput},
        {"PRelu slope larger than X", "PRelu", {{"x", F, {3}, {1, 2, 3}}, {"s", F, {2, 3}, {1, 2, 3, 4, 5, 6}}}, none, 16,
         StatusCode::InvalidInput},
        {"Round on integers", "Round", {{"x", I32, {1}, {1}}}, none, 11, StatusCode::Unsupported},
    };
    return c;
}

// ---------------------------------------------------------------------------------------------
// Node suite.

/// Tests expected to fail: name -> the error they must fail with (so a different failure, a wrong
/// value included, is still reported). True limitations only, none of them in this family's kernels.
const std::map<QString, const char*>& allowlist() {
    static const std::map<QString, const char*> m = {
        // Function bodies expanded into base ops whose reference kernels lack float16.
        {"test_attention_4d_fp16_expanded", "MatMul: type float16 is not supported"},
        {"test_attention_4d_gqa_with_past_and_present_fp16_expanded", "MatMul: type float16 is not supported"},
        {"test_causal_conv_with_state_fp16_expanded", "Conv: type float16 is not supported"},
        {"test_causal_conv_with_state_silu_fp16_expanded", "Conv: type float16 is not supported"},
    };
    return m;
}

} // namespace

class TestKernelsMath : public QObject {
    Q_OBJECT
private slots:
    void registered();
    void kernels_data();
    void kernels();
    void errors_data();
    void errors();
    void threadCountDoesNotChangeResults();
    void steadyStateAllocatesNothing();
    void nodeSuite();
};

void TestKernelsMath::registered() {
    QVERIFY(familyOps().size() >= 37);
    for (const std::string& op : familyOps()) QVERIFY2(rt::findCpuKernel("", op, 26) != nullptr, op.c_str());
    // Version bounds: Gelu and Swish do not exist before their opsets; Hardmax spans both semantics.
    QVERIFY(rt::findCpuKernel("", "Gelu", 19) == nullptr);
    QVERIFY(rt::findCpuKernel("", "BitCast", 25) == nullptr);
    QVERIFY(rt::findCpuKernel("", "Hardmax", 1) != nullptr);
    QVERIFY(!baseOps().empty() && !baseOps().count("Einsum") && baseOps().count("Add"));
}

void TestKernelsMath::kernels_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < cases().size(); ++i) QTest::newRow(cases()[i].name) << static_cast<int>(i);
}

void TestKernelsMath::kernels() {
    QFETCH(int, index);
    const Case& c = cases()[static_cast<std::size_t>(index)];
    auto model = singleNode(c.op, c.ins, static_cast<int>(c.outs.size()), c.attrs(), c.opset);
    for (int threads : {1, 3})
        for (bool fold : {true, false})
            for (bool inPlace : {true, false}) {
                rt::SessionOptions opt;
                opt.threads = threads;
                opt.foldConstants = fold;
                opt.inPlace = inPlace;
                auto s = rt::Session::create(*model, opt);
                QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
                auto f = feeds(c.ins);
                for (int rep = 0; rep < 2; ++rep) { // the second run uses the plan
                    auto out = (*s)->run(f);
                    QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
                    QCOMPARE(out->size(), c.outs.size());
                    for (std::size_t i = 0; i < c.outs.size(); ++i) {
                        QString why;
                        QVERIFY2(matches((*out)[i], c.outs[i], why),
                                 qPrintable(QString("output %1 (threads=%2 fold=%3 inPlace=%4 run %5): %6")
                                                .arg(i).arg(threads).arg(fold).arg(inPlace).arg(rep).arg(why)));
                    }
                }
            }
}

void TestKernelsMath::errors_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < errorCases().size(); ++i) QTest::newRow(errorCases()[i].name) << static_cast<int>(i);
}

void TestKernelsMath::errors() {
    QFETCH(int, index);
    const ErrorCase& c = errorCases()[static_cast<std::size_t>(index)];
    auto model = singleNode(c.op, c.ins, 1, c.attrs(), c.opset);
    Status err;
    auto s = rt::Session::create(*model);
    if (!s) {
        err = s.error();
    } else {
        auto out = (*s)->run(feeds(c.ins));
        QVERIFY2(!out.has_value(), "accepted");
        err = out.error();
    }
    std::string msg = err.toString();
    QVERIFY2(msg.find("node_" + c.op) != std::string::npos, msg.c_str());
    QVERIFY2(err.code == c.code, msg.c_str());
}

/// Larger random inputs: 1 and 4 threads give the same bytes.
void TestKernelsMath::threadCountDoesNotChangeResults() {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-3.f, 3.f);
    auto randF = [&](std::size_t n) {
        std::vector<double> v(n);
        for (auto& x : v) x = std::round(u(rng) * 8) / 8; // many ties for Hardmax
        return v;
    };
    struct Net {
        const char* op;
        std::vector<In> ins;
        std::vector<A> attrs;
        int64_t opset;
    };
    std::vector<Net> nets;
    nets.push_back({"Einsum", {{"a", F, {4, 33, 40}, randF(4 * 33 * 40)}, {"b", F, {4, 40, 50}, randF(4 * 40 * 50)}},
                    attrs(A::makeString("equation", "bij,bjk->bik")), 12});
    nets.push_back({"Einsum", {{"a", F, {3, 20, 20}, randF(1200)}}, attrs(A::makeString("equation", "bii->b")), 12});
    nets.push_back({"Det", {{"a", D, {200, 6, 6}, randF(200 * 36)}}, {}, 11});
    nets.push_back({"Hardmax", {{"a", F, {300, 70, 3}, randF(300 * 70 * 3)}}, attrs(A::makeInt("axis", 1)), 13});
    nets.push_back({"Gelu", {{"a", F, {100000}, randF(100000)}}, {}, 20});
    nets.push_back({"Mod", {{"a", F, {300, 200}, randF(60000)}, {"b", F, {200}, randF(200)}},
                    attrs(A::makeInt("fmod", 1)), 13});
    for (Net& n : nets) {
        auto m = singleNode(n.op, n.ins, 1, std::move(n.attrs), n.opset);
        std::vector<std::vector<Tensor>> results;
        for (int threads : {1, 4}) {
            rt::SessionOptions opt;
            opt.threads = threads;
            auto s = rt::Session::create(*m, opt);
            QVERIFY2(s.has_value(), s ? n.op : s.error().toString().c_str());
            auto out = (*s)->run(feeds(n.ins));
            QVERIFY2(out.has_value(), out ? n.op : out.error().toString().c_str());
            results.push_back(std::move(*out));
        }
        QCOMPARE(results[0][0].dims(), results[1][0].dims());
        QVERIFY2(std::memcmp(results[0][0].raw(), results[1][0].raw(), results[0][0].byteSize()) == 0, n.op);
    }
}

/// Once planned, runs allocate nothing (CastLike delegates to a Cast kernel it owns; Einsum and
/// Det keep their work in the plan and scratch).
void TestKernelsMath::steadyStateAllocatesNothing() {
    struct Net {
        const char* op;
        std::vector<In> ins;
        std::vector<A> attrs;
        int64_t opset;
    };
    std::vector<Net> nets;
    nets.push_back({"CastLike", {{"x", F, {8}, {1, 2, 3, 4, 5, 6, 7, 8}}, {"t", H, {1}, {0}}}, {}, 15});
    nets.push_back({"Einsum", {{"a", F, {2, 3, 3}, std::vector<double>(18, 1.5)}, {"b", F, {3}, {1, 2, 3}}},
                    attrs(A::makeString("equation", "...ij,j->...i")), 12});
    nets.push_back({"Det", {{"a", F, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}}, {}, 11});
    nets.push_back({"PRelu", {{"x", F, {2, 3}, {-1, 2, -3, 4, -5, 6}}, {"s", F, {3}, {1, 2, 3}}}, {}, 16});
    for (Net& n : nets) {
        auto m = singleNode(n.op, n.ins, 1, std::move(n.attrs), n.opset);
        std::string why;
        const long allocs = steadyStateAllocations(*m, feeds(n.ins), why);
        QVERIFY2(allocs >= 0, qPrintable(QString("%1: %2").arg(n.op, QString::fromStdString(why))));
        QVERIFY2(allocs == 0, qPrintable(QString("%1: %2 allocations").arg(n.op).arg(allocs)));
    }
}

void TestKernelsMath::nodeSuite() {
    EW_REQUIRE_MODELS();
    const QString suite = test::modelsDir() + "/onnx-backend-tests";
    auto tests = cli::discoverConformanceTests((suite + "/node").toStdString());
    if (!tests) QSKIP("[ew-skip] onnx-backend-tests/node not found");
    const std::set<QString> ortPass = ortPasses(suite);
    int covered = 0, passed = 0, allowed = 0, outOfScope = 0;
    QStringList failures, ortPassesWeFail, ortPassesNotCovered;
    std::set<std::string> opsSeen;
    for (const cli::ConformanceCase& t : *tests) {
        const QString name = QString::fromStdString(t.name).section('/', -1);
        bool selected = false; // also false when the model does not load: no family claims it
        cli::ConformanceOptions opts;
        // Tests whose ops are all this family's or the base list's, one of them at least this family's.
        opts.select = [&](const ir::Model& model) {
            bool family = false, allOurs = true;
            for (const auto& n : model.graph->nodes()) {
                bool def = ir::canonicalDomain(n->domain).empty();
                if (def && familyOps().count(n->opType)) {
                    family = true;
                    opsSeen.insert(n->opType);
                } else if (!def || !baseOps().count(n->opType)) {
                    allOurs = false;
                }
            }
            if (family && !allOurs && ortPass.count(name)) ortPassesNotCovered << name;
            return selected = family && allOurs;
        };
        const cli::CaseResult r = cli::runConformanceCase(t, opts);
        if (!selected) continue;
        if (r.outOfScope()) {
            ++outOfScope;
            continue;
        }
        ++covered;
        if (r.outcome == cli::Outcome::Pass) {
            ++passed;
            continue;
        }
        const std::string why = (r.outcome == cli::Outcome::Skip ? "skipped: " : "") + r.reason;
        if (ortPass.count(name)) ortPassesWeFail << name;
        if (allowlist().count(name) && why.find(allowlist().at(name)) != std::string::npos) {
            ++allowed;
            qInfo("allowlisted %s: %s", qPrintable(name), why.c_str());
        } else {
            failures << name + ": " + QString::fromStdString(why);
        }
    }
    QStringList missing;
    for (const std::string& op : familyOps())
        if (!opsSeen.count(op)) missing << QString::fromStdString(op);
    qInfo("math family node suite: %d tests covered (%zu of %zu ops), %d pass, %d allowlisted, %d fail; %d skipped "
          "for out-of-scope element types; ops without a covered test: %s",
          covered, opsSeen.size(), familyOps().size(), passed, allowed, static_cast<int>(failures.size()), outOfScope,
          qPrintable(missing.join(' ')));
    for (const QString& f : failures) qWarning("%s", qPrintable(f));
    if (!ortPassesWeFail.isEmpty()) qWarning("ORT passes, we fail: %s", qPrintable(ortPassesWeFail.join(' ')));
    // Tests using this family's ops together with other families' ops run in their suites.
    qInfo("%d tests ORT passes use these ops with other families' ops (not run here): %s",
          static_cast<int>(ortPassesNotCovered.size()), qPrintable(ortPassesNotCovered.join(' ')));
    QVERIFY2(failures.isEmpty(), qPrintable(QString("%1 unexpected failures").arg(failures.size())));
    QVERIFY(covered >= 150);
}

QTEST_GUILESS_MAIN(TestKernelsMath)
#include "tst_kernels_math.moc"
