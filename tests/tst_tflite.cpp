// TFLite import: every real .tflite in ../shared/models/tflite imports and verifies, with operator
// counts taken from a separate minimal flatbuffer reader (and checked against numbers written
// down from `flatc --json` output of the same files); hostile files (empty, truncated, bit-flipped,
// bad indices, offsets, dims and quantization arrays) give an error naming the file; the models
// with reference outputs run on our runtime and match.
#include "test_util.h"

#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/tflite/tflite_import.h"
#include "ir/tflite/tflite_schema_generated.h"
#include "ir/verifier.h"
#include "runtime/session.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

using namespace ew;
namespace fb = ew::tflitefmt::schema;

namespace {

// ---- A minimal flatbuffer reader, independent of the importer and of flatc's generated code:
// enough of the TFLite layout to count operators per builtin code.
struct MiniReader {
    const uint8_t* p;
    std::size_t n;
    bool ok = true;
    uint32_t u32(std::size_t o) {
        if (o + 4 > n) return ok = false, 0;
        uint32_t v;
        std::memcpy(&v, p + o, 4);
        return v;
    }
    int32_t i32(std::size_t o) { return static_cast<int32_t>(u32(o)); }
    uint16_t u16(std::size_t o) {
        if (o + 2 > n) return ok = false, 0;
        uint16_t v;
        std::memcpy(&v, p + o, 2);
        return v;
    }
    /// Offset of field `id` of the table at `t`, or 0 when absent.
    std::size_t field(std::size_t t, int id) {
        std::size_t vt = t - static_cast<std::size_t>(i32(t));
        uint16_t vtLen = u16(vt);
        std::size_t slot = 4 + 2 * static_cast<std::size_t>(id);
        if (slot + 2 > vtLen) return 0;
        uint16_t off = u16(vt + slot);
        return off ? t + off : 0;
    }
    std::size_t deref(std::size_t at) { return at + u32(at); }
    /// Vector of tables/offsets: element positions.
    std::vector<std::size_t> tables(std::size_t t, int id) {
        std::vector<std::size_t> out;
        std::size_t f = field(t, id);
        if (!f) return out;
        std::size_t v = deref(f);
        uint32_t len = u32(v);
        for (uint32_t i = 0; i < len && ok; ++i) out.push_back(deref(v + 4 + 4 * i));
        return out;
    }
};

/// Builtin code histogram of subgraph `sg` (custom ops counted as "CUSTOM").
std::map<std::string, int> miniHistogram(const QByteArray& bytes, int sg, int* subgraphs = nullptr) {
    MiniReader r{reinterpret_cast<const uint8_t*>(bytes.constData()), static_cast<std::size_t>(bytes.size())};
    std::size_t root = r.u32(0);
    std::vector<int32_t> codes;
    for (std::size_t oc : r.tables(root, 1)) {
        std::size_t dep = r.field(oc, 0), bc = r.field(oc, 3);
        int32_t d = dep ? static_cast<int8_t>(r.p[dep]) : 0;
        int32_t b = bc ? r.i32(bc) : 0;
        codes.push_back(std::max(d, b));
    }
    auto sgs = r.tables(root, 2);
    if (subgraphs) *subgraphs = static_cast<int>(sgs.size());
    std::map<std::string, int> hist;
    if (sg >= static_cast<int>(sgs.size())) return hist;
    for (std::size_t op : r.tables(sgs[static_cast<std::size_t>(sg)], 3)) {
        std::size_t oi = r.field(op, 0);
        uint32_t idx = oi ? r.u32(oi) : 0;
        int32_t code = idx < codes.size() ? codes[idx] : -1;
        const char* name = tflitefmt::builtinOperatorName(code);
        hist[name ? name : "?"]++;
    }
    return hist;
}

std::string histText(const std::map<std::string, int>& h) {
    std::string s;
    for (const auto& [k, v] : h) s += (s.empty() ? "" : ",") + k + ":" + std::to_string(v);
    return s;
}

std::map<std::string, int> irHistogram(const ir::Graph& g) {
    std::map<std::string, int> h;
    for (const auto& n : g.nodes()) h[n->qualifiedOp()]++;
    return h;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

Result<std::unique_ptr<ir::Model>> importBytes(const QByteArray& b, const std::string& name) {
    return tflitefmt::importTfliteBytes({reinterpret_cast<const std::byte*>(b.constData()), static_cast<std::size_t>(b.size())}, name);
}

/// Import + verify; a crash here fails the whole test binary, an error is fine.
Status importStatus(const QByteArray& b, const std::string& name) {
    auto m = importBytes(b, name);
    if (!m) return m.error();
    auto v = ir::verify(**m);
    if (!v) return v.error();
    return {};
}

// ---- Small models built with the generated builder: one per hostile case, plus the valid base.
enum class Mutation { None, OpInputOutOfRange, BufferOffsetPastEof, NegativeDim, ShortQuantArray, OpcodeOutOfRange,
                      RecursiveWhile, QuantDimOutOfRange, BufferTooSmall };

QByteArray tinyModel(Mutation mut) {
    flatbuffers::FlatBufferBuilder b;
    // Tensors: 0 input [1,4] float, 1 constant [4] float (buffer 1), 2 output [1,4] float,
    //          3 per-channel int8 constant [2,2] (buffer 2), unused by the op.
    std::vector<float> cst{1.f, 2.f, 3.f, 4.f};
    std::vector<uint8_t> cbytes(reinterpret_cast<uint8_t*>(cst.data()), reinterpret_cast<uint8_t*>(cst.data()) + 16);
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    buffers.push_back(fb::CreateBuffer(b));
    if (mut == Mutation::BufferOffsetPastEof)
        buffers.push_back(fb::CreateBuffer(b, 0, 1u << 20, 16));
    else if (mut == Mutation::BufferTooSmall)
        buffers.push_back(fb::CreateBuffer(b, b.CreateVector(cbytes.data(), 12)));
    else
        buffers.push_back(fb::CreateBuffer(b, b.CreateVector(cbytes)));
    std::vector<uint8_t> q{1, 2, 3, 4};
    buffers.push_back(fb::CreateBuffer(b, b.CreateVector(q)));

    auto shape = [&](std::vector<int32_t> s) { return b.CreateVector(s); };
    // Per-channel int8 [2,2] with 2 scales along dim 0; the ShortQuantArray variant has 3 rows
    // (no data) so the 2 scales fall short of the quantized dimension.
    std::vector<float> scales{0.5f, 0.25f};
    std::vector<int64_t> zps{0, 0};
    int qdim = mut == Mutation::QuantDimOutOfRange ? 5 : 0;
    std::vector<int32_t> s3{2, 2};
    if (mut == Mutation::ShortQuantArray) s3 = {3, 2};
    auto qp = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(scales), b.CreateVector(zps),
                                               fb::QuantizationDetails::NONE, 0, qdim);
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors{
        fb::CreateTensor(b, shape({1, mut == Mutation::NegativeDim ? -4 : 4}), fb::TensorType::FLOAT32, 0, b.CreateString("x")),
        fb::CreateTensor(b, shape({4}), fb::TensorType::FLOAT32, 1, b.CreateString("c")),
        fb::CreateTensor(b, shape({1, 4}), fb::TensorType::FLOAT32, 0, b.CreateString("y")),
        fb::CreateTensor(b, shape(s3), fb::TensorType::INT8, mut == Mutation::ShortQuantArray ? 0 : 2, b.CreateString("q"), qp),
    };
    std::vector<int32_t> opIns{0, mut == Mutation::OpInputOutOfRange ? 99 : 1};
    std::vector<int32_t> opOuts{2};
    uint32_t opcode = mut == Mutation::OpcodeOutOfRange ? 7 : 0;
    std::vector<flatbuffers::Offset<fb::Operator>> ops{
        fb::CreateOperator(b, opcode, b.CreateVector(opIns), b.CreateVector(opOuts), fb::BuiltinOptions::AddOptions,
                           fb::CreateAddOptions(b, fb::ActivationFunctionType::RELU).Union())};
    std::vector<int32_t> sgIn{0}, sgOut{2};
    std::vector<flatbuffers::Offset<fb::SubGraph>> sgs{
        fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(sgIn), b.CreateVector(sgOut), b.CreateVector(ops), b.CreateString("main"))};
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes{fb::CreateOperatorCode(b, 0, 0, 1, fb::BuiltinOperator::ADD)};
    if (mut == Mutation::RecursiveWhile) {
        // Subgraph 1 runs a WHILE whose body is subgraph 1 itself; the main graph calls it.
        codes.push_back(fb::CreateOperatorCode(b, 119, 0, 1, fb::BuiltinOperator::WHILE));
        std::vector<flatbuffers::Offset<fb::Tensor>> t1{fb::CreateTensor(b, shape({1, 4}), fb::TensorType::FLOAT32, 0, b.CreateString("a")),
                                                        fb::CreateTensor(b, shape({1, 4}), fb::TensorType::FLOAT32, 0, b.CreateString("b"))};
        std::vector<int32_t> i1{0}, o1{1};
        std::vector<flatbuffers::Offset<fb::Operator>> ops1{
            fb::CreateOperator(b, 1, b.CreateVector(i1), b.CreateVector(o1), fb::BuiltinOptions::WhileOptions,
                               fb::CreateWhileOptions(b, 1, 1).Union())};
        sgs.push_back(fb::CreateSubGraph(b, b.CreateVector(t1), b.CreateVector(i1), b.CreateVector(o1), b.CreateVector(ops1), b.CreateString("loop")));
        // Main: y = ADD(x, c) then WHILE(y) -> reuses tensor... keep main as is, add a WHILE at the end.
        sgs[0] = [&] {
            std::vector<flatbuffers::Offset<fb::Tensor>> t0{
                fb::CreateTensor(b, shape({1, 4}), fb::TensorType::FLOAT32, 0, b.CreateString("x")),
                fb::CreateTensor(b, shape({1, 4}), fb::TensorType::FLOAT32, 0, b.CreateString("y"))};
            std::vector<int32_t> i0{0}, o0{1};
            std::vector<flatbuffers::Offset<fb::Operator>> ops0{
                fb::CreateOperator(b, 1, b.CreateVector(i0), b.CreateVector(o0), fb::BuiltinOptions::WhileOptions,
                                   fb::CreateWhileOptions(b, 1, 1).Union())};
            return fb::CreateSubGraph(b, b.CreateVector(t0), b.CreateVector(i0), b.CreateVector(o0), b.CreateVector(ops0), b.CreateString("main"));
        }();
    }
    auto model = fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(sgs), b.CreateString("edgewise test"), b.CreateVector(buffers));
    fb::FinishModelBuffer(b, model);
    return QByteArray(reinterpret_cast<const char*>(b.GetBufferPointer()), static_cast<int>(b.GetSize()));
}

bool readTestSet(const QString& dir, const QString& prefix, std::vector<ir::Tensor>& out) {
    for (int i = 0;; ++i) {
        QString p = dir + "/" + prefix + "_" + QString::number(i) + ".pb";
        if (!QFileInfo::exists(p)) return i > 0;
        auto t = onnxfmt::readTensorProtoFile(p.toStdString());
        if (!t) return false;
        out.push_back(std::move(*t));
    }
}

} // namespace

class TestTflite : public QObject {
    Q_OBJECT
private slots:
    void realModels_data();
    void realModels();
    void probeAndLoadModel();
    void tinyModelRuns();
    void hostileCases_data();
    void hostileCases();
    void truncatedAndFlipped();
    void referenceOutputs_data();
    void referenceOutputs();
    void mobilenetBurger();
    void personDetect();
};

// Expected TFLite operator histograms of each file's main subgraph, written down from
// `flatc --json` output of the files (with our schema) and cross-checked with MiniReader.
void TestTflite::realModels_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("hist");
    QTest::addColumn<int>("subgraphs");
    QTest::addColumn<int>("customNodes"); // ops imported into the ai.edgewise.tflite domain
    struct Row { const char* file; const char* hist; int sgs; int custom; };
    const Row rows[] = {
        {"openwakeword/alexa_v0.1.tflite", "FULLY_CONNECTED:3,LOGISTIC:1,RESHAPE:1", 1, 0},
        {"openwakeword/embedding_model.tflite", "CONV_2D:20,LEAKY_RELU:19,MAXIMUM:19,MAX_POOL_2D:5,PAD:1", 1, 0},
        {"openwakeword/hey_jarvis_v0.1.tflite",
         "ADD:4,FULLY_CONNECTED:3,GREATER_EQUAL:1,IF:1,LOGISTIC:1,MEAN:4,MUL:6,RESHAPE:2,RSQRT:2,SUB:2", 3, 0},
        {"openwakeword/melspectrogram.tflite",
         "ADD:1,BATCH_MATMUL:1,CONV_2D:2,EXPAND_DIMS:4,LOG:1,MAXIMUM:2,MINIMUM:2,MUL:4,REDUCE_MAX:1,SQUEEZE:2,SUB:1,TRANSPOSE:5", 1, 0},
        {"tflite-micro/hello_world_float.tflite", "FULLY_CONNECTED:3", 1, 0},
        {"tflite-micro/hello_world_int8.tflite", "FULLY_CONNECTED:3", 1, 0},
        {"tflite-micro/keyword_scrambled.tflite", "FULLY_CONNECTED:5,QUANTIZE:2,SOFTMAX:1,SVDF:7", 1, 7},
        {"tflite-micro/micro_speech_quantized.tflite", "DEPTHWISE_CONV_2D:1,FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"tflite-micro/person_detect.tflite", "AVERAGE_POOL_2D:1,CONV_2D:14,DEPTHWISE_CONV_2D:14,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"tflite-micro/trained_lstm.tflite", "FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1,UNIDIRECTIONAL_SEQUENCE_LSTM:1", 1, 1},
        {"tflite-micro/trained_lstm_int8.tflite", "FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1,UNIDIRECTIONAL_SEQUENCE_LSTM:1", 1, 1},
        {"mlperf-tiny/kws_ref_model.tflite", "AVERAGE_POOL_2D:1,CONV_2D:5,DEPTHWISE_CONV_2D:4,FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"mlperf-tiny/kws_ref_model_float32.tflite", "AVERAGE_POOL_2D:1,CONV_2D:5,DEPTHWISE_CONV_2D:4,FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"mlperf-tiny/pretrainedResnet.tflite", "ADD:3,AVERAGE_POOL_2D:1,CONV_2D:9,FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"mlperf-tiny/pretrainedResnet_quant.tflite", "ADD:3,AVERAGE_POOL_2D:1,CONV_2D:9,FULLY_CONNECTED:1,RESHAPE:1,SOFTMAX:1", 1, 0},
        {"tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite", "AVERAGE_POOL_2D:1,CONV_2D:15,DEPTHWISE_CONV_2D:13,SOFTMAX:1,SQUEEZE:1", 1, 0},
        {"tflite-support/mobilenet_v1_0.25_224_quant.tflite", "AVERAGE_POOL_2D:1,CONV_2D:15,DEPTHWISE_CONV_2D:13,RESHAPE:1,SOFTMAX:1", 1, 0},
    };
    for (const auto& r : rows) QTest::newRow(r.file) << QString(r.file) << QString(r.hist) << r.sgs << r.custom;
}

void TestTflite::realModels() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, file);
    QFETCH(QString, hist);
    QFETCH(int, subgraphs);
    QFETCH(int, customNodes);
    const QString path = test::modelsDir() + "/tflite/" + file;
    QByteArray bytes = readAll(path);
    QVERIFY2(!bytes.isEmpty(), qPrintable(path));
    int nsg = 0;
    auto mini = miniHistogram(bytes, 0, &nsg);
    QCOMPARE(nsg, subgraphs);
    QCOMPARE(QString::fromStdString(histText(mini)), hist);

    auto m = ir::loadModel(path.toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    QVERIFY2(ir::verify(**m).has_value(), "verify");
    QCOMPARE((*m)->sourceFormat, std::string("tflite"));
    const ir::Graph& g = *(*m)->graph;
    auto h = irHistogram(g);
    auto count = [&](const char* k) { return mini.count(k) ? mini.at(k) : 0; };
    // One ONNX compute node per TFLite compute op.
    QCOMPARE(h["Conv"], count("CONV_2D") + count("DEPTHWISE_CONV_2D"));
    QCOMPARE(h["Gemm"], count("FULLY_CONNECTED"));
    QCOMPARE(h["MaxPool"], count("MAX_POOL_2D"));
    QCOMPARE(h["AveragePool"], count("AVERAGE_POOL_2D"));
    QCOMPARE(h["Softmax"], count("SOFTMAX"));
    QCOMPARE(h["LeakyRelu"], count("LEAKY_RELU"));
    QCOMPARE(h["MatMul"], count("BATCH_MATMUL"));
    QCOMPARE(h["If"], count("IF"));
    QCOMPARE(h["Max"], count("MAXIMUM"));
    QCOMPARE(h["Sigmoid"], count("LOGISTIC"));
    int custom = 0;
    for (const auto& n : g.nodes()) custom += n->domain == tflitefmt::kTfliteDomain;
    QCOMPARE(custom, customNodes);
    // Graph inputs and outputs keep TFLite's (NHWC) shapes.
    QVERIFY(!g.inputs.empty());
    QVERIFY(!g.outputs.empty());
    // Quantized models: integer inputs carry their quantization parameters.
    for (const ir::Value* in : g.inputs)
        if (in->type.elemType == ir::DataType::Int8 || in->type.elemType == ir::DataType::UInt8) QVERIFY(in->quant.has_value());
    // Every subgraph is somewhere: nested in a node or a model-local function.
    std::size_t nested = 0;
    for (const auto& n : g.nodes()) nested += n->subgraphs().size();
    QVERIFY(1 + nested + (*m)->functions.size() >= static_cast<std::size_t>(subgraphs));
}

void TestTflite::probeAndLoadModel() {
    QByteArray b = tinyModel(Mutation::None);
    const QString path = test::artifactsDir() + "/tst_tflite_tiny.bin"; // no extension: content decides
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(b);
    }
    QCOMPARE(ir::probeFormat(path.toStdString()), ir::ModelFormat::TFLite);
    auto m = ir::loadModel(path.toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    auto exts = ir::supportedExtensions();
    QVERIFY(std::find(exts.begin(), exts.end(), ".tflite") != exts.end());
    QCOMPARE(ir::formatFromExtension("a.TFLite"), ir::ModelFormat::TFLite);
}

void TestTflite::tinyModelRuns() {
    auto m = importBytes(tinyModel(Mutation::None), "tiny.tflite");
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    QVERIFY(ir::verify(**m).has_value());
    auto h = irHistogram(*(*m)->graph);
    QCOMPARE(h["Add"], 1);
    QCOMPARE(h["Relu"], 1); // fused activation as its own node
    auto s = rt::Session::create(**m);
    QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
    auto out = (*s)->run({{"x", rt::Tensor::fromVector(ir::DataType::Float, {1, 4}, std::vector<float>{-5.f, 0.f, 1.f, -2.5f})}});
    QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
    const float* y = (*out)[0].data<float>();
    QCOMPARE(y[0], 0.f);
    QCOMPARE(y[1], 2.f);
    QCOMPARE(y[2], 4.f);
    QCOMPARE(y[3], 1.5f);
}

void TestTflite::hostileCases_data() {
    QTest::addColumn<int>("mutation");
    QTest::addColumn<QString>("expected"); // a piece of the error message
    QTest::newRow("operator input index out of range") << int(Mutation::OpInputOutOfRange) << "refers to tensor 99";
    QTest::newRow("buffer offset past EOF") << int(Mutation::BufferOffsetPastEof) << "runs past the end of the file";
    QTest::newRow("negative dim") << int(Mutation::NegativeDim) << "negative dimension";
    QTest::newRow("quantization array shorter than the quantized dim") << int(Mutation::ShortQuantArray) << "has 2 quantization scales but dimension 0";
    QTest::newRow("opcode index out of range") << int(Mutation::OpcodeOutOfRange) << "opcode index 7 is out of range";
    QTest::newRow("recursive subgraph") << int(Mutation::RecursiveWhile) << "calls itself";
    QTest::newRow("quantized dimension out of range") << int(Mutation::QuantDimOutOfRange) << "quantized along dimension 5";
    QTest::newRow("buffer smaller than the shape") << int(Mutation::BufferTooSmall) << "needs 16 bytes but buffer 1 holds 12";
}

void TestTflite::hostileCases() {
    QFETCH(int, mutation);
    QFETCH(QString, expected);
    const std::string name = "hostile.tflite";
    auto m = importBytes(tinyModel(static_cast<Mutation>(mutation)), name);
    QVERIFY(!m.has_value());
    QCOMPARE(m.error().file, name);
    QCOMPARE(m.error().code, StatusCode::InvalidInput);
    QVERIFY2(QString::fromStdString(m.error().toString()).contains(expected), m.error().toString().c_str());
}

void TestTflite::truncatedAndFlipped() {
    // The empty file, and a real model (or the tiny one without models) truncated at many points
    // and bit-flipped: an error naming the file or a model that verifies, never a crash.
    {
        auto m = importBytes(QByteArray(), "empty.tflite");
        QVERIFY(!m.has_value());
        QCOMPARE(m.error().file, std::string("empty.tflite"));
    }
    QList<QByteArray> bases{tinyModel(Mutation::None)};
    if (!test::modelsDir().isEmpty()) {
        bases << readAll(test::modelsDir() + "/tflite/tflite-micro/hello_world_int8.tflite");
        bases << readAll(test::modelsDir() + "/tflite/tflite-micro/micro_speech_quantized.tflite");
    }
    std::mt19937 rng(1234);
    int errors = 0, fine = 0;
    // An import error must name the file; an import that succeeds must give a graph that verifies.
    auto check = [&](const QByteArray& b, const std::string& name) -> bool {
        auto m = importBytes(b, name);
        if (!m) {
            if (m.error().file != name) return false;
            ++errors;
            return true;
        }
        auto v = ir::verify(**m);
        if (!v) qWarning("imported but does not verify: %s", v.error().toString().c_str());
        ++fine;
        return v.has_value();
    };
    for (const QByteArray& base : bases) {
        QVERIFY(!base.isEmpty());
        QVERIFY(importStatus(base, "base.tflite").ok());
        const int step = std::max(1, static_cast<int>(base.size() / 97));
        for (int cut = 0; cut < base.size(); cut += step) {
            const int before = errors;
            QVERIFY2(check(base.left(cut), "cut.tflite"), qPrintable(QString("truncated at %1").arg(cut)));
            // Only trailing alignment padding may go unnoticed.
            if (cut < base.size() - 64) QVERIFY2(errors == before + 1, qPrintable(QString("truncated at %1 imported").arg(cut)));
        }
        for (int k = 0; k < 300; ++k) {
            QByteArray b = base;
            int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) {
                auto pos = static_cast<int>(rng() % static_cast<uint32_t>(b.size()));
                b[pos] = static_cast<char>(b[pos] ^ (1 << (rng() % 8)));
            }
            QVERIFY2(check(b, "flip.tflite"), qPrintable(QString("bit-flip variant %1").arg(k)));
        }
    }
    QVERIFY(errors > 0);
    qInfo("hostile variants: %d rejected with an error, %d still valid", errors, fine);
}

void TestTflite::referenceOutputs_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<bool>("quantized");
    const std::pair<const char*, bool> rows[] = {
        {"tflite-micro/hello_world_float", false},
        {"tflite-micro/hello_world_int8", true},
        {"tflite-micro/micro_speech_quantized", true},
        {"mlperf-tiny/kws_ref_model", true},
        {"mlperf-tiny/pretrainedResnet", false},
        {"mlperf-tiny/pretrainedResnet_quant", true},
        {"openwakeword/alexa_v0.1", false},
        {"openwakeword/embedding_model", false},
        {"tflite-support/mobilenet_v1_0.25_224_1_default_1", false},
        {"tflite-support/mobilenet_v1_0.25_224_quant", true},
    };
    for (const auto& [m, q] : rows) QTest::newRow(m) << QString(m) << q;
}

void TestTflite::referenceOutputs() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    QFETCH(bool, quantized);
    const QString root = test::modelsDir() + "/tflite/";
    auto m = ir::loadModel((root + model + ".tflite").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    std::vector<ir::Tensor> ins, outs;
    QVERIFY(readTestSet(root + model + ".test_data_set_0", "input", ins));
    QVERIFY(readTestSet(root + model + ".test_data_set_0", "output", outs));
    auto s = rt::Session::create(**m);
    QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
    QCOMPARE((*s)->inputInfo().size(), ins.size());
    rt::Session::NamedTensors feed;
    for (std::size_t i = 0; i < ins.size(); ++i) {
        auto t = rt::Tensor::fromIr(ins[i]);
        QVERIFY(t.has_value());
        feed.emplace_back((*s)->inputInfo()[i].name, std::move(*t));
    }
    auto out = (*s)->run(feed);
    QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
    QCOMPARE(out->size(), outs.size());
    for (std::size_t i = 0; i < outs.size(); ++i) {
        const rt::Tensor& got = (*out)[i];
        QCOMPARE(got.dims(), outs[i].dims);
        QCOMPARE(got.dtype(), outs[i].dtype);
        // Float: |a-b| <= 1e-4 |b| + 1e-6 per element; integer outputs: within 1 LSB.
        double worst = 0, excess = -1;
        for (int64_t k = 0; k < got.numElements(); ++k) {
            double a = got.doubleAt(k), b = outs[i].valueAsDouble(k);
            worst = std::max(worst, std::abs(a - b));
            excess = std::max(excess, std::abs(a - b) - (1e-4 * std::abs(b) + 1e-6));
            if (std::isnan(a) != std::isnan(b)) excess = 1e30;
        }
        qInfo("%s output %zu: max abs diff %g", qPrintable(model), i, worst);
        if (quantized) QVERIFY2(worst <= 1.0, qPrintable(QString("%1 LSB off").arg(worst)));
        else
            QVERIFY2(excess <= 0, qPrintable(QString("max abs diff %1 exceeds 1e-4 relative").arg(worst)));
    }
}

void TestTflite::mobilenetBurger() {
    // The reference input is burger.jpg resized to 224x224 and scaled to [-1,1]; the README says
    // both MobileNets give class 934 (cheeseburger) on it.
    EW_REQUIRE_MODELS();
    const QString root = test::modelsDir() + "/tflite/tflite-support/";
    for (const char* name : {"mobilenet_v1_0.25_224_1_default_1", "mobilenet_v1_0.25_224_quant"}) {
        auto m = ir::loadModel((root + name + ".tflite").toStdString());
        QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
        std::vector<ir::Tensor> ins;
        QVERIFY(readTestSet(root + name + ".test_data_set_0", "input", ins));
        auto s = rt::Session::create(**m);
        QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
        auto t = rt::Tensor::fromIr(ins[0]);
        QVERIFY(t.has_value());
        auto out = (*s)->run({{(*s)->inputInfo()[0].name, std::move(*t)}});
        QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
        const rt::Tensor& y = (*out)[0];
        QCOMPARE(y.numElements(), int64_t(1001));
        int64_t best = 0;
        for (int64_t k = 1; k < y.numElements(); ++k)
            if (y.doubleAt(k) > y.doubleAt(best)) best = k;
        QCOMPARE(best, int64_t(934));
    }
}

void TestTflite::personDetect() {
    // No reference set (Arm NN rejects per-channel depthwise): the two bundled 96x96 grayscale
    // BMPs must be told apart (output [no person, person], int8). The pixels are fed the way
    // tflite-micro's own person_detection test feeds them: rows top-down (as PIL reads the BMP)
    // and each byte reinterpreted as int8 (its generate_cc_arrays.py writes the bytes into an
    // int8_t array). With "pixel - 128" instead, person.bmp scores 6 vs -6 (no person) here.
    EW_REQUIRE_MODELS();
    const QString root = test::modelsDir() + "/tflite/tflite-micro/";
    auto m = ir::loadModel((root + "person_detect.tflite").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    auto s = rt::Session::create(**m);
    QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
    auto score = [&](const QString& bmp) -> std::pair<double, double> {
        QByteArray b = readAll(root + bmp);
        if (b.size() < 54) return {0, 0};
        uint32_t off;
        int32_t w, h;
        std::memcpy(&off, b.constData() + 10, 4);
        std::memcpy(&w, b.constData() + 18, 4);
        std::memcpy(&h, b.constData() + 22, 4);
        if (w != 96 || std::abs(h) != 96 || off + 96 * 96 > static_cast<uint32_t>(b.size())) return {0, 0};
        std::vector<int8_t> px(96 * 96);
        for (int y = 0; y < 96; ++y) {
            int srcRow = h > 0 ? 95 - y : y; // bottom-up unless the height is negative
            for (int x = 0; x < 96; ++x)
                px[static_cast<std::size_t>(y * 96 + x)] = static_cast<int8_t>(b[static_cast<int>(off) + srcRow * 96 + x]);
        }
        auto out = (*s)->run({{(*s)->inputInfo()[0].name, rt::Tensor::fromVector(ir::DataType::Int8, {1, 96, 96, 1}, px)}});
        if (!out) return {0, 0};
        return {(*out)[0].doubleAt(0), (*out)[0].doubleAt(1)};
    };
    auto [pNo, pYes] = score("person.bmp");
    auto [nNo, nYes] = score("no_person.bmp");
    qInfo("person.bmp: no=%g yes=%g; no_person.bmp: no=%g yes=%g", pNo, pYes, nNo, nYes);
    QVERIFY(pYes > pNo);
    QVERIFY(nNo > nYes);
}

QTEST_GUILESS_MAIN(TestTflite)
#include "tst_tflite.moc"
