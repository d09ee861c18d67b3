// Post-training quantization: calibration, opset checks, and the graph rewrites of each scheme.
//
// int8 / int8-per-tensor (the shape ONNX Runtime's QDQ quantizer writes):
//   x ─Q─DQ─┐                       weights: W_quantized(int8) ─DQ(axis)─┐
//           Conv/Gemm/MatMul ─ y ─Q─DQ─ ...   bias: b_quantized(int32, scale sx*sw) ─DQ─┘
// Every float activation read or written by a quantized node gets one Q/DQ pair that all its
// consumers share. Reshape-like ops and MaxPool reuse their input's parameters (they move values,
// never create new ones); Relu and Clip(0, max) right after a quantized producer are dropped when
// activations are asymmetric, because the producer's output range [0, max] then clamps exactly
// as they would.
// fp16: float initializers stored as float16, each followed by Cast(to=float).
// w8 / w4: MatMul/Gemm constant B stored as int8/int4 with one scale per `block` elements along
// K, read through DequantizeLinear(block_size) (opset 21).
#include "quantizer.h"

#include "ir/shape_inference.h"
#include "optimize/graph_util.h"
#include "runtime/session.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>

namespace ew::opt::quant {

using ir::DataType;

std::string_view schemeName(Scheme s) {
    switch (s) {
    case Scheme::Int8: return "int8";
    case Scheme::Int8PerTensor: return "int8-per-tensor";
    case Scheme::Fp16: return "fp16";
    case Scheme::W8: return "w8";
    case Scheme::W4: return "w4";
    }
    return "?";
}

bool parseScheme(std::string_view name, Scheme& out) {
    for (Scheme s : {Scheme::Int8, Scheme::Int8PerTensor, Scheme::Fp16, Scheme::W8, Scheme::W4})
        if (schemeName(s) == name) {
            out = s;
            return true;
        }
    return false;
}

bool needsCalibration(Scheme s) { return s == Scheme::Int8 || s == Scheme::Int8PerTensor; }

std::string_view activationTypeName(ActivationType t) {
    switch (t) {
    case ActivationType::UInt8: return "uint8";
    case ActivationType::Int8: return "int8";
    case ActivationType::Int8Symmetric: return "int8-symmetric";
    }
    return "?";
}

bool parseActivationType(std::string_view name, ActivationType& out) {
    for (ActivationType t : {ActivationType::UInt8, ActivationType::Int8, ActivationType::Int8Symmetric})
        if (activationTypeName(t) == name) {
            out = t;
            return true;
        }
    return false;
}

bool globMatch(std::string_view p, std::string_view t) {
    // Iterative matcher with single-star backtracking: linear in practice, no recursion.
    std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

// ---------------------------------------------------------------------------------------------
// Calibration

int calibrationBins(const QuantizeOptions& o) { return rangeNeedsHistogram(o.range.method) ? o.histogramBins : 0; }

Result<Calibration> calibrate(const ir::Model& model, data::Dataset& data, int histogramBins, Reporter& reporter) {
    rt::SessionOptions so;
    so.fuse = false; // every original tensor must be visible to the callback
    // The observers split large tensors over the session's threads (otherwise idle between nodes).
    so.pool = std::make_shared<rt::ThreadPool>(so.threads);
    rt::ThreadPool* pool = so.pool.get();
    EW_TRY_ASSIGN(auto session, rt::Session::create(model, so));
    Calibration cal;
    cal.source = data.describe();
    cal.random = data.isRandom();
    auto observe = [&](const std::string& name, const rt::Tensor& t) {
        if (t.dtype() != DataType::Float || t.numElements() == 0) return;
        auto it = cal.observers.find(name);
        if (it == cal.observers.end()) it = cal.observers.emplace(name, TensorObserver(histogramBins)).first;
        it->second.observe(std::span<const float>(t.data<float>(), static_cast<std::size_t>(t.numElements())), pool);
    };
    session->setNodeCallback([&](const rt::NodeEvent& e) {
        for (std::size_t k = 0; k < e.outputs.size(); ++k) {
            const ir::Value* v = e.node.output(k);
            if (v && e.outputs[k] && v->graph() == model.graph.get()) observe(v->name, *e.outputs[k]);
        }
    });
    data.reset();
    const int64_t total = data.size();
    data::Sample s;
    for (;;) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "calibration cancelled");
        EW_TRY_ASSIGN(bool more, data.next(s));
        if (!more) break;
        for (const auto& [name, t] : s.inputs) observe(name, t);
        auto out = session->run(s.inputs);
        if (!out) {
            Status st = out.error();
            st.message = "calibration sample '" + s.source + "': " + st.message;
            return std::unexpected(st);
        }
        ++cal.samples;
        if (total > 0) reporter.progress("calibrate", double(cal.samples) / double(total));
    }
    if (cal.samples == 0) return fail(StatusCode::InvalidInput, "the calibration data has no samples: " + cal.source);
    return cal;
}

// ---------------------------------------------------------------------------------------------
// Opset

namespace {

/// The earliest default-domain opset from which the op's meaning is unchanged up to opset 21
/// (schema changes that only add types or optional inputs with neutral defaults do not count).
/// Ops not listed are refused: we do not know that they keep their meaning.
int stableSince(std::string_view op, int64_t target) {
    static const std::unordered_map<std::string_view, int> kTable = {
        {"Abs", 6}, {"Add", 7}, {"And", 7}, {"ArgMax", 1}, {"ArgMin", 1}, {"AveragePool", 7},
        {"BatchNormalization", 9}, {"Cast", 6}, {"Ceil", 6}, {"Clip", 11}, {"Concat", 4},
        {"Constant", 1}, {"ConstantOfShape", 9}, {"Conv", 1}, {"ConvTranspose", 1},
        {"DepthToSpace", 1}, {"DequantizeLinear", 13}, {"Div", 7}, {"Dropout", 12}, {"Elu", 6},
        {"Equal", 7}, {"Erf", 9}, {"Exp", 6}, {"Expand", 8}, {"Flatten", 1}, {"Floor", 6},
        {"Gather", 1}, {"Gemm", 7}, {"GlobalAveragePool", 1}, {"GlobalMaxPool", 1}, {"Greater", 7},
        {"HardSigmoid", 6}, {"HardSwish", 14}, {"Identity", 1}, {"InstanceNormalization", 6},
        {"LRN", 1}, {"LeakyRelu", 6}, {"Less", 7}, {"Log", 6}, {"LogSoftmax", 13}, {"MatMul", 1},
        {"Max", 8}, {"MaxPool", 8}, {"Mean", 8}, {"Min", 8}, {"Mul", 7}, {"Neg", 6}, {"Not", 1},
        {"Or", 7}, {"PRelu", 7}, {"Pad", 11}, {"Pow", 7}, {"QuantizeLinear", 13}, {"Range", 11},
        {"Reciprocal", 6}, {"ReduceMax", 1}, {"ReduceMean", 1}, {"ReduceMin", 1}, {"ReduceProd", 1},
        {"ReduceSum", 13}, {"Relu", 6}, {"Reshape", 5}, {"Resize", 11}, {"Shape", 1},
        {"Sigmoid", 6}, {"Sin", 7}, {"Cos", 7}, {"Slice", 10}, {"Softmax", 13}, {"Softplus", 1},
        {"Split", 13}, {"Sqrt", 6}, {"Squeeze", 13}, {"Sub", 7}, {"Sum", 8}, {"Tanh", 6},
        {"Tile", 6}, {"TopK", 11}, {"Transpose", 1}, {"Unsqueeze", 13}, {"Where", 9},
        {"SpaceToDepth", 1}, {"Einsum", 12}, {"LayerNormalization", 17}, {"Gelu", 20},
        {"If", 11}, {"Loop", 11}, {"Scan", 9}, {"NonZero", 9}, {"ScatterND", 11},
        {"GatherElements", 11}, {"CumSum", 11}, {"Softsign", 1}, {"Selu", 6}, {"Sign", 9},
        {"Round", 11}, {"MaxUnpool", 11}, {"Mod", 10}, {"Xor", 7}, {"Hardmax", 13},
    };
    auto it = kTable.find(op);
    if (it == kTable.end()) return std::numeric_limits<int>::max();
    // Opset 18 moved the reduce ops' axes from an attribute to an input.
    if (target >= 18 && op.starts_with("Reduce") && op != "ReduceSum") return 18;
    return it->second;
}

void collectUnstable(const ir::Graph& g, int64_t from, int64_t target, std::set<std::string>& bad) {
    for (const auto& n : g.nodes()) {
        if (ir::canonicalDomain(n->domain).empty() && from < stableSince(n->opType, target))
            bad.insert(n->opType);
        for (const ir::Graph* sub : n->subgraphs()) collectUnstable(*sub, from, target, bad);
    }
}

} // namespace

VoidResult raiseOpset(ir::Model& model, int64_t target) {
    const int64_t current = model.opsetFor("");
    if (current >= target) return {};
    std::set<std::string> bad;
    collectUnstable(*model.graph, current, target, bad);
    for (const ir::Function& f : model.functions)
        if (f.body) collectUnstable(*f.body, current, target, bad);
    if (!bad.empty()) {
        std::string list;
        for (const std::string& op : bad) list += (list.empty() ? "" : ", ") + op;
        return fail(StatusCode::Unsupported,
                    "the output needs opset " + std::to_string(target) + " but the model imports opset " +
                        std::to_string(current) + " and these ops change meaning (or are not known to keep it) "
                        "there: " + list + "; convert the model to opset " + std::to_string(target) + " first");
    }
    bool found = false;
    for (ir::OpsetImport& o : model.opsetImports)
        if (ir::canonicalDomain(o.domain).empty()) {
            o.version = target;
            found = true;
        }
    if (!found) model.opsetImports.push_back({"", target});
    // IR versions that introduced these opsets (int4 needs IR 10).
    const int64_t ir = target >= 21 ? 10 : target >= 13 ? 7 : 5;
    model.irVersion = std::max(model.irVersion, ir);
    return {};
}

// ---------------------------------------------------------------------------------------------
// Rewrites

namespace {

enum class Kind { None, Compute, General, Direct, Activation };

Kind kindOf(const ir::Node& n) {
    if (!ir::canonicalDomain(n.domain).empty()) return Kind::None;
    static const std::unordered_map<std::string_view, Kind> kKinds = {
        {"Conv", Kind::Compute}, {"ConvTranspose", Kind::Compute}, {"Gemm", Kind::Compute},
        {"MatMul", Kind::Compute}, {"Add", Kind::General}, {"Concat", Kind::General},
        {"AveragePool", Kind::General}, {"GlobalAveragePool", Kind::General},
        {"Relu", Kind::Activation}, {"Clip", Kind::Activation}, {"MaxPool", Kind::Direct},
        {"Reshape", Kind::Direct}, {"Flatten", Kind::Direct}, {"Transpose", Kind::Direct},
        {"Squeeze", Kind::Direct}, {"Unsqueeze", Kind::Direct},
    };
    auto it = kKinds.find(n.opType);
    return it == kKinds.end() ? Kind::None : it->second;
}

bool isExcluded(const ir::Node& n, const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns)
        if ((!n.name.empty() && globMatch(p, n.name)) || globMatch(p, n.opType)) return true;
    return false;
}

int64_t initializerBytes(const ir::Graph& g) {
    int64_t b = 0;
    for (const ir::Value* v : g.initializers) b += static_cast<int64_t>(v->initializer->byteSize());
    return b;
}

/// Float constant data of a weight (initializer or Constant output, not overridable as an input).
const ir::Tensor* floatWeight(const ir::Value* v) {
    if (!v || v->isGraphInput()) return nullptr;
    const ir::Tensor* t = constantOf(v);
    return t && t->dtype == DataType::Float ? t : nullptr;
}

struct ActParams {
    float scale = 1;
    int64_t zeroPoint = 0;
    DataType storage = DataType::UInt8;
    double lo = 0, hi = 0;
};

ActParams activationParams(double lo, double hi, ActivationType type) {
    ActParams p;
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    p.lo = lo;
    p.hi = hi;
    if (type == ActivationType::Int8Symmetric) {
        p.storage = DataType::Int8;
        const double a = std::max(-lo, hi);
        p.scale = a > 0 ? static_cast<float>(a / 127.0) : 1.0f;
        p.zeroPoint = 0;
        return p;
    }
    const double qmin = type == ActivationType::UInt8 ? 0 : -128, qmax = qmin + 255;
    p.storage = type == ActivationType::UInt8 ? DataType::UInt8 : DataType::Int8;
    if (hi - lo <= 0) {
        p.scale = 1.0f;
        p.zeroPoint = static_cast<int64_t>(qmin);
        return p;
    }
    p.scale = static_cast<float>((hi - lo) / (qmax - qmin));
    const double zp = std::nearbyint(qmin - lo / double(p.scale));
    p.zeroPoint = static_cast<int64_t>(std::clamp(zp, qmin, qmax));
    return p;
}

ir::Tensor scalarTensor(DataType t, int64_t v) {
    if (t == DataType::UInt8) return ir::Tensor::fromVector<uint8_t>("", t, {}, {static_cast<uint8_t>(v)});
    return ir::Tensor::fromVector<int8_t>("", t, {}, {static_cast<int8_t>(v)});
}

/// Per-channel (or per-tensor) symmetric int8 of a float weight along `axis` (-1: per tensor).
struct QuantizedWeight {
    std::vector<int8_t> q;
    std::vector<float> scales;
    double min = 0, max = 0;
};

/// Symmetric int8 weights in [-qmax, qmax], one scale per index of `axis` (or one, axis < 0).
QuantizedWeight quantizeWeight(const ir::Tensor& w, int64_t axis, double qmax) {
    const std::vector<float> x = w.toFloat();
    QuantizedWeight r;
    int64_t outer = 1, len = 1, inner = 1;
    if (axis >= 0) {
        for (int64_t d = 0; d < axis; ++d) outer *= w.dims[static_cast<std::size_t>(d)];
        len = w.dims[static_cast<std::size_t>(axis)];
        for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < w.dims.size(); ++d) inner *= w.dims[d];
    } else {
        inner = static_cast<int64_t>(x.size());
    }
    std::vector<double> absMax(static_cast<std::size_t>(len), 0.0);
    r.min = x.empty() ? 0 : x[0];
    r.max = r.min;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t a = 0; a < len; ++a)
            for (int64_t i = 0; i < inner; ++i) {
                const float v = x[static_cast<std::size_t>((o * len + a) * inner + i)];
                absMax[static_cast<std::size_t>(a)] = std::max<double>(absMax[static_cast<std::size_t>(a)], std::abs(v));
                r.min = std::min<double>(r.min, v);
                r.max = std::max<double>(r.max, v);
            }
    r.scales.resize(static_cast<std::size_t>(len));
    for (int64_t a = 0; a < len; ++a) {
        const double m = absMax[static_cast<std::size_t>(a)];
        r.scales[static_cast<std::size_t>(a)] = m > 0 ? static_cast<float>(m / qmax) : 1.0f;
    }
    r.q.resize(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t a = 0; a < len; ++a)
            for (int64_t i = 0; i < inner; ++i) {
                const std::size_t k = static_cast<std::size_t>((o * len + a) * inner + i);
                const float v = std::nearbyint(x[k] / r.scales[static_cast<std::size_t>(a)]);
                r.q[k] = static_cast<int8_t>(std::clamp(v, static_cast<float>(-qmax), static_cast<float>(qmax)));
            }
    return r;
}

class Int8Rewriter {
public:
    Int8Rewriter(ir::Model& m, const Calibration& cal, const QuantizeOptions& o, QuantizeReport& rep)
        : m_g(*m.graph), m_cal(cal), m_o(o), m_rep(rep) {}

    VoidResult run() {
        EW_TRY_ASSIGN(std::vector<ir::Node*> order, m_g.topologicalOrder());
        const bool asym = m_o.activations != ActivationType::Int8Symmetric;
        for (ir::Node* n : order) {
            const Kind kind = kindOf(*n);
            if (kind == Kind::None) continue;
            if (isExcluded(*n, m_o.exclude)) {
                m_rep.excludedNodes.push_back(n->displayName());
                continue;
            }
            ir::Value* y = n->output(0);
            if (!y || !hasStats(y)) {
                note(*n, "output has no calibration statistics (not a float tensor computed per sample)");
                continue;
            }
            if (kind == Kind::Compute) {
                if (!planCompute(n)) continue;
            } else if (kind == Kind::Direct) {
                ir::Value* x = resolve(n->input(0));
                if (!x || !m_act.count(x)) continue; // only inside an already quantized region
                m_shareFrom[y] = x;
            } else if (kind == Kind::Activation && asym && removable(n)) {
                m_rangeFrom[n->input(0)] = y;
                m_alias[y] = n->input(0);
                m_removed.push_back(n);
                m_rep.quantizedNodes.push_back(n->displayName() + " (folded into its producer's output range)");
                continue;
            } else {
                // General and kept activations: every non-constant input is an activation.
                bool ok = true, any = false;
                const std::size_t dataInputs = n->opType == "Clip" ? 1 : n->inputs().size();
                for (std::size_t i = 0; i < dataInputs; ++i) {
                    ir::Value* x = n->input(i);
                    if (!x || constantOf(x)) continue;
                    if (!hasStats(x)) ok = false;
                    any = true;
                }
                if (!ok || !any) {
                    note(*n, "an input is not a float activation with calibration statistics");
                    continue;
                }
                for (std::size_t i = 0; i < dataInputs; ++i)
                    if (n->input(i) && !constantOf(n->input(i))) markAct(resolve(n->input(i)));
            }
            markAct(y);
            m_quantized.insert(n);
            m_rep.quantizedNodes.push_back(n->displayName());
        }
        computeParams();
        for (ir::Node* n : m_removed) {
            ir::Value* x = n->input(0);
            ir::Value* y = n->output(0);
            if (!replaceValue(m_g, y, x)) return fail(StatusCode::Internal, "cannot drop the activation", n->displayName());
            eraseNode(m_g, n);
        }
        for (ir::Node* n : m_computeNodes) EW_TRY(rewriteWeights(n));
        for (ir::Value* v : m_actOrder) insertQdq(v);
        return m_g.sortTopologically();
    }

private:
    bool hasStats(const ir::Value* v) const {
        auto it = m_cal.observers.find(v->name);
        return it != m_cal.observers.end() && it->second.count() > 0;
    }
    void note(const ir::Node& n, const std::string& why) { m_rep.notes.push_back(n.displayName() + ": " + why); }
    /// The value a dropped Relu/Clip's output stands for once the activation is gone.
    ir::Value* resolve(ir::Value* v) const {
        auto it = m_alias.find(v);
        return it == m_alias.end() ? v : it->second;
    }
    void markAct(ir::Value* v) {
        if (m_act.insert(v).second) m_actOrder.push_back(v);
    }

    bool planCompute(ir::Node* n) {
        ir::Value* x = n->input(0);
        ir::Value* w = n->input(1);
        if (!x || !w) return false;
        if (!hasStats(x)) {
            note(*n, "input '" + x->name + "' is not a float activation with calibration statistics");
            return false;
        }
        const bool matmul = n->opType == "MatMul";
        if (!floatWeight(w) && !(matmul && hasStats(w))) {
            note(*n, "weight '" + w->name + "' is neither a float constant nor a calibrated activation");
            return false;
        }
        markAct(resolve(x));
        if (!floatWeight(w)) markAct(resolve(w));
        else m_computeNodes.push_back(n);
        return true;
    }

    /// Relu / Clip(0, ...) whose input is the only output use of a node quantized with its own range.
    bool removable(const ir::Node* n) const {
        ir::Value* x = n->input(0);
        if (!x || !x->producer() || !m_quantized.count(x->producer())) return false;
        if (m_shareFrom.count(x) || !onlyUsedBy(x, n) || x->isGraphOutput()) return false;
        if (n->opType == "Clip") {
            auto lo = n->input(1) ? scalarConstant(n->input(1)) : std::nullopt;
            if (!lo || *lo != 0.0) return false;
            if (n->input(2) && !scalarConstant(n->input(2))) return false;
        }
        return true;
    }

    void computeParams() {
        for (ir::Value* v : m_actOrder) {
            if (auto s = m_shareFrom.find(v); s != m_shareFrom.end() && m_params.count(s->second)) {
                m_params[v] = m_params[s->second];
                continue;
            }
            const ir::Value* src = v;
            if (auto r = m_rangeFrom.find(v); r != m_rangeFrom.end()) src = r->second;
            const TensorObserver& ob = m_cal.observers.at(src->name);
            const auto [lo, hi] = ob.range(m_o.range);
            m_params[v] = activationParams(lo, hi, m_o.activations);
        }
    }

    int64_t weightAxis(const ir::Node* n, const ir::Tensor& w) const {
        if (m_o.scheme == Scheme::Int8PerTensor) return -1;
        const int64_t rank = static_cast<int64_t>(w.dims.size());
        if (n->opType == "Conv") return rank >= 1 ? 0 : -1;
        if (n->opType == "ConvTranspose") return rank >= 2 ? 1 : -1;
        if (n->opType == "Gemm") return n->attrInt("transB", 0) ? 0 : 1;
        return rank >= 2 ? rank - 1 : -1; // MatMul: along N
    }

    VoidResult rewriteWeights(ir::Node* n) {
        ir::Value* wv = n->input(1);
        const ir::Tensor& w = *floatWeight(wv);
        const int64_t axis = weightAxis(n, w);
        const std::string base = wv->name;
        auto key = std::make_pair(wv, axis);
        ir::Value* dq = nullptr;
        std::vector<float> wScales;
        if (auto it = m_weightCache.find(key); it != m_weightCache.end()) {
            dq = it->second.first;
            wScales = it->second.second;
        } else {
            QuantizedWeight qw = quantizeWeight(w, axis, m_o.reduceRange ? 64.0 : 127.0);
            const std::vector<int64_t> pdims = axis >= 0 ? std::vector<int64_t>{int64_t(qw.scales.size())} : std::vector<int64_t>{};
            ir::Value* qv = addInitializer(m_g, base + "_quantized", ir::Tensor::fromVector<int8_t>("", DataType::Int8, w.dims, qw.q));
            ir::Value* sv = addInitializer(m_g, base + "_scale", ir::Tensor::fromVector<float>("", DataType::Float, pdims, qw.scales));
            ir::Value* zv = addInitializer(m_g, base + "_zero_point",
                                           ir::Tensor::fromVector<int8_t>("", DataType::Int8, pdims, std::vector<int8_t>(qw.scales.size(), 0)));
            dq = *m_g.addValue(m_g.uniqueName(base + "_DequantizeLinear"), ir::Type::tensor(DataType::Float, ir::Shape::of(w.dims)));
            ir::Node* d = m_g.addNode("DequantizeLinear", "", uniqueNodeName(m_g, base + "_DequantizeLinear"), {qv, sv, zv}, {dq});
            if (axis >= 0) d->setAttr(ir::Attribute::makeInt("axis", axis));
            qv->quant = ir::QuantParams{qw.scales, std::vector<int64_t>(qw.scales.size(), 0), axis, DataType::Int8};
            m_rep.tensors.push_back({base, qw.min, qw.max, qw.scales, std::vector<int64_t>(qw.scales.size(), 0), DataType::Int8, true});
            m_weightCache[key] = {dq, qw.scales};
            wScales = qw.scales;
        }
        n->setInput(1, dq);
        if (wv->uses().empty() && !wv->isGraphOutput() && wv->isInitializer()) m_g.removeValue(wv);

        // Bias: int32 at scale sx * sw (per output channel), zero point 0.
        if (n->opType != "Conv" && n->opType != "ConvTranspose" && n->opType != "Gemm") return {};
        ir::Value* bv = n->input(2);
        const ir::Tensor* b = floatWeight(bv);
        if (!b || b->dims.size() != 1) return {};
        if (n->opType == "Gemm" && (n->attrFloat("alpha", 1.f) != 1.f || n->attrFloat("beta", 1.f) != 1.f)) return {};
        const int64_t channels = b->dims[0];
        const float sx = m_params.at(n->input(0)).scale;
        std::vector<float> bScales(static_cast<std::size_t>(channels));
        const int64_t per = static_cast<int64_t>(wScales.size());
        if (per != 1 && channels % per != 0) return {};
        for (int64_t c = 0; c < channels; ++c)
            bScales[static_cast<std::size_t>(c)] = sx * wScales[static_cast<std::size_t>(per == 1 ? 0 : c % per)];
        if (per != 1 && per != channels && n->opType != "ConvTranspose") return {};
        const std::vector<float> bf = b->toFloat();
        std::vector<int32_t> q(bf.size());
        for (std::size_t c = 0; c < bf.size(); ++c) {
            const double r = std::nearbyint(double(bf[c]) / double(bScales[c]));
            if (std::abs(r) > double(std::numeric_limits<int32_t>::max())) {
                note(*n, "bias left in float: it overflows int32 at scale input_scale * weight_scale");
                return {};
            }
            q[c] = static_cast<int32_t>(r);
        }
        const bool perTensor = per == 1;
        std::vector<float> scales = perTensor ? std::vector<float>{bScales[0]} : bScales;
        const std::vector<int64_t> pdims = perTensor ? std::vector<int64_t>{} : std::vector<int64_t>{channels};
        const std::string bbase = bv->name;
        ir::Value* qv = addInitializer(m_g, bbase + "_quantized", ir::Tensor::fromVector<int32_t>("", DataType::Int32, b->dims, q));
        ir::Value* sv = addInitializer(m_g, bbase + "_quantized_scale", ir::Tensor::fromVector<float>("", DataType::Float, pdims, scales));
        ir::Value* zv = addInitializer(m_g, bbase + "_quantized_zero_point",
                                       ir::Tensor::fromVector<int32_t>("", DataType::Int32, pdims, std::vector<int32_t>(scales.size(), 0)));
        ir::Value* dq2 = *m_g.addValue(m_g.uniqueName(bbase + "_DequantizeLinear"), ir::Type::tensor(DataType::Float, ir::Shape::of(b->dims)));
        ir::Node* d = m_g.addNode("DequantizeLinear", "", uniqueNodeName(m_g, bbase + "_DequantizeLinear"), {qv, sv, zv}, {dq2});
        if (!perTensor) d->setAttr(ir::Attribute::makeInt("axis", 0));
        qv->quant = ir::QuantParams{scales, std::vector<int64_t>(scales.size(), 0), perTensor ? -1 : 0, DataType::Int32};
        n->setInput(2, dq2);
        if (bv->uses().empty() && !bv->isGraphOutput() && bv->isInitializer()) m_g.removeValue(bv);
        return {};
    }

    void insertQdq(ir::Value* v) {
        const ActParams& p = m_params.at(v);
        const std::string base = v->name;
        ir::Value* sv = addInitializer(m_g, base + "_scale", ir::Tensor::fromVector<float>("", DataType::Float, {}, {p.scale}));
        ir::Value* zv = addInitializer(m_g, base + "_zero_point", scalarTensor(p.storage, p.zeroPoint));
        ir::Type qt = v->type;
        qt.kind = ir::Type::Kind::Tensor;
        qt.elemType = p.storage;
        ir::Value* q = *m_g.addValue(m_g.uniqueName(base + "_QuantizeLinear"), qt);
        ir::Type dt = v->type;
        dt.kind = ir::Type::Kind::Tensor;
        dt.elemType = DataType::Float;
        ir::Value* dq = *m_g.addValue(m_g.uniqueName(base + "_DequantizeLinear"), dt);
        m_g.replaceAllUses(v, dq);
        m_g.addNode("QuantizeLinear", "", uniqueNodeName(m_g, base + "_QuantizeLinear"), {v, sv, zv}, {q});
        m_g.addNode("DequantizeLinear", "", uniqueNodeName(m_g, base + "_DequantizeLinear"), {q, sv, zv}, {dq});
        q->quant = ir::QuantParams{{p.scale}, {p.zeroPoint}, -1, p.storage};
        if (dq->isGraphOutput()) { // the model's output keeps its name, now on the dequantized value
            (void)m_g.renameValue(v, m_g.uniqueName(base + "_QuantizeLinearInput"));
            (void)m_g.renameValue(dq, base);
        }
        m_rep.tensors.push_back({base, p.lo, p.hi, {p.scale}, {p.zeroPoint}, p.storage, false});
    }

    ir::Graph& m_g;
    const Calibration& m_cal;
    const QuantizeOptions& m_o;
    QuantizeReport& m_rep;
    std::set<const ir::Node*> m_quantized;
    std::vector<ir::Node*> m_computeNodes; ///< with a constant weight to rewrite
    std::vector<ir::Node*> m_removed;
    std::set<ir::Value*> m_act;
    std::vector<ir::Value*> m_actOrder;
    std::map<ir::Value*, ir::Value*> m_shareFrom;
    std::map<ir::Value*, ir::Value*> m_rangeFrom;
    std::map<ir::Value*, ir::Value*> m_alias; ///< dropped activation output -> its input
    std::map<ir::Value*, ActParams> m_params;
    std::map<std::pair<ir::Value*, int64_t>, std::pair<ir::Value*, std::vector<float>>> m_weightCache;
};

/// fp16: float initializers of at least 16 elements whose every reader is a node not excluded
/// become float16 initializers read through Cast(to=float) under the original name.
VoidResult rewriteFp16(ir::Model& model, const QuantizeOptions& o, QuantizeReport& rep) {
    ir::Graph& g = *model.graph;
    std::vector<ir::Value*> cands(g.initializers.begin(), g.initializers.end());
    std::set<const ir::Node*> touched;
    for (ir::Value* v : cands) {
        const ir::Tensor& t = *v->initializer;
        if (t.dtype != DataType::Float || t.numElements() < 16 || v->isGraphInput() || v->isGraphOutput() || v->uses().empty())
            continue;
        bool ok = true;
        for (const ir::Use& u : v->uses())
            if (u.node->graph() != &g || isExcluded(*u.node, o.exclude)) ok = false;
        const std::vector<float> x = t.toFloat();
        for (float f : x)
            if (!std::isfinite(f) || std::abs(f) > 65504.f) ok = false; // not representable
        if (!ok) continue;
        std::vector<uint16_t> h(x.size());
        double lo = x[0], hi = x[0];
        for (std::size_t i = 0; i < x.size(); ++i) {
            h[i] = ir::floatToHalf(x[i]);
            lo = std::min<double>(lo, x[i]);
            hi = std::max<double>(hi, x[i]);
        }
        ir::Value* hv = addInitializer(g, v->name + "_fp16", ir::Tensor::fromVector<uint16_t>("", DataType::Float16, t.dims, std::move(h)));
        v->initializer.reset();
        std::erase(g.initializers, v);
        ir::Node* cast = g.addNode("Cast", "", uniqueNodeName(g, v->name + "_Cast"), {hv}, {v});
        cast->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(DataType::Float)));
        rep.tensors.push_back({v->name, lo, hi, {}, {}, DataType::Float16, true});
        for (const ir::Use& u : v->uses()) touched.insert(u.node);
    }
    for (const auto& n : g.nodes())
        if (touched.count(n.get())) rep.quantizedNodes.push_back(n->displayName());
        else if (kindOf(*n) != Kind::None && isExcluded(*n, o.exclude)) rep.excludedNodes.push_back(n->displayName());
    return g.sortTopologically();
}

/// w8 / w4: blocked symmetric weight-only quantization of constant MatMul/Gemm B along K.
VoidResult rewriteWeightOnly(ir::Model& model, const QuantizeOptions& o, QuantizeReport& rep) {
    ir::Graph& g = *model.graph;
    const bool int4 = o.scheme == Scheme::W4;
    const double qmax = int4 ? 7.0 : 127.0;
    const int64_t block = o.blockSize;
    std::vector<ir::Node*> nodes;
    for (const auto& n : g.nodes()) nodes.push_back(n.get());
    for (ir::Node* n : nodes) {
        if (!isOp(*n, "MatMul") && !isOp(*n, "Gemm")) continue;
        if (isExcluded(*n, o.exclude)) {
            rep.excludedNodes.push_back(n->displayName());
            continue;
        }
        ir::Value* wv = n->input(1);
        const ir::Tensor* w = floatWeight(wv);
        if (!w || w->dims.size() != 2 || w->dims[0] == 0 || w->dims[1] == 0) {
            rep.notes.push_back(n->displayName() + ": B is not a non-empty 2-D float constant; left in float");
            continue;
        }
        const int64_t axis = isOp(*n, "Gemm") && n->attrInt("transB", 0) ? 1 : 0; // K
        const int64_t K = w->dims[static_cast<std::size_t>(axis)], N = w->dims[static_cast<std::size_t>(1 - axis)];
        const int64_t nb = (K + block - 1) / block;
        const std::vector<float> x = w->toFloat();
        auto at = [&](int64_t k, int64_t c) { return axis == 0 ? k * N + c : c * K + k; };
        std::vector<int64_t> sdims = w->dims;
        sdims[static_cast<std::size_t>(axis)] = nb;
        std::vector<float> scales(static_cast<std::size_t>(nb * N));
        auto sat = [&](int64_t b, int64_t c) { return axis == 0 ? b * N + c : c * nb + b; };
        std::vector<int8_t> q(x.size());
        double lo = x[0], hi = x[0];
        for (int64_t c = 0; c < N; ++c)
            for (int64_t b = 0; b < nb; ++b) {
                double m = 0;
                for (int64_t k = b * block; k < std::min(K, (b + 1) * block); ++k) {
                    const float v = x[static_cast<std::size_t>(at(k, c))];
                    m = std::max<double>(m, std::abs(v));
                    lo = std::min<double>(lo, v);
                    hi = std::max<double>(hi, v);
                }
                const float s = m > 0 ? static_cast<float>(m / qmax) : 1.0f;
                scales[static_cast<std::size_t>(sat(b, c))] = s;
                for (int64_t k = b * block; k < std::min(K, (b + 1) * block); ++k) {
                    const std::size_t i = static_cast<std::size_t>(at(k, c));
                    q[i] = static_cast<int8_t>(std::clamp<float>(std::nearbyint(x[i] / s), float(-qmax), float(qmax)));
                }
            }
        ir::Tensor qt;
        if (int4) { // two per byte, low nibble first
            std::vector<uint8_t> packed((q.size() + 1) / 2, 0);
            for (std::size_t i = 0; i < q.size(); ++i)
                packed[i / 2] |= static_cast<uint8_t>((static_cast<uint8_t>(q[i]) & 0xF) << (i % 2 ? 4 : 0));
            qt = ir::Tensor::fromVector<uint8_t>("", DataType::Int4, w->dims, std::move(packed));
        } else {
            qt = ir::Tensor::fromVector<int8_t>("", DataType::Int8, w->dims, q);
        }
        const std::string base = wv->name;
        ir::Value* qv = addInitializer(g, base + "_quantized", std::move(qt));
        ir::Value* sv = addInitializer(g, base + "_scale", ir::Tensor::fromVector<float>("", DataType::Float, sdims, scales));
        ir::Value* dq = *g.addValue(g.uniqueName(base + "_DequantizeLinear"), ir::Type::tensor(DataType::Float, ir::Shape::of(w->dims)));
        ir::Node* d = g.addNode("DequantizeLinear", "", uniqueNodeName(g, base + "_DequantizeLinear"), {qv, sv}, {dq});
        d->setAttr(ir::Attribute::makeInt("axis", axis));
        d->setAttr(ir::Attribute::makeInt("block_size", block));
        rep.tensors.push_back({base, lo, hi, {}, {}, int4 ? DataType::Int4 : DataType::Int8, true});
        n->setInput(1, dq);
        if (wv->uses().empty() && !wv->isGraphOutput() && wv->isInitializer()) g.removeValue(wv);
        rep.quantizedNodes.push_back(n->displayName());
    }
    return g.sortTopologically();
}

} // namespace

Result<QuantizeReport> quantizeModel(ir::Model& model, const Calibration* calibration, const QuantizeOptions& options) {
    QuantizeReport rep;
    rep.scheme = options.scheme;
    rep.method = options.range.method;
    rep.opsetBefore = model.opsetFor("");
    if (options.blockSize < 16 || (options.blockSize & (options.blockSize - 1)) != 0)
        return fail(StatusCode::Usage, "the block size must be a power of two >= 16, not " + std::to_string(options.blockSize));
    ir::inferShapes(model);
    rep.weightBytesBefore = initializerBytes(*model.graph);
    switch (options.scheme) {
    case Scheme::Int8:
    case Scheme::Int8PerTensor: {
        if (!calibration) return fail(StatusCode::Usage, "the int8 schemes need calibration data");
        if (rangeNeedsHistogram(options.range.method))
            for (const auto& [name, ob] : calibration->observers)
                if (!ob.hasHistogram())
                    return fail(StatusCode::Usage, "the " + std::string(rangeMethodName(options.range.method)) +
                                                       " method needs histograms, but tensor '" + name +
                                                       "' was calibrated without them (histogram bins 0)");
        EW_TRY(raiseOpset(model, 13));
        Int8Rewriter rw(model, *calibration, options, rep);
        EW_TRY(rw.run());
        break;
    }
    case Scheme::Fp16:
        EW_TRY(rewriteFp16(model, options, rep));
        break;
    case Scheme::W8:
    case Scheme::W4:
        EW_TRY(raiseOpset(model, 21));
        EW_TRY(rewriteWeightOnly(model, options, rep));
        break;
    }
    rep.opsetAfter = model.opsetFor("");
    rep.weightBytesAfter = initializerBytes(*model.graph);
    return rep;
}

} // namespace ew::opt::quant
