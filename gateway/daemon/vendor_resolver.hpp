// Vendor host names resolved through the management interface's DNS servers (never the
// bridge), re-resolved when their TTL runs out, the last good answer kept when resolution
// fails, and persisted so a restart with DNS down still knows them. Never blocks start-up.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/proxy/asio.hpp"
#include "policy/model.hpp"

namespace modgate::daemon {

class VendorResolver {
public:
    // Called with a vendor's addresses (from all its host names) whenever they change.
    using Update = std::function<void(const std::string& vendor, std::vector<policy::Ipv4> addrs)>;

    VendorResolver(asio::io_context& io, std::string state_dir, Update update);
    ~VendorResolver();

    // The names to resolve and the servers to ask. Known answers (from memory or the state
    // file) are announced at once; every name is then resolved in the background.
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
    void done(const std::shared_ptr<Name>& n, bool ok, std::vector<policy::Ipv4> addrs, std::uint32_t ttl,
              const std::string& error);
    void announce(const std::string& vendor);
    void load();
    void persist();

    asio::io_context& io_;
    std::string state_dir_;
    Update update_;
    std::vector<policy::Ipv4> servers_;
    std::optional<policy::Ipv4> source_;  // the management address queries leave from
    std::map<std::string, std::shared_ptr<Name>> names_;               // by host name
    std::map<std::string, std::vector<std::string>> vendor_names_;     // vendor -> its host names
    std::map<std::string, std::vector<policy::Ipv4>> persisted_;       // host name -> last good
};

}  // namespace modgate::daemon
