// Synthetic allows for open maintenance windows (see window_flows.hpp).
#include "gateway/proxy/window_flows.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace modgate::proxy {

std::string window_allow_out(const std::string& modality, const std::string& vendor) {
    return fmt::format("{}->{}:window", modality, vendor);
}

std::string window_allow_in(const std::string& modality, const std::string& vendor) {
    return fmt::format("{}->{}:window", vendor, modality);
}

namespace {

WindowFlows::Entry entry_for(const policy::Maintenance& w, const policy::Modality& m, const policy::Vendor& v,
                             const privsep::OpenWindow& open) {
    WindowFlows::Entry e;
    e.modality = w.modality;
    e.vendor = w.vendor;
    e.modality_ptr = &m;
    e.addresses = open.addresses;
    e.ends_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(open.ends_at_ms));
    e.out.name = window_allow_out(w.modality, w.vendor);
    e.out.modality = w.modality;
    e.out.peer = w.vendor;
    e.out.service = v.tls_sni.empty() ? policy::Service::tcp : policy::Service::tls;
    e.out.tls_sni = v.tls_sni;
    for (auto port : v.ports) e.out.ports.push_back({policy::Proto::tcp, port});
    e.in.name = window_allow_in(w.modality, w.vendor);
    e.in.modality = w.modality;
    e.in.peer = w.vendor;
    e.in.direction = policy::Direction::inbound;
    e.in.service = policy::Service::tcp;
    e.in.ports = w.inbound;
    e.peer.name = w.vendor;
    return e;
}

}  // namespace

std::shared_ptr<const WindowFlows> build_window_flows(std::shared_ptr<const PolicyState> state,
                                                      const std::vector<privsep::OpenWindow>& open) {
    auto f = std::make_shared<WindowFlows>();
    f->state = std::move(state);
    const auto& p = f->state->policy;
    for (const auto& o : open) {
        auto w = std::find_if(p.maintenance.begin(), p.maintenance.end(),
                              [&](const policy::Maintenance& m) { return m.modality == o.modality && m.vendor == o.vendor; });
        if (w == p.maintenance.end()) continue;
        const auto* m = p.find_modality(w->modality);
        const auto* v = p.find_vendor(w->vendor);
        if (m && v) f->entries.push_back(entry_for(*w, *m, *v, o));
    }
    return f;
}

std::optional<policy::FlowMatch> match_window(const std::shared_ptr<const WindowFlows>& flows, policy::Ipv4 src,
                                              policy::Ipv4 dst, std::uint16_t port,
                                              std::chrono::system_clock::time_point now,
                                              std::shared_ptr<const void>& keepalive) {
    if (!flows) return std::nullopt;
    auto in_any = [](const std::vector<policy::Cidr>& nets, policy::Ipv4 a) {
        return std::any_of(nets.begin(), nets.end(), [&](const policy::Cidr& c) { return c.contains(a); });
    };
    auto has_port = [](const policy::Allow& a, std::uint16_t p) {
        return std::any_of(a.ports.begin(), a.ports.end(), [&](const policy::PortSpec& s) { return s.port == p; });
    };
    for (const auto& e : flows->entries) {
        if (e.ends_at <= now) continue;
        const auto mip = e.modality_ptr->ip.addr;
        if (src == mip && in_any(e.addresses, dst) && has_port(e.out, port)) {
            keepalive = flows;
            return policy::FlowMatch{&e.out, e.modality_ptr, &e.peer, policy::Direction::outbound};
        }
        if (dst == mip && in_any(e.addresses, src) && has_port(e.in, port)) {
            keepalive = flows;
            return policy::FlowMatch{&e.in, e.modality_ptr, &e.peer, policy::Direction::inbound};
        }
    }
    return std::nullopt;
}

}  // namespace modgate::proxy
