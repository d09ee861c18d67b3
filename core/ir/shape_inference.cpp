#include "shape_inference.h"

#include "shape_inference_internal.h"

#include <algorithm>
#include <exception>
#include <unordered_map>
#include <unordered_set>

namespace ew::ir {

namespace si {

namespace {

std::string opKey(std::string_view domain, std::string_view op) {
    std::string k(canonicalDomain(domain));
    k += '\n';
    k += op;
    return k;
}

const std::unordered_map<std::string, InferFn>& opTable() {
    static const std::unordered_map<std::string, InferFn> table = [] {
        std::unordered_map<std::string, InferFn> t;
#define EW_SHAPE_OP(domain, op, fn) t.emplace(opKey(domain, op), &fn);
#include "shape_inference_ops.def"
#undef EW_SHAPE_OP
        return t;
    }();
    return table;
}

const Type& unknownType() {
    static const Type t;
    return t;
}

/// Why two known types cannot both be right; empty when they are compatible.
std::string contradiction(const Type& declared, const Type& inferred) {
    if (!declared.isKnown() || !inferred.isKnown()) return {};
    if (declared.kind != inferred.kind)
        return "declared " + declared.toString() + ", inferred " + inferred.toString();
    if (declared.kind == Type::Kind::Sequence || declared.kind == Type::Kind::Optional) {
        if (declared.inner && inferred.inner) {
            std::string why = contradiction(*declared.inner, *inferred.inner);
            if (!why.empty())
                return "declared " + declared.toString() + ", inferred " + inferred.toString();
        }
        return {};
    }
    if (declared.elemType != DataType::Undefined && inferred.elemType != DataType::Undefined &&
        declared.elemType != inferred.elemType)
        return "declared " + declared.toString() + ", inferred " + inferred.toString();
    if (declared.shape && inferred.shape) {
        if (declared.shape->rank() != inferred.shape->rank())
            return "declared " + declared.toString() + ", inferred " + inferred.toString() +
                   " (rank differs)";
        for (std::size_t k = 0; k < declared.shape->rank(); ++k) {
            const Dim& a = declared.shape->dims[k];
            const Dim& b = inferred.shape->dims[k];
            if (a.isKnown() && b.isKnown() && a.value != b.value)
                return "declared " + declared.toString() + ", inferred " + inferred.toString() +
                       " (dim " + std::to_string(k) + ")";
        }
    }
    return {};
}

/// Fills what `existing` lacks from `inferred` (callers have checked they do not contradict);
/// returns true when anything changed.
bool mergeInto(Type& existing, const Type& inferred) {
    if (!inferred.isKnown()) return false;
    if (!existing.isKnown()) {
        existing = inferred;
        return true;
    }
    if (existing.kind != inferred.kind) return false;
    bool changed = false;
    if (existing.kind == Type::Kind::Sequence || existing.kind == Type::Kind::Optional) {
        if (!inferred.inner) return false;
        if (!existing.inner) {
            existing.inner = std::make_shared<Type>(*inferred.inner);
            return true;
        }
        Type inner = *existing.inner;
        if (mergeInto(inner, *inferred.inner)) {
            existing.inner = std::make_shared<Type>(std::move(inner));
            changed = true;
        }
        return changed;
    }
    if (existing.elemType == DataType::Undefined && inferred.elemType != DataType::Undefined) {
        existing.elemType = inferred.elemType;
        changed = true;
    }
    if (!inferred.shape) return changed;
    if (!existing.shape) {
        existing.shape = inferred.shape;
        return true;
    }
    if (existing.shape->rank() != inferred.shape->rank()) return changed;
    for (std::size_t k = 0; k < existing.shape->rank(); ++k) {
        Dim& a = existing.shape->dims[k];
        const Dim& b = inferred.shape->dims[k];
        // A size beats a symbol, a symbol beats nothing; the declared denotation stays.
        if ((!a.isKnown() && b.isKnown()) || (!a.isKnown() && !a.isSymbolic() && b.isSymbolic())) {
            a.value = b.value;
            a.symbol = b.symbol;
            changed = true;
        }
    }
    return changed;
}

} // namespace

std::optional<std::vector<int64_t>> Propagated::knownInts() const {
    std::vector<int64_t> out;
    if (isReal()) {
        out.reserve(reals.size());
        for (double d : reals) {
            if (!(d >= -9.2e18 && d <= 9.2e18) || static_cast<double>(static_cast<int64_t>(d)) != d)
                return std::nullopt;
            out.push_back(static_cast<int64_t>(d));
        }
        return out;
    }
    out.reserve(ints.size());
    for (const auto& s : ints) {
        if (!s.known) return std::nullopt;
        out.push_back(s.value);
    }
    return out;
}

std::optional<std::vector<double>> Propagated::knownReals() const {
    if (isReal()) return reals;
    std::vector<double> out;
    out.reserve(ints.size());
    for (const auto& s : ints) {
        if (!s.known) return std::nullopt;
        out.push_back(static_cast<double>(s.value));
    }
    return out;
}

/// Walks graphs in dependency order, calls each node's inference function and merges the results
/// into the values' types. Keeps the propagated contents of small tensors by value, so each value
/// is converted at most once and the whole walk stays linear in the graph size.
class Engine {
  public:
    Engine(Model& model, const ShapeInferenceOptions& opts, ShapeInferenceReport& report)
        : m_model(model), m_opts(opts), m_report(report), m_opsets(&model.opsetImports) {}

    void run() {
        if (!m_model.graph) return;
        inferGraph(*m_model.graph);
        m_report.unsupportedOps.assign(m_unsupported.begin(), m_unsupported.end());
        std::sort(m_report.unsupportedOps.begin(), m_report.unsupportedOps.end());
    }

    void inferGraph(Graph& g) {
        if (++m_depth > 64) {
            problemAt(nullptr, "nested graphs deeper than 64 levels; inference stops here");
            --m_depth;
            return;
        }
        for (Value* v : g.inputs)
            if (v) m_graphInputs.insert(v);
        for (Value* v : g.initializers) {
            if (!v || !v->initializer) continue;
            const Tensor& t = *v->initializer;
            Type ty = Type::tensor(t.dtype, t.shape());
            std::string why = contradiction(v->type, ty);
            if (!why.empty())
                problemAt(nullptr, "initializer '" + v->name + "': " + why);
            else
                mergeInto(v->type, ty);
        }
        std::vector<Node*> order;
        if (auto o = g.topologicalOrder()) {
            order = std::move(*o);
        } else {
            problemAt(nullptr, o.error().message + " (inferring in file order)");
            for (const auto& n : g.nodes())
                order.push_back(n.get());
        }
        for (Node* n : order)
            inferNode(*n);
        --m_depth;
    }

    std::vector<Type> inferSubgraph(Graph& g, const std::vector<Type>& inputTypes) {
        for (std::size_t k = 0; k < g.inputs.size() && k < inputTypes.size(); ++k)
            if (Value* v = g.inputs[k]) {
                if (contradiction(v->type, inputTypes[k]).empty())
                    mergeInto(v->type, inputTypes[k]);
            }
        inferGraph(g);
        std::vector<Type> out;
        out.reserve(g.outputs.size());
        for (Value* v : g.outputs)
            out.push_back(v ? v->type : Type{});
        return out;
    }

    void inferNode(Node& n) {
        // Nested graphs infer their nodes from inside this one: keep the outer node's flag.
        bool outerChanged = m_nodeChanged;
        m_nodeChanged = false;
        try {
            auto it = opTable().find(opKey(n.domain, n.opType));
            if (it == opTable().end()) {
                if (const Function* f = findFunction(n)) {
                    inferFunctionCall(n, *f);
                } else {
                    m_unsupported.insert(n.qualifiedOp());
                }
            } else {
                InferContext ctx(*this, n, opsetFor(n.domain));
                it->second(ctx);
            }
        } catch (const std::exception& e) {
            problemAt(&n, std::string("inference failed: ") + e.what());
        } catch (...) {
            problemAt(&n, "inference failed");
        }
        if (m_nodeChanged) ++m_report.nodesInferred;
        m_nodeChanged = outerChanged;
    }

    int64_t opsetFor(const std::string& domain) const {
        auto want = canonicalDomain(domain);
        for (const auto& o : *m_opsets)
            if (canonicalDomain(o.domain) == want) return o.version;
        // ai.onnx.ml and friends imported implicitly by old exporters: treat as opset 1.
        return want.empty() ? 0 : 1;
    }

    const Function* findFunction(const Node& n) const {
        for (const auto& f : m_model.functions)
            if (f.name == n.opType && canonicalDomain(f.domain) == canonicalDomain(n.domain) &&
                f.body)
                return &f;
        return nullptr;
    }

    /// Model-local functions: infer the body with the call's input types on a copy, so that
    /// different call sites do not leak types into each other or into the stored function.
    void inferFunctionCall(Node& n, const Function& f) {
        if (m_functionDepth > 8) return;
        auto body = f.body->clone();
        const std::vector<OpsetImport>* saved = m_opsets;
        if (!f.opsetImports.empty()) m_opsets = &f.opsetImports;
        ++m_functionDepth;
        std::vector<Type> ins;
        for (Value* v : n.inputs())
            ins.push_back(v ? v->type : Type{});
        // Constant inputs of the call flow into the body.
        for (std::size_t k = 0; k < body->inputs.size() && k < n.inputs().size(); ++k)
            if (n.inputs()[k])
                if (const Propagated* p = data(n.inputs()[k])) m_data[body->inputs[k]] = *p;
        std::vector<Type> outs = inferSubgraph(*body, ins);
        --m_functionDepth;
        m_opsets = saved;
        for (std::size_t k = 0; k < outs.size() && k < n.outputs().size(); ++k)
            if (n.outputs()[k]) setOutput(n, n.outputs()[k], outs[k]);
        // The copy dies here: drop what we cached about its values.
        for (const auto& v : body->values()) {
            m_data.erase(v.get());
            m_graphInputs.erase(v.get());
        }
    }

    void setOutput(Node& n, Value* v, const Type& inferred) {
        if (!v || !inferred.isKnown()) return;
        std::string why = contradiction(v->type, inferred);
        if (!why.empty()) {
            problemAt(&n, "output '" + v->name + "': " + why);
            if (m_opts.overwriteDeclared) {
                v->type = inferred;
                m_nodeChanged = true;
            }
            return;
        }
        if (m_opts.overwriteDeclared && v->type.isKnown() && !(v->type == inferred)) {
            // Keep a declared denotation; everything else comes from inference.
            Type t = inferred;
            if (t.denotation.empty()) t.denotation = v->type.denotation;
            v->type = std::move(t);
            m_nodeChanged = true;
            return;
        }
        if (mergeInto(v->type, inferred)) m_nodeChanged = true;
    }

    void setData(Value* v, Propagated p) {
        if (!v || p.size() > kMaxPropagated) return;
        m_data[v] = std::move(p);
    }

    const Propagated* data(const Value* v) {
        if (!v) return nullptr;
        auto it = m_data.find(v);
        if (it != m_data.end()) return &it->second;
        // Initializers that are also graph inputs can be overridden by the caller: not constant.
        if (!v->initializer || m_graphInputs.count(v)) return nullptr;
        const Tensor& t = *v->initializer;
        if (t.dtype == DataType::String || t.dtype == DataType::Undefined) return nullptr;
        auto count = checkedElementCount(t.dims, kMaxPropagated);
        if (!count || static_cast<std::size_t>(*count) > kMaxPropagated) return nullptr;
        auto bytes = dataTypeStorageBytes(t.dtype, static_cast<uint64_t>(*count));
        if (!bytes || *bytes > t.byteSize()) return nullptr;
        Propagated p;
        p.dtype = t.dtype;
        p.dims = t.dims;
        for (int64_t k = 0; k < *count; ++k) {
            if (p.isReal())
                p.reals.push_back(t.valueAsDouble(k));
            else
                p.ints.push_back(SymInt::of(t.valueAsInt(k)));
        }
        return &(m_data[v] = std::move(p));
    }

    void problemAt(const Node* n, std::string message) {
        Status s = makeError(StatusCode::InvalidInput, std::move(message),
                             n ? n->displayName() : std::string());
        s.file = m_model.sourcePath;
        m_report.problems.push_back(std::move(s));
    }

    const Model& model() const { return m_model; }

  private:
    Model& m_model;
    const ShapeInferenceOptions& m_opts;
    ShapeInferenceReport& m_report;
    const std::vector<OpsetImport>* m_opsets;
    std::unordered_map<const Value*, Propagated> m_data;
    std::unordered_set<const Value*> m_graphInputs;
    std::unordered_set<std::string> m_unsupported;
    bool m_nodeChanged = false;
    int m_depth = 0;
    int m_functionDepth = 0;
};

// ---- InferContext ---------------------------------------------------------------------------

const Type& InferContext::inputType(std::size_t i) const {
    const Value* v = m_node.input(i);
    return v ? v->type : unknownType();
}

DataType InferContext::inputElem(std::size_t i) const {
    const Type& t = inputType(i);
    return t.isTensor() || t.kind == Type::Kind::SparseTensor ? t.elemType : DataType::Undefined;
}

const Shape* InferContext::inputShape(std::size_t i) const {
    const Type& t = inputType(i);
    if ((t.isTensor() || t.kind == Type::Kind::SparseTensor) && t.shape) return &*t.shape;
    return nullptr;
}

int64_t InferContext::inputRank(std::size_t i) const {
    const Shape* s = inputShape(i);
    return s ? static_cast<int64_t>(s->rank()) : -1;
}

const Propagated* InferContext::inputData(std::size_t i) const {
    return m_engine.data(m_node.input(i));
}

const Propagated* InferContext::dataOf(const Value* v) const {
    return m_engine.data(v);
}

std::optional<std::vector<int64_t>> InferContext::inputInts(std::size_t i) const {
    const Propagated* p = inputData(i);
    if (!p) return std::nullopt;
    return p->knownInts();
}

std::optional<std::vector<double>> InferContext::inputReals(std::size_t i) const {
    const Propagated* p = inputData(i);
    if (!p) return std::nullopt;
    return p->knownReals();
}

void InferContext::setOutput(std::size_t i, Type t) {
    m_engine.setOutput(m_node, m_node.output(i), t);
}

void InferContext::setOutputData(std::size_t i, Propagated p) {
    m_engine.setData(m_node.output(i), std::move(p));
}

void InferContext::problem(std::string message) {
    m_engine.problemAt(&m_node, m_node.opType + ": " + message);
}

std::vector<Type> InferContext::inferSubgraph(Graph& g, const std::vector<Type>& inputTypes) {
    return m_engine.inferSubgraph(g, inputTypes);
}

// ---- shared helpers -------------------------------------------------------------------------

std::optional<Shape> broadcastShapes(const std::vector<const Shape*>& shapes, std::string* error) {
    std::size_t rank = 0;
    for (const Shape* s : shapes) {
        if (!s) return std::nullopt;
        rank = std::max(rank, s->rank());
    }
    Shape out = unknownShape(rank);
    for (std::size_t k = 0; k < rank; ++k) {
        // Per output dim: the known size > 1 if any (all must agree), else a shared symbol, else
        // 1 when every input has 1 there.
        int64_t known = -1;
        bool allOne = true, anyUnknown = false;
        std::string symbol;
        bool symbolsAgree = true;
        for (const Shape* s : shapes) {
            if (s->rank() + k < rank) continue; // this input is shorter: implicit 1
            const Dim& d = s->dims[k - (rank - s->rank())];
            if (d.isKnown()) {
                if (d.value == 1) continue;
                allOne = false;
                if (known >= 0 && known != d.value) {
                    if (error)
                        *error = "cannot broadcast " +
                                 [&] {
                                     std::string all;
                                     for (const Shape* x : shapes)
                                         all += x->toString() + " ";
                                     return all;
                                 }() +
                                 "(dim " + std::to_string(k) + ")";
                    return std::nullopt;
                }
                known = d.value;
            } else {
                allOne = false;
                if (d.isSymbolic()) {
                    if (symbol.empty())
                        symbol = d.symbol;
                    else if (symbol != d.symbol)
                        symbolsAgree = false;
                } else {
                    anyUnknown = true;
                }
            }
        }
        if (known >= 0)
            out.dims[k] = Dim::known(known);
        else if (allOne)
            out.dims[k] = Dim::known(1);
        else if (!symbol.empty() && symbolsAgree && !anyUnknown)
            out.dims[k] = Dim::symbolic(symbol);
        // Otherwise it stays unknown: an unknown may be 1 or the other size, we do not guess.
    }
    return out;
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
    if (rank < 0) return std::nullopt;
    if (axis < -rank || axis >= rank) return std::nullopt;
    return axis < 0 ? axis + rank : axis;
}

Shape unknownShape(std::size_t rank) {
    return Shape(std::vector<Dim>(rank));
}

Dim unifyDims(const Dim& a, const Dim& b) {
    if (a.isKnown() && b.isKnown() && a.value == b.value) return a;
    if (a.isSymbolic() && b.isSymbolic() && a.symbol == b.symbol) return a;
    return Dim::unknown();
}

Type unifyTypes(const Type& a, const Type& b) {
    if (!a.isKnown() || !b.isKnown() || a.kind != b.kind) return Type{};
    Type out;
    out.kind = a.kind;
    if (a.kind == Type::Kind::Sequence || a.kind == Type::Kind::Optional) {
        if (a.inner && b.inner) out.inner = std::make_shared<Type>(unifyTypes(*a.inner, *b.inner));
        return out;
    }
    out.elemType = a.elemType == b.elemType ? a.elemType : DataType::Undefined;
    if (a.shape && b.shape && a.shape->rank() == b.shape->rank()) {
        Shape s = unknownShape(a.shape->rank());
        for (std::size_t k = 0; k < s.rank(); ++k)
            s.dims[k] = unifyDims(a.shape->dims[k], b.shape->dims[k]);
        out.shape = std::move(s);
    }
    return out;
}

int64_t attrI(const Node& n, std::string_view name, int64_t def) {
    return n.attrInt(name, def);
}

Dim mulDims(const Dim& a, const Dim& b) {
    if (a.isKnown() && b.isKnown()) {
        if (a.value != 0 && b.value > INT64_MAX / a.value) return Dim::unknown();
        return Dim::known(a.value * b.value);
    }
    if (a.isKnown() && a.value == 0) return Dim::known(0);
    if (b.isKnown() && b.value == 0) return Dim::known(0);
    if (a.isKnown() && a.value == 1) return b;
    if (b.isKnown() && b.value == 1) return a;
    return Dim::unknown();
}

Dim addDims(const Dim& a, const Dim& b) {
    if (a.isKnown() && b.isKnown() && a.value <= INT64_MAX - b.value)
        return Dim::known(a.value + b.value);
    if (a.isKnown() && a.value == 0) return b;
    if (b.isKnown() && b.value == 0) return a;
    return Dim::unknown();
}

} // namespace si

ShapeInferenceReport inferShapes(Model& model, const ShapeInferenceOptions& opts) {
    ShapeInferenceReport report;
    try {
        si::Engine engine(model, opts, report);
        engine.run();
    } catch (const std::exception& e) {
        report.problems.push_back(
            makeError(StatusCode::Internal, std::string("shape inference stopped: ") + e.what()));
    } catch (...) {
        report.problems.push_back(makeError(StatusCode::Internal, "shape inference stopped"));
    }
    return report;
}

bool hasShapeInference(const std::string& domain, const std::string& opType) {
    return si::opTable().count(si::opKey(domain, opType)) > 0;
}

} // namespace ew::ir
