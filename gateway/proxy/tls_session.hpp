// The TLS handler: reads the client's ClientHello (without terminating TLS), checks its server
// name against the allow's patterns, and only then connects upstream and relays, the hello
// first. A missing or mismatching name is refused with a TLS alert and an event.
#pragma once
#include <memory>
#include <vector>

#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"
#include "gateway/vendors/tls_sni.hpp"

namespace modgate::proxy {

class TlsSession : public Session, public std::enable_shared_from_this<TlsSession> {
public:
    TlsSession(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt);
    void start() override;
    void close(std::string_view reason) override;
    const FlowInfo& flow() const override { return flow_; }

private:
    void read();
    void refuse(std::string_view reason, const std::string& sni, std::uint8_t alert);

    asio::io_context& io_;
    tcp::socket client_;
    FlowInfo flow_;
    Runtime& rt_;
    asio::steady_timer timer_;
    vendors::ClientHelloReader reader_;
    std::vector<std::uint8_t> buf_;
    bool done_ = false;
};

}  // namespace modgate::proxy
