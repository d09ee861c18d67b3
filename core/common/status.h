#pragma once
#include <expected>
#include <string>
#include <utility>

namespace ew {

/// Error categories shared by every module. The CLI maps them to exit codes
/// (InvalidInput -> 3, Usage -> 2, everything else -> 1).
enum class StatusCode {
    Ok = 0,
    InvalidInput,  ///< the model or data file is malformed, hostile or inconsistent
    Usage,         ///< the caller asked for something that makes no sense
    NotFound,      ///< a file, node or value does not exist
    Unsupported,   ///< valid, but Edgewise cannot handle it (yet)
    IoError,       ///< reading or writing failed
    Cancelled,     ///< the user cancelled through the Reporter
    Internal,      ///< a bug: an invariant did not hold
};

const char* statusCodeName(StatusCode code);

/// An error (or Ok) that names where it happened: the file and, where there is one, the node.
/// Invariant: code == Ok implies an empty message.
struct Status {
    StatusCode code = StatusCode::Ok;
    std::string message;
    std::string file;
    std::string node;

    bool ok() const { return code == StatusCode::Ok; }
    /// "file: node 'x': message" with the parts that are present.
    std::string toString() const;

    Status& withFile(std::string f) & {
        if (file.empty()) file = std::move(f);
        return *this;
    }
    Status&& withFile(std::string f) && {
        if (file.empty()) file = std::move(f);
        return std::move(*this);
    }
    Status&& withNode(std::string n) && {
        if (node.empty()) node = std::move(n);
        return std::move(*this);
    }
};

inline Status makeError(StatusCode code, std::string message, std::string node = {}) {
    return Status{code, std::move(message), {}, std::move(node)};
}

/// Value or error. No exception crosses a library boundary; this is what crosses instead.
template <typename T>
using Result = std::expected<T, Status>;

inline std::unexpected<Status> fail(Status s) { return std::unexpected<Status>(std::move(s)); }
inline std::unexpected<Status> fail(StatusCode code, std::string message, std::string node = {}) {
    return std::unexpected<Status>(makeError(code, std::move(message), std::move(node)));
}

/// Result<void>: success carries nothing.
using VoidResult = std::expected<void, Status>;

} // namespace ew

#define EW_TRY_ASSIGN_IMPL(tmp, lhs, expr)                                                         \
    auto tmp = (expr);                                                                             \
    if (!tmp) return std::unexpected(std::move(tmp).error());                                      \
    lhs = std::move(*tmp)
#define EW_CONCAT_INNER(a, b) a##b
#define EW_CONCAT(a, b) EW_CONCAT_INNER(a, b)
/// EW_TRY_ASSIGN(auto x, f()); returns f()'s error from the enclosing function.
#define EW_TRY_ASSIGN(lhs, expr) EW_TRY_ASSIGN_IMPL(EW_CONCAT(ew_try_, __LINE__), lhs, expr)
/// EW_TRY(f()); for VoidResult-returning calls.
#define EW_TRY(expr)                                                                               \
    do {                                                                                           \
        auto ew_try_v = (expr);                                                                    \
        if (!ew_try_v) return std::unexpected(std::move(ew_try_v).error());                        \
    } while (0)
