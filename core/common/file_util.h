#pragma once
#include "status.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace ew {

/// A read-only memory mapping of a whole file. Weights point into it instead of being copied;
/// shared_ptr ownership keeps the mapping alive as long as any tensor uses it.
class MappedFile {
public:
    static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    std::span<const std::byte> bytes() const { return {m_data, m_size}; }
    const std::string& path() const { return m_path; }

private:
    MappedFile() = default;
    const std::byte* m_data = nullptr;
    std::size_t m_size = 0;
    std::string m_path;
};

/// Writes a file atomically: the writer fills a temporary file in the destination folder, which
/// is then renamed over `path`. On any failure the temporary is removed and `path` is untouched.
/// The writer gets a path to write and returns Ok or an error.
VoidResult writeFileAtomically(const std::string& path,
                               const std::function<VoidResult(const std::string& tmpPath)>& writer);

/// Convenience over writeFileAtomically for an in-memory buffer.
VoidResult writeBytesAtomically(const std::string& path, std::span<const std::byte> bytes);

/// True when both paths name the same existing file (following links); used to refuse
/// overwriting a model with its own conversion.
bool sameFile(const std::string& a, const std::string& b);

/// Peak resident set size of this process in bytes (0 where unknown).
std::size_t peakRssBytes();

} // namespace ew
