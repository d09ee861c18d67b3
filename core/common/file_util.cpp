#include "file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ew {

namespace fs = std::filesystem;

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(Status{StatusCode::IoError, std::string("cannot open: ") + std::strerror(errno), path, {}});
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return fail(Status{StatusCode::IoError, std::string("cannot stat: ") + std::strerror(err), path, {}});
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return fail(Status{StatusCode::IoError, "is a folder, not a file", path, {}});
    }
    std::shared_ptr<MappedFile> mf(new MappedFile());
    mf->m_path = path;
    mf->m_size = static_cast<std::size_t>(st.st_size);
    if (mf->m_size > 0) {
        void* p = ::mmap(nullptr, mf->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            return fail(Status{StatusCode::IoError, std::string("cannot map: ") + std::strerror(err), path, {}});
        }
        mf->m_data = static_cast<const std::byte*>(p);
    }
    ::close(fd);
    return mf;
}

MappedFile::~MappedFile() {
    if (m_data) ::munmap(const_cast<std::byte*>(m_data), m_size);
}

VoidResult writeFileAtomically(const std::string& path,
                               const std::function<VoidResult(const std::string&)>& writer) {
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fail(Status{StatusCode::IoError, "output folder does not exist", path, {}});
    std::random_device rd;
    std::string tmp = (dir / ("." + target.filename().string() + ".tmp" + std::to_string(rd() % 1000000))).string();
    auto r = writer(tmp);
    if (!r) {
        fs::remove(tmp, ec);
        return std::unexpected(std::move(r.error()).withFile(path));
    }
    // Flush to disk before the rename so a crash never leaves a renamed-but-empty file.
    if (int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(Status{StatusCode::IoError, "cannot rename temporary file into place: " + ec.message(), path, {}});
    }
    return {};
}

VoidResult writeBytesAtomically(const std::string& path, std::span<const std::byte> bytes) {
    return writeFileAtomically(path, [&](const std::string& tmp) -> VoidResult {
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (!f) return fail(StatusCode::IoError, std::string("cannot create file: ") + std::strerror(errno));
        std::size_t n = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
        bool ok = n == bytes.size();
        ok = (std::fclose(f) == 0) && ok;
        if (!ok) return fail(StatusCode::IoError, "write failed (disk full?)");
        return {};
    });
}

bool sameFile(const std::string& a, const std::string& b) {
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

std::size_t peakRssBytes() {
    struct rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return static_cast<std::size_t>(ru.ru_maxrss) * 1024;
}

} // namespace ew
