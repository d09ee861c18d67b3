#include "session.h"

#include "cpu/sgemm.h"
#include "fusion.h"

#include "common/assert.h"
#include "kernel_registry.h"
#include "memory_planner.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace ew::rt {

namespace {
enum class SlotKind { Constant, Input, Activation };

bool insideGraph(const ir::Graph* g, const ir::Graph* root) {
    for (; g; g = g->parent())
        if (g == root) return true;
    return false;
}

/// Values that nodes nested in `sub` (and `sub`'s outputs) read from graphs enclosing `sub`.
void collectOuterReads(const ir::Graph& sub, std::vector<const ir::Value*>& out) {
    for (const ir::Value* v : sub.outputs)
        if (v && !insideGraph(v->graph(), &sub)) out.push_back(v);
    for (const auto& n : sub.nodes()) {
        for (const ir::Value* v : n->inputs())
            if (v && !insideGraph(v->graph(), &sub)) out.push_back(v);
        for (const ir::Graph* g : n->subgraphs()) {
            std::vector<const ir::Value*> inner;
            collectOuterReads(*g, inner);
            for (const ir::Value* v : inner)
                if (!insideGraph(v->graph(), &sub)) out.push_back(v);
        }
    }
}
/// The session whose compile() is initialising kernels on this thread (for createSubgraphSession).
thread_local Session* t_compiling = nullptr;
} // namespace

std::vector<const ir::Value*> outerScopeReads(const ir::Node& node) {
    std::vector<const ir::Value*> reads, out;
    for (const ir::Graph* g : node.subgraphs()) collectOuterReads(*g, reads);
    for (const ir::Value* v : reads)
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    return out;
}

struct Session::Slot {
    Tensor t;
    SlotKind kind = SlotKind::Activation;
    const ir::Value* value = nullptr;
    std::optional<ir::Tensor> keepAlive; ///< borrowed initializer bytes
    int producer = -1;
    int lastUse = -1;
    bool graphOutput = false;
    // The plan: where this tensor lives and the shape it was planned for.
    DataType plannedType = DataType::Undefined;
    std::vector<int64_t> plannedDims;
    std::byte* plannedData = nullptr;
};

struct Session::Step {
    const ir::Node* node = nullptr;
    int64_t opset = 0;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> in, out; ///< slot indices, -1 for omitted
    std::vector<int> implicitIn; ///< enclosing-scope values read by the node's subgraphs
    std::vector<const Tensor*> inPtrs;
    std::vector<Tensor*> outPtrs;
    bool dataDependent = false;
    std::size_t scratchBytes = 0;
    std::size_t plannedScratch = 0;
    std::byte* scratch = nullptr;
};

/// A plan that is not the active one: everything swapActivePlan exchanges with the live fields.
struct Session::SavedPlan {
    std::vector<int64_t> signature;
    std::byte* arena = nullptr;
    std::size_t arenaCapacity = 0;
    std::vector<DataType> types;             ///< per slot
    std::vector<std::vector<int64_t>> dims;  ///< per slot
    std::vector<std::byte*> data;            ///< per slot
    std::vector<std::size_t> scratchBytes;   ///< per step
    std::vector<std::byte*> scratch;         ///< per step
    std::size_t arenaBytes = 0, tensorBytes = 0;
    int inPlaceCount = 0;
};

std::string TensorInfo::toString() const {
    std::string s = name + ": " + std::string(ir::dataTypeName(dtype));
    s += shape ? shape->toString() : std::string("[?]");
    if (outerScope) s += " (outer scope)";
    return s;
}

Session::~Session() {
    releaseDynamic();
    freeAligned(m_arena);
    for (auto& p : m_planCache) freeAligned(p->arena);
}

int64_t Session::opsetFor(std::string_view domain) const {
    auto d = ir::canonicalDomain(domain);
    for (const auto& o : m_opsets)
        if (ir::canonicalDomain(o.domain) == d) return o.version;
    // ai.onnx defaults to a recent opset when a (hand-built) model declares none.
    return d.empty() ? 21 : 1;
}

Result<std::unique_ptr<Session>> Session::create(const ir::Model& model, SessionOptions options) {
    if (!model.graph) return fail(StatusCode::InvalidInput, "model has no graph");
    // Only graphs with a node a fusion can start from are copied.
    if (options.fuse && hasRuntimeFusionCandidates(*model.graph, options.int8Kernels) && !cpu::preferReferenceKernels()) {
        std::unique_ptr<ir::Graph> copy = model.graph->clone();
        if (fuseForRuntime(*copy, options.int8Kernels) > 0) {
            std::vector<ir::OpsetImport> opsets = model.opsetImports;
            opsets.push_back({kEdgewiseDomain, 1});
            EW_TRY_ASSIGN(auto s, createForGraph(*copy, std::move(opsets), std::move(options)));
            s->m_ownedGraph = std::move(copy); // same object: the compiled steps stay valid
            return s;
        }
    }
    return createForGraph(*model.graph, model.opsetImports, std::move(options));
}

Result<std::unique_ptr<Session>> Session::createForGraph(const ir::Graph& graph,
                                                         std::vector<ir::OpsetImport> opsets,
                                                         SessionOptions options) {
    std::unique_ptr<Session> s(new Session());
    s->m_options = std::move(options);
    s->m_opsets = std::move(opsets);
    s->m_pool = s->m_options.pool ? s->m_options.pool : std::make_shared<ThreadPool>(s->m_options.threads);
    EW_TRY(s->compile(graph));
    return s;
}

Result<std::unique_ptr<Session>> Session::createSubgraphSession(const ir::Graph& graph, int minPlanCache) {
    if (!t_compiling)
        return fail(StatusCode::Internal, "createSubgraphSession outside a session's kernel initialisation");
    SessionOptions opt = t_compiling->m_options;
    opt.pool = t_compiling->m_pool;
    opt.planCache = std::max(opt.planCache, minPlanCache);
    return createForGraph(graph, t_compiling->m_opsets, std::move(opt));
}

VoidResult Session::compile(const ir::Graph& graph) {
    EW_TRY_ASSIGN(std::vector<ir::Node*> order, graph.topologicalOrder());

    // Every node needs a kernel; report all that lack one at once.
    std::string missing;
    int missingCount = 0;
    for (const ir::Node* n : order) {
        int64_t opset = opsetFor(n->domain);
        if (!findCpuKernel(n->domain, n->opType, opset)) {
            if (missingCount++ < 20)
                missing += (missing.empty() ? "" : ", ") + std::string("'") + n->displayName() + "' (" +
                           n->qualifiedOp() + ", opset " + std::to_string(opset) + ")";
        }
    }
    if (missingCount)
        return fail(StatusCode::Unsupported,
                    "no CPU kernel for " + std::to_string(missingCount) + " node" +
                        (missingCount > 1 ? "s" : "") + ": " + missing +
                        (missingCount > 20 ? ", ..." : ""),
                    order.empty() ? std::string() : std::string());

    // Slots: constants, graph inputs, outer-scope values, node outputs.
    std::unordered_map<const ir::Value*, int> slotOf;
    auto addSlot = [&](const ir::Value* v, SlotKind kind) {
        Slot sl;
        sl.kind = kind;
        sl.value = v;
        m_slots.push_back(std::move(sl));
        slotOf[v] = static_cast<int>(m_slots.size()) - 1;
        return static_cast<int>(m_slots.size()) - 1;
    };
    auto addConstant = [&](const ir::Value* v) -> VoidResult {
        const ir::Tensor& src = *v->initializer;
        int idx = addSlot(v, SlotKind::Constant);
        Slot& sl = m_slots[idx];
        std::size_t es = elementSize(src.dtype);
        // Sub-byte integers are packed in the IR and unpacked by fromIr: never borrowed.
        bool aligned = es && !isSubByteInteger(src.dtype) &&
                       reinterpret_cast<uintptr_t>(src.bytes().data()) % es == 0 &&
                       src.byteSize() == static_cast<std::size_t>(src.numElements()) * es;
        if (aligned) {
            sl.keepAlive = src; // shares the bytes; no copy of the weights
            sl.t = Tensor::borrow(src.dtype, src.dims, static_cast<const void*>(sl.keepAlive->bytes().data()));
        } else {
            auto t = Tensor::fromIr(src);
            if (!t) return fail(t.error().code, t.error().message, v->name);
            sl.t = std::move(*t);
        }
        return {};
    };
    for (const ir::Value* v : graph.initializers) EW_TRY(addConstant(v));
    for (const ir::Value* v : graph.inputs) {
        if (slotOf.count(v)) continue; // an input with a default initializer: a constant here
        if (!v->type.isTensor())
            return fail(StatusCode::Unsupported, "graph input '" + v->name + "' is not a tensor");
        if (elementSize(v->type.elemType) == 0)
            return fail(StatusCode::Unsupported, "graph input '" + v->name + "' has type " +
                                                     std::string(ir::dataTypeName(v->type.elemType)));
        m_inputSlots.push_back(addSlot(v, SlotKind::Input));
        m_inputInfo.push_back({v->name, v->type.elemType, v->type.shape, false});
    }
    auto addOuter = [&](const ir::Value* v) -> VoidResult {
        if (slotOf.count(v)) return {};
        if (v->isInitializer()) return addConstant(v);
        m_inputSlots.push_back(addSlot(v, SlotKind::Input));
        m_inputInfo.push_back({v->name, v->type.elemType, v->type.shape, true});
        return {};
    };
    for (const ir::Node* n : order) {
        for (const ir::Value* v : n->inputs())
            if (v && v->graph() != &graph) EW_TRY(addOuter(v));
        for (const ir::Value* v : outerScopeReads(*n))
            if (v->graph() != &graph) EW_TRY(addOuter(v));
        for (const ir::Value* v : n->outputs())
            if (v) addSlot(v, SlotKind::Activation);
    }
    for (const ir::Value* v : graph.outputs) // a nested graph may return an enclosing graph's value
        if (v && v->graph() != &graph) EW_TRY(addOuter(v));

    // Steps.
    for (const ir::Node* n : order) {
        Step st;
        st.node = n;
        st.opset = opsetFor(n->domain);
        st.kernel = findCpuKernel(n->domain, n->opType, st.opset)->factory();
        for (const ir::Value* v : n->inputs()) {
            if (!v) {
                st.in.push_back(-1);
                continue;
            }
            auto it = slotOf.find(v);
            if (it == slotOf.end())
                return fail(StatusCode::InvalidInput, "input '" + v->name + "' has no producer", n->displayName());
            st.in.push_back(it->second);
        }
        for (const ir::Value* v : n->outputs()) st.out.push_back(v ? slotOf.at(v) : -1);
        for (const ir::Value* v : outerScopeReads(*n)) st.implicitIn.push_back(slotOf.at(v));
        m_steps.push_back(std::move(st));
    }
    // Pointers into m_slots are stable from here on. Implicit inputs follow the node's own.
    for (Step& st : m_steps) {
        for (int i : st.in) st.inPtrs.push_back(i < 0 ? nullptr : &m_slots[i].t);
        for (int i : st.implicitIn) st.inPtrs.push_back(&m_slots[i].t);
        for (int o : st.out) st.outPtrs.push_back(o < 0 ? nullptr : &m_slots[o].t);
    }

    // Init every kernel with its constant inputs; fold nodes whose inputs are all constant.
    Session* outerCompiling = std::exchange(t_compiling, this);
    struct Restore {
        Session* prev;
        ~Restore() { t_compiling = prev; }
    } restore{outerCompiling};
    std::vector<Step> kept;
    std::vector<const Tensor*> constants;
    for (Step& st : m_steps) {
        constants.clear();
        bool allConstant = st.implicitIn.empty() && st.node->subgraphs().empty();
        for (int i : st.in) {
            bool c = i >= 0 && m_slots[i].kind == SlotKind::Constant;
            constants.push_back(c ? &m_slots[i].t : nullptr);
            if (i >= 0 && !c) allConstant = false;
        }
        InitContext ictx(*st.node, st.opset, constants, m_pool->threads());
        if (auto r = st.kernel->init(ictx); !r) return std::unexpected(std::move(r).error());
        st.dataDependent = st.kernel->dataDependentShapes();
        if (!(m_options.foldConstants && allConstant)) {
            kept.push_back(std::move(st));
            continue;
        }
        PrepareContext pctx(*st.node, st.opset, st.inPtrs, st.outPtrs, m_pool->threads());
        if (auto r = st.kernel->prepare(pctx); !r) return std::unexpected(std::move(r).error());
        std::vector<Tensor> owned;
        for (Tensor* t : st.outPtrs) {
            if (!t) continue;
            *t = Tensor::allocate(t->dtype(), t->dims());
        }
        Tensor scratch = Tensor::allocate(DataType::UInt8, {static_cast<int64_t>(pctx.scratchBytes())});
        RunContext rctx(st.inPtrs, st.outPtrs, scratch.raw(), *m_pool);
        st.kernel->run(rctx);
        for (int o : st.out)
            if (o >= 0) m_slots[o].kind = SlotKind::Constant;
    }
    m_steps = std::move(kept);

    // Lifetimes.
    const int nSteps = static_cast<int>(m_steps.size());
    for (int k = 0; k < nSteps; ++k) {
        Step& st = m_steps[k];
        for (int i : st.in)
            if (i >= 0) m_slots[i].lastUse = std::max(m_slots[i].lastUse, k);
        for (int i : st.implicitIn) m_slots[i].lastUse = std::max(m_slots[i].lastUse, k);
        for (int o : st.out)
            if (o >= 0) {
                m_slots[o].producer = k;
                m_slots[o].lastUse = std::max(m_slots[o].lastUse, k);
            }
    }
    for (const ir::Value* v : graph.outputs) {
        auto it = slotOf.find(v);
        if (it == slotOf.end())
            return fail(StatusCode::InvalidInput, "graph output '" + v->name + "' is never produced");
        Slot& sl = m_slots[it->second];
        sl.graphOutput = true;
        sl.lastUse = nSteps;
        m_outputSlots.push_back(it->second);
        m_outputInfo.push_back({v->name, v->type.isTensor() ? v->type.elemType : sl.t.dtype(),
                                v->type.isTensor() ? v->type.shape : std::nullopt, false});
    }
    // Constants read only by folded nodes (int4 weights behind a folded DequantizeLinear) are
    // dead now: free them so a weight is held once, in the form the kept kernels read.
    for (Slot& sl : m_slots)
        if (sl.kind == SlotKind::Constant && sl.lastUse < 0 && !sl.graphOutput) {
            sl.t = Tensor();
            sl.keepAlive.reset();
        }

    // Symbols shared between inputs must agree at run time.
    std::unordered_map<std::string, std::pair<int, int>> firstUse;
    for (int a = 0; a < static_cast<int>(m_inputInfo.size()); ++a) {
        if (!m_inputInfo[a].shape) continue;
        const auto& dims = m_inputInfo[a].shape->dims;
        for (int i = 0; i < static_cast<int>(dims.size()); ++i) {
            if (!dims[i].isSymbolic()) continue;
            auto [it, inserted] = firstUse.emplace(dims[i].symbol, std::make_pair(a, i));
            if (!inserted) m_symbolTies.push_back({it->second.first, it->second.second, a, i});
        }
    }
    m_bound.assign(m_inputInfo.size(), nullptr);
    return {};
}

std::vector<const ir::Node*> Session::executionOrder() const {
    std::vector<const ir::Node*> v;
    for (const Step& s : m_steps) v.push_back(s.node);
    return v;
}

std::string Session::expectedInputsText() const {
    std::string s;
    for (const TensorInfo& i : m_inputInfo) s += (s.empty() ? "" : ", ") + i.toString();
    return s.empty() ? std::string("(no inputs)") : s;
}

VoidResult Session::bindInputs(const NamedTensors& inputs) {
    std::fill(m_bound.begin(), m_bound.end(), nullptr);
    for (const auto& [name, t] : inputs) {
        std::size_t k = 0;
        while (k < m_inputInfo.size() && m_inputInfo[k].name != name) ++k;
        if (k == m_inputInfo.size())
            return fail(StatusCode::Usage,
                        "unknown input '" + name + "'; the model expects: " + expectedInputsText());
        if (m_bound[k]) return fail(StatusCode::Usage, "input '" + name + "' given twice");
        const TensorInfo& info = m_inputInfo[k];
        bool ok = t.dtype() == info.dtype || (info.outerScope && info.dtype == DataType::Undefined);
        if (ok && info.shape) {
            ok = info.shape->rank() == t.rank();
            for (std::size_t d = 0; ok && d < t.rank(); ++d)
                if (info.shape->dims[d].isKnown() && info.shape->dims[d].value != t.dims()[d]) ok = false;
        }
        if (!ok)
            return fail(StatusCode::Usage, "input '" + name + "' is " + describe(t.dtype(), t.dims()) +
                                               ", expected " + info.toString());
        if (t.numElements() > 0 && !t.raw())
            return fail(StatusCode::Usage, "input '" + name + "' has no data");
        m_bound[k] = &t;
    }
    for (std::size_t k = 0; k < m_inputInfo.size(); ++k)
        if (!m_bound[k])
            return fail(StatusCode::Usage, "missing input '" + m_inputInfo[k].name +
                                               "'; the model expects: " + expectedInputsText());
    for (const SymbolTie& tie : m_symbolTies) {
        int64_t x = m_bound[tie.a]->dims()[tie.i], y = m_bound[tie.b]->dims()[tie.j];
        if (x != y)
            return fail(StatusCode::Usage,
                        "inputs '" + m_inputInfo[tie.a].name + "' and '" + m_inputInfo[tie.b].name +
                            "' disagree on dimension '" + m_inputInfo[tie.a].shape->dims[tie.i].symbol +
                            "' (" + std::to_string(x) + " vs " + std::to_string(y) + ")");
    }
    m_signature.clear();
    for (std::size_t k = 0; k < m_inputInfo.size(); ++k) {
        const Tensor& t = *m_bound[k];
        m_slots[m_inputSlots[k]].t.rebind(t.dtype(), t.dims(), const_cast<std::byte*>(t.raw()));
        m_signature.push_back(static_cast<int64_t>(t.dtype()));
        m_signature.push_back(static_cast<int64_t>(t.rank()));
        m_signature.insert(m_signature.end(), t.dims().begin(), t.dims().end());
    }
    return {};
}

void Session::releaseDynamic() {
    for (std::byte* p : m_dynamic) freeAligned(p);
    m_dynamic.clear();
}

VoidResult Session::execute(bool prepareAll) {
    bool dynamic = !(m_planValid && m_signature == m_planSignature);
    if (dynamic) m_planValid = false;
    const int threads = m_pool->threads();
    for (int k = 0; k < static_cast<int>(m_steps.size()); ++k) {
        Step& st = m_steps[k];
        // With a callback the node's time includes its prepare when it runs one here (an If or
        // Loop of data-dependent shapes runs its body there).
        const auto t0 = m_callback ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        // A plan taken from the cache: kernels were last prepared for other shapes.
        if (dynamic || st.dataDependent || prepareAll) {
            for (Tensor* t : st.outPtrs)
                if (t) t->rebind(DataType::Undefined, {}, nullptr);
            PrepareContext pctx(*st.node, st.opset, st.inPtrs, st.outPtrs, threads);
            if (auto r = st.kernel->prepare(pctx); !r) {
                m_planValid = false;
                return std::unexpected(std::move(r).error());
            }
            for (std::size_t i = 0; i < st.outPtrs.size(); ++i)
                if (st.outPtrs[i] && st.outPtrs[i]->dtype() == DataType::Undefined) {
                    m_planValid = false;
                    return fail(StatusCode::Internal, "kernel did not declare output " + std::to_string(i),
                                st.node->displayName());
                }
            if (!dynamic) {
                bool same = pctx.scratchBytes() <= st.plannedScratch;
                for (int o : st.out) {
                    if (o < 0) continue;
                    const Slot& sl = m_slots[o];
                    same = same && sl.t.dtype() == sl.plannedType &&
                           std::equal(sl.t.dims().begin(), sl.t.dims().end(), sl.plannedDims.begin(),
                                      sl.plannedDims.end());
                }
                if (same) {
                    for (int o : st.out)
                        if (o >= 0) m_slots[o].t.rebind(m_slots[o].plannedType, m_slots[o].plannedDims, m_slots[o].plannedData);
                } else {
                    dynamic = true; // shapes left the plan: per-tensor buffers from here on
                    m_planValid = false;
                }
            }
            if (dynamic) {
                for (Tensor* t : st.outPtrs) {
                    if (!t) continue;
                    std::byte* p = allocateAligned(t->byteSize());
                    m_dynamic.push_back(p);
                    t->rebind(t->dtype(), std::vector<int64_t>(t->dims()), p);
                }
                st.scratchBytes = pctx.scratchBytes();
                st.scratch = nullptr;
                if (st.scratchBytes) {
                    st.scratch = allocateAligned(st.scratchBytes);
                    m_dynamic.push_back(st.scratch);
                }
            }
        }
        RunContext rctx(st.inPtrs, st.outPtrs, st.scratch, *m_pool);
        if (m_callback) {
            st.kernel->run(rctx);
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
            m_callback(NodeEvent{*st.node, k, std::span<const Tensor* const>(st.outPtrs.data(), st.outPtrs.size()),
                                 static_cast<int64_t>(ns)});
        } else {
            st.kernel->run(rctx);
        }
    }
    return {};
}

void Session::buildPlan() {
    // Buffers: one per activation (in-place outputs share their input's), one per scratch.
    const int nSteps = static_cast<int>(m_steps.size());
    std::vector<int> bufferOf(m_slots.size(), -1);
    std::vector<BufferRequest> req;
    int inPlace = 0;
    std::size_t tensorBytes = 0;
    for (int k = 0; k < nSteps; ++k) {
        Step& st = m_steps[k];
        int alias = m_options.inPlace ? st.kernel->inPlaceInput() : -1;
        for (std::size_t oi = 0; oi < st.out.size(); ++oi) {
            int o = st.out[oi];
            if (o < 0) continue;
            const Slot& os = m_slots[o];
            if (oi == 0 && alias >= 0 && alias < static_cast<int>(st.in.size()) && st.in[alias] >= 0) {
                int a = st.in[alias];
                const Slot& as = m_slots[a];
                bool legal = as.kind == SlotKind::Activation && !as.graphOutput && as.lastUse == k &&
                             std::count(st.in.begin(), st.in.end(), a) == 1 &&
                             as.t.byteSize() == os.t.byteSize() && bufferOf[a] >= 0;
                if (legal) {
                    bufferOf[o] = bufferOf[a];
                    req[bufferOf[o]].last = std::max(req[bufferOf[o]].last, os.lastUse);
                    ++inPlace;
                    continue;
                }
            }
            bufferOf[o] = static_cast<int>(req.size());
            req.push_back({os.t.byteSize(), k, std::max(k, os.lastUse)});
            tensorBytes += os.t.byteSize();
        }
    }
    std::vector<int> scratchReq(nSteps, -1);
    for (int k = 0; k < nSteps; ++k)
        if (m_steps[k].scratchBytes) {
            scratchReq[k] = static_cast<int>(req.size());
            req.push_back({m_steps[k].scratchBytes, k, k});
            tensorBytes += m_steps[k].scratchBytes;
        }
    ArenaPlan plan = planArena(req, kAlignment);
    if (plan.totalBytes > m_arenaCapacity || !m_arena) {
        freeAligned(m_arena);
        m_arena = allocateAligned(plan.totalBytes);
        m_arenaCapacity = plan.totalBytes;
    }
    for (std::size_t s = 0; s < m_slots.size(); ++s) {
        Slot& sl = m_slots[s];
        if (sl.kind != SlotKind::Activation || bufferOf[s] < 0) continue;
        sl.plannedType = sl.t.dtype();
        sl.plannedDims = sl.t.dims();
        sl.plannedData = m_arena + plan.offsets[bufferOf[s]];
        sl.t.rebind(sl.plannedType, sl.plannedDims, sl.plannedData);
    }
    for (int k = 0; k < nSteps; ++k) {
        Step& st = m_steps[k];
        st.plannedScratch = st.scratchBytes;
        st.scratch = scratchReq[k] >= 0 ? m_arena + plan.offsets[scratchReq[k]] : nullptr;
    }
    m_planSignature = m_signature;
    m_planValid = true;
    m_stats.arenaBytes = plan.totalBytes;
    m_stats.tensorBytes = tensorBytes;
    m_stats.inPlaceCount = inPlace;
    ++m_stats.plansBuilt;
}

void Session::swapActivePlan(SavedPlan& p) {
    // Swaps only: switching between two cached plans allocates nothing once both exist.
    p.types.resize(m_slots.size(), DataType::Undefined);
    p.dims.resize(m_slots.size());
    p.data.resize(m_slots.size(), nullptr);
    p.scratchBytes.resize(m_steps.size(), 0);
    p.scratch.resize(m_steps.size(), nullptr);
    std::swap(m_planSignature, p.signature);
    std::swap(m_arena, p.arena);
    std::swap(m_arenaCapacity, p.arenaCapacity);
    for (std::size_t s = 0; s < m_slots.size(); ++s) {
        std::swap(m_slots[s].plannedType, p.types[s]);
        std::swap(m_slots[s].plannedDims, p.dims[s]);
        std::swap(m_slots[s].plannedData, p.data[s]);
    }
    for (std::size_t k = 0; k < m_steps.size(); ++k) {
        std::swap(m_steps[k].plannedScratch, p.scratchBytes[k]);
        std::swap(m_steps[k].scratch, p.scratch[k]);
    }
    std::swap(m_stats.arenaBytes, p.arenaBytes);
    std::swap(m_stats.tensorBytes, p.tensorBytes);
    std::swap(m_stats.inPlaceCount, p.inPlaceCount);
}

bool Session::activateCachedPlan() {
    for (std::size_t i = 0; i < m_planCache.size(); ++i) {
        if (m_planCache[i]->signature != m_signature) continue;
        std::unique_ptr<SavedPlan> hit = std::move(m_planCache[i]);
        m_planCache.erase(m_planCache.begin() + static_cast<std::ptrdiff_t>(i));
        swapActivePlan(*hit); // `hit` now holds the previously active plan
        if (m_planValid)
            m_planCache.push_back(std::move(hit)); // most recently used
        else
            freeAligned(hit->arena); // an invalidated plan is dropped
        m_planValid = true;
        ++m_stats.planCacheHits;
        return true;
    }
    return false;
}

void Session::stashActivePlan() {
    while (!m_planCache.empty() && static_cast<int>(m_planCache.size()) >= m_options.planCache - 1) {
        freeAligned(m_planCache.front()->arena);
        m_planCache.erase(m_planCache.begin());
    }
    m_planCache.push_back(std::make_unique<SavedPlan>());
    swapActivePlan(*m_planCache.back());
    m_planValid = false;
}

void Session::copyOutputs(std::vector<Tensor>& outputs) {
    if (outputs.size() != m_outputSlots.size()) outputs.resize(m_outputSlots.size());
    for (std::size_t i = 0; i < m_outputSlots.size(); ++i) {
        const Tensor& src = m_slots[m_outputSlots[i]].t;
        outputs[i].reshapeOwned(src.dtype(), src.dims());
        if (src.byteSize()) std::memcpy(outputs[i].raw(), src.raw(), src.byteSize());
    }
}

VoidResult Session::run(const NamedTensors& inputs, std::vector<Tensor>& outputs) {
    std::lock_guard lock(m_runMutex);
    EW_TRY(bindInputs(inputs));
    bool wasPlanned = m_planValid && m_signature == m_planSignature;
    bool fromCache = false;
    if (!wasPlanned && m_options.planCache > 1) {
        fromCache = activateCachedPlan();
        if (!fromCache && m_planValid) stashActivePlan();
        wasPlanned = fromCache;
    }
    auto r = execute(fromCache);
    if (!r) {
        releaseDynamic();
        return r;
    }
    copyOutputs(outputs);
    if (!wasPlanned || !m_planValid) {
        buildPlan();
        releaseDynamic();
    }
    return {};
}

Result<std::vector<Tensor>> Session::run(const NamedTensors& inputs) {
    std::vector<Tensor> out;
    EW_TRY(run(inputs, out));
    return out;
}

} // namespace ew::rt
