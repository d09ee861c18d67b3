// Model summary and the JSON writer behind `inspect --json`: contract keys, dims as
// int/string/null, string escaping of hostile names and exact 64-bit integers.
#include "test_util.h"

#include "common/json_writer.h"
#include "ir/summary.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

using namespace ew;
using namespace ew::ir;

namespace {

QJsonObject parseObject(const std::string& json) {
    QJsonParseError err{};
    QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    if (err.error != QJsonParseError::NoError)
        qWarning("bad JSON: %s\n%s", qPrintable(err.errorString()), json.c_str());
    return doc.object();
}

} // namespace

class TestSummary : public QObject {
    Q_OBJECT
  private slots:
    void writerEscapes_data();
    void writerEscapes();
    void writerLayoutAndIntegers();
    void summaryJsonContract();
};

void TestSummary::writerEscapes_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << QByteArray("conv1") << QByteArray("\"conv1\"");
    QTest::newRow("quote+backslash") << QByteArray("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
    QTest::newRow("controls") << QByteArray("\n\t\r\b\f\x01\x1f", 7)
                              << QByteArray("\"\\n\\t\\r\\b\\f\\u0001\\u001f\"");
    QTest::newRow("nul") << QByteArray("a\0b", 3) << QByteArray("\"a\\u0000b\"");
    QTest::newRow("utf8 kept") << QByteArray("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")
                               << QByteArray("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    QTest::newRow("invalid byte") << QByteArray("a\xFF"
                                                "b")
                                  << QByteArray("\"a\xEF\xBF\xBD"
                                                "b\"");
    QTest::newRow("truncated sequence")
        << QByteArray("\xE2\x82") << QByteArray("\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    QTest::newRow("overlong") << QByteArray("\xC0\xAF")
                              << QByteArray("\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80")
                               << QByteArray("\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

void TestSummary::writerEscapes() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    std::string q =
        JsonWriter::quote(std::string_view(input.constData(), std::size_t(input.size())));
    QCOMPARE(QByteArray::fromStdString(q), expected);
    // And a real parser reads it back.
    JsonWriter w(0);
    w.beginArray().value(std::string_view(input.constData(), std::size_t(input.size()))).endArray();
    QJsonParseError err{};
    QJsonDocument::fromJson(QByteArray::fromStdString(w.str()), &err);
    QCOMPARE(err.error, QJsonParseError::NoError);
}

void TestSummary::writerLayoutAndIntegers() {
    JsonWriter w(0);
    w.beginObject();
    w.key("max").value(std::numeric_limits<int64_t>::max());
    w.key("min").value(std::numeric_limits<int64_t>::min());
    w.key("u").value(std::numeric_limits<uint64_t>::max());
    w.key("d").value(0.1);
    w.key("nan").value(std::numeric_limits<double>::quiet_NaN());
    w.key("empty").beginArray().endArray();
    w.key("obj").beginObject().key("t").value(true).key("n").null().endObject();
    w.endObject();
    QVERIFY(w.complete());
    QCOMPARE(QString::fromStdString(w.str()),
             QString("{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                     "\"u\":18446744073709551615,\"d\":0.1,\"nan\":null,\"empty\":[],"
                     "\"obj\":{\"t\":true,\"n\":null}}"));

    JsonWriter pretty(2);
    pretty.beginObject().key("a").beginArray().value(1).value(2).endArray().endObject();
    QCOMPARE(QString::fromStdString(pretty.str()), QString("{\n  \"a\": [\n    1,\n    2\n  ]\n}"));

    JsonWriter compact(2);
    compact.beginArray()
        .beginArray(true)
        .value(1)
        .value("N")
        .null()
        .endArray()
        .beginArray(true)
        .endArray()
        .endArray();
    QCOMPARE(QString::fromStdString(compact.str()), QString("[\n  [1, \"N\", null],\n  []\n]"));
}

void TestSummary::summaryJsonContract() {
    Model m;
    m.irVersion = 8;
    m.opsetImports = {{"", 13}, {"com.microsoft", 1}};
    m.producerName = "pytorch";
    m.producerVersion = "1.13.1";
    m.sourceFormat = "onnx";
    Graph& g = *m.graph;
    Value* x = *g.addValue(
        "in\"put",
        Type::tensor(DataType::Float, Shape({Dim::symbolic("N"), Dim::unknown(), Dim::known(3)})));
    Value* w = *g.addValue("w", Type::tensor(DataType::Float, Shape::of({3, 2})));
    w->initializer = Tensor::fromVector("w", DataType::Float, {3, 2}, std::vector<float>(6, 1.f));
    g.initializers.push_back(w);
    Value* h =
        *g.addValue("h", Type::tensor(DataType::Float,
                                      Shape({Dim::symbolic("N"), Dim::known(3), Dim::known(2)})));
    Value* y =
        *g.addValue("y", Type::tensor(DataType::Float,
                                      Shape({Dim::symbolic("N"), Dim::known(3), Dim::known(2)})));
    Value* z =
        *g.addValue("z", Type::tensor(DataType::Float,
                                      Shape({Dim::symbolic("N"), Dim::known(3), Dim::known(2)})));
    g.addNode("MatMul", "", "mm", {x, w}, {h});
    g.addNode("Relu", "", "r", {h}, {y});
    g.addNode("FusedGelu", "com.microsoft", "g", {y}, {z});
    // Initializers listed as inputs (IR < 4 files) are weights, not inputs.
    g.inputs = {x, w};
    g.outputs = {z};

    ModelSummary s = summarize(m);
    QCOMPARE(s.nodeCount, int64_t(3));
    QCOMPARE(s.inputs.size(), std::size_t(1));
    QJsonObject o = parseObject(summaryToJson(s));
    for (const char* k :
         {"format", "ir_version", "opsets", "producer", "inputs", "outputs", "node_count",
          "op_histogram", "parameter_count", "parameter_bytes", "macs"})
        QVERIFY2(o.contains(k), k);
    QCOMPARE(o["format"].toString(), QString("onnx"));
    QCOMPARE(o["ir_version"].toInt(), 8);
    QCOMPARE(o["opsets"].toObject()["ai.onnx"].toInt(), 13);
    QCOMPARE(o["opsets"].toObject()["com.microsoft"].toInt(), 1);
    QCOMPARE(o["producer"].toString(), QString("pytorch 1.13.1"));
    QJsonObject in = o["inputs"].toArray()[0].toObject();
    QCOMPARE(in["name"].toString(), QString("in\"put"));
    QCOMPARE(in["dtype"].toString(), QString("float32"));
    QJsonArray shape = in["shape"].toArray();
    QCOMPARE(shape.size(), 3);
    QCOMPARE(shape[0].toString(), QString("N"));
    QVERIFY(shape[1].isNull());
    QCOMPARE(shape[2].toInt(), 3);
    QCOMPARE(o["node_count"].toInt(), 3);
    QJsonObject hist = o["op_histogram"].toObject();
    QCOMPARE(hist.size(), 3);
    QCOMPARE(hist["MatMul"].toInt(), 1);
    QCOMPARE(hist["com.microsoft.FusedGelu"].toInt(), 1);
    QCOMPARE(o["parameter_count"].toInt(), 6);
    QCOMPARE(o["parameter_bytes"].toInt(), 24);
    QCOMPARE(o["macs"].toInt(), 2 * 3); // N and ? count as 1: [1,1,3] x [3,2]
    QCOMPARE(o["macs_exact"].toBool(), false);

    std::string text = summaryToText(s);
    QVERIFY(text.find("MatMul") != std::string::npos);
    QVERIFY(text.find("lower bound") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestSummary)
#include "tst_summary.moc"
