#include "graph.h"

#include "common/assert.h"

#include <algorithm>
#include <cstdio>
#include <queue>

namespace ew::ir {

std::string_view canonicalDomain(std::string_view domain) {
    return domain == "ai.onnx" ? std::string_view() : domain;
}

const Tensor* constantTensorOf(const Value* v) {
    if (!v) return nullptr;
    if (v->initializer) return &*v->initializer;
    const Node* p = v->producer();
    if (p && p->opType == "Constant" && canonicalDomain(p->domain).empty())
        if (const Attribute* a = p->attr("value"); a && a->type == AttrType::Tensor) return &a->t;
    return nullptr;
}

std::string_view attrTypeName(AttrType t) {
    switch (t) {
    case AttrType::Undefined: return "undefined";
    case AttrType::Float: return "float";
    case AttrType::Int: return "int";
    case AttrType::String: return "string";
    case AttrType::Tensor: return "tensor";
    case AttrType::Graph: return "graph";
    case AttrType::Floats: return "floats";
    case AttrType::Ints: return "ints";
    case AttrType::Strings: return "strings";
    case AttrType::Tensors: return "tensors";
    case AttrType::Graphs: return "graphs";
    case AttrType::SparseTensor: return "sparse_tensor";
    case AttrType::SparseTensors: return "sparse_tensors";
    case AttrType::TypeProto: return "type_proto";
    case AttrType::TypeProtos: return "type_protos";
    }
    return "invalid";
}

// ---- Attribute -------------------------------------------------------------------------------

Attribute Attribute::makeInt(std::string name, int64_t v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::Int;
    a.i = v;
    return a;
}
Attribute Attribute::makeFloat(std::string name, float v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::Float;
    a.f = v;
    return a;
}
Attribute Attribute::makeString(std::string name, std::string v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::String;
    a.s = std::move(v);
    return a;
}
Attribute Attribute::makeInts(std::string name, std::vector<int64_t> v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::Ints;
    a.ints = std::move(v);
    return a;
}
Attribute Attribute::makeFloats(std::string name, std::vector<float> v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::Floats;
    a.floats = std::move(v);
    return a;
}
Attribute Attribute::makeTensor(std::string name, Tensor v) {
    Attribute a;
    a.name = std::move(name);
    a.type = AttrType::Tensor;
    a.t = std::move(v);
    return a;
}

namespace {
std::string fmtFloat(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}
std::string quoted(const std::string& s, std::size_t maxLen = 64) {
    std::string out = "\"";
    for (std::size_t k = 0; k < s.size() && k < maxLen; ++k) {
        char c = s[k];
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    if (s.size() > maxLen) out += "...";
    return out + "\"";
}
template <typename T, typename F>
std::string listString(const std::vector<T>& v, std::size_t maxItems, F fmt) {
    std::string out = "[";
    for (std::size_t k = 0; k < v.size(); ++k) {
        if (k == maxItems) {
            out += ",...(" + std::to_string(v.size()) + ")";
            break;
        }
        if (k) out += ",";
        out += fmt(v[k]);
    }
    return out + "]";
}
std::string tensorSummary(const Tensor& t) {
    return "tensor " + std::string(dataTypeName(t.dtype)) + Shape::of(t.dims).toString();
}
} // namespace

std::string Attribute::valueString(std::size_t maxItems) const {
    switch (type) {
    case AttrType::Float: return fmtFloat(f);
    case AttrType::Int: return std::to_string(i);
    case AttrType::String: return quoted(s);
    case AttrType::Tensor: return tensorSummary(t);
    case AttrType::Graph: return "<graph " + (g ? g->name : std::string()) + ">";
    case AttrType::Floats: return listString(floats, maxItems, [](float x) { return fmtFloat(x); });
    case AttrType::Ints: return listString(ints, maxItems, [](int64_t x) { return std::to_string(x); });
    case AttrType::Strings: return listString(strings, maxItems, [](const std::string& x) { return quoted(x); });
    case AttrType::Tensors: return listString(tensors, maxItems, tensorSummary);
    case AttrType::Graphs: return "<" + std::to_string(graphs.size()) + " graphs>";
    case AttrType::SparseTensor: return "sparse " + Shape::of(sparse.dims).toString();
    case AttrType::SparseTensors: return "<" + std::to_string(sparseTensors.size()) + " sparse tensors>";
    case AttrType::TypeProto: return tp.toString();
    case AttrType::TypeProtos: return listString(tps, maxItems, [](const Type& x) { return x.toString(); });
    case AttrType::Undefined: break;
    }
    return refAttrName.empty() ? "?" : "@" + refAttrName;
}

Attribute Attribute::clone(Graph* parent, Node* owner) const {
    Attribute a;
    a.name = name;
    a.type = type;
    a.refAttrName = refAttrName;
    a.docString = docString;
    a.f = f;
    a.i = i;
    a.s = s;
    a.t = t;
    if (g) a.g = g->clone(parent, owner);
    a.sparse = sparse;
    a.tp = tp;
    a.floats = floats;
    a.ints = ints;
    a.strings = strings;
    a.tensors = tensors;
    for (const auto& sg : graphs) a.graphs.push_back(sg ? sg->clone(parent, owner) : nullptr);
    a.sparseTensors = sparseTensors;
    a.tps = tps;
    return a;
}

// ---- Value / Node ----------------------------------------------------------------------------

bool Value::isGraphInput() const {
    return m_graph && std::find(m_graph->inputs.begin(), m_graph->inputs.end(), this) != m_graph->inputs.end();
}
bool Value::isGraphOutput() const {
    return m_graph && std::find(m_graph->outputs.begin(), m_graph->outputs.end(), this) != m_graph->outputs.end();
}

namespace {
void removeUse(Value* v, Node* n, int idx) {
    if (!v) return;
    auto& uses = v->uses();
    auto& mut = const_cast<std::vector<Use>&>(uses);
    auto it = std::find(mut.begin(), mut.end(), Use{n, idx});
    if (it != mut.end()) mut.erase(it);
}
} // namespace

void Node::setInput(std::size_t i, Value* v) {
    EW_ASSERT(i < m_inputs.size());
    removeUse(m_inputs[i], this, static_cast<int>(i));
    m_inputs[i] = v;
    if (v) v->m_uses.push_back(Use{this, static_cast<int>(i)});
}

void Node::addInput(Value* v) {
    m_inputs.push_back(v);
    if (v) v->m_uses.push_back(Use{this, static_cast<int>(m_inputs.size() - 1)});
}

void Node::truncateInputs(std::size_t n) {
    while (m_inputs.size() > n) {
        removeUse(m_inputs.back(), this, static_cast<int>(m_inputs.size() - 1));
        m_inputs.pop_back();
    }
}

const Attribute* Node::attr(std::string_view n) const {
    for (const auto& a : attributes)
        if (a.name == n) return &a;
    return nullptr;
}
Attribute* Node::attr(std::string_view n) {
    for (auto& a : attributes)
        if (a.name == n) return &a;
    return nullptr;
}
int64_t Node::attrInt(std::string_view n, int64_t def) const {
    const Attribute* a = attr(n);
    return a && a->type == AttrType::Int ? a->i : def;
}
float Node::attrFloat(std::string_view n, float def) const {
    const Attribute* a = attr(n);
    return a && a->type == AttrType::Float ? a->f : def;
}
std::string Node::attrString(std::string_view n, std::string def) const {
    const Attribute* a = attr(n);
    return a && a->type == AttrType::String ? a->s : def;
}
std::vector<int64_t> Node::attrInts(std::string_view n, std::vector<int64_t> def) const {
    const Attribute* a = attr(n);
    return a && a->type == AttrType::Ints ? a->ints : def;
}
std::vector<float> Node::attrFloats(std::string_view n, std::vector<float> def) const {
    const Attribute* a = attr(n);
    return a && a->type == AttrType::Floats ? a->floats : def;
}
void Node::setAttr(Attribute a) {
    for (auto& existing : attributes)
        if (existing.name == a.name) {
            existing = std::move(a);
            return;
        }
    attributes.push_back(std::move(a));
}
bool Node::removeAttr(std::string_view n) {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const Attribute& a) { return a.name == n; });
    if (it == attributes.end()) return false;
    attributes.erase(it);
    return true;
}

std::vector<Graph*> Node::subgraphs() const {
    std::vector<Graph*> out;
    for (const auto& a : attributes) {
        if (a.type == AttrType::Graph && a.g) out.push_back(a.g.get());
        if (a.type == AttrType::Graphs)
            for (const auto& g : a.graphs)
                if (g) out.push_back(g.get());
    }
    return out;
}

std::string Node::qualifiedOp() const {
    auto d = canonicalDomain(domain);
    return d.empty() ? opType : std::string(d) + "." + opType;
}

std::string Node::displayName() const {
    if (!name.empty()) return name;
    if (!m_outputs.empty() && m_outputs[0]) return opType + " -> " + m_outputs[0]->name;
    return opType;
}

// ---- Graph ----------------------------------------------------------------------------------

Graph::~Graph() {
    // Nodes may hold uses of enclosing-graph values; drop them so the parent stays consistent
    // when only a subgraph is destroyed.
    for (auto& n : m_nodes)
        for (std::size_t i = 0; i < n->m_inputs.size(); ++i) {
            Value* v = n->m_inputs[i];
            if (v && v->m_graph != this) removeUse(v, n.get(), static_cast<int>(i));
        }
    // Destroy nodes (and with them nested graphs, which do the above against our values) while
    // our values still exist; members would otherwise be destroyed values-first.
    m_nodes.clear();
}

Result<Value*> Graph::addValue(std::string n, Type type) {
    if (n.empty()) n = uniqueName("v");
    if (m_byName.count(n))
        return fail(StatusCode::InvalidInput, "duplicate value name '" + n + "' in graph '" + name + "'");
    auto v = std::make_unique<Value>();
    v->name = std::move(n);
    v->type = std::move(type);
    v->m_graph = this;
    Value* raw = v.get();
    m_byName.emplace(raw->name, raw);
    m_values.push_back(std::move(v));
    return raw;
}

std::string Graph::uniqueName(std::string_view base) const {
    std::string b(base.empty() ? "v" : base);
    if (!lookupValue(b)) return b;
    for (std::size_t k = 1;; ++k) {
        std::string cand = b + "_" + std::to_string(k);
        if (!lookupValue(cand)) return cand;
    }
}

Value* Graph::findValue(std::string_view n) const {
    auto it = m_byName.find(std::string(n));
    return it == m_byName.end() ? nullptr : it->second;
}

Value* Graph::lookupValue(std::string_view n) const {
    for (const Graph* g = this; g; g = g->m_parent)
        if (Value* v = g->findValue(n)) return v;
    return nullptr;
}

Node* Graph::addNode(std::string opType, std::string domain, std::string nodeName,
                     const std::vector<Value*>& ins, const std::vector<Value*>& outs) {
    return insertNode(nullptr, std::move(opType), std::move(domain), std::move(nodeName), ins, outs);
}

Node* Graph::insertNode(Node* before, std::string opType, std::string domain, std::string nodeName,
                        const std::vector<Value*>& ins, const std::vector<Value*>& outs) {
    auto n = std::make_unique<Node>();
    n->opType = std::move(opType);
    n->domain = std::move(domain);
    n->name = std::move(nodeName);
    n->m_graph = this;
    Node* raw = n.get();
    for (Value* v : ins) raw->addInput(v);
    for (std::size_t k = 0; k < outs.size(); ++k) {
        Value* v = outs[k];
        raw->m_outputs.push_back(v);
        if (v) {
            EW_ASSERT(v->m_graph == this && v->m_producer == nullptr);
            v->m_producer = raw;
            v->m_producerOutput = static_cast<int>(k);
        }
    }
    if (!before) {
        m_nodes.push_back(std::move(n));
    } else {
        auto it = std::find_if(m_nodes.begin(), m_nodes.end(), [&](const auto& p) { return p.get() == before; });
        m_nodes.insert(it, std::move(n));
    }
    return raw;
}

void Graph::removeNode(Node* node) {
    EW_ASSERT(node && node->m_graph == this);
    node->truncateInputs(0);
    for (Value* v : node->m_outputs)
        if (v) {
            v->m_producer = nullptr;
            v->m_producerOutput = -1;
        }
    auto it = std::find_if(m_nodes.begin(), m_nodes.end(), [&](const auto& p) { return p.get() == node; });
    EW_ASSERT(it != m_nodes.end());
    m_nodes.erase(it);
}

void Graph::removeValue(Value* v) {
    EW_ASSERT(v && v->m_graph == this && v->m_uses.empty() && !v->m_producer);
    std::erase(inputs, v);
    std::erase(outputs, v);
    std::erase(initializers, v);
    m_byName.erase(v->name);
    auto it = std::find_if(m_values.begin(), m_values.end(), [&](const auto& p) { return p.get() == v; });
    EW_ASSERT(it != m_values.end());
    m_values.erase(it);
}

void Graph::replaceAllUses(Value* from, Value* to) {
    auto uses = from->m_uses; // copy: setInput edits the list
    for (const Use& u : uses) u.node->setInput(static_cast<std::size_t>(u.inputIndex), to);
    for (auto& o : outputs)
        if (o == from) o = to;
}

VoidResult Graph::renameValue(Value* v, std::string newName) {
    EW_ASSERT(v && v->m_graph == this);
    if (newName == v->name) return {};
    if (newName.empty() || m_byName.count(newName))
        return fail(StatusCode::Internal, "cannot rename value '" + v->name + "' to '" + newName +
                                              "': the name is taken");
    m_byName.erase(v->name);
    v->name = std::move(newName);
    m_byName[v->name] = v;
    return {};
}

std::size_t Graph::nodeCountRecursive() const {
    std::size_t n = m_nodes.size();
    for (const auto& node : m_nodes)
        for (Graph* g : node->subgraphs()) n += g->nodeCountRecursive();
    return n;
}

namespace {
// Values a node depends on, including outer-scope values used inside its subgraphs.
void collectDeps(const Node& n, const Graph* g, std::vector<const Value*>& out) {
    for (Value* v : n.inputs())
        if (v) out.push_back(v);
    for (Graph* sg : n.subgraphs())
        for (const auto& sn : sg->nodes()) {
            for (Value* v : sn->inputs())
                if (v && v->graph() != sg) out.push_back(v);
            collectDeps(*sn, g, out);
        }
}
} // namespace

Result<std::vector<Node*>> Graph::topologicalOrder() const {
    std::unordered_map<const Node*, std::size_t> index;
    for (std::size_t k = 0; k < m_nodes.size(); ++k) index[m_nodes[k].get()] = k;
    std::vector<std::size_t> indeg(m_nodes.size(), 0);
    std::vector<std::vector<std::size_t>> succ(m_nodes.size());
    std::vector<const Value*> deps;
    for (std::size_t k = 0; k < m_nodes.size(); ++k) {
        deps.clear();
        collectDeps(*m_nodes[k], this, deps);
        for (const Value* v : deps) {
            Node* p = v->producer();
            if (!p) continue;
            // A dependency produced in this graph (possibly seen through a subgraph).
            auto it = index.find(p);
            if (it == index.end() || it->second == k) {
                if (it != index.end()) {
                    return fail(StatusCode::InvalidInput,
                                "the graph has a cycle: node consumes its own output", m_nodes[k]->displayName());
                }
                continue;
            }
            succ[it->second].push_back(k);
            ++indeg[k];
        }
    }
    // Kahn's algorithm with a min-heap on file position keeps the original order where free.
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t k = 0; k < indeg.size(); ++k)
        if (indeg[k] == 0) ready.push(k);
    std::vector<Node*> order;
    order.reserve(m_nodes.size());
    while (!ready.empty()) {
        std::size_t k = ready.top();
        ready.pop();
        order.push_back(m_nodes[k].get());
        for (std::size_t s : succ[k])
            if (--indeg[s] == 0) ready.push(s);
    }
    if (order.size() != m_nodes.size()) {
        for (std::size_t k = 0; k < indeg.size(); ++k)
            if (indeg[k] > 0)
                return fail(StatusCode::InvalidInput, "the graph has a cycle through this node",
                            m_nodes[k]->displayName());
    }
    return order;
}

VoidResult Graph::sortTopologically() {
    EW_TRY_ASSIGN(auto order, topologicalOrder());
    std::unordered_map<Node*, std::size_t> pos;
    for (std::size_t k = 0; k < order.size(); ++k) pos[order[k]] = k;
    std::sort(m_nodes.begin(), m_nodes.end(), [&](const auto& a, const auto& b) { return pos[a.get()] < pos[b.get()]; });
    return {};
}

std::unique_ptr<Graph> Graph::clone(Graph* parent, Node* ownerNode) const {
    auto g = std::make_unique<Graph>(parent, ownerNode);
    g->name = name;
    g->docString = docString;
    g->metadataProps = metadataProps;
    g->extraFields = extraFields;
    g->sparseInitializers = sparseInitializers;
    g->quantizationAnnotations = quantizationAnnotations;
    std::unordered_map<const Value*, Value*> map;
    for (const auto& v : m_values) {
        Value* nv = *g->addValue(v->name, v->type);
        nv->docString = v->docString;
        nv->initializer = v->initializer;
        nv->quant = v->quant;
        nv->hasValueInfo = v->hasValueInfo;
        nv->metadataProps = v->metadataProps;
        nv->extraFields = v->extraFields;
        map[v.get()] = nv;
    }
    auto mapValue = [&](Value* v) -> Value* {
        if (!v) return nullptr;
        auto it = map.find(v);
        if (it != map.end()) return it->second;
        // Outer-scope value: resolve by name in the copy's parents.
        return g->lookupValue(v->name);
    };
    for (const auto& n : m_nodes) {
        std::vector<Value*> ins, outs;
        for (Value* v : n->m_inputs) ins.push_back(mapValue(v));
        for (Value* v : n->m_outputs) outs.push_back(mapValue(v));
        Node* nn = g->addNode(n->opType, n->domain, n->name, ins, outs);
        nn->overload = n->overload;
        nn->docString = n->docString;
        nn->metadataProps = n->metadataProps;
        nn->extraFields = n->extraFields;
        for (const auto& a : n->attributes) nn->attributes.push_back(a.clone(g.get(), nn));
    }
    for (Value* v : inputs) g->inputs.push_back(map.at(v));
    for (Value* v : outputs) g->outputs.push_back(mapValue(v));
    for (Value* v : initializers) g->initializers.push_back(map.at(v));
    return g;
}

// ---- Model ----------------------------------------------------------------------------------

int64_t Model::opsetFor(std::string_view d) const {
    auto want = canonicalDomain(d);
    for (const auto& o : opsetImports)
        if (canonicalDomain(o.domain) == want) return o.version;
    return 0;
}

std::unique_ptr<Model> Model::clone() const {
    auto m = std::make_unique<Model>();
    m->irVersion = irVersion;
    m->opsetImports = opsetImports;
    m->producerName = producerName;
    m->producerVersion = producerVersion;
    m->domain = domain;
    m->modelVersion = modelVersion;
    m->docString = docString;
    m->metadataProps = metadataProps;
    m->graph = graph->clone();
    for (const auto& f : functions) {
        Function nf;
        nf.name = f.name;
        nf.domain = f.domain;
        nf.overload = f.overload;
        nf.docString = f.docString;
        nf.attributeNames = f.attributeNames;
        for (const auto& a : f.attributeDefaults) nf.attributeDefaults.push_back(a.clone());
        nf.opsetImports = f.opsetImports;
        nf.body = f.body ? f.body->clone() : nullptr;
        nf.metadataProps = f.metadataProps;
        nf.extraFields = f.extraFields;
        m->functions.push_back(std::move(nf));
    }
    m->trainingInfos = trainingInfos;
    m->extraFields = extraFields;
    m->sourceFormat = sourceFormat;
    m->sourcePath = sourcePath;
    m->sourceBytes = sourceBytes;
    return m;
}

} // namespace ew::ir
