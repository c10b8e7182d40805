// Vendor host names in the parent (see vendor_resolver.hpp): results from the proxy process,
// checked, kept, persisted and announced; answers and failures are events.
#include "gateway/daemon/vendor_resolver.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "gateway/events/events.hpp"
#include "gateway/windows/atomic_file.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

namespace {

std::string list_of(const std::vector<policy::Ipv4>& addrs) {
    std::string list;
    for (auto a : addrs) list += (list.empty() ? "" : ",") + a.str();
    return list;
}

// Addresses no vendor host can have: this network, loopback, link-local, multicast and
// reserved, the limited broadcast.
bool special(policy::Ipv4 a) {
    const auto top = a.value >> 24;
    return top == 0 || top == 127 || (a.value >> 16) == 0xa9fe || top >= 224;
}

}  // namespace

VendorResolver::VendorResolver(std::string state_dir, Update update)
    : state_dir_(std::move(state_dir)), update_(std::move(update)) {
    load();
}

void VendorResolver::load() {
    std::ifstream in(state_dir_ + "/vendors.state");
    for (std::string line; std::getline(in, line);) {
        // "remote.vendor.example 203.0.113.10,203.0.113.11"
        std::istringstream words(line);
        std::string name, list;
        if (!(words >> name >> list) || name.starts_with("#")) continue;
        std::vector<policy::Ipv4> addrs;
        std::istringstream items(list);
        for (std::string a; std::getline(items, a, ',');)
            if (auto ip = policy::Ipv4::parse(a)) addrs.push_back(*ip);
        if (!addrs.empty()) last_good_[name] = std::move(addrs);
    }
}

void VendorResolver::persist() {
    std::string text = "# modgate: last good addresses of vendor host names (written by modgated)\n";
    for (const auto& [vendor, names] : vendor_names_)
        for (const auto& name : names)
            if (auto it = last_good_.find(name); it != last_good_.end() && !it->second.empty())
                text += name + " " + list_of(it->second) + "\n";
    const auto path = state_dir_ + "/vendors.state";
    if (auto error = windows::write_file_atomically(path, text); !error.empty())
        Event(Kind::state_file_write_failed, Level::error).kv(Key::file, path).kv(Key::error, error);
}

void VendorResolver::set_policy(const policy::Policy& p) {
    vendor_names_.clear();
    for (const auto& v : p.vendors)
        for (const auto& h : v.hosts)
            if (!h.fqdn.empty()) vendor_names_[v.name].push_back(h.fqdn);
    forbidden_.clear();
    for (const auto& m : p.modalities) forbidden_[m.ip.addr] = "modality " + m.name;
    if (p.gateway.management) forbidden_[p.gateway.management->address.addr] = "the gateway's management address";
    for (const auto& [vendor, names] : vendor_names_) announce(vendor);
}

std::string VendorResolver::check(const privsep::ResolvedMsg& r) const {
    bool named = std::any_of(vendor_names_.begin(), vendor_names_.end(), [&](const auto& vn) {
        return std::find(vn.second.begin(), vn.second.end(), r.name) != vn.second.end();
    });
    if (!named) return "no vendor has this host name";
    if (!r.ok) return {};
    if (r.addresses.empty()) return "no addresses";
    if (r.addresses.size() > max_addresses)
        return fmt::format("{} addresses, more than the {} modgated accepts", r.addresses.size(), max_addresses);
    for (auto a : r.addresses) {
        if (auto it = forbidden_.find(a); it != forbidden_.end()) return fmt::format("{} is {}", a.str(), it->second);
        if (special(a)) return fmt::format("{} is not a unicast host address", a.str());
    }
    return {};
}

void VendorResolver::failed(const std::string& name, const std::string& error) {
    auto it = last_good_.find(name);
    auto kept = it == last_good_.end() || it->second.empty() ? std::string("none") : list_of(it->second);
    Event(Kind::vendor_resolve_failed, Level::warning).kv(Key::name, name).kv(Key::error, error).kv(Key::kept, kept);
}

void VendorResolver::result(const privsep::ResolvedMsg& r) {
    if (auto why = check(r); !why.empty()) return failed(r.name, "answer refused: " + why);
    if (!r.ok) return failed(r.name, r.error);
    auto addrs = r.addresses;
    std::sort(addrs.begin(), addrs.end());
    addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
    auto& good = last_good_[r.name];
    const bool changed = addrs != good;
    if (changed || !answered_[r.name])
        Event(Kind::vendor_resolved).kv(Key::name, r.name).kv(Key::addresses, list_of(addrs))
            .kv(Key::ttl, static_cast<std::uint64_t>(r.ttl));
    answered_[r.name] = true;
    good = std::move(addrs);
    if (!changed) return;
    persist();
    for (const auto& [vendor, names] : vendor_names_)
        if (std::find(names.begin(), names.end(), r.name) != names.end()) announce(vendor);
}

void VendorResolver::announce(const std::string& vendor) {
    std::vector<policy::Ipv4> all;
    for (const auto& name : vendor_names_[vendor])
        if (auto it = last_good_.find(name); it != last_good_.end())
            all.insert(all.end(), it->second.begin(), it->second.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    update_(vendor, std::move(all));
}

}  // namespace modgate::daemon
