#include "status.h"

namespace ew {

const char* statusCodeName(StatusCode code) {
    switch (code) {
    case StatusCode::Ok: return "ok";
    case StatusCode::InvalidInput: return "invalid input";
    case StatusCode::Usage: return "usage error";
    case StatusCode::NotFound: return "not found";
    case StatusCode::Unsupported: return "unsupported";
    case StatusCode::IoError: return "I/O error";
    case StatusCode::Cancelled: return "cancelled";
    case StatusCode::Internal: return "internal error";
    }
    return "unknown";
}

std::string Status::toString() const {
    if (ok()) return "ok";
    std::string out;
    if (!file.empty()) out += file + ": ";
    if (!node.empty()) out += "node '" + node + "': ";
    out += message;
    return out;
}

} // namespace ew
