// The event loop's lag probe (see lag_probe.hpp).
#include "gateway/proxy/lag_probe.hpp"

#include "gateway/events/events.hpp"

namespace modgate::proxy {

void LagProbe::probe(std::chrono::steady_clock::time_point due) {
    auto late = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - due).count();
    if (late > 0) registry_.note_loop_lag(static_cast<std::uint64_t>(late));
    if (late >= 1000) events::Event(events::Kind::loop_stalled).kv(events::Key::lag_ms, static_cast<std::int64_t>(late));
    auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    timer_.expires_at(next);
    timer_.async_wait([this, next](const error_code& ec) {
        if (!ec) probe(next);
    });
}

}  // namespace modgate::proxy
