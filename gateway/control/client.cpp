// Client side of the control socket for modgatectl: plain blocking sockets, no event loop.
#include "gateway/control/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace modgate::control {

std::optional<Reply> call(const std::string& path, const Fields& request, std::string& error) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = fmt::format("socket: {}", std::strerror(errno));
        return std::nullopt;
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        ::close(fd);
        error = "socket path too long";
        return std::nullopt;
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        error = fmt::format("cannot reach modgated at {}: {}", path, std::strerror(errno));
        ::close(fd);
        return std::nullopt;
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto req = encode_request(request);
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        error = fmt::format("write: {}", std::strerror(errno));
        ::close(fd);
        return std::nullopt;
    }
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) text.append(buf, static_cast<std::size_t>(n));
        else if (n == 0) break;
        else if (errno != EINTR) {
            error = fmt::format("read: {}", std::strerror(errno));
            ::close(fd);
            return std::nullopt;
        }
    }
    ::close(fd);
    auto r = decode_reply(text);
    if (!r) error = "malformed reply from modgated";
    return r;
}

}  // namespace modgate::control
