// Control socket server and client. Requests are one bounded line; a slow or silent client is
// dropped after a timeout so it cannot hold the daemon.
#include "gateway/control/server.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <boost/asio/local/stream_protocol.hpp>
#include <fmt/format.h>

#include "gateway/events/events.hpp"

namespace modgate::control {

bool Caller::root_or_member(const std::string& group) const {
    if (uid == 0) return true;
    if (group.empty()) return false;
    struct group* g = getgrnam(group.c_str());
    if (!g) return false;
    return gid == g->gr_gid || std::find(groups.begin(), groups.end(), g->gr_gid) != groups.end();
}

namespace {

Caller identify(int fd) {
    Caller c;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        c.uid = cred.uid;
        c.gid = cred.gid;
        c.pid = cred.pid;
    }
    std::vector<gid_t> groups(64);
    len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
        groups.resize(len / sizeof(gid_t));
        c.groups = std::move(groups);
    } else if (errno == ERANGE) {
        groups.resize(len / sizeof(gid_t));
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            c.groups = std::move(groups);
        }
    }
    if (passwd* pw = getpwuid(c.uid)) c.user = pw->pw_name;
    else c.user = std::to_string(c.uid);
    return c;
}

struct Connection : Stream, std::enable_shared_from_this<Connection> {
    static constexpr std::size_t max_queued = 1 << 20;  // bytes a streaming client may lag behind
    asio::local::stream_protocol::socket sock;
    asio::steady_timer timer;
    asio::streambuf buf;
    const Server::Handlers& handlers;
    std::deque<std::string> queue;
    std::size_t queued = 0;
    bool writing = false, streaming = false, closed = false;
    char sink[256];
    Connection(asio::local::stream_protocol::socket s, const Server::Handlers& h)
        : sock(std::move(s)), timer(sock.get_executor()), buf(8192), handlers(h) {}

    void start() {
        auto self = shared_from_this();
        timer.expires_after(std::chrono::seconds(5));
        timer.async_wait([self](const error_code& ec) {
            if (!ec) self->shut();
        });
        asio::async_read_until(sock, buf, '\n', [self](const error_code& ec, std::size_t n) {
            if (ec) return;
            std::string line(asio::buffers_begin(self->buf.data()), asio::buffers_begin(self->buf.data()) + static_cast<std::ptrdiff_t>(n));
            self->dispatch(line);
        });
    }

    void dispatch(const std::string& line) {
        std::string error;
        auto f = decode_request(line, error);
        if (!f) return respond({2, "malformed request: " + error, {}});
        const auto& cmd = f->at("cmd");
        if (auto it = handlers.plain.find(cmd); it != handlers.plain.end())
            return respond(it->second(*f, identify(sock.native_handle())));
        auto st = handlers.streams.find(cmd);
        if (st == handlers.streams.end()) return respond({2, fmt::format("unknown command '{}'", cmd), {}});
        auto r = st->second(*f, identify(sock.native_handle()), shared_from_this());
        if (r.code != 0) return respond(r);
        streaming = true;
        timer.cancel();
        send(encode_reply(r));
        watch_hangup();
    }

    // A streaming client sends nothing more: a read completing means it hung up.
    void watch_hangup() {
        auto self = shared_from_this();
        sock.async_read_some(asio::buffer(sink), [self](const error_code& ec, std::size_t) {
            if (ec) return self->shut();
            self->watch_hangup();
        });
    }

    bool open() const override { return !closed; }

    bool send(std::string line) override {
        if (closed || queued + line.size() > max_queued) return false;
        queued += line.size();
        queue.push_back(std::move(line));
        if (!writing) write_next();
        return true;
    }

    void write_next() {
        if (queue.empty() || closed) {
            writing = false;
            if (!streaming) shut();
            return;
        }
        writing = true;
        auto self = shared_from_this();
        asio::async_write(sock, asio::buffer(queue.front()), [self](const error_code& ec, std::size_t) {
            self->queued -= self->queue.front().size();
            self->queue.pop_front();
            if (ec) return self->shut();
            self->write_next();
        });
    }

    void respond(const Reply& r) { send(encode_reply(r)); }

    void shut() {
        if (closed) return;
        closed = true;
        error_code ignored;
        timer.cancel();
        sock.shutdown(asio::socket_base::shutdown_both, ignored);
        sock.close(ignored);
    }
};

}  // namespace

Server::Server(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)), acceptor_(io) {}

Server::~Server() { stop(); }

std::string Server::listen() {
    ::unlink(path_.c_str());  // a stale socket from a previous run
    error_code ec;
    acceptor_.open(asio::local::stream_protocol(), ec);
    if (!ec) acceptor_.bind(asio::local::stream_protocol::endpoint(path_), ec);
    if (ec) return fmt::format("control socket {}: {}", path_, ec.message());
    if (::chmod(path_.c_str(), 0666) != 0) return fmt::format("chmod {}: {}", path_, std::strerror(errno));
    acceptor_.listen(64, ec);
    if (ec) return fmt::format("listen {}: {}", path_, ec.message());
    accept();
    return {};
}

void Server::stop() {
    if (!acceptor_.is_open()) return;
    error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void Server::accept() {
    acceptor_.async_accept([this](const error_code& ec, asio::local::stream_protocol::socket s) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) std::make_shared<Connection>(std::move(s), handlers_)->start();
        accept();
    });
}

}  // namespace modgate::control
