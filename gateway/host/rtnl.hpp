// One rtnetlink socket (libmnl): a request answered by an ack, or a dump; errors carry the
// kernel's extended-ack message and name the object the request was about.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include "gateway/host/host_net.hpp"

namespace modgate::host {

class Rtnl {
public:
    static Result<Rtnl> open();
    Rtnl(Rtnl&& o) noexcept;
    Rtnl& operator=(Rtnl&&) = delete;
    Rtnl(const Rtnl&) = delete;
    ~Rtnl();

    // A fresh message of `type` with `flags` (NLM_F_REQUEST is added) in the send buffer.
    nlmsghdr* message(std::uint16_t type, std::uint16_t flags);
    // Sends the message with NLM_F_ACK and waits for the kernel's answer. `what` names the
    // object in the error ("route 10.20.30.0/24 table 1000: File exists (...)"). Replies
    // other than the ack (RTM_GETLINK's answer) go to on_reply.
    Status request(nlmsghdr* nlh, const std::string& what,
                   const std::function<void(const nlmsghdr*)>& on_reply = {});
    // Sends the message with NLM_F_DUMP and passes every reply of the complete dump to on_reply.
    Status dump(nlmsghdr* nlh, const std::string& what, const std::function<void(const nlmsghdr*)>& on_reply);

    // The errno of the last failed request or dump, 0 after a success.
    int last_error() const { return last_error_; }

private:
    explicit Rtnl(mnl_socket* nl);
    int exchange(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& on_reply, std::string& message);

    mnl_socket* nl_ = nullptr;
    unsigned portid_ = 0;
    unsigned seq_ = 0;
    int last_error_ = 0;
    std::vector<char> send_, recv_;
};

}  // namespace modgate::host
