// Vendor host names resolved in the proxy process (the DNS answers are bytes from the network,
// so they are parsed without privilege): A queries over UDP (TCP when truncated) from the
// management address to the management DNS servers (never the bridge), one name at a time per
// server, with timeouts; each name again when its TTL runs out, or after a retry delay when
// resolution failed. Every result goes to the parent, which checks it, keeps the last good
// addresses and reports them.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/privsep/wire.hpp"
#include "gateway/proxy/asio.hpp"
#include "policy/model.hpp"

namespace modgate::proxy {

using DnsResult = privsep::ResolvedMsg;

class DnsResolver {
public:
    using Report = std::function<void(DnsResult)>;

    DnsResolver(asio::io_context& io, Report report);
    ~DnsResolver();

    // The names to resolve and the servers to ask; every name is resolved now.
    void set_policy(const policy::Policy& p);

    static constexpr std::chrono::seconds min_refresh{30}, max_refresh{3600}, retry{30}, timeout{2};

private:
    struct Name;
    void resolve(const std::shared_ptr<Name>& n);
    void ask(const std::shared_ptr<Name>& n, std::size_t server, bool tcp);
    using Handler = std::function<bool(std::span<const std::uint8_t>, bool tcp)>;  // false: not ours, keep waiting
    using Next = std::function<void(std::string why)>;                             // try the next server
    Handler answer_handler(const std::shared_ptr<Name>& n, std::size_t server, Next next);
    void arm_query_timeout(const std::shared_ptr<Name>& n, Next next);
    asio::ip::address_v4 query_source() const;  // the management address, or any
    void send_udp(const std::shared_ptr<Name>& n, policy::Ipv4 server, const std::vector<std::uint8_t>& query,
                  Handler handle, Next next);
    void send_tcp(const std::shared_ptr<Name>& n, policy::Ipv4 server, const std::vector<std::uint8_t>& query,
                  Handler handle, Next next);
    void receive_udp(const std::shared_ptr<Name>& n, const std::shared_ptr<udp::socket>& s, Handler handle);
    void read_tcp(const std::shared_ptr<Name>& n, const std::shared_ptr<tcp::socket>& s, std::size_t got, Handler handle,
                  Next next);
    void done(const std::shared_ptr<Name>& n, DnsResult r);

    asio::io_context& io_;
    Report report_;
    std::vector<policy::Ipv4> servers_;
    std::optional<policy::Ipv4> source_;                   // the management address queries leave from
    std::map<std::string, std::shared_ptr<Name>> names_;  // by host name
};

}  // namespace modgate::proxy
