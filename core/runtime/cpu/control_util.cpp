#include "control_util.h"

#include "kernel_util.h"

#include <algorithm>

namespace ew::rt::cpu {

VoidResult SubgraphRunner::init(InitContext& ctx, const ir::Graph& graph, std::string attr,
                                int minPlanCache) {
    m_attr = std::move(attr);
    m_graph = &graph;
    auto s = Session::createSubgraphSession(graph, minPlanCache);
    if (!s) return ctx.error(s.error().code, m_attr + ": " + s.error().toString());
    m_session = std::move(*s);

    const std::vector<const ir::Value*> outer = outerScopeReads(ctx.node());
    m_formal.assign(graph.inputs.size(), -1);
    const auto& info = m_session->inputInfo();
    for (std::size_t k = 0; k < info.size(); ++k) {
        m_feed.emplace_back(info[k].name, Tensor());
        if (info[k].outerScope) {
            auto it = std::find_if(outer.begin(), outer.end(),
                                   [&](const ir::Value* v) { return v->name == info[k].name; });
            if (it == outer.end())
                return ctx.error(StatusCode::Internal,
                                 m_attr + ": outer-scope value '" + info[k].name + "' not found");
            m_outer.push_back({static_cast<int>(k),
                               ctx.numInputs() + static_cast<std::size_t>(it - outer.begin())});
            continue;
        }
        for (std::size_t p = 0; p < graph.inputs.size(); ++p)
            if (graph.inputs[p]->name == info[k].name) m_formal[p] = static_cast<int>(k);
    }
    return {};
}

void SubgraphRunner::bindFormal(std::size_t p, DataType dtype, std::span<const int64_t> dims,
                                const std::byte* data) {
    if (m_formal[p] >= 0)
        m_feed[m_formal[p]].second.rebind(dtype, dims, const_cast<std::byte*>(data));
}

void SubgraphRunner::bindOuter(const PrepareContext& ctx) {
    for (const Outer& o : m_outer) {
        const Tensor& t = ctx.input(o.input);
        m_feed[o.feed].second.rebind(t.dtype(), t.dims(), const_cast<std::byte*>(t.raw()));
    }
}

VoidResult SubgraphRunner::run(const PrepareContext& ctx, std::vector<Tensor>& outs) {
    if (auto r = m_session->run(m_feed, outs); !r)
        return ctx.error(r.error().code, m_attr + ": " + r.error().toString());
    return {};
}

namespace {
const char* nonTensorKind(const ir::Value* v) {
    if (!v) return nullptr;
    switch (v->type.kind) {
    case ir::Type::Kind::Sequence:
        return "sequence";
    case ir::Type::Kind::Optional:
        return "optional";
    case ir::Type::Kind::Map:
        return "map";
    case ir::Type::Kind::SparseTensor:
        return "sparse tensor";
    default:
        return nullptr;
    }
}
} // namespace

VoidResult checkTensorValues(const InitContext& ctx) {
    auto check = [&](const ir::Value* v, const char* where) -> VoidResult {
        if (const char* k = nonTensorKind(v))
            return ctx.error(StatusCode::Unsupported, std::string(where) + " '" + v->name +
                                                          "' is " + (k[0] == 'o' ? "an " : "a ") +
                                                          k +
                                                          " value: not supported (tensors only)");
        return {};
    };
    for (const ir::Value* v : ctx.node().inputs())
        EW_TRY(check(v, "input"));
    for (const ir::Value* v : ctx.node().outputs())
        EW_TRY(check(v, "output"));
    for (const ir::Graph* g : ctx.node().subgraphs()) {
        for (const ir::Value* v : g->inputs)
            EW_TRY(check(v, "subgraph input"));
        for (const ir::Value* v : g->outputs)
            EW_TRY(check(v, "subgraph output"));
    }
    return {};
}

Result<const ir::Graph*> subgraphAttr(const InitContext& ctx, std::string_view name) {
    const ir::Attribute* a = ctx.node().attr(name);
    if (!a || a->type != ir::AttrType::Graph || !a->g)
        return ctx.error(StatusCode::InvalidInput,
                         "missing graph attribute '" + std::string(name) + "'");
    return a->g.get();
}

void copyRows(std::byte* dst, std::ptrdiff_t dstStride, const std::byte* src,
              std::ptrdiff_t srcStride, int64_t rows, std::size_t rowBytes) {
    if (static_cast<std::ptrdiff_t>(rowBytes) == dstStride && dstStride == srcStride) {
        copyBytes(dst, src, rowBytes * static_cast<std::size_t>(rows));
        return;
    }
    for (int64_t r = 0; r < rows; ++r)
        std::memcpy(dst + r * dstStride, src + r * srcStride, rowBytes);
}

} // namespace ew::rt::cpu
