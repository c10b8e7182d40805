// The plain TCP handler: bytes relayed both ways between the client leg and the upstream leg,
// TCP_NODELAY on both and TCP_QUICKACK before every read (endpoints that leave Nagle on would
// otherwise stall on delayed ACKs), half-closes passed on, an idle timeout.
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"

namespace modgate::proxy {

struct RelayOptions {
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds idle_timeout{3600};
};

class Relay : public Session, public std::enable_shared_from_this<Relay> {
public:
    // `preface`: bytes already read from the client (a checked TLS ClientHello) that go upstream
    // first.
    Relay(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt, RelayOptions opt,
          std::vector<char> preface = {});
    void start() override;
    void close(std::string_view reason) override;
    const FlowInfo& flow() const override { return flow_; }

private:
    void on_connected(const error_code& ec, tcp::socket up);
    void pump(int dir);
    void arm_idle();
    void finish(FlowEnd end, std::string_view reason);

    asio::io_context& io_;
    tcp::socket client_, upstream_;
    FlowInfo flow_;
    Runtime& rt_;
    RelayOptions opt_;
    asio::steady_timer idle_;
    std::array<std::vector<char>, 2> buf_;
    std::array<std::uint64_t, 2> bytes_{};
    std::array<bool, 2> eof_{};
    std::vector<char> preface_;
    bool done_ = false;
};

}  // namespace modgate::proxy
