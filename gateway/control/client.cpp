// Client side of the control socket for modgatectl: plain blocking sockets, no event loop.
#include "gateway/control/client.hpp"
#include "gateway/control/exit_code.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace modgate::control {

namespace {

// A connected socket with the request written, or -1 with `error` set.
int connect_and_send(const std::string& path, const Fields& request, std::string& error) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = fmt::format("socket: {}", std::strerror(errno));
        return -1;
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        ::close(fd);
        error = "socket path too long";
        return -1;
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        error = fmt::format("cannot reach modgated at {}: {}", path, std::strerror(errno));
        ::close(fd);
        return -1;
    }
    auto req = encode_request(request);
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        error = fmt::format("write: {}", std::strerror(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

std::optional<Reply> call(const std::string& path, const Fields& request, std::string& error) {
    int fd = connect_and_send(path, request, error);
    if (fd < 0) return std::nullopt;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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

int stream(const std::string& path, const Fields& request, const std::function<void(std::string_view)>& out,
           std::string& error) {
    int fd = connect_and_send(path, request, error);
    if (fd < 0) return Exit::runtime;
    std::string head;  // the status line, then the body as it comes
    bool started = false;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (started) {
            out(std::string_view(buf, static_cast<std::size_t>(n)));
            continue;
        }
        head.append(buf, static_cast<std::size_t>(n));
        auto nl = head.find('\n');
        if (nl == std::string::npos) continue;
        auto r = decode_reply(head.substr(0, nl + 1));
        if (!r || r->code != 0) {
            auto full = decode_reply(head);
            error = full ? full->message : "malformed reply from modgated";
            ::close(fd);
            return full ? full->code : Exit::runtime;
        }
        started = true;
        if (head.size() > nl + 1) out(std::string_view(head).substr(nl + 1));
    }
    ::close(fd);
    if (!started) {
        error = "modgated closed the connection";
        return Exit::runtime;
    }
    return Exit::ok;
}

}  // namespace modgate::control
