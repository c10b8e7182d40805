// Window set elements as data: what the open windows want in the kernel, and the delta from what
// it holds. The daemon writes the delta through windows::KernelSets.
#include "gateway/windows/elements.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace modgate::windows {

using namespace std::chrono_literals;

namespace {

ruleset::Value addr_value(const policy::Cidr& c) { return c.is_host() ? ruleset::Value{c.addr} : ruleset::Value{c}; }

const policy::Maintenance* maintenance_of(const policy::Policy& p, const Window& w) {
    for (const auto& x : p.maintenance)
        if (x.modality == w.modality() && x.vendor == w.vendor()) return &x;
    return nullptr;
}

void want_element(SetElements& into, const Held& proto, policy::Ipv4 modality, const policy::Cidr& a, std::uint16_t port) {
    Held h = proto;
    h.element.key = {ruleset::Value{modality}, addr_value(a), ruleset::Value{std::uint64_t{port}}};
    auto [it, fresh] = into.try_emplace(key_of(h.element), h);
    if (!fresh && it->second.element.timeout_ms < h.element.timeout_ms) it->second = std::move(h);
}

// What a delete sends: the element as held, without the expiry read back with it.
ruleset::Element bare(ruleset::Element e) {
    e.expires_ms = 0;
    return e;
}

}  // namespace

std::vector<policy::Cidr> vendor_addresses(const policy::Vendor& v, const std::vector<policy::Ipv4>& resolved) {
    std::vector<policy::Cidr> out;
    for (const auto& h : v.hosts)
        if (h.address) out.push_back(*h.address);
    for (auto a : resolved) out.push_back(policy::Cidr{a, 32});
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    std::erase_if(out, [&](const policy::Cidr& c) {
        return std::any_of(out.begin(), out.end(), [&](const policy::Cidr& o) { return o != c && o.contains(c); });
    });
    return out;
}

ElementKey key_of(const ruleset::Element& e) {
    ElementKey k = e.key;
    for (auto& v : k)
        if (const auto* c = std::get_if<policy::Cidr>(&v); c && c->is_host()) v = ruleset::Value{c->addr};
    return k;
}

Elements desired_elements(const WindowSet& set, const policy::Policy& p, const VendorAddresses& addresses, Millis now) {
    Elements want;
    const auto t = std::chrono::floor<std::chrono::seconds>(now);
    for (const auto& w : set.windows()) {
        if (!w.is_open() || w.state().open->ends_at <= t) continue;
        const auto* m = p.find_modality(w.modality());
        const auto* v = p.find_vendor(w.vendor());
        const auto* mt = maintenance_of(p, w);
        auto addrs = addresses.find(w.vendor());
        if (!m || !v || !mt || addrs == addresses.end()) continue;
        const std::chrono::milliseconds timeout = w.state().open->ends_at - t;
        Held proto;
        proto.element.timeout_ms = static_cast<std::uint64_t>(timeout.count());
        proto.element.origin = {fmt::format("maintenance window {}/{}", w.modality(), w.vendor()), mt->loc.line, mt->loc.col};
        proto.ends = now + timeout;
        for (const auto& a : addrs->second) {
            for (auto port : v->ports) want_element(want.out, proto, m->ip.addr, a, port);
            for (const auto& ps : mt->inbound) want_element(want.in, proto, m->ip.addr, a, ps.port);
        }
    }
    return want;
}

SetDelta delta(const SetElements& have, const SetElements& want, Millis now) {
    auto timed_out = [&](const Held& h) { return h.ends <= now - 1s; };
    auto same_end = [](Millis a, Millis b) { return (a > b ? a - b : b - a) < 2s; };
    SetDelta d;
    for (const auto& [k, h] : have) {
        if (timed_out(h)) continue;
        auto it = want.find(k);
        if (it == want.end())
            d.remove.push_back(bare(h.element));
        else if (!same_end(it->second.ends, h.ends))
            d.replace.push_back({bare(h.element), it->second.element});
    }
    for (const auto& [k, w] : want) {
        auto it = have.find(k);
        if (it == have.end() || timed_out(it->second)) d.add.push_back(w.element);
    }
    return d;
}

Delta delta(const Elements& have, const Elements& want, Millis now) {
    return {delta(have.out, want.out, now), delta(have.in, want.in, now)};
}

SetElements applied(const SetElements& have, const SetElements& want, const SetDelta& d) {
    std::set<ElementKey> written;
    for (const auto& e : d.add) written.insert(key_of(e));
    for (const auto& r : d.replace) written.insert(key_of(r.to));
    SetElements out = want;
    for (auto& [k, h] : out)
        if (auto it = have.find(k); it != have.end() && !written.contains(k)) h = it->second;
    return out;
}

}  // namespace modgate::windows
