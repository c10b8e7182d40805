// Change monitor to re-apply.
#include "gateway/daemon/tamper_guard.hpp"

#include "gateway/events/events.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;

TamperGuard::TamperGuard(asio::io_context& io, Kernel& kernel, std::function<const ruleset::Ruleset&()> current,
                         std::function<void()> reapplied)
    : kernel_(kernel), fd_(io), current_(std::move(current)), reapplied_(std::move(reapplied)) {}

void TamperGuard::start() {
    fd_.assign(::dup(kernel_.monitor_fd()));
    wait();
}

void TamperGuard::wait() {
    fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
        if (ec) return;
        on_readable();
        wait();
    });
}

void TamperGuard::on_readable() {
    auto m = kernel_.process_monitor();
    if (!m.error.empty()) Event(Kind::monitor_failed).kv(Key::error, m.error);
    if (m.foreign.empty()) return;
    Event(Kind::ruleset_tampered).kv(Key::change, m.foreign);
    if (auto s = kernel_.apply(current_()); !s) {
        Event(Kind::reapply_failed).kv(Key::error, s.error().message);
        return;
    }
    reapplied_();
}

}  // namespace modgate::daemon
