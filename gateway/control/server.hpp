// The control socket: a Unix stream socket modgated listens on. Callers are identified by the
// kernel (SO_PEERCRED, SO_PEERGROUPS), never by what they claim; each command decides what the
// caller may do.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "gateway/control/protocol.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::control {

struct Caller {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    pid_t pid = 0;
    std::vector<gid_t> groups;  // supplementary groups at connect time
    std::string user;           // from the password database, or the uid as text
    // Root, or a member (primary or supplementary) of `group` when it is non-empty.
    bool root_or_member(const std::string& group) const;
};

using Handler = std::function<Reply(const Fields&, const Caller&)>;

// A reply that goes on: after the status line the server keeps the connection and writes lines
// as they come, until the client hangs up. Writes are queued up to a bound; past it a line is
// refused (send returns false) and the caller counts it.
class Stream {
public:
    virtual ~Stream() = default;
    virtual bool send(std::string line) = 0;
    virtual bool open() const = 0;
};
// Returns the status: code 0 starts the stream (its body, if any, goes first); any other code is
// an ordinary error reply.
using StreamHandler = std::function<Reply(const Fields&, const Caller&, const std::shared_ptr<Stream>&)>;

class Server {
public:
    Server(asio::io_context& io, std::string path);
    ~Server();
    // Creates the socket (replacing a stale one), mode 0666: anyone may ask for status; commands
    // that change state check the caller. Returns an error text, empty on success.
    std::string listen();
    void on(std::string cmd, Handler h) { handlers_.plain[std::move(cmd)] = std::move(h); }
    // A command whose reply streams (`events --follow`).
    void on_stream(std::string cmd, StreamHandler h) { handlers_.streams[std::move(cmd)] = std::move(h); }
    void stop();

    struct Handlers {
        std::map<std::string, Handler, std::less<>> plain;
        std::map<std::string, StreamHandler, std::less<>> streams;
    };

private:
    void accept();
    asio::io_context& io_;
    std::string path_;
    asio::local::stream_protocol::acceptor acceptor_;
    Handlers handlers_;
};

}  // namespace modgate::control
