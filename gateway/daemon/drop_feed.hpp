// NFLOG to events: every record the kernel's drop rules log becomes one typed `drop` event;
// a failed read is a counted `nflog_failed` event, never swallowed.
#pragma once
#include "gateway/daemon/kernel.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::daemon {

class DropFeed {
public:
    DropFeed(asio::io_context& io, Kernel& kernel);
    void start();
    void on_readable();
    static void emit(const DropRecord& r);

private:
    void wait();
    Kernel& kernel_;
    asio::posix::stream_descriptor fd_;
};

}  // namespace modgate::daemon
