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

class Server {
public:
    Server(asio::io_context& io, std::string path);
    ~Server();
    // Creates the socket (replacing a stale one), mode 0666: anyone may ask for status; commands
    // that change state check the caller. Returns an error text, empty on success.
    std::string listen();
    void on(std::string cmd, Handler h) { handlers_[std::move(cmd)] = std::move(h); }
    void stop();

private:
    void accept();
    asio::io_context& io_;
    std::string path_;
    asio::local::stream_protocol::acceptor acceptor_;
    std::map<std::string, Handler, std::less<>> handlers_;
};

}  // namespace modgate::control
