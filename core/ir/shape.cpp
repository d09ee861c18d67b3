#include "shape.h"

#include <limits>

namespace ew::ir {

std::string Dim::toString() const {
    if (isKnown()) return std::to_string(value);
    if (!symbol.empty()) return symbol;
    return "?";
}

Shape Shape::of(const std::vector<int64_t>& sizes) {
    Shape s;
    s.dims.reserve(sizes.size());
    for (int64_t v : sizes) s.dims.push_back(Dim::known(v));
    return s;
}

bool Shape::isFullyKnown() const {
    for (const auto& d : dims)
        if (!d.isKnown()) return false;
    return true;
}

std::optional<int64_t> Shape::numElements() const {
    int64_t n = 1;
    for (const auto& d : dims) {
        if (!d.isKnown()) return std::nullopt;
        if (d.value != 0 && n > std::numeric_limits<int64_t>::max() / d.value) return std::nullopt;
        n *= d.value;
    }
    return n;
}

std::optional<std::vector<int64_t>> Shape::sizes() const {
    std::vector<int64_t> out;
    out.reserve(dims.size());
    for (const auto& d : dims) {
        if (!d.isKnown()) return std::nullopt;
        out.push_back(d.value);
    }
    return out;
}

std::string Shape::toString() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ",";
        s += dims[i].toString();
    }
    return s + "]";
}

std::string Type::toString() const {
    switch (kind) {
    case Kind::Unknown: return "?";
    case Kind::Tensor:
    case Kind::SparseTensor: {
        std::string s = kind == Kind::SparseTensor ? "sparse " : "";
        s += std::string(dataTypeName(elemType));
        s += shape ? shape->toString() : std::string("[...]");
        return s;
    }
    case Kind::Sequence: return "seq(" + (inner ? inner->toString() : std::string("?")) + ")";
    case Kind::Optional: return "optional(" + (inner ? inner->toString() : std::string("?")) + ")";
    case Kind::Map:
        return "map(" + std::string(dataTypeName(elemType)) + "," +
               (inner ? inner->toString() : std::string("?")) + ")";
    }
    return "?";
}

bool Type::operator==(const Type& o) const {
    if (kind != o.kind || elemType != o.elemType || shape != o.shape || denotation != o.denotation)
        return false;
    if (!inner || !o.inner) return !inner && !o.inner;
    return *inner == *o.inner;
}

} // namespace ew::ir
