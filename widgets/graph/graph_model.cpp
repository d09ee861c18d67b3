#include "graph_model.h"

#include "graph_style.h"
#include "widgets/format_util.h"
#include "widgets/overlay/overlay.h"

#include <QCoreApplication>
#include <QFontMetricsF>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

const QChar kTimes(0x00D7);
const QString kSep = QStringLiteral(" · ");

QString joinDims(const std::vector<int64_t>& dims) {
    QStringList parts;
    for (int64_t d : dims)
        parts << QString::number(d);
    return dims.empty() ? QStringLiteral("scalar") : parts.join(kTimes);
}

QString intsText(const std::vector<int64_t>& v, QChar sep = QLatin1Char(',')) {
    QStringList parts;
    for (int64_t x : v)
        parts << QString::number(x);
    return parts.join(sep);
}

bool allEqual(const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [x](int64_t y) { return y == x; });
}

/// "s2" for uniform strides, "s2×1" otherwise; empty when all are 1.
QString stepText(const QString& prefix, const std::vector<int64_t>& v) {
    if (v.empty() || allEqual(v, 1)) return {};
    if (allEqual(v, v.front())) return prefix + QString::number(v.front());
    return prefix + intsText(v, kTimes);
}

QString numberText(double v) {
    return QString::number(v, 'g', 4);
}

/// Names of the inputs that usually hold weights, by slot.
QString inputLabel(const ir::Node& n, std::size_t slot) {
    static const QHash<QString, QStringList> kNames = {
        {QStringLiteral("Conv"), {"X", "W", "B"}},
        {QStringLiteral("ConvTranspose"), {"X", "W", "B"}},
        {QStringLiteral("FusedConv"), {"X", "W", "B", "Z"}},
        {QStringLiteral("FusedPwDwConv"), {"X", "W", "B", "W_dw", "B_dw"}},
        {QStringLiteral("Gemm"), {"A", "B", "C"}},
        {QStringLiteral("MatMul"), {"A", "B"}},
        {QStringLiteral("BatchNormalization"), {"X", "scale", "B", "mean", "var"}},
        {QStringLiteral("LayerNormalization"), {"X", "scale", "B"}},
        {QStringLiteral("InstanceNormalization"), {"X", "scale", "B"}},
        {QStringLiteral("PRelu"), {"X", "slope"}},
        {QStringLiteral("Reshape"), {"data", "shape"}},
        {QStringLiteral("Expand"), {"input", "shape"}},
        {QStringLiteral("Tile"), {"input", "repeats"}},
        {QStringLiteral("Pad"), {"data", "pads", "value"}},
        {QStringLiteral("Resize"), {"X", "roi", "scales", "sizes"}},
        {QStringLiteral("Slice"), {"data", "starts", "ends", "axes", "steps"}},
        {QStringLiteral("Unsqueeze"), {"data", "axes"}},
        {QStringLiteral("Squeeze"), {"data", "axes"}},
        {QStringLiteral("Gather"), {"data", "indices"}},
        {QStringLiteral("Clip"), {"input", "min", "max"}},
        {QStringLiteral("QuantizeLinear"), {"x", "scale", "zp"}},
        {QStringLiteral("DequantizeLinear"), {"x", "scale", "zp"}},
    };
    auto it = kNames.constFind(qstr(n.opType));
    if (it != kNames.constEnd() && slot < std::size_t(it->size())) return it->at(qsizetype(slot));
    return QStringLiteral("in%1").arg(slot);
}

/// A tiny constant shows its values ("shape [1,-1]"), a big one its dims ("W 64×3×7×7").
QString tensorBrief(const ir::Tensor& t) {
    const int64_t n = t.numElements();
    if (n >= 1 && n <= 4 && t.dtype != ir::DataType::String) {
        std::vector<double> v = t.toDouble();
        QStringList parts;
        for (double x : v)
            parts << numberText(x);
        return t.isScalar() ? parts.front() : QLatin1Char('[') + parts.join(',') + QLatin1Char(']');
    }
    return joinDims(t.dims);
}

QString weightsText(const ir::Node& n) {
    QStringList parts;
    for (std::size_t i = 0; i < n.inputs().size(); ++i) {
        const ir::Value* v = n.inputs()[i];
        if (!v || !v->isInitializer()) continue;
        parts << inputLabel(n, i) + QLatin1Char(' ') + tensorBrief(*v->initializer);
    }
    return parts.join(QStringLiteral("  "));
}

/// Kernel size of a convolution: the attribute, or the weight's trailing dims.
std::vector<int64_t> kernelOf(const ir::Node& n) {
    std::vector<int64_t> k = n.attrInts("kernel_shape");
    if (!k.empty()) return k;
    const ir::Value* w = n.input(1);
    if (w && w->isInitializer() && w->initializer->dims.size() > 2)
        return {w->initializer->dims.begin() + 2, w->initializer->dims.end()};
    if (w && w->type.shape && w->type.shape->rank() > 2) {
        std::vector<int64_t> out;
        for (std::size_t i = 2; i < w->type.shape->rank(); ++i)
            out.push_back(w->type.shape->dims[i].value);
        if (std::all_of(out.begin(), out.end(), [](int64_t d) { return d > 0; })) return out;
    }
    return {};
}

QString elided(const QFont& font, const QString& text, double width,
               Qt::TextElideMode mode = Qt::ElideMiddle) {
    return QFontMetricsF(font).elidedText(text, mode, width);
}

} // namespace

QString groupCountText(int ops) {
    return QCoreApplication::translate("ew::ui::GraphScene", "%n node(s)", nullptr, ops);
}

QString compactShape(const ir::Type& type) {
    if (!type.isTensor() && type.kind != ir::Type::Kind::SparseTensor)
        return type.isKnown() ? qstr(type.toString()) : QStringLiteral("?");
    QString dims;
    if (!type.shape) {
        dims = QStringLiteral("?");
    } else if (type.shape->rank() == 0) {
        dims = QStringLiteral("scalar");
    } else {
        QStringList parts;
        // Exporters name dynamic dims at length ("p2o.DynamicDimension.0"); on the canvas a
        // long name is just "?" (tooltips and the inspector show the full type).
        for (const auto& d : type.shape->dims)
            parts << (d.isSymbolic() && d.symbol.size() > 10 ? QStringLiteral("?")
                                                             : qstr(d.toString()));
        dims = parts.join(kTimes);
    }
    if (type.elemType == ir::DataType::Float || type.elemType == ir::DataType::Undefined)
        return dims;
    return qstr(ir::dataTypeName(type.elemType)) + QLatin1Char(' ') + dims;
}

QString keyAttributes(const ir::Node& n) {
    QStringList parts;
    const std::string& op = n.opType;
    const bool conv = op == "Conv" || op == "ConvTranspose" || op == "ConvInteger" ||
                      op == "QLinearConv" || op == "FusedConv" || op == "FusedPwDwConv" || op == "DeformConv";
    const bool pool =
        op == "MaxPool" || op == "AveragePool" || op == "LpPool" || op == "QLinearAveragePool";
    if (conv || pool) {
        const std::vector<int64_t> k = conv ? kernelOf(n) : n.attrInts("kernel_shape");
        if (!k.empty()) parts << intsText(k, kTimes);
        if (QString s = stepText(QStringLiteral("s"), n.attrInts("strides")); !s.isEmpty())
            parts << s;
        if (QString d = stepText(QStringLiteral("d"), n.attrInts("dilations")); !d.isEmpty())
            parts << d;
        if (int64_t g = n.attrInt("group", 1); g > 1) parts << QStringLiteral("g%1").arg(g);
        return parts.join(kSep);
    }
    if (op == "Gemm") {
        if (n.attrInt("transA", 0)) parts << QStringLiteral("transA");
        if (n.attrInt("transB", 0)) parts << QStringLiteral("transB");
        if (float a = n.attrFloat("alpha", 1.f); a != 1.f)
            parts << QStringLiteral("α %1").arg(numberText(a));
        return parts.join(kSep);
    }
    if (op == "Transpose" && n.hasAttr("perm"))
        return QStringLiteral("perm ") + intsText(n.attrInts("perm"));
    if (op == "Cast") {
        auto to = ir::DataType(n.attrInt("to", 0));
        return QStringLiteral("to ") + qstr(ir::dataTypeName(to));
    }
    if (op == "LeakyRelu") return QStringLiteral("α ") + numberText(n.attrFloat("alpha", 0.01f));
    if ((op == "Resize" || op == "Upsample") && n.hasAttr("mode"))
        return qstr(n.attrString("mode"));
    if (op == "Constant") {
        if (const ir::Attribute* a = n.attr("value"); a && a->type == ir::AttrType::Tensor)
            return tensorBrief(a->t);
        return {};
    }
    if (n.hasAttr("axes")) return QStringLiteral("axes ") + intsText(n.attrInts("axes"));
    if (n.hasAttr("axis")) return QStringLiteral("axis %1").arg(n.attrInt("axis", 0));
    return {};
}

std::shared_ptr<GraphModel> GraphModel::fromDocument(DocumentPtr doc) {
    auto m = std::shared_ptr<GraphModel>(new GraphModel);
    m->m_doc = std::move(doc);
    if (!m->m_doc || !m->m_doc->graph()) {
        m->finish();
        return m;
    }
    const GraphStyle& st = GraphStyle::get();
    const QFontMetricsF groupFm(st.groupFont);
    layout::IrLayoutOptions io;
    io.initializers = false;
    // Node boxes are sized below from their full texts; groups from their labels here.
    io.measure = [&](std::string_view text, layout::IrItemKind kind) -> layout::BoxSize {
        if (kind == layout::IrItemKind::Scope || kind == layout::IrItemKind::Subgraph)
            return {std::min(groupFm.horizontalAdvance(qstr(text)), st.maxText), 44};
        return {80, 28};
    };
    layout::IrLayoutGraph ig = layout::fromIr(*m->m_doc->graph(), io);
    m->m_graph = std::move(ig.graph);
    m->m_edgeValue = std::move(ig.edgeValue);

    const QFontMetricsF titleFm(st.titleFont), detailFm(st.detailFont);
    m->m_nodes.resize(m->m_graph.nodes.size());
    for (std::size_t i = 0; i < m->m_nodes.size(); ++i) {
        GraphNodeInfo& info = m->m_nodes[i];
        info.kind = ig.nodeKind[i];
        info.node = ig.irNode[i];
        info.value = ig.irValue[i];
        if (info.node) {
            const ir::Node& n = *info.node;
            info.category = opCategory(n.opType, n.domain);
            info.title = elided(st.titleFont, qstr(n.opType), st.maxText);
            info.detail = elided(st.detailFont, keyAttributes(n), st.maxText);
            info.weights = elided(st.detailFont, weightsText(n), st.maxText, Qt::ElideRight);
            info.key = overlayKey(n);
            m->m_nodeId.insert(info.node, layout::NodeId(i));
        } else if (info.value) {
            info.title = elided(st.titleFont, qstr(info.value->name), st.maxText);
            info.detail = elided(st.detailFont, compactShape(info.value->type), st.maxText);
            info.key = qstr(info.value->name);
            m->m_valueNode.insert(info.value, layout::NodeId(i));
        } else {
            info.title = qstr(ig.nodeLabel[i]);
        }
        double w = titleFm.horizontalAdvance(info.title);
        double h = st.titleH;
        for (const QString* line : {&info.detail, &info.weights})
            if (!line->isEmpty()) {
                w = std::max(w, detailFm.horizontalAdvance(*line));
                h += st.lineH;
            }
        w = std::max(st.minWidth, std::ceil(w + 2 * st.padX));
        h += st.bottomPad;
        // Inputs and outputs are pills: room for the round ends.
        if (info.kind == layout::IrItemKind::GraphInput ||
            info.kind == layout::IrItemKind::GraphOutput)
            w += h / 2;
        m->m_graph.nodes[i].width = w;
        m->m_graph.nodes[i].height = std::ceil(h);
    }
    m->m_groups.resize(m->m_graph.groups.size());
    for (std::size_t g = 0; g < m->m_groups.size(); ++g) {
        m->m_groups[g].title = elided(st.groupFont, qstr(m->m_graph.groups[g].label), st.maxText);
        m->m_groups[g].path = qstr(ig.groupPath[g]);
    }
    for (std::size_t e = 0; e < m->m_edgeValue.size(); ++e)
        if (m->m_edgeValue[e]) m->m_valueEdges[m->m_edgeValue[e]].append(layout::EdgeId(e));
    m->finish();
    return m;
}

std::shared_ptr<GraphModel> GraphModel::fromLayoutGraph(layout::LayoutGraph graph) {
    auto m = std::shared_ptr<GraphModel>(new GraphModel);
    m->m_graph = std::move(graph);
    m->m_nodes.resize(m->m_graph.nodes.size());
    for (std::size_t i = 0; i < m->m_nodes.size(); ++i) {
        GraphNodeInfo& info = m->m_nodes[i];
        info.category = OpCategory(int(i % 9));
        info.title = QStringLiteral("n%1").arg(i);
        info.key = info.title;
    }
    m->m_groups.resize(m->m_graph.groups.size());
    for (std::size_t g = 0; g < m->m_groups.size(); ++g)
        m->m_groups[g].title = m->m_groups[g].path = qstr(m->m_graph.groups[g].label);
    m->m_edgeValue.assign(m->m_graph.edges.size(), nullptr);
    m->finish();
    return m;
}

void GraphModel::finish() {
    // Ops per group, at any depth; then the collapsed boxes' sizes for their two rows.
    for (const auto& n : m_graph.nodes)
        for (layout::GroupId g = n.group; g >= 0; g = m_graph.groups[std::size_t(g)].parent)
            ++m_groups[std::size_t(g)].opCount;
    const GraphStyle& st = GraphStyle::get();
    const QFontMetricsF groupFm(st.groupFont), detailFm(st.detailFont);
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
        const QString count = groupCountText(m_groups[g].opCount);
        const double w = std::max(groupFm.horizontalAdvance(m_groups[g].title) + 18,
                                  detailFm.horizontalAdvance(count));
        m_graph.groups[g].collapsedWidth = std::ceil(w + 2 * st.padX + st.stackOffset);
        m_graph.groups[g].collapsedHeight =
            st.titleH + st.lineH + st.bottomPad + 4 + st.stackOffset;
    }
    m_defaultDepth = layout::defaultCollapseDepth(m_graph);
    m_layout = std::make_unique<layout::Layout>(m_graph, GraphStyle::get().layoutOptions());
    m_layout->setCollapseState(stateAtDepth(m_defaultDepth));
}

const ir::Value* GraphModel::edgeValue(layout::EdgeId id) const {
    return id >= 0 && std::size_t(id) < m_edgeValue.size() ? m_edgeValue[std::size_t(id)] : nullptr;
}

layout::NodeId GraphModel::nodeIdOf(const ir::Node* node) const {
    return m_nodeId.value(node, -1);
}

layout::NodeId GraphModel::nodeIdOfValue(const ir::Value* value) const {
    return m_valueNode.value(value, -1);
}

std::vector<layout::EdgeId> GraphModel::edgesOf(const ir::Value* value) const {
    const QList<layout::EdgeId> l = m_valueEdges.value(value);
    return {l.begin(), l.end()};
}

layout::CollapseState GraphModel::stateAtDepth(int depth) const {
    return layout::collapseAtDepth(m_graph, depth);
}

std::vector<layout::GroupId> GraphModel::ancestors(layout::GroupId group) const {
    std::vector<layout::GroupId> out;
    for (layout::GroupId g = group; g >= 0 && std::size_t(g) < m_graph.groups.size();
         g = m_graph.groups[std::size_t(g)].parent)
        out.push_back(g);
    return out;
}

layout::CollapseState GraphModel::revealing(layout::CollapseState state,
                                            layout::NodeId node) const {
    if (node < 0 || std::size_t(node) >= m_graph.nodes.size()) return state;
    for (layout::GroupId g : ancestors(m_graph.nodes[std::size_t(node)].group))
        state.set(g, false);
    return state;
}

} // namespace ew::ui
