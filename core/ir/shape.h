#pragma once
#include "dtype.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ew::ir {

/// One dimension: a known size (>= 0), a named symbol ("batch", "N"), or unknown.
struct Dim {
    int64_t value = -1;     ///< >= 0 when known
    std::string symbol;     ///< set when symbolic
    std::string denotation; ///< ONNX dimension denotation, kept for round trips

    static Dim known(int64_t v) { return Dim{v, {}, {}}; }
    static Dim symbolic(std::string s) { return Dim{-1, std::move(s), {}}; }
    static Dim unknown() { return Dim{}; }
    bool isKnown() const { return value >= 0; }
    bool isSymbolic() const { return value < 0 && !symbol.empty(); }
    std::string toString() const; ///< "3", "N" or "?"
    bool operator==(const Dim&) const = default;
};

/// A shape of known rank with possibly symbolic or unknown dimensions.
struct Shape {
    std::vector<Dim> dims;

    Shape() = default;
    explicit Shape(std::vector<Dim> d) : dims(std::move(d)) {}
    static Shape of(const std::vector<int64_t>& sizes);
    std::size_t rank() const { return dims.size(); }
    bool isFullyKnown() const;
    /// Product of the dims when all are known and it fits in int64; nullopt otherwise.
    std::optional<int64_t> numElements() const;
    /// Sizes when fully known.
    std::optional<std::vector<int64_t>> sizes() const;
    std::string toString() const; ///< "[1,3,224,224]", "[N,3,?,?]", "[]" for scalars
    bool operator==(const Shape&) const = default;
};

/// The type of a value: a tensor (element type + optional shape) or one of ONNX's composite
/// types. Unknown rank is shape == nullopt.
struct Type {
    enum class Kind { Unknown, Tensor, SparseTensor, Sequence, Map, Optional };
    Kind kind = Kind::Unknown;
    DataType elemType = DataType::Undefined; ///< Tensor/SparseTensor element; Map key
    std::optional<Shape> shape;              ///< Tensor/SparseTensor
    std::shared_ptr<Type> inner;             ///< Sequence/Optional element, Map value
    std::string denotation;

    static Type tensor(DataType t, std::optional<Shape> s = std::nullopt) {
        Type ty;
        ty.kind = Kind::Tensor;
        ty.elemType = t;
        ty.shape = std::move(s);
        return ty;
    }
    bool isTensor() const { return kind == Kind::Tensor; }
    bool isKnown() const { return kind != Kind::Unknown; }
    std::string toString() const; ///< "float32[1,3,224,224]", "seq(float32[?])", "?"
    bool operator==(const Type& o) const;
};

} // namespace ew::ir
