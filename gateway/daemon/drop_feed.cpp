// NFLOG records to drop events.
#include "gateway/daemon/drop_feed.hpp"

#include "gateway/events/events.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;

DropFeed::DropFeed(asio::io_context& io, Kernel& kernel) : kernel_(kernel), fd_(io) {}

void DropFeed::start() {
    fd_.assign(::dup(kernel_.nflog_fd()));
    wait();
}

void DropFeed::wait() {
    fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
        if (ec) return;
        on_readable();
        wait();
    });
}

void DropFeed::on_readable() {
    std::uint64_t lost = 0;
    auto error = kernel_.process_nflog(emit, lost);
    if (!error.empty()) Event(Kind::nflog_failed).kv(Key::error, error).kv(Key::records, lost);
}

void DropFeed::emit(const DropRecord& r) {
    Event e(Kind::drop);
    if (r.prefix) e.kv(Key::rule, policy::to_string(r.prefix->reason)).kv(Key::dir, policy::to_string(r.prefix->dir));
    else e.kv(Key::rule, "unknown");
    if (!r.in.empty()) e.kv(Key::in, r.in);
    e.kv(Key::proto, r.proto);
    if (!r.src.empty()) e.kv(Key::src, r.src).kv(Key::dst, r.dst);
    if (r.dport) e.kv(Key::sport, static_cast<unsigned>(r.sport)).kv(Key::dport, static_cast<unsigned>(r.dport));
}

}  // namespace modgate::daemon
