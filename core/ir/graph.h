#pragma once
#include "common/status.h"
#include "dtype.h"
#include "shape.h"
#include "tensor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ew::ir {

class Graph;
class Node;

using MetadataProps = std::vector<std::pair<std::string, std::string>>;

/// Attribute kinds, numbered as ONNX's AttributeProto.AttributeType.
enum class AttrType : int32_t {
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
};
std::string_view attrTypeName(AttrType t);

/// A node attribute of any ONNX kind. Only the member matching `type` is meaningful.
/// Graph attributes own their subgraph (move-only; use Graph::clone to copy).
struct Attribute {
    std::string name;
    AttrType type = AttrType::Undefined;
    std::string refAttrName; ///< inside functions: refers to the caller's attribute
    std::string docString;

    float f = 0.f;
    int64_t i = 0;
    std::string s;
    Tensor t;
    std::unique_ptr<Graph> g;
    SparseTensor sparse;
    Type tp;
    std::vector<float> floats;
    std::vector<int64_t> ints;
    std::vector<std::string> strings;
    std::vector<Tensor> tensors;
    std::vector<std::unique_ptr<Graph>> graphs;
    std::vector<SparseTensor> sparseTensors;
    std::vector<Type> tps;

    static Attribute makeInt(std::string name, int64_t v);
    static Attribute makeFloat(std::string name, float v);
    static Attribute makeString(std::string name, std::string v);
    static Attribute makeInts(std::string name, std::vector<int64_t> v);
    static Attribute makeFloats(std::string name, std::vector<float> v);
    static Attribute makeTensor(std::string name, Tensor v);
    /// Short value text for dumps and the properties panel: "3", "[1,1]", "\"SAME\"", "<graph body>".
    std::string valueString(std::size_t maxItems = 16) const;
    /// Deep copy; subgraphs are re-parented to `parent` / `owner`.
    Attribute clone(Graph* parent = nullptr, Node* owner = nullptr) const;
};

/// Quantization parameters of a value: per-tensor (one scale) or per-axis along `axis`.
struct QuantParams {
    std::vector<float> scales;
    std::vector<int64_t> zeroPoints;
    int64_t axis = -1; ///< -1 (or ignored) when per-tensor
    DataType storageType = DataType::Undefined; ///< int8, uint8, int16, int4, ...
    bool isPerAxis() const { return scales.size() > 1; }
    bool operator==(const QuantParams&) const = default;
};

/// One use of a value: the consuming node and its input slot.
struct Use {
    Node* node = nullptr;
    int inputIndex = 0;
    bool operator==(const Use&) const = default;
};

/// A named edge in SSA form: produced once (by a node, as a graph input or as an initializer),
/// used by any number of nodes. Invariant: `uses` lists exactly the node input slots pointing here.
class Value {
public:
    std::string name;
    Type type;
    std::string docString;
    std::optional<Tensor> initializer; ///< constant data when this is an initializer
    std::optional<QuantParams> quant;
    bool hasValueInfo = false; ///< the file declared a type for this intermediate value
    MetadataProps metadataProps;
    std::string extraFields; ///< wire-format fields the linked libonnx does not know

    Graph* graph() const { return m_graph; }
    Node* producer() const { return m_producer; }
    int producerOutput() const { return m_producerOutput; }
    const std::vector<Use>& uses() const { return m_uses; }
    bool isInitializer() const { return initializer.has_value(); }
    bool isGraphInput() const;
    bool isGraphOutput() const;

private:
    friend class Graph;
    friend class Node;
    Graph* m_graph = nullptr;
    Node* m_producer = nullptr;
    int m_producerOutput = -1;
    std::vector<Use> m_uses;
};

/// One operator application. Inputs may be nullptr for omitted optional inputs (ONNX's ""), and
/// so may outputs. Inputs may refer to values of an enclosing graph (nested-graph scoping).
class Node {
public:
    std::string name;
    std::string opType;
    std::string domain; ///< "" is the default ONNX domain
    std::string overload;
    std::string docString;
    std::vector<Attribute> attributes;
    MetadataProps metadataProps;
    std::string extraFields;

    Graph* graph() const { return m_graph; }
    const std::vector<Value*>& inputs() const { return m_inputs; }
    const std::vector<Value*>& outputs() const { return m_outputs; }
    Value* input(std::size_t i) const { return i < m_inputs.size() ? m_inputs[i] : nullptr; }
    Value* output(std::size_t i) const { return i < m_outputs.size() ? m_outputs[i] : nullptr; }

    /// Rewires input slot i (updating both values' use lists).
    void setInput(std::size_t i, Value* v);
    void addInput(Value* v);
    /// Drops trailing inputs beyond n.
    void truncateInputs(std::size_t n);

    const Attribute* attr(std::string_view name) const;
    Attribute* attr(std::string_view name);
    bool hasAttr(std::string_view name) const { return attr(name) != nullptr; }
    int64_t attrInt(std::string_view name, int64_t def) const;
    float attrFloat(std::string_view name, float def) const;
    std::string attrString(std::string_view name, std::string def = {}) const;
    std::vector<int64_t> attrInts(std::string_view name, std::vector<int64_t> def = {}) const;
    std::vector<float> attrFloats(std::string_view name, std::vector<float> def = {}) const;
    void setAttr(Attribute a); ///< replaces an attribute of the same name
    bool removeAttr(std::string_view name);

    /// Subgraphs owned through graph attributes (If branches, Loop/Scan bodies).
    std::vector<Graph*> subgraphs() const;
    /// "Conv" or "com.microsoft.FusedConv" (domain-qualified when not the default domain).
    std::string qualifiedOp() const;
    /// The node's name, or "<op> #index" style fallback when unnamed.
    std::string displayName() const;

private:
    friend class Graph;
    Graph* m_graph = nullptr;
    std::vector<Value*> m_inputs;
    std::vector<Value*> m_outputs;
};

/// A graph: values, nodes in file order, graph inputs/outputs/initializers. Nested graphs
/// (If/Loop/Scan bodies) have a parent and see the parent's values by name.
/// Invariants: value names are unique within a graph; node input/output pointers and value use
/// lists agree; every Value and Node is owned by exactly one Graph.
class Graph {
public:
    std::string name;
    std::string docString;
    MetadataProps metadataProps;
    std::string extraFields;
    /// Sparse initializers and quantization annotations, kept as they are.
    std::vector<SparseTensor> sparseInitializers;
    struct QuantAnnotation {
        std::string tensorName;
        MetadataProps params;
    };
    std::vector<QuantAnnotation> quantizationAnnotations;

    explicit Graph(Graph* parent = nullptr, Node* ownerNode = nullptr)
        : m_parent(parent), m_ownerNode(ownerNode) {}
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;
    ~Graph();

    Graph* parent() const { return m_parent; }
    Node* ownerNode() const { return m_ownerNode; }
    /// Re-parents a subgraph (used when a graph attribute moves to another node).
    void setParent(Graph* parent, Node* ownerNode) {
        m_parent = parent;
        m_ownerNode = ownerNode;
    }

    /// Creates a value; fails on a duplicate name in this graph. Empty names get a fresh one.
    Result<Value*> addValue(std::string name, Type type = {});
    /// A fresh name based on `base` that no value in this graph or its parents uses.
    std::string uniqueName(std::string_view base) const;
    Value* findValue(std::string_view name) const;
    /// Looks in this graph, then in enclosing graphs.
    Value* lookupValue(std::string_view name) const;

    /// Appends a node. Output values must be unproduced values of this graph.
    Node* addNode(std::string opType, std::string domain, std::string name,
                  const std::vector<Value*>& inputs, const std::vector<Value*>& outputs);
    /// Inserts before `before` in the node list (nullptr appends).
    Node* insertNode(Node* before, std::string opType, std::string domain, std::string name,
                     const std::vector<Value*>& inputs, const std::vector<Value*>& outputs);
    /// Removes a node; its outputs remain as unproduced values (remove them or reconnect).
    void removeNode(Node* node);
    /// Removes a value that nothing uses or produces.
    void removeValue(Value* v);
    /// Points every use of `from` (in this graph and nested graphs) at `to`; graph outputs too.
    void replaceAllUses(Value* from, Value* to);
    /// Gives a value of this graph a new name; fails when another value here already has it.
    VoidResult renameValue(Value* v, std::string newName);

    const std::vector<std::unique_ptr<Node>>& nodes() const { return m_nodes; }
    std::size_t nodeCount() const { return m_nodes.size(); }
    /// Nodes here and in every nested subgraph.
    std::size_t nodeCountRecursive() const;
    const std::vector<std::unique_ptr<Value>>& values() const { return m_values; }

    std::vector<Value*> inputs;
    std::vector<Value*> outputs;
    /// Initializer values in file order (each has `initializer` set).
    std::vector<Value*> initializers;

    /// Nodes in dependency order (stable: file order where free); fails on a cycle, naming a node
    /// on it.
    Result<std::vector<Node*>> topologicalOrder() const;
    /// Reorders the node list topologically.
    VoidResult sortTopologically();

    /// Deep copy. `parent` is the copy's enclosing graph (for nested graphs).
    std::unique_ptr<Graph> clone(Graph* parent = nullptr, Node* ownerNode = nullptr) const;

private:
    friend class Node;
    Graph* m_parent = nullptr;
    Node* m_ownerNode = nullptr;
    std::vector<std::unique_ptr<Node>> m_nodes;
    std::vector<std::unique_ptr<Value>> m_values;
    std::unordered_map<std::string, Value*> m_byName;
};

struct OpsetImport {
    std::string domain; ///< "" (or "ai.onnx") is the default domain
    int64_t version = 0;
    bool operator==(const OpsetImport&) const = default;
};

/// A model-local function (ONNX FunctionProto). The body is a graph whose inputs and outputs
/// are the formal parameters.
struct Function {
    std::string name;
    std::string domain;
    std::string overload;
    std::string docString;
    std::vector<std::string> attributeNames;
    std::vector<Attribute> attributeDefaults;
    std::vector<OpsetImport> opsetImports;
    std::unique_ptr<Graph> body;
    MetadataProps metadataProps;
    std::string extraFields;
};

/// A whole model: metadata, opset imports, the main graph and local functions.
class Model {
public:
    int64_t irVersion = 0;
    std::vector<OpsetImport> opsetImports;
    std::string producerName;
    std::string producerVersion;
    std::string domain;
    int64_t modelVersion = 0;
    std::string docString;
    MetadataProps metadataProps;
    std::unique_ptr<Graph> graph;
    std::vector<Function> functions;
    std::vector<std::string> trainingInfos; ///< serialized TrainingInfoProto entries, kept as they are
    std::string extraFields;

    std::string sourceFormat; ///< "onnx", "tflite"
    std::string sourcePath;
    uint64_t sourceBytes = 0;

    Model() : graph(std::make_unique<Graph>()) {}
    /// Opset version imported for a domain ("" and "ai.onnx" are the same); 0 if none.
    int64_t opsetFor(std::string_view domain) const;
    std::unique_ptr<Model> clone() const;
};

/// The constant data behind a value: its initializer, or the `value` tensor of the default-domain
/// Constant node producing it; nullptr otherwise.
const Tensor* constantTensorOf(const Value* v);

/// Canonical domain name: "ai.onnx" becomes "".
std::string_view canonicalDomain(std::string_view domain);

} // namespace ew::ir
