// Vendor host names in the parent: the proxy process resolves them (DNS answers are parsed
// without privilege, gateway/proxy/dns_resolver.cpp) and reports each result; here each is
// checked before it is believed (at most max_addresses, none of them the gateway's own, a
// modality's, or an address no vendor can have), the last good answer is kept when resolution
// fails, and persisted so a restart with DNS down still knows them.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gateway/privsep/wire.hpp"
#include "policy/model.hpp"

namespace modgate::daemon {

class VendorResolver {
public:
    // Called with a vendor's addresses (from all its host names) whenever they change.
    using Update = std::function<void(const std::string& vendor, std::vector<policy::Ipv4> addrs)>;

    VendorResolver(std::string state_dir, Update update);

    // The names the policy's vendors have; known answers (from memory or the state file) are
    // announced at once.
    void set_policy(const policy::Policy& p);
    // A result from the proxy process. A refused one is a vendor_resolve_failed event and
    // changes nothing.
    void result(const privsep::ResolvedMsg& r);

    static constexpr std::size_t max_addresses = 16;
    // Why `r` cannot be believed, or empty.
    std::string check(const privsep::ResolvedMsg& r) const;

private:
    void announce(const std::string& vendor);
    void failed(const std::string& name, const std::string& error);
    void load();
    void persist();

    std::string state_dir_;
    Update update_;
    std::map<std::string, std::vector<std::string>> vendor_names_;  // vendor -> its host names
    std::map<std::string, std::vector<policy::Ipv4>> last_good_;    // host name -> addresses
    std::map<std::string, bool> answered_;                          // host name -> answered in this run
    std::map<policy::Ipv4, std::string> forbidden_;                 // address -> whose it is
};

}  // namespace modgate::daemon
