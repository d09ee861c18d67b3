#pragma once
// Private to the shape inference sources: the context an op's inference function sees, the
// propagated contents of small tensors, and helpers shared by the op files.
#include "graph.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ew::ir::si {

/// One element of a propagated integer tensor: a known value, a named symbol (a dim of some
/// shape taken by Shape), or unknown. Unlike Dim it may be negative (Reshape's -1, Slice starts).
struct SymInt {
    int64_t value = 0;
    std::string symbol;
    bool known = false;

    static SymInt of(int64_t v) { return SymInt{v, {}, true}; }
    static SymInt fromDim(const Dim& d) {
        if (d.isKnown()) return of(d.value);
        return SymInt{0, d.symbol, false};
    }
    Dim toDim() const {
        if (known) return value >= 0 ? Dim::known(value) : Dim::unknown();
        return symbol.empty() ? Dim::unknown() : Dim::symbolic(symbol);
    }
};

/// Contents of a small tensor known while inferring (initializers, Constant outputs and what
/// shape arithmetic computes from them). Integer and bool tensors use `ints` (possibly
/// symbolic); floating tensors use `reals`. Invariant: element count == product of dims and
/// at most kMaxPropagated.
struct Propagated {
    DataType dtype = DataType::Undefined;
    std::vector<int64_t> dims;
    std::vector<SymInt> ints;
    std::vector<double> reals;

    bool isReal() const { return isFloatingPoint(dtype); }
    std::size_t size() const { return isReal() ? reals.size() : ints.size(); }
    /// All elements known integers (reals are truncated only when integral).
    std::optional<std::vector<int64_t>> knownInts() const;
    std::optional<std::vector<double>> knownReals() const;
};

/// Shape arithmetic stays cheap and bounded: larger tensors are never propagated.
constexpr std::size_t kMaxPropagated = 64;

class Engine;

/// What an op's inference function works with. Missing optional inputs read as absent; outputs
/// are merged into the values' declared types by the engine (declared information wins).
class InferContext {
  public:
    InferContext(Engine& e, Node& n, int64_t opset) : m_engine(e), m_node(n), m_opset(opset) {}

    Node& node() const { return m_node; }
    int64_t opset() const { return m_opset; }

    std::size_t inputCount() const { return m_node.inputs().size(); }
    bool hasInput(std::size_t i) const { return m_node.input(i) != nullptr; }
    const Type& inputType(std::size_t i) const;
    /// Element type of a tensor input (Undefined when unknown or absent).
    DataType inputElem(std::size_t i) const;
    /// Shape of a tensor input of known rank; nullptr otherwise.
    const Shape* inputShape(std::size_t i) const;
    int64_t inputRank(std::size_t i) const; ///< -1 when unknown
    const Propagated* inputData(std::size_t i) const;
    std::optional<std::vector<int64_t>> inputInts(std::size_t i) const;
    std::optional<std::vector<double>> inputReals(std::size_t i) const;

    std::size_t outputCount() const { return m_node.outputs().size(); }
    bool hasOutput(std::size_t i) const { return m_node.output(i) != nullptr; }
    void setOutput(std::size_t i, Type t);
    void setOutputTensor(std::size_t i, DataType dt, std::optional<Shape> s) {
        setOutput(i, Type::tensor(dt, std::move(s)));
    }
    void setOutputData(std::size_t i, Propagated p);
    /// Propagated contents of any value (e.g. a branch output), if known.
    const Propagated* dataOf(const Value* v) const;
    /// Records a problem naming this node (the inference of this node stops with it).
    void problem(std::string message);

    /// Infers a nested graph after binding its formal inputs to `inputTypes` (where given);
    /// returns the types of its outputs.
    std::vector<Type> inferSubgraph(Graph& g, const std::vector<Type>& inputTypes);

    Engine& engine() const { return m_engine; }

  private:
    Engine& m_engine;
    Node& m_node;
    int64_t m_opset;
};

using InferFn = void (*)(InferContext&);

// ---- helpers shared by the op files ---------------------------------------------------------

/// Multidirectional (NumPy) broadcasting of known-rank shapes. Symbols broadcast with 1 give the
/// symbol; two different symbols, or a symbol against a known size > 1, give that size or unknown.
/// nullopt with `error` set when known sizes are incompatible.
std::optional<Shape> broadcastShapes(const std::vector<const Shape*>& shapes, std::string* error);
/// Normalizes an axis against a rank; nullopt when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);
/// Shape with all dims unknown.
Shape unknownShape(std::size_t rank);
/// Equal dims merged: the known one of known/unknown, else unknown (used for If branches).
Dim unifyDims(const Dim& a, const Dim& b);
Type unifyTypes(const Type& a, const Type& b);
/// Integer attribute value from an attribute of type Int, else `def`.
int64_t attrI(const Node& n, std::string_view name, int64_t def);
/// Product of dims: known, or unknown.
Dim mulDims(const Dim& a, const Dim& b);
/// a + b with known ints (unknown otherwise).
Dim addDims(const Dim& a, const Dim& b);

// Op families, one per file; each fills its part of the op table (see shape_inference_ops.def).
#define EW_SHAPE_OP(domain, op, fn) void fn(InferContext& ctx);
#include "shape_inference_ops.def"
#undef EW_SHAPE_OP

} // namespace ew::ir::si
