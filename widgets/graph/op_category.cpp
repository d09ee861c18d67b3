#include "op_category.h"

#include <QPainter>

#include <algorithm>
#include <array>
#include <string>

namespace ew::ui {

namespace {

struct OpEntry {
    std::string_view op;
    OpCategory category;
};

// Sorted by name for binary search; checked once at first use.
constexpr std::array kOps = std::to_array<OpEntry>({
    {"Abs", OpCategory::Elementwise},
    {"Acos", OpCategory::Elementwise},
    {"Acosh", OpCategory::Elementwise},
    {"Add", OpCategory::Elementwise},
    {"AffineGrid", OpCategory::Shape},
    {"And", OpCategory::Elementwise},
    {"ArgMax", OpCategory::Elementwise},
    {"ArgMin", OpCategory::Elementwise},
    {"Asin", OpCategory::Elementwise},
    {"Asinh", OpCategory::Elementwise},
    {"Atan", OpCategory::Elementwise},
    {"Atanh", OpCategory::Elementwise},
    {"Attention", OpCategory::Matrix},
    {"AveragePool", OpCategory::Pooling},
    {"BatchNormalization", OpCategory::Normalization},
    {"BiasGelu", OpCategory::Activation},
    {"BitShift", OpCategory::Elementwise},
    {"BitwiseAnd", OpCategory::Elementwise},
    {"BitwiseNot", OpCategory::Elementwise},
    {"BitwiseOr", OpCategory::Elementwise},
    {"BitwiseXor", OpCategory::Elementwise},
    {"Cast", OpCategory::Shape},
    {"CastLike", OpCategory::Shape},
    {"Ceil", OpCategory::Elementwise},
    {"Celu", OpCategory::Activation},
    {"CenterCropPad", OpCategory::Shape},
    {"Clip", OpCategory::Activation},
    {"Col2Im", OpCategory::Shape},
    {"Compress", OpCategory::Shape},
    {"Concat", OpCategory::Shape},
    {"ConcatFromSequence", OpCategory::Shape},
    {"Constant", OpCategory::Shape},
    {"ConstantOfShape", OpCategory::Shape},
    {"Conv", OpCategory::Convolution},
    {"ConvInteger", OpCategory::Quantization},
    {"ConvTranspose", OpCategory::Convolution},
    {"Cos", OpCategory::Elementwise},
    {"Cosh", OpCategory::Elementwise},
    {"CumSum", OpCategory::Elementwise},
    {"DFT", OpCategory::Matrix},
    {"DeformConv", OpCategory::Convolution},
    {"DepthToSpace", OpCategory::Shape},
    {"DequantizeLinear", OpCategory::Quantization},
    {"Det", OpCategory::Matrix},
    {"Div", OpCategory::Elementwise},
    {"Dropout", OpCategory::Normalization},
    {"DynamicQuantizeLinear", OpCategory::Quantization},
    {"DynamicQuantizeMatMul", OpCategory::Quantization},
    {"Einsum", OpCategory::Matrix},
    {"Elu", OpCategory::Activation},
    {"Equal", OpCategory::Elementwise},
    {"Erf", OpCategory::Elementwise},
    {"Exp", OpCategory::Elementwise},
    {"Expand", OpCategory::Shape},
    {"EyeLike", OpCategory::Shape},
    {"FastGelu", OpCategory::Activation},
    {"Flatten", OpCategory::Shape},
    {"Floor", OpCategory::Elementwise},
    {"FusedConv", OpCategory::Convolution},
    {"FusedGemm", OpCategory::Matrix},
    {"FusedMatMul", OpCategory::Matrix},
    {"FusedPwDwConv", OpCategory::Convolution},
    {"GRU", OpCategory::Matrix},
    {"Gather", OpCategory::Shape},
    {"GatherElements", OpCategory::Shape},
    {"GatherND", OpCategory::Shape},
    {"Gelu", OpCategory::Activation},
    {"Gemm", OpCategory::Matrix},
    {"GlobalAveragePool", OpCategory::Pooling},
    {"GlobalLpPool", OpCategory::Pooling},
    {"GlobalMaxPool", OpCategory::Pooling},
    {"Greater", OpCategory::Elementwise},
    {"GreaterOrEqual", OpCategory::Elementwise},
    {"GridSample", OpCategory::Shape},
    {"GroupNormalization", OpCategory::Normalization},
    {"HardSigmoid", OpCategory::Activation},
    {"HardSwish", OpCategory::Activation},
    {"Hardmax", OpCategory::Activation},
    {"Identity", OpCategory::Shape},
    {"If", OpCategory::ControlFlow},
    {"InstanceNormalization", OpCategory::Normalization},
    {"IsInf", OpCategory::Elementwise},
    {"IsNaN", OpCategory::Elementwise},
    {"LRN", OpCategory::Normalization},
    {"LSTM", OpCategory::Matrix},
    {"LayerNormalization", OpCategory::Normalization},
    {"LeakyRelu", OpCategory::Activation},
    {"Less", OpCategory::Elementwise},
    {"LessOrEqual", OpCategory::Elementwise},
    {"Log", OpCategory::Elementwise},
    {"LogSoftmax", OpCategory::Activation},
    {"Loop", OpCategory::ControlFlow},
    {"LpNormalization", OpCategory::Normalization},
    {"LpPool", OpCategory::Pooling},
    {"MatMul", OpCategory::Matrix},
    {"MatMulInteger", OpCategory::Quantization},
    {"MatMulIntegerToFloat", OpCategory::Quantization},
    {"Max", OpCategory::Elementwise},
    {"MaxPool", OpCategory::Pooling},
    {"MaxRoiPool", OpCategory::Pooling},
    {"MaxUnpool", OpCategory::Pooling},
    {"Mean", OpCategory::Elementwise},
    {"MeanVarianceNormalization", OpCategory::Normalization},
    {"Min", OpCategory::Elementwise},
    {"Mish", OpCategory::Activation},
    {"Mod", OpCategory::Elementwise},
    {"Mul", OpCategory::Elementwise},
    {"Neg", OpCategory::Elementwise},
    {"NonMaxSuppression", OpCategory::Other},
    {"NonZero", OpCategory::Shape},
    {"Not", OpCategory::Elementwise},
    {"OneHot", OpCategory::Shape},
    {"Or", OpCategory::Elementwise},
    {"PRelu", OpCategory::Activation},
    {"Pad", OpCategory::Shape},
    {"Pow", OpCategory::Elementwise},
    {"QAdd", OpCategory::Quantization},
    {"QConv", OpCategory::Quantization},
    {"QGemm", OpCategory::Quantization},
    {"QLinearAdd", OpCategory::Quantization},
    {"QLinearAveragePool", OpCategory::Quantization},
    {"QLinearConcat", OpCategory::Quantization},
    {"QLinearConv", OpCategory::Quantization},
    {"QLinearGlobalAveragePool", OpCategory::Quantization},
    {"QLinearLeakyRelu", OpCategory::Quantization},
    {"QLinearMatMul", OpCategory::Quantization},
    {"QLinearMul", OpCategory::Quantization},
    {"QLinearSigmoid", OpCategory::Quantization},
    {"QLinearSoftmax", OpCategory::Quantization},
    {"QMaxPool", OpCategory::Quantization},
    {"QuantizeLinear", OpCategory::Quantization},
    {"RNN", OpCategory::Matrix},
    {"Range", OpCategory::Shape},
    {"Reciprocal", OpCategory::Elementwise},
    {"ReduceL1", OpCategory::Elementwise},
    {"ReduceL2", OpCategory::Elementwise},
    {"ReduceLogSum", OpCategory::Elementwise},
    {"ReduceLogSumExp", OpCategory::Elementwise},
    {"ReduceMax", OpCategory::Elementwise},
    {"ReduceMean", OpCategory::Elementwise},
    {"ReduceMin", OpCategory::Elementwise},
    {"ReduceProd", OpCategory::Elementwise},
    {"ReduceSum", OpCategory::Elementwise},
    {"ReduceSumSquare", OpCategory::Elementwise},
    {"Relu", OpCategory::Activation},
    {"Reshape", OpCategory::Shape},
    {"Resize", OpCategory::Shape},
    {"ReverseSequence", OpCategory::Shape},
    {"RoiAlign", OpCategory::Pooling},
    {"Round", OpCategory::Elementwise},
    {"STFT", OpCategory::Matrix},
    {"Scan", OpCategory::ControlFlow},
    {"Scatter", OpCategory::Shape},
    {"ScatterElements", OpCategory::Shape},
    {"ScatterND", OpCategory::Shape},
    {"Selu", OpCategory::Activation},
    {"SequenceAt", OpCategory::Shape},
    {"SequenceConstruct", OpCategory::Shape},
    {"SequenceEmpty", OpCategory::Shape},
    {"SequenceErase", OpCategory::Shape},
    {"SequenceInsert", OpCategory::Shape},
    {"SequenceLength", OpCategory::Shape},
    {"SequenceMap", OpCategory::ControlFlow},
    {"Shape", OpCategory::Shape},
    {"Shrink", OpCategory::Activation},
    {"Sigmoid", OpCategory::Activation},
    {"Sign", OpCategory::Elementwise},
    {"Silu", OpCategory::Activation},
    {"Sin", OpCategory::Elementwise},
    {"Sinh", OpCategory::Elementwise},
    {"Size", OpCategory::Shape},
    {"SkipLayerNormalization", OpCategory::Normalization},
    {"Slice", OpCategory::Shape},
    {"Softmax", OpCategory::Activation},
    {"Softplus", OpCategory::Activation},
    {"Softsign", OpCategory::Activation},
    {"SpaceToDepth", OpCategory::Shape},
    {"Split", OpCategory::Shape},
    {"SplitToSequence", OpCategory::Shape},
    {"Sqrt", OpCategory::Elementwise},
    {"Squeeze", OpCategory::Shape},
    {"Sub", OpCategory::Elementwise},
    {"Sum", OpCategory::Elementwise},
    {"Tan", OpCategory::Elementwise},
    {"Tanh", OpCategory::Activation},
    {"ThresholdedRelu", OpCategory::Activation},
    {"Tile", OpCategory::Shape},
    {"TopK", OpCategory::Shape},
    {"Transpose", OpCategory::Shape},
    {"Trilu", OpCategory::Shape},
    {"Unique", OpCategory::Shape},
    {"Unsqueeze", OpCategory::Shape},
    {"Upsample", OpCategory::Shape},
    {"Where", OpCategory::Elementwise},
    {"Xor", OpCategory::Elementwise},
});

constexpr bool sortedByName() {
    for (std::size_t i = 1; i < kOps.size(); ++i)
        if (!(kOps[i - 1].op < kOps[i].op)) return false;
    return true;
}
static_assert(sortedByName(), "kOps must stay sorted by op name");

/// Domains whose ops the table names; ai.edgewise holds Edgewise's own runtime ops (FusedConv,
/// FusedPwDwConv, QConv, ...), which models optimized for Edgewise's runtime carry.
bool knownDomain(std::string_view domain) {
    return domain.empty() || domain == "ai.onnx" || domain == "com.microsoft" ||
           domain == "ai.onnx.ml" || domain == "ai.edgewise";
}

} // namespace

OpCategory opCategory(std::string_view opType, std::string_view domain) {
    if (!knownDomain(domain)) return OpCategory::Custom;
    auto it = std::lower_bound(kOps.begin(), kOps.end(), opType,
                               [](const OpEntry& e, std::string_view op) { return e.op < op; });
    if (it != kOps.end() && it->op == opType) return it->category;
    // Contrib quantized variants ("QLinearReduceMean", "QAttention") and unknown ml ops.
    if (opType.starts_with("QLinear") || opType.starts_with("Quantize") ||
        opType.starts_with("Dequantize"))
        return OpCategory::Quantization;
    return domain == "com.microsoft" ? OpCategory::Custom : OpCategory::Other;
}

QString opCategoryName(OpCategory category) {
    switch (category) {
    case OpCategory::Convolution:
        return OpLegend::tr("Convolution");
    case OpCategory::Matrix:
        return OpLegend::tr("Matrix");
    case OpCategory::Activation:
        return OpLegend::tr("Activation");
    case OpCategory::Normalization:
        return OpLegend::tr("Normalization");
    case OpCategory::Pooling:
        return OpLegend::tr("Pooling");
    case OpCategory::Elementwise:
        return OpLegend::tr("Elementwise");
    case OpCategory::Shape:
        return OpLegend::tr("Shape / tensor");
    case OpCategory::Quantization:
        return OpLegend::tr("Quantization");
    case OpCategory::ControlFlow:
        return OpLegend::tr("Control flow");
    case OpCategory::Custom:
        return OpLegend::tr("Custom");
    case OpCategory::Other:
        return OpLegend::tr("Other");
    }
    return {};
}

QColor opCategoryColor(OpCategory category) {
    // Distinct hues at similar lightness, all dark enough for white bold text.
    switch (category) {
    case OpCategory::Convolution:
        return QColor(0x2f, 0x5f, 0xa8);
    case OpCategory::Matrix:
        return QColor(0x6a, 0x45, 0xa8);
    case OpCategory::Activation:
        return QColor(0xb0, 0x3a, 0x2e);
    case OpCategory::Normalization:
        return QColor(0x1f, 0x7a, 0x6b);
    case OpCategory::Pooling:
        return QColor(0x3f, 0x7f, 0x22);
    case OpCategory::Elementwise:
        return QColor(0x5c, 0x67, 0x75);
    case OpCategory::Shape:
        return QColor(0x8a, 0x62, 0x2a);
    case OpCategory::Quantization:
        return QColor(0xa3, 0x2f, 0x78);
    case OpCategory::ControlFlow:
        return QColor(0xc0, 0x6a, 0x00);
    case OpCategory::Custom:
        return QColor(0x33, 0x33, 0x33);
    case OpCategory::Other:
        return QColor(0x7a, 0x7a, 0x7a);
    }
    return Qt::gray;
}

OpLegend::OpLegend(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("opLegend"));
    QSizePolicy sp(QSizePolicy::Preferred, QSizePolicy::Fixed);
    sp.setHeightForWidth(true);
    setSizePolicy(sp);
}

int OpLegend::layoutEntries(int width, QPainter* p) const {
    const QFontMetrics fm(font());
    const int swatch = fm.height() - 4;
    const int rowH = fm.height() + 4;
    int x = 4, y = 2;
    for (int i = 0; i < kOpCategoryCount; ++i) {
        const auto c = OpCategory(i);
        const QString name = opCategoryName(c);
        const int w = swatch + 4 + fm.horizontalAdvance(name) + 14;
        if (x > 4 && x + w > width) {
            x = 4;
            y += rowH;
        }
        if (p) {
            QRect sw(x, y + (rowH - swatch) / 2, swatch, swatch);
            p->setPen(Qt::NoPen);
            p->setBrush(opCategoryColor(c));
            p->drawRoundedRect(sw, 2, 2);
            p->setPen(palette().color(QPalette::WindowText));
            p->drawText(QRect(x + swatch + 4, y, w, rowH), Qt::AlignVCenter | Qt::AlignLeft, name);
        }
        x += w;
    }
    return y + rowH + 2;
}

int OpLegend::heightForWidth(int width) const {
    return layoutEntries(width, nullptr);
}

QSize OpLegend::sizeHint() const {
    return {600, heightForWidth(width() > 0 ? width() : 600)};
}

QSize OpLegend::minimumSizeHint() const {
    return {100, heightForWidth(width() > 0 ? width() : 600)};
}

void OpLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    layoutEntries(width(), &p);
}

} // namespace ew::ui
