#pragma once
// Shared by the quantizer tests: an in-memory calibration / evaluation dataset.
#include "optimize/dataset/dataset.h"
#include "runtime/session.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ew::test {

/// Samples held in memory, in order, with optional labels (one per sample); `name` prefixes the
/// samples' source strings and the description.
class VectorDataset final : public opt::data::Dataset {
public:
    explicit VectorDataset(std::vector<rt::Session::NamedTensors> s, std::vector<int64_t> labels = {},
                           std::string name = "vector")
        : m_samples(std::move(s)), m_labels(std::move(labels)), m_name(std::move(name)) {}
    int64_t size() const override { return static_cast<int64_t>(m_samples.size()); }
    Result<bool> next(opt::data::Sample& s) override {
        if (m_pos >= m_samples.size()) return false;
        s.inputs = m_samples[m_pos];
        s.label = hasLabels() ? std::optional<int64_t>(m_labels[m_pos]) : std::nullopt;
        s.source = m_name + " #" + std::to_string(m_pos);
        ++m_pos;
        return true;
    }
    void reset() override { m_pos = 0; }
    std::string describe() const override { return m_name + ": " + std::to_string(m_samples.size()) + " samples"; }
    bool hasLabels() const override { return !m_labels.empty(); }

private:
    std::vector<rt::Session::NamedTensors> m_samples;
    std::vector<int64_t> m_labels;
    std::string m_name;
    std::size_t m_pos = 0;
};

} // namespace ew::test
