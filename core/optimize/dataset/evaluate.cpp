#include "optimize/dataset/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace ew::opt::data {

namespace {

std::string dimsText(const std::vector<int64_t>& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
    return s + "]";
}

int64_t rowLength(const rt::Tensor& t) { return t.rank() == 0 ? 1 : t.dims().back(); }

} // namespace

VoidResult OutputErrorAccumulator::add(const rt::Tensor& reference, const rt::Tensor& output) {
    if (reference.dims() != output.dims())
        return fail(StatusCode::InvalidInput, "output '" + m_name + "' is " + dimsText(output.dims()) +
                                                  " but the reference's is " + dimsText(reference.dims()));
    const int64_t n = reference.numElements();
    for (int64_t i = 0; i < n; ++i) {
        const double r = reference.doubleAt(i), o = output.doubleAt(i);
        if (std::isnan(r) || std::isnan(o)) {
            if (std::isnan(r) != std::isnan(o)) m_nanMismatch = true;
            continue;
        }
        const double e = r - o;
        m_refSq += r * r;
        m_outSq += o * o;
        m_dot += r * o;
        m_errSq += e * e;
        m_maxAbs = std::max(m_maxAbs, std::abs(e));
    }
    m_elements += n;
    return {};
}

OutputError OutputErrorAccumulator::result() const {
    OutputError r;
    r.name = m_name;
    r.elements = m_elements;
    r.maxAbsError = m_maxAbs;
    r.identical = m_errSq == 0 && !m_nanMismatch;
    const double inf = std::numeric_limits<double>::infinity();
    if (m_nanMismatch) r.sqnrDb = std::numeric_limits<double>::quiet_NaN();
    else if (m_errSq == 0) r.sqnrDb = inf;
    else if (m_refSq == 0) r.sqnrDb = -inf;
    else r.sqnrDb = 10.0 * std::log10(m_refSq / m_errSq);
    if (m_refSq == 0 && m_outSq == 0) r.cosine = 1.0;
    else if (m_refSq == 0 || m_outSq == 0) r.cosine = 0.0;
    else r.cosine = std::clamp(m_dot / (std::sqrt(m_refSq) * std::sqrt(m_outSq)), -1.0, 1.0);
    if (m_nanMismatch) r.cosine = std::numeric_limits<double>::quiet_NaN();
    return r;
}

std::vector<int64_t> topK(const rt::Tensor& t, int64_t row, int k) {
    const int64_t len = rowLength(t);
    std::vector<std::pair<double, int64_t>> v;
    v.reserve(std::size_t(len));
    for (int64_t j = 0; j < len; ++j) {
        const double x = t.doubleAt(row * len + j);
        if (!std::isnan(x)) v.emplace_back(x, j);
    }
    const std::size_t kk = std::min<std::size_t>(std::size_t(std::max(k, 0)), v.size());
    std::partial_sort(v.begin(), v.begin() + std::ptrdiff_t(kk), v.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    std::vector<int64_t> out;
    for (std::size_t i = 0; i < kk; ++i) out.push_back(v[i].second);
    return out;
}

Result<EvaluationReport> evaluate(rt::Session& model, rt::Session* reference, Dataset& data, Reporter& reporter) {
    const auto start = std::chrono::steady_clock::now();
    EvaluationReport rep;
    rep.data = data.describe();
    rep.random = data.isRandom();
    rep.hasLabels = data.hasLabels();
    rep.hasReference = reference != nullptr;
    const auto& outInfo = model.outputInfo();
    if (outInfo.empty()) return fail(StatusCode::InvalidInput, "the model has no outputs");
    if (reference) {
        if (reference->inputInfo().size() != model.inputInfo().size())
            return fail(StatusCode::InvalidInput, "the reference model takes " +
                                                      std::to_string(reference->inputInfo().size()) +
                                                      " inputs, the model " + std::to_string(model.inputInfo().size()));
        if (reference->outputInfo().size() != outInfo.size())
            return fail(StatusCode::InvalidInput, "the reference model has " +
                                                      std::to_string(reference->outputInfo().size()) +
                                                      " outputs, the model " + std::to_string(outInfo.size()));
    }
    std::vector<OutputErrorAccumulator> acc;
    for (const auto& o : outInfo) acc.emplace_back(o.name);

    data.reset();
    Sample s;
    std::vector<rt::Tensor> outs, refOuts;
    rt::Session::NamedTensors refInputs;
    const int64_t total = data.size();
    for (;;) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "evaluation cancelled");
        EW_TRY_ASSIGN(bool more, data.next(s));
        if (!more) break;
        auto withSource = [&](Status st) {
            st.message = "sample " + s.source + ": " + st.message;
            return fail(std::move(st));
        };
        if (auto r = model.run(s.inputs, outs); !r) return withSource(r.error());
        const rt::Tensor& first = outs[0];
        const int64_t len = rowLength(first);
        const int64_t rows = len > 0 ? first.numElements() / len : 0;
        if (s.label) {
            if (rows != 1)
                return withSource(makeError(StatusCode::InvalidInput,
                                            "accuracy needs one prediction row per sample, but output '" +
                                                outInfo[0].name + "' is " + dimsText(first.dims())));
            const std::vector<int64_t> top = topK(first, 0, 5);
            if (!top.empty() && top[0] == *s.label) ++rep.correctTop1;
            if (std::find(top.begin(), top.end(), *s.label) != top.end()) ++rep.correctTop5;
        }
        if (reference) {
            // The reference reads the very same buffers, bound under its own input names.
            refInputs.resize(s.inputs.size());
            for (std::size_t k = 0; k < s.inputs.size(); ++k) {
                const rt::Tensor& t = s.inputs[k].second;
                refInputs[k].first = reference->inputInfo()[k].name;
                refInputs[k].second = rt::Tensor::borrow(t.dtype(), t.dims(), static_cast<const void*>(t.raw()));
            }
            if (auto r = reference->run(refInputs, refOuts); !r) {
                Status st = r.error();
                st.message = "reference model: " + st.message;
                return withSource(std::move(st));
            }
            for (std::size_t k = 0; k < outs.size(); ++k)
                if (auto a = acc[k].add(refOuts[k], outs[k]); !a) return withSource(a.error());
            for (int64_t r = 0; r < rows; ++r) {
                const auto a = topK(first, r, 1), b = topK(refOuts[0], r, 1);
                if (a == b) ++rep.agreeTop1;
            }
            rep.rows += rows;
        }
        ++rep.samples;
        if (total > 0) reporter.progress("evaluate", double(rep.samples) / double(total));
    }
    if (rep.hasLabels && rep.samples > 0) {
        rep.accuracyTop1 = double(rep.correctTop1) / double(rep.samples);
        rep.accuracyTop5 = double(rep.correctTop5) / double(rep.samples);
    }
    if (reference) {
        if (rep.rows > 0) rep.agreementTop1 = double(rep.agreeTop1) / double(rep.rows);
        for (const auto& a : acc) rep.outputs.push_back(a.result());
    }
    rep.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return rep;
}

} // namespace ew::opt::data
