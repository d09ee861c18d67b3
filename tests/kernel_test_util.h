#pragma once
// Shared by the kernel and runtime tests: tensors of any dtype from doubles, one-node models,
// and the feeds that go with them.
#include "common/assert.h"
#include "ir/graph.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/session.h"

#include <memory>
#include <string>
#include <vector>

namespace ew::test {

using ir::DataType;
using rt::Tensor;

/// A tensor of any runtime dtype filled from doubles.
inline Tensor makeTensor(DataType dt, std::vector<int64_t> dims, const std::vector<double>& v) {
    Tensor t = Tensor::allocate(dt, std::move(dims));
    EW_ASSERT(static_cast<int64_t>(v.size()) == t.numElements());
    bool ok = rt::cpu::dispatch<EW_ALL_TYPES>(dt, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data<T>();
        for (std::size_t i = 0; i < v.size(); ++i) p[i] = rt::cpu::store<T>(static_cast<rt::cpu::Compute<T>>(v[i]));
    });
    EW_ASSERT(ok);
    return t;
}

/// A graph input (or, with constant, an initializer); an empty name is an omitted optional input.
struct In {
    std::string name;
    DataType dt;
    std::vector<int64_t> dims;
    std::vector<double> v;
    bool constant = false;
};
struct Out {
    DataType dt;
    std::vector<int64_t> dims;
    std::vector<double> v;
};

/// One-node model named "node_<op>"; inputs with an empty name are omitted optional inputs.
inline std::unique_ptr<ir::Model> singleNode(const std::string& op, const std::vector<In>& ins, int nOut,
                                      std::vector<ir::Attribute> attrs, int64_t opset) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", opset}};
    ir::Graph& g = *m->graph;
    std::vector<ir::Value*> vins, vouts;
    for (const In& in : ins) {
        if (in.name.empty()) {
            vins.push_back(nullptr);
            continue;
        }
        ir::Value* v = *g.addValue(in.name, ir::Type::tensor(in.dt, ir::Shape::of(in.dims)));
        if (in.constant) {
            v->initializer = makeTensor(in.dt, in.dims, in.v).toIr(in.name);
            g.initializers.push_back(v);
        } else {
            g.inputs.push_back(v);
        }
        vins.push_back(v);
    }
    for (int i = 0; i < nOut; ++i) vouts.push_back(*g.addValue("y" + std::to_string(i)));
    ir::Node* n = g.addNode(op, "", "node_" + op, vins, vouts);
    for (auto& a : attrs) n->setAttr(std::move(a));
    g.outputs = vouts;
    return m;
}

/// The non-constant inputs as session feeds.
inline rt::Session::NamedTensors feeds(const std::vector<In>& ins) {
    rt::Session::NamedTensors f;
    for (const In& in : ins)
        if (!in.name.empty() && !in.constant) f.emplace_back(in.name, makeTensor(in.dt, in.dims, in.v));
    return f;
}

} // namespace ew::test
