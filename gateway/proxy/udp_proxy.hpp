// The transparent UDP relay (NTP, DNS, syslog): datagrams arrive on one IP_TRANSPARENT socket
// with their original destination; each (client, destination) gets an upstream socket bound to
// the client's address, and replies go back through a socket bound to the destination's
// address, so both ends see each other's real addresses.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"

namespace modgate::proxy {

class UdpProxy {
public:
    UdpProxy(asio::io_context& io, Runtime& rt);
    ~UdpProxy();
    std::string listen(std::uint16_t port);
    void stop();

    static constexpr std::chrono::seconds idle_timeout{60};
    static constexpr std::size_t max_flows_per_modality = 256;

private:
    struct Flow;
    using Key = std::pair<Endpoint, Endpoint>;  // client, server
    void wait_readable();
    void drain();
    void handle(const Endpoint& client, const Endpoint& server, const char* data, std::size_t n);
    std::shared_ptr<udp::socket> reply_socket(const Endpoint& server, std::string& error);
    void receive(const std::shared_ptr<Flow>& f);
    void sweep();
    void end(const Key& k, FlowEnd how, std::string_view reason);

    asio::io_context& io_;
    Runtime& rt_;
    udp::socket listener_;
    asio::steady_timer sweeper_;
    std::map<Key, std::shared_ptr<Flow>> flows_;
    std::map<Endpoint, std::weak_ptr<udp::socket>> replies_;
};

}  // namespace modgate::proxy
