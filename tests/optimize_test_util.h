#pragma once
// Helpers for the optimizer's tests: models written in ONNX's text syntax (onnx/defs/parser.h),
// one pass run with the verifier on, golden text dumps, and numeric equality through the runtime.
#include "ir/graph.h"
#include "ir/onnx/onnx_import.h"
#include "ir/shape_inference.h"
#include "ir/text_dump.h"
#include "optimize/pass.h"
#include "optimize/pipeline.h"
#include "runtime/session.h"

#include <onnx/defs/parser.h>

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>

namespace ew::test {

/// A model from ONNX text, e.g.
///   <ir_version: 8, opset_import: ["" : 13]>
///   g (float[1,3,8,8] x) => (float[1,4,8,8] y) <float[4,3,3,3] w = {...}> { y = Conv(x, w) }
/// imported through Edgewise's ONNX importer, shapes inferred. Fails the test on a parse error.
inline std::unique_ptr<ir::Model> parseModel(const std::string& text) {
    onnx::ModelProto proto;
    const auto status = onnx::OnnxParser::Parse(proto, text.c_str());
    if (!status.IsOK()) {
        qWarning("ONNX text does not parse: %s\n%s", status.ErrorMessage().c_str(), text.c_str());
        return nullptr;
    }
    const std::string bytes = proto.SerializeAsString();
    auto model = onnxfmt::importOnnxBytes(
        std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()), "test.onnx", ".");
    if (!model) {
        qWarning("import failed: %s", model.error().toString().c_str());
        return nullptr;
    }
    ir::inferShapes(**model);
    return std::move(*model);
}

/// The main graph's text dump without its `graph "name" {` and `}` lines and node names, every
/// line trimmed, so golden strings in tests stay short.
inline std::string graphText(const ir::Model& m) {
    ir::DumpOptions o;
    o.showNodeNames = false;
    std::istringstream in(ir::dumpGraph(*m.graph, o));
    std::vector<std::string> lines;
    std::string line, out;
    while (std::getline(in, line)) {
        const auto b = line.find_first_not_of(' ');
        if (b != std::string::npos) lines.push_back(line.substr(b));
    }
    for (std::size_t k = 0; k < lines.size(); ++k) {
        if ((k == 0 && lines[k].starts_with("graph ")) || (k + 1 == lines.size() && lines[k] == "}"))
            continue;
        out += lines[k];
        out += '\n';
    }
    return out;
}

/// Trims every line of a golden string the same way (so it can be indented in the source).
inline std::string golden(const std::string& text) {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
        const auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        const auto e = line.find_last_not_of(" \t");
        out += line.substr(b, e - b + 1);
        out += '\n';
    }
    return out;
}

/// Runs one pass (by name) over the model with the verifier on; returns whether it changed
/// anything (fails the calling test through QVERIFY on an error).
inline bool applyPass(ir::Model& m, const char* name, opt::PassContext* ctxOut = nullptr) {
    const opt::PassInfo* p = opt::findPass(name);
    if (!p) {
        qWarning("no pass named %s", name);
        return false;
    }
    opt::PassContext ctx(m);
    if (auto r = opt::runPass(m, *p, ctx, /*verify=*/true); !r) {
        qWarning("pass %s failed: %s", name, r.error().toString().c_str());
        return false;
    }
    if (ctxOut) *ctxOut = ctx;
    return ctx.changed();
}

/// Seeded random inputs for every graph input (floats in [-1, 1], integers in [0, 4), bools).
/// Dims that are not static become `dynDim`.
inline rt::Session::NamedTensors randomInputs(const rt::Session& s, uint32_t seed, int64_t dynDim = 2) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    rt::Session::NamedTensors in;
    for (const rt::TensorInfo& info : s.inputInfo()) {
        std::vector<int64_t> dims;
        if (info.shape)
            for (const ir::Dim& d : info.shape->dims) dims.push_back(d.isKnown() ? d.value : dynDim);
        rt::Tensor t = rt::Tensor::allocate(info.dtype, dims);
        for (int64_t i = 0; i < t.numElements(); ++i) {
            switch (info.dtype) {
            case ir::DataType::Float: t.data<float>()[i] = u(rng); break;
            case ir::DataType::Double: t.data<double>()[i] = u(rng); break;
            case ir::DataType::Int64: t.data<int64_t>()[i] = int64_t(rng() % 4); break;
            case ir::DataType::Int32: t.data<int32_t>()[i] = int32_t(rng() % 4); break;
            case ir::DataType::Bool: t.data<bool>()[i] = (rng() & 1) != 0; break;
            default: std::memset(t.raw(), 0, t.byteSize()); break;
            }
        }
        in.emplace_back(info.name, std::move(t));
    }
    return in;
}

/// Largest |a - b| over a tensor divided by the largest |a| (1 when a is all zeros); +inf when
/// shapes or types differ.
inline double relativeDiff(const rt::Tensor& a, const rt::Tensor& b) {
    if (a.dtype() != b.dtype() || a.dims() != b.dims()) return INFINITY;
    double maxAbs = 0, maxDiff = 0;
    for (int64_t i = 0; i < a.numElements(); ++i) {
        const double x = a.doubleAt(i), y = b.doubleAt(i);
        if (std::isnan(x) != std::isnan(y)) return INFINITY;
        if (std::isnan(x)) continue;
        maxAbs = std::max(maxAbs, std::abs(x));
        maxDiff = std::max(maxDiff, std::abs(x - y));
    }
    return maxDiff / (maxAbs > 0 ? maxAbs : 1.0);
}

/// Worst relativeDiff over the outputs of two sessions run on the same inputs; negative (with a
/// warning) when either cannot run.
inline double outputsDiffOn(rt::Session& a, rt::Session& b, const rt::Session::NamedTensors& in) {
    auto ra = a.run(in);
    auto rb = b.run(in);
    if (!ra || !rb) {
        qWarning("cannot run: %s", (!ra ? ra.error() : rb.error()).toString().c_str());
        return -1;
    }
    if (ra->size() != rb->size()) return INFINITY;
    double worst = 0;
    for (std::size_t k = 0; k < ra->size(); ++k) worst = std::max(worst, relativeDiff((*ra)[k], (*rb)[k]));
    return worst;
}

/// Runs both models on the same seeded random inputs (runtime fusions off, so the pass is what
/// is compared) and returns the worst relativeDiff over the outputs, or a negative number
/// (with a warning) when either model cannot run.
inline double outputsDiff(const ir::Model& before, const ir::Model& after, uint32_t seed = 7,
                          int64_t dynDim = 2) {
    rt::SessionOptions o;
    o.fuse = false;
    o.threads = 1;
    auto a = rt::Session::create(before, o);
    auto b = rt::Session::create(after, o);
    if (!a || !b) {
        qWarning("cannot create a session: %s", (!a ? a.error() : b.error()).toString().c_str());
        return -1;
    }
    const auto in = randomInputs(**a, seed, dynDim);
    return outputsDiffOn(**a, **b, in);
}

/// The same comparison on given inputs (e.g. a model's test_data_set_0).
inline double outputsDiffOn(const ir::Model& before, const ir::Model& after,
                            const rt::Session::NamedTensors& in) {
    rt::SessionOptions o;
    o.fuse = false;
    o.threads = 1;
    auto a = rt::Session::create(before, o);
    auto b = rt::Session::create(after, o);
    if (!a || !b) {
        qWarning("cannot create a session: %s", (!a ? a.error() : b.error()).toString().c_str());
        return -1;
    }
    return outputsDiffOn(**a, **b, in);
}

/// Number of main-graph nodes with this op type.
inline int countOp(const ir::Model& m, const std::string& op) {
    int n = 0;
    for (const auto& node : m.graph->nodes()) n += node->opType == op;
    return n;
}

} // namespace ew::test

/// Applies `pass` to a copy of `model` and checks: it changed something, the main graph's dump
/// equals `expected` (golden, trimmed), outputs agree within 1e-5 relative on random inputs.
#define EW_CHECK_PASS(model, pass, expected)                                                       \
    do {                                                                                           \
        auto ew_after = (model)->clone();                                                          \
        QVERIFY2(ew::test::applyPass(*ew_after, pass), "the pass changed nothing");                \
        QCOMPARE(QString::fromStdString(ew::test::graphText(*ew_after)),                           \
                 QString::fromStdString(ew::test::golden(expected)));                              \
        const double ew_diff = ew::test::outputsDiff(*(model), *ew_after);                         \
        QVERIFY2(ew_diff >= 0 && ew_diff <= 1e-5, qPrintable(QString("relative diff %1").arg(ew_diff))); \
    } while (0)

/// Applies `pass` to a copy of `model` and checks that it changed nothing at all.
#define EW_CHECK_NO_MATCH(model, pass)                                                             \
    do {                                                                                           \
        auto ew_after = (model)->clone();                                                          \
        const std::string ew_before = ew::test::graphText(*ew_after);                              \
        QVERIFY2(!ew::test::applyPass(*ew_after, pass), "the pass changed a graph it must not touch"); \
        QCOMPARE(QString::fromStdString(ew::test::graphText(*ew_after)),                           \
                 QString::fromStdString(ew_before));                                               \
    } while (0)
