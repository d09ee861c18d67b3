#include "inspector_panel.h"

#include "widgets/format_util.h"
#include "widgets/properties_panel.h"

#include <QScrollArea>
#include <QShowEvent>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>

namespace ew::ui {

namespace {

QString axisNoteFor(const ir::Node& consumer, const TensorSource& s) {
    if (s.channelAxis < 0) return {};
    if (s.quant && s.quant->isPerAxis()) return InspectorPanel::tr("quantization channel");
    const std::string& op = consumer.opType;
    if (op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul" ||
        op == "ConvInteger" || op == "QLinearConv" || op == "MatMulInteger" ||
        op == "QLinearMatMul")
        return InspectorPanel::tr("output channel of %1").arg(qstr(op));
    return {};
}

} // namespace

InspectorPanel::InspectorPanel(QWidget* parent) : QWidget(parent) {
    m_nodeView = new PropertiesPanel(this);
    m_tensorView = new TensorView(this);
    m_tensorView->setObjectName(QStringLiteral("tensorView"));

    // The tensor view scrolls in a short dock instead of squeezing its plots flat.
    auto* scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("tensorScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(m_tensorView);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("inspectorSplitter"));
    m_splitter->addWidget(m_nodeView);
    m_splitter->addWidget(scroll);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);
    connect(m_splitter, &QSplitter::splitterMoved, this, [this] { m_splitterMoved = true; });

    connect(m_nodeView, &PropertiesPanel::tensorActivated, this, [this](const QString& key) {
        // A quantized weight is offered as the integer initializer behind its DequantizeLinear.
        if (!m_tensorView->selectSource(key))
            m_tensorView->selectSource(key + QStringLiteral(":quantized"));
    });
    showNode(nullptr);
}

void InspectorPanel::showTensorPane(bool on) {
    QWidget* pane = m_splitter->widget(1);
    pane->setVisible(on);
    // Until the user drags the handle, the plots get the larger share: the node's rows scroll
    // well, squeezed plots do not.
    if (on && !m_splitterMoved && height() > 0) {
        int total = height() - m_splitter->handleWidth();
        int need = m_tensorView->minimumSizeHint().height() + 8;
        int tensor = std::clamp(need, total * 55 / 100, total * 70 / 100);
        m_splitter->setSizes({total - tensor, tensor});
    }
}

void InspectorPanel::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_splitter->widget(1)->isVisibleTo(this)) showTensorPane(true);
}

void InspectorPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (m_splitter->widget(1)->isVisibleTo(this)) showTensorPane(true);
}

void InspectorPanel::setDocument(DocumentPtr doc) {
    m_doc = std::move(doc);
    m_nodeView->setDocument(m_doc);
    showNode(nullptr);
}

const ir::Node* InspectorPanel::node() const {
    return m_nodeView->node();
}

std::vector<TensorSource> InspectorPanel::tensorSourcesFor(const ir::Node& node) {
    std::vector<TensorSource> out;
    for (std::size_t i = 0; i < node.inputs().size(); ++i) {
        const ir::Value* v = node.inputs()[i];
        if (!v) continue;
        TensorSource s;
        s.key = QStringLiteral("input:%1").arg(i);
        s.name = qstr(v->name);
        if (const ir::Tensor* t = ir::constantTensorOf(v)) {
            s.tensor = *t;
            s.quant = v->quant;
            s.origin = v->initializer ? tr("initializer") : tr("Constant node");
            s.label = QStringLiteral("%1: %2").arg(i).arg(s.name);
        } else if (const ir::Node* p = v->producer();
                   p && p->opType == "DequantizeLinear" && ir::constantTensorOf(p->input(0))) {
            const ir::Value* q = p->input(0);
            s.key += QStringLiteral(":quantized");
            s.name = qstr(q->name);
            s.tensor = *ir::constantTensorOf(q);
            s.quant = q->quant;
            s.origin = tr("quantized, dequantized by %1").arg(qstr(p->displayName()));
            s.label = tr("%1: %2 (quantized)").arg(i).arg(s.name);
        } else {
            continue;
        }
        s.channelAxis = channelAxisFor(s.tensor, &node, int(i), s.quant);
        s.axisNote = axisNoteFor(node, s);
        out.push_back(std::move(s));
    }
    for (const ir::Attribute& a : node.attributes) {
        if (a.type != ir::AttrType::Tensor) continue;
        TensorSource s;
        s.key = QStringLiteral("attr:") + qstr(a.name);
        s.name = a.t.name.empty() ? qstr(a.name) : qstr(a.t.name);
        s.tensor = a.t;
        s.origin = tr("attribute %1").arg(qstr(a.name));
        s.label = tr("attribute %1").arg(qstr(a.name));
        s.channelAxis = channelAxisFor(s.tensor, nullptr, -1, std::nullopt);
        out.push_back(std::move(s));
    }
    return out;
}

void InspectorPanel::showNode(const ir::Node* node) {
    m_nodeView->showNode(node);
    if (!node || !m_doc) {
        m_tensorView->clear(QString());
        showTensorPane(false);
        return;
    }
    std::vector<TensorSource> sources = tensorSourcesFor(*node);
    showTensorPane(!sources.empty());
    if (sources.empty()) {
        m_tensorView->clear(tr("This node has no constant inputs."));
        return;
    }
    // The largest constant is the one worth looking at: the weight, not the bias or a shape.
    int best = 0;
    for (std::size_t i = 1; i < sources.size(); ++i)
        if (sources[i].tensor.numElements() > sources[std::size_t(best)].tensor.numElements())
            best = int(i);
    m_tensorView->setSources(std::move(sources), best);
}

} // namespace ew::ui
