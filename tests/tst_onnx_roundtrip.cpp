// Every ONNX file in ../shared/models (the whole backend node suite, simple/, pytorch-operator/
// and the real models) must import, export, re-import to the identical IR (tensors bit for bit),
// and the exported file must pass onnx::checker wherever the original does.
#include "ir/compare.h"
#include "ir/onnx/onnx_checker.h"
#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"
#include "ir/verifier.h"
#include "test_util.h"

#include <onnx/onnx_pb.h>

#include <QDirIterator>
#include <QTemporaryDir>

using namespace ew;

class TestOnnxRoundTrip : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTrip_data();
    void roundTrip();
    void summary();
    void customDomainsAndNewerFieldsSurvive();

private:
    QTemporaryDir m_tmp;
    int m_models = 0;
    int m_checkerOriginalPass = 0;
    int m_checkerExportPass = 0;
};

void TestOnnxRoundTrip::initTestCase() { QVERIFY(m_tmp.isValid()); }

void TestOnnxRoundTrip::roundTrip_data() {
    EW_REQUIRE_MODELS();
    QTest::addColumn<QString>("path");
    QStringList files;
    QDirIterator it(test::modelsDir(), {"*.onnx"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) files << it.next();
    files.sort();
    // A guard against a silently empty or partial suite.
    QVERIFY2(files.size() >= 1765, qPrintable(QString("only %1 ONNX files found").arg(files.size())));
    for (const QString& f : files) QTest::newRow(qPrintable(QDir(test::modelsDir()).relativeFilePath(f))) << f;
}

void TestOnnxRoundTrip::roundTrip() {
    QFETCH(QString, path);
    const std::string p = path.toStdString();
    // The importer and verifier directly: compare exactly what the file says, no inference.
    auto a = onnxfmt::importOnnxFile(p);
    QVERIFY2(a.has_value(), qPrintable(QString::fromStdString(a ? "" : a.error().toString())));
    auto va = ir::verify(**a);
    QVERIFY2(va.has_value(), qPrintable(QString::fromStdString(va ? "" : va.error().toString())));

    auto bytes = onnxfmt::serializeOnnx(**a);
    QVERIFY2(bytes.has_value(), qPrintable(QString::fromStdString(bytes ? "" : bytes.error().toString())));
    auto b = onnxfmt::importOnnxBytes(std::as_bytes(std::span(bytes->data(), bytes->size())), "re-exported " + p,
                                      QFileInfo(path).absolutePath().toStdString());
    QVERIFY2(b.has_value(), qPrintable(QString::fromStdString(b ? "" : b.error().toString())));
    QVERIFY(ir::verify(**b).has_value());
    const std::string diff = ir::firstDifference(**a, **b);
    QVERIFY2(diff.empty(), diff.c_str());

    // Exported files pass onnx::checker wherever the original does. The exported copy lives
    // beside the original's external data, so write it to a temp folder only when there is none.
    const std::string out = (m_tmp.path() + "/roundtrip.onnx").toStdString();
    auto w = onnxfmt::exportOnnxFile(**a, out);
    QVERIFY2(w.has_value(), qPrintable(QString::fromStdString(w ? "" : w.error().toString())));
    bool hasExternal = false;
    for (const ir::Value* v : (*a)->graph->initializers) hasExternal |= v->initializer->external.has_value();
    ++m_models;
    auto origCheck = onnxfmt::runOnnxChecker(p);
    if (origCheck && !hasExternal) {
        ++m_checkerOriginalPass;
        auto expCheck = onnxfmt::runOnnxChecker(out);
        QVERIFY2(expCheck.has_value(), qPrintable(QString::fromStdString(expCheck ? "" : expCheck.error().toString())));
        ++m_checkerExportPass;
    }
}

void TestOnnxRoundTrip::summary() {
    qInfo("round-tripped %d models; onnx::checker accepted %d originals and all %d of their exports (libonnx max opset %d)",
          m_models, m_checkerOriginalPass, m_checkerExportPass, onnxfmt::onnxLibraryMaxOpset());
}

void TestOnnxRoundTrip::customDomainsAndNewerFieldsSurvive() {
    // An op from a custom domain with every attribute kind, plus fields that ONNX added after
    // the linked libonnx (node overload = field 8, node metadata_props = field 9, an unknown
    // future field 99): none of it may be dropped on the way through.
    onnx::ModelProto m;
    m.set_ir_version(10);
    m.add_opset_import()->set_version(21);
    auto* op = m.add_opset_import();
    op->set_domain("com.acme");
    op->set_version(3);
    auto* g = m.mutable_graph();
    g->set_name("custom");
    auto* in = g->add_input();
    in->set_name("x");
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("batch");
    auto* n = g->add_node();
    n->set_name("frob");
    n->set_op_type("Frobnicate");
    n->set_domain("com.acme");
    n->add_input("x");
    n->add_input("");
    n->add_output("y");
    auto attr = [&](const char* name, onnx::AttributeProto::AttributeType t) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(t);
        return a;
    };
    attr("alpha", onnx::AttributeProto::FLOAT)->set_f(0.25f);
    attr("mode", onnx::AttributeProto::STRING)->set_s("fast");
    auto* ints = attr("sizes", onnx::AttributeProto::INTS);
    ints->add_ints(-1);
    ints->add_ints(int64_t(1) << 40);
    auto* t = attr("table", onnx::AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(22); // INT4: newer than libonnx 1.12's enum
    t->add_dims(3);
    t->add_int32_data(0x71);
    t->add_int32_data(0x0f);
    auto* strs = attr("names", onnx::AttributeProto::STRINGS);
    strs->add_strings("a");
    strs->add_strings("b");
    n->mutable_unknown_fields()->AddLengthDelimited(8, "v2");
    onnx::StringStringEntryProto e;
    e.set_key("origin");
    e.set_value("hand-built");
    n->mutable_unknown_fields()->AddLengthDelimited(9, e.SerializeAsString());
    m.mutable_unknown_fields()->AddVarint(99, 7);
    g->add_output()->set_name("y");
    std::string bytes = m.SerializeAsString();

    auto a = onnxfmt::importOnnxBytes(std::as_bytes(std::span(bytes.data(), bytes.size())), "custom.onnx", ".");
    QVERIFY2(a.has_value(), qPrintable(QString::fromStdString(a ? "" : a.error().toString())));
    QVERIFY(ir::verify(**a).has_value());
    const ir::Node& node = *(*a)->graph->nodes()[0];
    QCOMPARE(node.qualifiedOp(), std::string("com.acme.Frobnicate"));
    QCOMPARE(node.overload, std::string("v2"));
    QCOMPARE(node.metadataProps.size(), std::size_t(1));
    QCOMPARE(node.attr("table")->t.toInt64(), (std::vector<int64_t>{1, 7, -1}));
    QVERIFY(node.input(1) == nullptr);
    QCOMPARE((*a)->graph->inputs[0]->type.toString(), std::string("float32[batch]"));

    auto out = onnxfmt::serializeOnnx(**a);
    QVERIFY(out.has_value());
    onnx::ModelProto back;
    QVERIFY(back.ParseFromString(*out));
    QCOMPARE(back.graph().node(0).domain(), std::string("com.acme"));
    QCOMPARE(back.graph().node(0).attribute_size(), 5);
    bool sawOverload = false, sawMeta = false, saw99 = false;
    for (int k = 0; k < back.graph().node(0).unknown_fields().field_count(); ++k) {
        const auto& f = back.graph().node(0).unknown_fields().field(k);
        sawOverload |= f.number() == 8 && f.length_delimited() == "v2";
        sawMeta |= f.number() == 9;
    }
    for (int k = 0; k < back.unknown_fields().field_count(); ++k)
        saw99 |= back.unknown_fields().field(k).number() == 99 && back.unknown_fields().field(k).varint() == 7;
    QVERIFY(sawOverload);
    QVERIFY(sawMeta);
    QVERIFY(saw99);
    auto b = onnxfmt::importOnnxBytes(std::as_bytes(std::span(out->data(), out->size())), "again.onnx", ".");
    QVERIFY(b.has_value());
    QCOMPARE(ir::firstDifference(**a, **b), std::string());
}

QTEST_GUILESS_MAIN(TestOnnxRoundTrip)
#include "tst_onnx_roundtrip.moc"
