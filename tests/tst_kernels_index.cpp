// Index-family CPU kernels (core/runtime/cpu/index_*.cpp): hand-built single-node graphs with
// exact expected outputs for the tricky semantics, prepare-time rejection of out-of-range index
// values, thread-count determinism, steady-state runs without allocation, and every ONNX node-suite
// test that uses one of this family's ops (the rest of its ops having kernels) against its
// reference outputs.
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
#include <random>
#include <set>

using namespace ew;
using namespace ew::test;
using ir::DataType;
using rt::Tensor;

namespace {

/// The ops of this family (kernels_index.def).
const std::set<std::string>& familyOps() { return kernelListOps(KernelList::Index); }

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Within 1e-6 relative, plus 1e-5 absolute for floats; NaN matches NaN.
bool matches(const Tensor& got, const Out& want, QString& why) {
    return sameValues(got, want, 1e-6, ir::isFloatingPoint(want.dt) ? 1e-5 : 0.0, why);
}

using A = ir::Attribute;

struct Case {
    const char* name;
    std::string op;
    std::vector<In> ins;
    std::vector<A> (*attrs)();
    std::vector<Out> outs;
    int64_t opset = 18;
};

constexpr DataType F = DataType::Float, I64 = DataType::Int64, I32 = DataType::Int32, B = DataType::Bool,
                   H = DataType::Float16, U8 = DataType::UInt8;

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        // Reductions.
        {"ReduceL1 attr axes", "ReduceL1", {{"x", F, {2, 2}, {1, -2, 3, -4}}}, [] { return attrs(A::makeInts("axes", {1})); },
         {{F, {2, 1}, {3, 7}}}, 13},
        {"ReduceL1 all axes int64", "ReduceL1", {{"x", I64, {2, 2}, {-1, 2, -3, 4}}}, none, {{I64, {1, 1}, {10}}}, 11},
        {"ReduceL2 int32 no keepdims", "ReduceL2", {{"x", I32, {2, 2}, {3, 4, 6, 8}}},
         [] { return attrs(A::makeInts("axes", {1}), A::makeInt("keepdims", 0)); }, {{I32, {2}, {5, 10}}}, 13},
        {"ReduceLogSumExp huge values stay finite", "ReduceLogSumExp", {{"x", F, {2}, {1000, 1000}}},
         [] { return attrs(A::makeInt("keepdims", 0)); }, {{F, {}, {1000.6931471805599}}}, 13},
        {"ReduceLogSumExp axes input negative", "ReduceLogSumExp",
         {{"x", F, {2, 2}, {0, 0, 1, 1}}, {"a", I64, {1}, {-1}}}, none, {{F, {2, 1}, {0.6931471805599453, 1.6931471805599454}}}},
        {"ReduceLogSumExp all -inf", "ReduceLogSumExp", {{"x", F, {2}, {-kInf, -kInf}}}, none, {{F, {1}, {-kInf}}}},
        {"ReduceSumSquare noop_with_empty_axes squares", "ReduceSumSquare",
         {{"x", F, {3}, {1, -2, 3}}, {"a", I64, {0}, {}}}, [] { return attrs(A::makeInt("noop_with_empty_axes", 1)); },
         {{F, {3}, {1, 4, 9}}}},
        {"ReduceSumSquare empty axes reduce all", "ReduceSumSquare", {{"x", F, {3}, {1, -2, 3}}, {"a", I64, {0}, {}}},
         [] { return attrs(A::makeInt("keepdims", 0)); }, {{F, {}, {14}}}},
        {"ReduceLogSum over an empty axis", "ReduceLogSum", {{"x", F, {2, 0, 2}, {}}, {"a", I64, {1}, {1}, true}}, none,
         {{F, {2, 1, 2}, {-kInf, -kInf, -kInf, -kInf}}}},
        {"ReduceL2 over an empty axis", "ReduceL2", {{"x", F, {2, 0}, {}}}, [] { return attrs(A::makeInt("keepdims", 0)); },
         {{F, {}, {0}}}},
        {"ArgMax first of ties", "ArgMax", {{"x", F, {2, 3}, {1, 3, 3, 5, 5, 2}}},
         [] { return attrs(A::makeInt("axis", 1), A::makeInt("keepdims", 0)); }, {{I64, {2}, {1, 0}}}, 13},
        {"ArgMax select_last_index", "ArgMax", {{"x", F, {2, 3}, {1, 3, 3, 5, 5, 2}}},
         [] { return attrs(A::makeInt("axis", 1), A::makeInt("keepdims", 0), A::makeInt("select_last_index", 1)); },
         {{I64, {2}, {2, 1}}}, 13},
        {"ArgMin negative axis keepdims", "ArgMin", {{"x", I32, {2, 2}, {4, 1, 2, 3}}},
         [] { return attrs(A::makeInt("axis", -2)); }, {{I64, {1, 2}, {1, 0}}}, 13},
        // Scans and TopK.
        {"CumSum exclusive reverse", "CumSum", {{"x", F, {4}, {1, 2, 3, 4}}, {"a", I64, {}, {0}}},
         [] { return attrs(A::makeInt("exclusive", 1), A::makeInt("reverse", 1)); }, {{F, {4}, {9, 7, 4, 0}}}, 14},
        {"CumSum int32 axis 1 (int32 axis)", "CumSum", {{"x", I32, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"a", I32, {}, {1}}}, none,
         {{I32, {2, 3}, {1, 3, 6, 4, 9, 15}}}, 14},
        {"CumSum axis 0 reverse", "CumSum", {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"a", I64, {}, {-2}, true}},
         [] { return attrs(A::makeInt("reverse", 1)); }, {{F, {2, 2}, {4, 6, 3, 4}}}, 14},
        {"CumProd exclusive", "CumProd", {{"x", F, {4}, {1, 2, 3, 4}}, {"a", I64, {}, {0}}},
         [] { return attrs(A::makeInt("exclusive", 1)); }, {{F, {4}, {1, 1, 2, 6}}}, 26},
        {"CumProd reverse int64", "CumProd", {{"x", I64, {4}, {1, 2, 3, 4}}, {"a", I64, {}, {0}}},
         [] { return attrs(A::makeInt("reverse", 1)); }, {{I64, {4}, {24, 24, 12, 4}}}, 26},
        {"TopK ties go to the lower index", "TopK", {{"x", F, {1, 5}, {3, 1, 3, 2, 3}}, {"k", I64, {1}, {2}}}, none,
         {{F, {1, 2}, {3, 3}}, {I64, {1, 2}, {0, 2}}}, 11},
        {"TopK smallest", "TopK", {{"x", F, {1, 5}, {3, 1, 3, 2, 3}}, {"k", I64, {1}, {3}}},
         [] { return attrs(A::makeInt("largest", 0)); }, {{F, {1, 3}, {1, 2, 3}}, {I64, {1, 3}, {1, 3, 0}}}, 11},
        {"TopK axis 0", "TopK", {{"x", F, {3, 2}, {1, 6, 5, 2, 3, 4}}, {"k", I64, {1}, {1}, true}},
         [] { return attrs(A::makeInt("axis", 0)); }, {{F, {1, 2}, {5, 6}}, {I64, {1, 2}, {1, 0}}}, 11},
        {"TopK opset 9 attribute k", "TopK", {{"x", F, {4}, {1, 4, 2, 3}}}, [] { return attrs(A::makeInt("k", 2)); },
         {{F, {2}, {4, 3}}, {I64, {2}, {1, 3}}}, 9},
        {"TopK NaN ranks highest", "TopK", {{"x", F, {3}, {1, NAN, 2}}, {"k", I64, {1}, {2}}}, [] { return attrs(A::makeInt("largest", 0)); },
         {{F, {2}, {1, 2}}, {I64, {2}, {0, 2}}}, 11},
        // Gathers and scatters.
        {"GatherElements negative indices", "GatherElements",
         {{"x", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"i", I64, {2, 2}, {-1, 0, 1, -3}}}, [] { return attrs(A::makeInt("axis", 1)); },
         {{F, {2, 2}, {3, 1, 5, 4}}}, 13},
        {"GatherElements smaller indices", "GatherElements", {{"x", F, {3, 2}, {1, 2, 3, 4, 5, 6}}, {"i", I32, {1, 2}, {2, 0}}},
         none, {{F, {1, 2}, {5, 2}}}, 13},
        {"GatherND batch_dims 1", "GatherND", {{"x", F, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}}, {"i", I64, {2, 1}, {1, 0}}},
         [] { return attrs(A::makeInt("batch_dims", 1)); }, {{F, {2, 2}, {2, 3, 4, 5}}}, 13},
        {"GatherND negative", "GatherND", {{"x", I32, {2, 2}, {0, 1, 2, 3}}, {"i", I64, {2, 2}, {0, -1, -1, 0}}}, none,
         {{I32, {2}, {1, 2}}}, 13},
        {"ScatterElements add duplicates", "ScatterElements",
         {{"x", F, {1, 5}, {1, 2, 3, 4, 5}}, {"i", I64, {1, 2}, {1, 1}}, {"u", F, {1, 2}, {10, 20}}},
         [] { return attrs(A::makeInt("axis", 1), A::makeString("reduction", "add")); }, {{F, {1, 5}, {1, 32, 3, 4, 5}}}, 16},
        {"ScatterElements none: last duplicate wins", "ScatterElements",
         {{"x", F, {1, 5}, {1, 2, 3, 4, 5}}, {"i", I64, {1, 2}, {1, 1}}, {"u", F, {1, 2}, {10, 20}}},
         [] { return attrs(A::makeInt("axis", 1)); }, {{F, {1, 5}, {1, 20, 3, 4, 5}}}, 16},
        {"ScatterElements max negative index", "ScatterElements",
         {{"x", F, {3}, {1, 5, 3}}, {"i", I64, {2}, {-1, 1}}, {"u", F, {2}, {7, 0}}},
         [] { return attrs(A::makeString("reduction", "max")); }, {{F, {3}, {1, 5, 7}}}, 18},
        {"ScatterElements min int32", "ScatterElements",
         {{"x", I32, {2, 2}, {5, 5, 5, 5}}, {"i", I64, {1, 2}, {1, 0}}, {"u", I32, {1, 2}, {3, 9}}},
         [] { return attrs(A::makeString("reduction", "min")); }, {{I32, {2, 2}, {5, 5, 3, 5}}}, 18},
        {"ScatterND mul duplicates", "ScatterND",
         {{"x", F, {4}, {1, 2, 3, 4}}, {"i", I64, {2, 1}, {1, 1}}, {"u", F, {2}, {3, 5}}},
         [] { return attrs(A::makeString("reduction", "mul")); }, {{F, {4}, {1, 30, 3, 4}}}, 16},
        {"ScatterND slice negative", "ScatterND",
         {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"i", I64, {1, 1}, {-1}}, {"u", F, {1, 2}, {9, 8}}}, none,
         {{F, {2, 2}, {1, 2, 9, 8}}}, 13},
        {"Scatter opset 10", "Scatter", {{"x", F, {2, 2}, {0, 0, 0, 0}}, {"i", I64, {1, 2}, {1, 0}}, {"u", F, {1, 2}, {5, 6}}},
         none, {{F, {2, 2}, {0, 6, 5, 0}}}, 10},
        {"TensorScatter circular wraps", "TensorScatter",
         {{"p", F, {1, 4, 1}, {1, 2, 3, 4}}, {"u", F, {1, 2, 1}, {9, 8}}, {"w", I64, {1}, {3}}},
         [] { return attrs(A::makeString("mode", "circular")); }, {{F, {1, 4, 1}, {8, 2, 3, 9}}}, 24},
        {"TensorScatter linear per batch", "TensorScatter",
         {{"p", F, {2, 3, 1}, {1, 2, 3, 4, 5, 6}}, {"u", F, {2, 1, 1}, {9, 8}}, {"w", I64, {2}, {2, 0}}}, none,
         {{F, {2, 3, 1}, {1, 2, 9, 8, 5, 6}}}, 24},
        {"TensorScatter no write_indices", "TensorScatter", {{"p", F, {1, 3, 2}, {1, 2, 3, 4, 5, 6}}, {"u", F, {1, 1, 2}, {9, 8}}},
         none, {{F, {1, 3, 2}, {9, 8, 3, 4, 5, 6}}}, 24},
        // Generators and selections.
        {"Range int negative delta", "Range", {{"s", I32, {}, {10}}, {"l", I32, {}, {4}}, {"d", I32, {}, {-3}}}, none,
         {{I32, {2}, {10, 7}}}, 11},
        {"Range float", "Range", {{"s", F, {}, {0}}, {"l", F, {}, {1}}, {"d", F, {}, {0.25}}}, none,
         {{F, {4}, {0, 0.25, 0.5, 0.75}}}, 11},
        {"Range empty", "Range", {{"s", I64, {}, {5}}, {"l", I64, {}, {1}}, {"d", I64, {}, {1}}}, none, {{I64, {0}, {}}}, 11},
        {"OneHot axis 0, negative and out of range", "OneHot",
         {{"i", I64, {3}, {0, -1, 5}}, {"d", F, {}, {3}}, {"v", F, {2}, {0, 1}}}, [] { return attrs(A::makeInt("axis", 0)); },
         {{F, {3, 3}, {1, 0, 0, 0, 0, 0, 0, 1, 0}}}, 11},
        {"OneHot float indices truncate", "OneHot", {{"i", F, {2}, {1.7, 0}}, {"d", I64, {1}, {2}}, {"v", I32, {2}, {-1, 7}}},
         none, {{I32, {2, 2}, {-1, 7, 7, -1}}}, 11},
        {"EyeLike k=-1 dtype int32", "EyeLike", {{"x", F, {3, 2}, {9, 9, 9, 9, 9, 9}}},
         [] { return attrs(A::makeInt("k", -1), A::makeInt("dtype", 6)); }, {{I32, {3, 2}, {0, 0, 1, 0, 0, 1}}}, 9},
        {"EyeLike k beyond width", "EyeLike", {{"x", B, {2, 2}, {0, 0, 0, 0}}}, [] { return attrs(A::makeInt("k", 5)); },
         {{B, {2, 2}, {0, 0, 0, 0}}}, 9},
        {"Trilu lower k=-1", "Trilu", {{"x", F, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"k", I64, {}, {-1}}},
         [] { return attrs(A::makeInt("upper", 0)); }, {{F, {3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0}}}, 14},
        {"Trilu upper k=1 batched", "Trilu", {{"x", I64, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}, {"k", I64, {}, {1}}}, none,
         {{I64, {2, 2, 2}, {0, 2, 0, 0, 0, 6, 0, 0}}}, 14},
        {"NonZero", "NonZero", {{"x", I32, {2, 3}, {0, 1, 0, 2, 0, 3}}}, none, {{I64, {2, 3}, {0, 1, 1, 1, 0, 2}}}, 13},
        {"NonZero float16 -0 is zero", "NonZero", {{"x", H, {3}, {-0.0, 2, 0}}}, none, {{I64, {1, 1}, {1}}}, 13},
        {"Compress flattened, short condition", "Compress", {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"c", B, {3}, {0, 1, 1}}}, none,
         {{F, {2}, {2, 3}}}, 11},
        {"Compress negative axis", "Compress", {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"c", B, {2}, {0, 1}}},
         [] { return attrs(A::makeInt("axis", -1)); }, {{F, {2, 1}, {2, 4}}}, 11},
        {"Unique unsorted", "Unique", {{"x", F, {6}, {2, 1, 1, 3, 4, 3}}}, [] { return attrs(A::makeInt("sorted", 0)); },
         {{F, {4}, {2, 1, 3, 4}}, {I64, {4}, {0, 1, 3, 4}}, {I64, {6}, {0, 1, 1, 2, 3, 2}}, {I64, {4}, {1, 2, 2, 1}}}, 11},
        {"Unique sorted", "Unique", {{"x", F, {6}, {2, 1, 1, 3, 4, 3}}}, none,
         {{F, {4}, {1, 2, 3, 4}}, {I64, {4}, {1, 0, 3, 4}}, {I64, {6}, {1, 0, 0, 2, 3, 2}}, {I64, {4}, {2, 1, 2, 1}}}, 11},
        {"Unique rows", "Unique", {{"x", I32, {4, 2}, {1, 0, 0, 1, 1, 0, 0, 0}}}, [] { return attrs(A::makeInt("axis", 0)); },
         {{I32, {3, 2}, {0, 0, 0, 1, 1, 0}}, {I64, {3}, {3, 1, 0}}, {I64, {4}, {2, 1, 2, 0}}, {I64, {3}, {1, 1, 2}}}, 11},
        // Layout.
        {"ReverseSequence batch_axis 0", "ReverseSequence", {{"x", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"l", I64, {2}, {2, 3}}},
         [] { return attrs(A::makeInt("batch_axis", 0), A::makeInt("time_axis", 1)); }, {{F, {2, 3}, {2, 1, 3, 6, 5, 4}}}, 10},
        {"ReverseSequence time-major", "ReverseSequence", {{"x", I64, {3, 2}, {1, 4, 2, 5, 3, 6}}, {"l", I64, {2}, {1, 2}}}, none,
         {{I64, {3, 2}, {1, 5, 2, 4, 3, 6}}}, 10},
        {"DepthToSpace DCR", "DepthToSpace", {{"x", F, {1, 8, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7}}},
         [] { return attrs(A::makeInt("blocksize", 2)); }, {{F, {1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7}}}, 13},
        {"DepthToSpace CRD", "DepthToSpace", {{"x", F, {1, 8, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7}}},
         [] { return attrs(A::makeInt("blocksize", 2), A::makeString("mode", "CRD")); },
         {{F, {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}}}, 13},
        {"SpaceToDepth", "SpaceToDepth", {{"x", U8, {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}}},
         [] { return attrs(A::makeInt("blocksize", 2)); }, {{U8, {1, 8, 1, 1}, {0, 4, 1, 5, 2, 6, 3, 7}}}, 13},
        {"Upsample nearest fractional scale", "Upsample", {{"x", F, {1, 1, 1, 2}, {1, 2}}, {"s", F, {4}, {1, 1, 2, 1.5}, true}},
         none, {{F, {1, 1, 2, 3}, {1, 1, 2, 1, 1, 2}}}, 9},
        {"Upsample linear opset 7", "Upsample", {{"x", F, {1, 2}, {1, 3}}},
         [] { return attrs(A::makeString("mode", "linear"), A::makeFloats("scales", {1.f, 2.f})); },
         {{F, {1, 4}, {1, 2, 3, 3}}}, 7},
        {"CenterCropPad crop and pad", "CenterCropPad", {{"x", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"s", I64, {2}, {1, 5}}}, none,
         {{F, {1, 5}, {0, 1, 2, 3, 0}}}, 18},
        {"CenterCropPad odd crop, negative axis", "CenterCropPad", {{"x", F, {1, 4}, {1, 2, 3, 4}}, {"s", I64, {1}, {1}}},
         [] { return attrs(A::makeInts("axes", {-1})); }, {{F, {1, 1}, {2}}}, 18},
        {"Col2Im overlapping blocks", "Col2Im",
         {{"x", F, {1, 2, 2}, {1, 2, 10, 20}}, {"i", I64, {2}, {1, 3}}, {"b", I64, {2}, {1, 2}}}, none,
         {{F, {1, 1, 1, 3}, {1, 12, 20}}}, 18},
        {"Col2Im stride and pads", "Col2Im",
         {{"x", F, {1, 2, 2}, {1, 2, 3, 4}}, {"i", I64, {2}, {1, 3}}, {"b", I64, {2}, {1, 2}}},
         [] { return attrs(A::makeInts("strides", {1, 2}), A::makeInts("pads", {0, 1, 0, 0})); },
         {{F, {1, 1, 1, 3}, {3, 2, 4}}}, 18},
    };
    return c;
}

/// Cases that must fail in prepare with an error naming the node (index values in non-constant
/// inputs), and then run again once the values are valid.
struct ErrorCase {
    const char* name;
    std::string op;
    std::vector<In> bad;  ///< inputs that must be rejected
    std::vector<In> good; ///< the same inputs with valid values
    std::vector<A> (*attrs)();
    int nOut = 1;
    int64_t opset = 18;
};

const std::vector<ErrorCase>& errorCases() {
    static const std::vector<ErrorCase> c = {
        {"GatherElements index too large", "GatherElements", {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {2}, {0, 3}}},
         {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {2}, {0, 2}}}, none},
        {"GatherElements index too negative", "GatherElements", {{"x", F, {3}, {1, 2, 3}}, {"i", I32, {1}, {-4}}},
         {{"x", F, {3}, {1, 2, 3}}, {"i", I32, {1}, {-3}}}, none},
        {"GatherND index out of range", "GatherND", {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"i", I64, {1, 2}, {0, 2}}},
         {{"x", F, {2, 2}, {1, 2, 3, 4}}, {"i", I64, {1, 2}, {0, 1}}}, none},
        {"ScatterElements index out of range", "ScatterElements",
         {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1}, {7}}, {"u", F, {1}, {9}}},
         {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1}, {2}}, {"u", F, {1}, {9}}}, none},
        {"ScatterND index out of range", "ScatterND", {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1, 1}, {-5}}, {"u", F, {1}, {9}}},
         {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1, 1}, {-3}}, {"u", F, {1}, {9}}}, none},
        {"Scatter index out of range", "Scatter", {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1}, {3}}, {"u", F, {1}, {9}}},
         {{"x", F, {3}, {1, 2, 3}}, {"i", I64, {1}, {0}}, {"u", F, {1}, {9}}}, none, 1, 10},
        {"TensorScatter linear overflow", "TensorScatter",
         {{"p", F, {1, 3, 1}, {1, 2, 3}}, {"u", F, {1, 2, 1}, {9, 8}}, {"w", I64, {1}, {2}}},
         {{"p", F, {1, 3, 1}, {1, 2, 3}}, {"u", F, {1, 2, 1}, {9, 8}}, {"w", I64, {1}, {1}}}, none, 1, 24},
        {"ReverseSequence length beyond time", "ReverseSequence", {{"x", F, {2, 1}, {1, 2}}, {"l", I64, {1}, {3}}},
         {{"x", F, {2, 1}, {1, 2}}, {"l", I64, {1}, {2}}}, none, 1, 10},
        {"TopK k larger than the axis", "TopK", {{"x", F, {3}, {1, 2, 3}}, {"k", I64, {1}, {4}}},
         {{"x", F, {3}, {1, 2, 3}}, {"k", I64, {1}, {3}}}, none, 2, 11},
        {"CumSum axis out of range", "CumSum", {{"x", F, {3}, {1, 2, 3}}, {"a", I64, {}, {1}}},
         {{"x", F, {3}, {1, 2, 3}}, {"a", I64, {}, {-1}}}, none, 1, 14},
        {"Range delta zero", "Range", {{"s", F, {}, {0}}, {"l", F, {}, {1}}, {"d", F, {}, {0}}},
         {{"s", F, {}, {0}}, {"l", F, {}, {1}}, {"d", F, {}, {1}}}, none, 1, 11},
    };
    return c;
}

} // namespace

class TestKernelsIndex : public QObject {
    Q_OBJECT
private slots:
    void registered();
    void kernels_data();
    void kernels();
    void indexErrors_data();
    void indexErrors();
    void threadCountDoesNotChangeResults();
    void dataDependentSteadyStateAllocatesNothing();
    void nodeSuite();
};

void TestKernelsIndex::registered() {
    for (const std::string& op : familyOps()) {
        bool found = false;
        for (int64_t opset : {10, 18, 26}) found = found || rt::findCpuKernel("", op, opset) != nullptr;
        QVERIFY2(found, op.c_str());
    }
    // Version bounds: Scatter was replaced by ScatterElements at 11, Upsample by Resize at 10.
    QVERIFY(rt::findCpuKernel("", "Scatter", 11) == nullptr);
    QVERIFY(rt::findCpuKernel("", "Upsample", 11) == nullptr);
}

void TestKernelsIndex::kernels_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < cases().size(); ++i) QTest::newRow(cases()[i].name) << static_cast<int>(i);
}

void TestKernelsIndex::kernels() {
    QFETCH(int, index);
    const Case& c = cases()[static_cast<std::size_t>(index)];
    auto model = singleNode(c.op, c.ins, static_cast<int>(c.outs.size()), c.attrs(), c.opset);
    for (int threads : {1, 3})
        for (bool fold : {true, false}) {
            rt::SessionOptions opt;
            opt.threads = threads;
            opt.foldConstants = fold;
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
                             qPrintable(QString("output %1 (threads=%2 fold=%3 run %4): %5")
                                            .arg(i).arg(threads).arg(fold).arg(rep).arg(why)));
                }
            }
        }
}

void TestKernelsIndex::indexErrors_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < errorCases().size(); ++i) QTest::newRow(errorCases()[i].name) << static_cast<int>(i);
}

void TestKernelsIndex::indexErrors() {
    QFETCH(int, index);
    const ErrorCase& c = errorCases()[static_cast<std::size_t>(index)];
    auto model = singleNode(c.op, c.good, c.nOut, c.attrs(), c.opset);
    auto s = rt::Session::create(*model);
    QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
    // Good, then bad with the same shapes (the plan is reused: the check must still happen), then good.
    QVERIFY((*s)->run(feeds(c.good)).has_value());
    auto bad = (*s)->run(feeds(c.bad));
    QVERIFY2(!bad.has_value(), "out-of-range values were accepted");
    std::string msg = bad.error().toString();
    QVERIFY2(msg.find("node_" + c.op) != std::string::npos, msg.c_str());
    QCOMPARE(bad.error().code, StatusCode::InvalidInput);
    auto again = (*s)->run(feeds(c.good));
    QVERIFY2(again.has_value(), again ? "" : again.error().toString().c_str());

    // A constant index tensor with bad values fails at session creation.
    std::vector<In> constBad = c.bad;
    for (std::size_t i = 1; i < constBad.size(); ++i) constBad[i].constant = true;
    auto m2 = singleNode(c.op, constBad, c.nOut, c.attrs(), c.opset);
    auto s2 = rt::Session::create(*m2);
    if (s2) QVERIFY(!(*s2)->run(feeds(constBad)).has_value());
}

/// Larger random inputs: 1 and 4 threads give the same bytes.
void TestKernelsIndex::threadCountDoesNotChangeResults() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-4.f, 4.f);
    auto randF = [&](std::size_t n) {
        std::vector<double> v(n);
        for (auto& x : v) x = std::round(u(rng) * 8) / 8; // many ties
        return v;
    };
    auto randI = [&](std::size_t n, int lo, int hi) {
        std::uniform_int_distribution<int> d(lo, hi);
        std::vector<double> v(n);
        for (auto& x : v) x = d(rng);
        return v;
    };
    struct Net {
        const char* op;
        std::vector<In> ins;
        std::vector<A> attrs;
        int nOut;
        int64_t opset;
    };
    std::vector<Net> nets;
    nets.push_back({"TopK", {{"x", F, {64, 300}, randF(64 * 300)}, {"k", I64, {1}, {17}}}, attrs(A::makeInt("axis", 1)), 2, 11});
    nets.push_back({"CumSum", {{"x", F, {40, 700}, randF(40 * 700)}, {"a", I64, {}, {0}}}, {}, 1, 14});
    nets.push_back({"ReduceLogSumExp", {{"x", F, {30, 40, 50}, randF(60000)}, {"a", I64, {2}, {0, 2}}}, {}, 1, 18});
    nets.push_back({"ScatterElements",
                    {{"x", F, {200, 300}, randF(60000)}, {"i", I64, {150, 300}, randI(45000, -200, 199)},
                     {"u", F, {150, 300}, randF(45000)}},
                    attrs(A::makeString("reduction", "add")), 1, 18});
    nets.push_back({"GatherND", {{"x", F, {50, 40, 30}, randF(60000)}, {"i", I64, {2000, 2}, randI(4000, 0, 39)}}, {}, 1, 13});
    nets.push_back({"Col2Im",
                    {{"x", F, {2, 3 * 9, 30 * 30}, randF(2 * 27 * 900)}, {"i", I64, {2}, {32, 32}}, {"b", I64, {2}, {3, 3}}},
                    {}, 1, 18});
    for (Net& n : nets) {
        auto m = singleNode(n.op, n.ins, n.nOut, std::move(n.attrs), n.opset);
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
        for (std::size_t i = 0; i < results[0].size(); ++i) {
            QCOMPARE(results[0][i].dims(), results[1][i].dims());
            QVERIFY2(std::memcmp(results[0][i].raw(), results[1][i].raw(), results[0][i].byteSize()) == 0, n.op);
        }
    }
}

/// Kernels that re-prepare before every run (value-dependent shapes, index checks) still run
/// without heap allocation once the session has planned.
void TestKernelsIndex::dataDependentSteadyStateAllocatesNothing() {
    struct Net {
        const char* op;
        std::vector<In> ins;
        int nOut;
        int64_t opset;
    };
    std::vector<Net> nets = {
        {"NonZero", {{"x", F, {4, 4}, {0, 1, 0, 2, 3, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 5}}}, 1, 13},
        {"Unique", {{"x", F, {8}, {3, 1, 2, 3, 1, 9, 9, 0}}}, 4, 11},
        {"GatherElements", {{"x", F, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"i", I64, {2, 3}, {0, 2, 1, -1, 0, 1}}}, 1, 13},
        {"ScatterND", {{"x", F, {4}, {1, 2, 3, 4}}, {"i", I64, {2, 1}, {3, 0}}, {"u", F, {2}, {7, 8}}}, 1, 13},
        {"Compress", {{"x", F, {2, 3}, {1, 2, 3, 4, 5, 6}}, {"c", B, {3}, {1, 0, 1}}}, 1, 11},
        {"TopK", {{"x", F, {2, 5}, {5, 1, 4, 2, 3, 0, 9, 8, 7, 6}}, {"k", I64, {1}, {2}}}, 2, 11},
    };
    for (const Net& n : nets) {
        auto m = singleNode(n.op, n.ins, n.nOut, n.op == std::string("Compress") ? attrs(A::makeInt("axis", 1)) : std::vector<A>{},
                            n.opset);
        std::string why;
        const long allocs = steadyStateAllocations(*m, feeds(n.ins), why);
        QVERIFY2(allocs >= 0, qPrintable(QString("%1: %2").arg(n.op, QString::fromStdString(why))));
        QVERIFY2(allocs == 0, qPrintable(QString("%1: %2 allocations").arg(n.op).arg(allocs)));
    }
}

void TestKernelsIndex::nodeSuite() {
    EW_REQUIRE_MODELS();
    const QString suite = test::modelsDir() + "/onnx-backend-tests";
    auto tests = cli::discoverConformanceTests((suite + "/node").toStdString());
    if (!tests) QSKIP("[ew-skip] onnx-backend-tests/node not found");
    const std::set<QString> ortPass = ortPasses(suite);
    const std::set<std::string>& base = kernelListOps(KernelList::Base);
    int covered = 0, passed = 0, outOfScope = 0;
    QStringList failures, ortPassesWeFail, needOthers;
    std::set<std::string> opsSeen;
    for (const cli::ConformanceCase& t : *tests) {
        const QString name = QString::fromStdString(t.name).section('/', -1);
        bool selected = false; // also false when the model does not load: no family claims it
        cli::ConformanceOptions opts;
        // Tests that use this family's ops, the rest of their ops being this family's or kernels.def's.
        opts.select = [&](const ir::Model& model) {
            bool family = false, allKernels = true;
            for (const auto& n : model.graph->nodes()) {
                const bool mine = familyOps().count(n->opType) != 0;
                if (mine) {
                    family = true;
                    opsSeen.insert(n->opType);
                }
                if (!ir::canonicalDomain(n->domain).empty() || !(mine || base.count(n->opType)) ||
                    !rt::findCpuKernel(n->domain, n->opType, model.opsetFor(n->domain)))
                    allKernels = false;
            }
            if (family && !allKernels) needOthers << name;
            return selected = family && allKernels;
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
        if (ortPass.count(name)) ortPassesWeFail << name;
        failures << name + ": " + (r.outcome == cli::Outcome::Skip ? "skipped: " : "") +
                        QString::fromStdString(r.reason);
    }
    qInfo("index family node suite: %d tests covered (%zu ops), %d pass, %d fail; %d skipped for out-of-scope "
          "element types",
          covered, opsSeen.size(), passed, static_cast<int>(failures.size()), outOfScope);
    if (!needOthers.isEmpty())
        qInfo("not run (they also use ops outside this family and kernels.def): %s", qPrintable(needOthers.join(' ')));
    for (const QString& f : failures) qWarning("%s", qPrintable(f));
    if (!ortPassesWeFail.isEmpty()) qWarning("ORT passes, we fail: %s", qPrintable(ortPassesWeFail.join(' ')));
    QVERIFY2(failures.isEmpty(), qPrintable(QString("%1 unexpected failures").arg(failures.size())));
    QVERIFY(covered > 150);
}

QTEST_GUILESS_MAIN(TestKernelsIndex)
#include "tst_kernels_index.moc"
