#include "conformance_runner.h"

#include "ir/dtype.h"
#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace ew::cli {

using ir::DataType;

namespace {

/// N of "test_data_set_N" (after `prefix`), or -1.
int dataSetIndex(const std::string& dirName, const std::string& prefix) {
    if (!dirName.starts_with(prefix)) return -1;
    std::string_view rest = std::string_view(dirName).substr(prefix.size());
    if (rest.empty() || rest.size() > 6) return -1;
    int n = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    return ec == std::errc() && p == rest.data() + rest.size() ? n : -1;
}

std::string genericRel(const fs::path& p, const fs::path& base) {
    std::string s = p.lexically_relative(base).generic_string();
    return s == "." ? std::string() : s;
}

bool unsupportedElementType(DataType t) {
    switch (t) {
    case DataType::String:
    case DataType::BFloat16:
    case DataType::Complex64:
    case DataType::Complex128:
    case DataType::Float8E4M3FN:
    case DataType::Float8E4M3FNUZ:
    case DataType::Float8E5M2:
    case DataType::Float8E5M2FNUZ:
    case DataType::Float8E8M0:
    case DataType::Float4E2M1:
        return true;
    default:
        return false;
    }
}

const char* kindName(ir::Type::Kind k) {
    switch (k) {
    case ir::Type::Kind::Sequence:
        return "sequence";
    case ir::Type::Kind::Optional:
        return "optional";
    case ir::Type::Kind::Map:
        return "map";
    case ir::Type::Kind::SparseTensor:
        return "sparse tensor";
    default:
        return "non-tensor";
    }
}

void collectOps(const ir::Graph& g, std::vector<std::string>& ops, std::set<std::string>& seen) {
    for (const auto& n : g.nodes()) {
        if (seen.insert(n->qualifiedOp()).second) ops.push_back(n->qualifiedOp());
        for (const ir::Graph* sub : n->subgraphs())
            collectOps(*sub, ops, seen);
    }
}

/// Ops (with the opset they would run under) that have no CPU kernel, nested graphs included.
void missingKernels(const ir::Graph& g, const ir::Model& m, std::vector<std::string>& out,
                    std::set<std::string>& seen) {
    for (const auto& n : g.nodes()) {
        std::string_view domain = ir::canonicalDomain(n->domain);
        int64_t opset = m.opsetFor(domain);
        if (!rt::findCpuKernel(domain, n->opType, opset)) {
            std::string what = n->qualifiedOp() + "-" + std::to_string(opset);
            if (seen.insert(what).second) out.push_back(what);
        }
        for (const ir::Graph* sub : n->subgraphs())
            missingKernels(*sub, m, out, seen);
    }
}

/// First value (nested graphs too) whose element type the runtime does not run.
std::optional<std::string> unsupportedTypeIn(const ir::Graph& g) {
    for (const auto& v : g.values()) {
        const ir::Type* t = &v->type;
        while ((t->kind == ir::Type::Kind::Sequence || t->kind == ir::Type::Kind::Optional) &&
               t->inner)
            t = t->inner.get();
        DataType dt = t->elemType;
        if (v->initializer) dt = v->initializer->dtype;
        if (unsupportedElementType(dt))
            return "element type " + std::string(ir::dataTypeName(dt)) + " (value '" + v->name +
                   "')";
    }
    for (const auto& n : g.nodes())
        for (const ir::Graph* sub : n->subgraphs())
            if (auto r = unsupportedTypeIn(*sub)) return r;
    return std::nullopt;
}

std::string fmtNum(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

/// Reads DIR/<prefix>_K.pb for K = 0, 1, ... until one is missing.
struct DataSet {
    std::vector<ir::Tensor> inputs, outputs;
};
Result<DataSet> readDataSet(const std::string& dir) {
    DataSet ds;
    for (const char* prefix : {"input", "output"}) {
        auto& list = prefix[0] == 'i' ? ds.inputs : ds.outputs;
        for (int k = 0;; ++k) {
            fs::path p = fs::path(dir) / (std::string(prefix) + "_" + std::to_string(k) + ".pb");
            std::error_code ec;
            if (!fs::exists(p, ec)) break;
            auto t = onnxfmt::readTensorProtoFile(p.string());
            if (!t)
                return fail(StatusCode::Unsupported,
                            p.filename().string() +
                                " is not a TensorProto (a SequenceProto/OptionalProto?): " +
                                t.error().message);
            list.push_back(std::move(*t));
        }
    }
    return ds;
}

CaseResult runCaseUnguarded(const ConformanceCase& c, const ConformanceOptions& opts) {
    CaseResult r;
    r.name = c.name;
    auto skip = [&](std::string category, std::string reason) {
        r.outcome = Outcome::Skip;
        r.category = std::move(category);
        r.reason = std::move(reason);
        return r;
    };
    auto failed = [&](std::string reason) {
        r.outcome = Outcome::Fail;
        r.reason = std::move(reason);
        return r;
    };

    auto model = ir::loadModel(c.modelPath);
    if (!model) return failed("load: " + model.error().toString());
    const ir::Model& m = **model;
    std::set<std::string> seen;
    collectOps(*m.graph, r.ops, seen);
    if (opts.select && !opts.select(m)) return skip("not-selected", "not selected by the caller");

    for (const ir::OpsetImport& o : m.opsetImports)
        if (ir::canonicalDomain(o.domain).empty() && o.version > kMaxSupportedOpset)
            return skip("opset", "opset " + std::to_string(o.version) + " > " +
                                     std::to_string(kMaxSupportedOpset) +
                                     " (the newest the runtime supports)");
    for (const auto* list : {&m.graph->inputs, &m.graph->outputs})
        for (const ir::Value* v : *list)
            if (v->type.isKnown() && !v->type.isTensor() && !v->isInitializer())
                return skip("sequence-optional",
                            std::string(kindName(v->type.kind)) + " graph " +
                                (list == &m.graph->inputs ? "input" : "output") + " '" + v->name +
                                "' (" + v->type.toString() + ")");
    if (auto t = unsupportedTypeIn(*m.graph)) return skip("element-type", "unsupported " + *t);
    std::vector<std::string> missing;
    std::set<std::string> seenMissing;
    missingKernels(*m.graph, m, missing, seenMissing);
    if (!missing.empty()) {
        std::string list;
        for (const std::string& s : missing)
            list += (list.empty() ? "" : ", ") + s;
        return skip("no-kernel", "no kernel for " + list);
    }

    std::vector<DataSet> sets;
    for (const std::string& dir : c.dataSets) {
        auto ds = readDataSet(dir);
        if (!ds)
            return skip("sequence-optional",
                        fs::path(dir).filename().string() + "/" + ds.error().message);
        for (const auto* list : {&ds->inputs, &ds->outputs})
            for (const ir::Tensor& t : *list)
                if (unsupportedElementType(t.dtype))
                    return skip("element-type", "unsupported element type " +
                                                    std::string(ir::dataTypeName(t.dtype)) +
                                                    " in the test data ('" + t.name + "')");
        sets.push_back(std::move(*ds));
    }

    rt::SessionOptions so;
    so.threads = opts.threads;
    auto session = rt::Session::create(m, so);
    if (!session) return failed("session: " + session.error().toString());
    std::vector<const rt::TensorInfo*> graphInputs;
    for (const rt::TensorInfo& i : (*session)->inputInfo())
        if (!i.outerScope) graphInputs.push_back(&i);
    const auto& outInfo = (*session)->outputInfo();
    const double rtol = opts.rtol.value_or(1e-3);
    const double atol = opts.atol.value_or(c.peerReference ? 1e-4 : 1e-7);

    const int runs = std::max(1, opts.runsPerDataSet);
    for (std::size_t s = 0; s < sets.size(); ++s) {
        const DataSet& ds = sets[s];
        const std::string set = sets.size() > 1 ? "set " + std::to_string(s) + ": " : "";
        rt::Session::NamedTensors feed;
        for (std::size_t k = 0; k < ds.inputs.size(); ++k) {
            // Input K is the K-th graph input that is not an initializer; a name in the .pb wins
            // when it names one.
            std::string name = k < graphInputs.size() ? graphInputs[k]->name : ds.inputs[k].name;
            for (const rt::TensorInfo* i : graphInputs)
                if (!ds.inputs[k].name.empty() && i->name == ds.inputs[k].name) name = i->name;
            auto t = rt::Tensor::fromIr(ds.inputs[k]);
            if (!t) return failed(set + "input " + std::to_string(k) + ": " + t.error().toString());
            feed.emplace_back(std::move(name), std::move(*t));
        }
        for (int run = 0; run < runs; ++run) {
            const std::string where = set + (runs > 1 ? "run " + std::to_string(run) + ": " : "");
            auto out = (*session)->run(feed);
            if (!out) return failed(where + "run: " + out.error().toString());
            if (out->size() != ds.outputs.size())
                return failed(where + "the model has " + std::to_string(out->size()) +
                              " outputs, the test data " + std::to_string(ds.outputs.size()));
            for (std::size_t k = 0; k < out->size(); ++k) {
                TensorComparison cmp = compareTensors((*out)[k], ds.outputs[k], rtol, atol);
                r.maxAbsErr = std::max(r.maxAbsErr, cmp.maxAbsErr);
                if (!cmp.message.empty())
                    return failed(where + "output '" + outInfo[k].name + "': " + cmp.message +
                                  " (rtol " + fmtNum(rtol) + ", atol " + fmtNum(atol) + ")");
            }
        }
    }
    r.outcome = Outcome::Pass;
    return r;
}

} // namespace

Result<std::vector<ConformanceCase>> discoverConformanceTests(const std::string& rootText) {
    std::error_code ec;
    fs::path root = fs::path(rootText).lexically_normal();
    if (!fs::is_directory(root, ec))
        return fail(Status{StatusCode::NotFound, "no such folder", rootText, {}});
    if (root.filename().empty()) root = root.parent_path();
    fs::path abs = fs::absolute(root, ec);
    std::string rootName = abs.lexically_normal().filename().string();
    if (rootName.empty() || rootName == "." || rootName == "..")
        rootName = abs.lexically_normal().parent_path().filename().string();

    std::vector<ConformanceCase> cases;
    std::vector<fs::path> dirs{root};
    for (auto it = fs::recursive_directory_iterator(
             root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_directory(ec)) continue;
        if (it->path().filename().string().find("test_data_set_") != std::string::npos) {
            it.disable_recursion_pending();
            continue;
        }
        dirs.push_back(it->path());
    }
    if (ec) return fail(Status{StatusCode::IoError, "cannot list: " + ec.message(), rootText, {}});

    for (const fs::path& dir : dirs) {
        std::vector<std::pair<int, fs::path>> plainSets;
        std::map<std::string, std::vector<std::pair<int, fs::path>>>
            namedSets; // model stem -> sets
        std::vector<fs::path> models;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            std::string fn = e.path().filename().string();
            std::error_code ec2;
            if (e.is_directory(ec2)) {
                if (int n = dataSetIndex(fn, "test_data_set_"); n >= 0)
                    plainSets.emplace_back(n, e.path());
                else if (auto dot = fn.rfind(".test_data_set_");
                         dot != std::string::npos && dot > 0)
                    if (int m = dataSetIndex(fn.substr(dot + 1), "test_data_set_"); m >= 0)
                        namedSets[fn.substr(0, dot)].emplace_back(m, e.path());
            } else if (fn.size() > 5 && fn.ends_with(".onnx")) {
                models.push_back(e.path());
            }
        }
        auto add = [&](const fs::path& model, std::string name,
                       std::vector<std::pair<int, fs::path>> sets, bool peer) {
            std::sort(sets.begin(), sets.end());
            ConformanceCase c;
            c.name = rootName + (name.empty() ? "" : "/" + name);
            c.modelPath = model.string();
            for (const auto& [n, p] : sets)
                c.dataSets.push_back(p.string());
            c.peerReference = peer;
            cases.push_back(std::move(c));
        };
        std::sort(models.begin(), models.end());
        const std::string rel = genericRel(dir, root);
        const fs::path modelOnnx = dir / "model.onnx";
        bool hasModelOnnx = std::find(models.begin(), models.end(), modelOnnx) != models.end();
        if (!plainSets.empty() && hasModelOnnx) {
            add(modelOnnx, rel, plainSets, false);
        } else if (!plainSets.empty()) {
            std::vector<fs::path> unnamed;
            for (const fs::path& m : models)
                if (!namedSets.contains(m.stem().string())) unnamed.push_back(m);
            if (unnamed.size() == 1)
                add(unnamed[0], (rel.empty() ? "" : rel + "/") + unnamed[0].stem().string(),
                    plainSets, true);
        }
        for (const fs::path& m : models) {
            auto it = namedSets.find(m.stem().string());
            if (it != namedSets.end() && !(hasModelOnnx && m == modelOnnx && !plainSets.empty()))
                add(m, (rel.empty() ? "" : rel + "/") + m.stem().string(), it->second, true);
        }
    }
    std::sort(cases.begin(), cases.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return cases;
}

CaseResult runConformanceCase(const ConformanceCase& c, const ConformanceOptions& opts) {
    const auto t0 = std::chrono::steady_clock::now();
    CaseResult r;
    try {
        r = runCaseUnguarded(c, opts);
    } catch (const std::exception& e) {
        r = CaseResult{};
        r.name = c.name;
        r.outcome = Outcome::Fail;
        r.reason = std::string("exception: ") + e.what();
    } catch (...) {
        r = CaseResult{};
        r.name = c.name;
        r.outcome = Outcome::Fail;
        r.reason = "unknown exception";
    }
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

TensorComparison compareTensors(const rt::Tensor& got, const ir::Tensor& want, double rtol,
                                double atol) {
    TensorComparison c;
    if (got.dtype() != want.dtype || got.dims() != want.dims) {
        c.message = "got " + rt::describe(got.dtype(), got.dims()) + ", want " +
                    rt::describe(want.dtype, want.dims);
        c.maxAbsErr = INFINITY;
        return c;
    }
    const int64_t n = got.numElements();
    const bool exact = !ir::isFloatingPoint(got.dtype());
    if (exact && got.byteSize() == want.byteSize() &&
        (n == 0 || std::memcmp(got.raw(), want.bytes().data(), got.byteSize()) == 0))
        return c;
    int64_t worst = -1, bad = 0;
    double worstExcess = 0;
    for (int64_t i = 0; i < n; ++i) {
        double a = got.doubleAt(i), b = want.valueAsDouble(i);
        bool ok;
        double abs = 0;
        if (exact) {
            ok = got.intAt(i) == want.valueAsInt(i);
            abs = std::abs(a - b);
        } else if (std::isnan(a) || std::isnan(b)) {
            ok = std::isnan(a) && std::isnan(b);
            abs = ok ? 0 : INFINITY;
        } else if (std::isinf(a) || std::isinf(b)) {
            ok = a == b;
            abs = ok ? 0 : INFINITY;
        } else {
            abs = std::abs(a - b);
            ok = abs <= atol + rtol * std::abs(b);
        }
        double rel = abs == 0 ? 0 : (b != 0 ? abs / std::abs(b) : INFINITY);
        c.maxAbsErr = std::max(c.maxAbsErr, abs);
        c.maxRelErr = std::max(c.maxRelErr, rel);
        if (!ok) {
            ++bad;
            double excess = std::isfinite(abs) ? abs - (atol + rtol * std::abs(b)) : INFINITY;
            if (worst < 0 || excess > worstExcess) {
                worst = i;
                worstExcess = excess;
            }
        }
    }
    if (bad == 0) return c;
    auto num = [](double v) { return fmtNum(v); };
    c.message = std::to_string(bad) + " of " + std::to_string(n) +
                " elements differ, max abs err " + num(c.maxAbsErr) + ", max rel err " +
                num(c.maxRelErr) + "; worst at " + std::to_string(worst) + ": got " +
                num(got.doubleAt(worst)) + ", want " + num(want.valueAsDouble(worst));
    return c;
}

} // namespace ew::cli
