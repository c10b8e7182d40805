// The routing state a policy wants, as plain data, and applying only its difference from what
// the kernel holds under modgate's mark.
#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "gateway/host/host.hpp"
#include "policy/compile.hpp"

namespace modgate::host {
namespace {

Route our_route(std::uint32_t table, policy::Cidr dst, const std::string& dev) {
    Route r;
    r.table = table;
    r.dst = dst;
    r.dev = dev;
    r.protocol = rt_protocol;
    return r;
}

Rule our_rule(std::uint32_t priority, Rule::Action action, std::uint32_t table) {
    Rule r;
    r.priority = priority;
    r.action = action;
    r.table = table;
    r.protocol = rt_protocol;
    return r;
}

template <class T>
std::vector<T> ours(std::vector<T> all) {
    std::erase_if(all, [](const T& x) { return x.protocol != rt_protocol; });
    return all;
}

void add_modality(HostState& s, const policy::Gateway& g, const policy::Modality& m, std::uint32_t table) {
    s.routes.push_back(our_route(table, m.ip.network(), g.bridge));
    if (m.router) {
        auto& r = s.routes.emplace_back(our_route(table, policy::Cidr{policy::Ipv4{0}, 0}, g.bridge));
        r.gateway = m.router;
        r.onlink = true;  // the router is on the bridge's segment; the bridge has no address there
    }
    const policy::Cidr me{m.ip.addr, 32};
    s.rules.emplace_back(our_rule(rule_pref_from, Rule::Action::lookup, table)).src = me;
    s.rules.emplace_back(our_rule(rule_pref_to, Rule::Action::lookup, table)).dst = me;
    s.rules.emplace_back(our_rule(rule_pref_block, Rule::Action::unreachable, 0)).src = me;
}

// Routes first: a rule never points at a table that is not filled yet.
Status add_missing(const HostState& want, const std::vector<Route>& routes, std::vector<Rule>& rules, HostNet& net) {
    for (const auto& r : want.routes)
        if (std::find(routes.begin(), routes.end(), r) == routes.end())
            if (auto s = net.replace_route(r); !s) return s;
    // Each wanted rule takes one matching rule of ours out of `rules`; what remains is stale.
    for (const auto& r : want.rules) {
        if (auto it = std::find(rules.begin(), rules.end(), r); it != rules.end()) {
            rules.erase(it);
            continue;
        }
        if (auto s = net.add_rule(r); !s) return s;
    }
    return {};
}

}  // namespace

std::string Route::str() const {
    auto what = dst.len == 0 ? std::string("default") : dst.str();
    return fmt::format("route {}{} table {}", type == Type::local ? "local " : "", what, table);
}

std::string Rule::str() const {
    std::string out = fmt::format("rule {}", priority);
    if (fwmark) out += fmt::format(" fwmark {:#x}", *fwmark);
    if (src) out += " from " + src->str();
    if (dst) out += " to " + dst->str();
    if (action == Action::lookup) out += fmt::format(" lookup {}", table);
    if (action == Action::unreachable) out += " unreachable";
    return out;
}

HostState desired_host_state(const policy::Policy& p) {
    HostState s;
    s.routes.emplace_back(our_route(table_local, policy::Cidr{policy::Ipv4{0}, 0}, "lo")).type = Route::Type::local;
    s.rules.emplace_back(our_rule(rule_pref_divert, Rule::Action::lookup, table_local)).fwmark = policy::names::proxy_mark;
    for (std::size_t i = 0; i < p.modalities.size(); ++i)
        add_modality(s, p.gateway, p.modalities[i], table_base + static_cast<std::uint32_t>(i));
    return s;
}

Status apply_host_state(const HostState& want, HostNet& net) {
    auto routes = net.routes();
    if (!routes) return std::unexpected(routes.error());
    auto rules = net.rules();
    if (!rules) return std::unexpected(rules.error());
    auto have_routes = ours(std::move(*routes));
    // Deletes go in one order whatever order the dump came in, so a run that stops half way
    // leaves the same state on every backend.
    std::stable_sort(have_routes.begin(), have_routes.end(),
                     [](const Route& a, const Route& b) { return std::tie(a.table, a.dst) < std::tie(b.table, b.dst); });
    auto stale_rules = ours(std::move(*rules));
    if (auto s = add_missing(want, have_routes, stale_rules, net); !s) return s;
    for (const auto& r : stale_rules)
        if (auto s = net.delete_rule(r); !s) return s;
    // A route of ours whose slot a wanted route now holds was replaced, not left behind.
    for (const auto& r : have_routes) {
        auto wanted = [&](const Route& w) { return w.same_slot(r); };
        if (std::none_of(want.routes.begin(), want.routes.end(), wanted))
            if (auto s = net.delete_route(r); !s) return s;
    }
    return {};
}

}  // namespace modgate::host
