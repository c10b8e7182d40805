// Temp file, fsync, rename, fsync of the directory: the steps that make a replacement durable.
#include "gateway/windows/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace modgate::windows {
namespace {

std::string failed(std::string_view what, const std::string& path) {
    return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

// The directory holding `path`, for the fsync that makes the rename durable.
std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Writes and fsyncs the temp file; the error text, or empty.
std::string write_temp(const std::string& tmp, std::string_view bytes, mode_t mode) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return failed("cannot create", tmp);
    std::string error;
    if (!write_all(fd, bytes))
        error = failed("cannot write", tmp);
    else if (::fsync(fd) != 0)
        error = failed("cannot fsync", tmp);
    if (::close(fd) != 0 && error.empty()) error = failed("cannot close", tmp);
    return error;
}

}  // namespace

std::string write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
    const std::string tmp = path + ".tmp";
    if (auto error = write_temp(tmp, bytes, mode); !error.empty()) {
        ::unlink(tmp.c_str());
        return error;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto error = failed(fmt::format("cannot rename {} to", tmp), path);
        ::unlink(tmp.c_str());
        return error;
    }
    // The new contents are in place; without this the rename may be lost in a power cut.
    const std::string dir = directory_of(path);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return failed("cannot open the directory", dir);
    std::string error;
    if (::fsync(dfd) != 0) error = failed("cannot fsync the directory", dir);
    ::close(dfd);
    return error;
}

}  // namespace modgate::windows
