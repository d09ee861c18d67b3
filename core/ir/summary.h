#pragma once
#include "cost.h"
#include "graph.h"

#include <map>
#include <string>
#include <vector>

namespace ew::ir {

/// What `edgewise-cli inspect` prints and the GUI's model summary shows; one source for both.
/// node_count and op_histogram count the main graph's nodes (as `len(model.graph.node)` does);
/// nested counts are reported separately.
struct ModelSummary {
    struct Io {
        std::string name;
        std::string dtype;
        std::vector<std::string> shape; ///< "1", "N", "?"
        bool rankKnown = true;          ///< false: the shape itself is unknown (JSON null)
    };
    std::string format;
    int64_t irVersion = 0;
    std::vector<OpsetImport> opsets;
    std::string producer; ///< "name version"
    std::vector<Io> inputs;
    std::vector<Io> outputs;
    int64_t nodeCount = 0;
    int64_t nodeCountRecursive = 0;
    std::map<std::string, int64_t> opHistogram; ///< qualified op -> count (main graph)
    int64_t parameterCount = 0;
    int64_t parameterBytes = 0;
    int64_t macs = 0;
    bool macsExact = true;
    uint64_t fileBytes = 0;
};

ModelSummary summarize(const Model& model);
/// JSON with the contract keys: format, ir_version, opsets, producer, inputs[{name,dtype,shape}],
/// outputs, node_count, op_histogram, parameter_count, parameter_bytes, macs (plus extras).
std::string summaryToJson(const ModelSummary& s);
/// Human-readable multi-line text.
std::string summaryToText(const ModelSummary& s);

} // namespace ew::ir
