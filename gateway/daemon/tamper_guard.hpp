// Tamper handling: watches nftables change notifications and puts modgate's ruleset back at
// once when someone else alters or removes its tables (a `flush ruleset` from Debian's
// nftables.service, a hand edit). A failure to read the notifications is reported as what it
// is, never as a tamper.
#pragma once
#include <functional>

#include "gateway/daemon/kernel.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::daemon {

class TamperGuard {
public:
    // `current` is the ruleset the kernel must hold; `reapplied` runs after a successful re-apply
    // (the open windows' elements went with the old tables).
    TamperGuard(asio::io_context& io, Kernel& kernel, std::function<const ruleset::Ruleset&()> current,
                std::function<void()> reapplied);
    void start();
    // One read of the monitor, as start() does when the socket is readable.
    void on_readable();

private:
    void wait();
    Kernel& kernel_;
    asio::posix::stream_descriptor fd_;
    std::function<const ruleset::Ruleset&()> current_;
    std::function<void()> reapplied_;
    std::string hash_;
};

}  // namespace modgate::daemon
