// Semantic checks across the whole policy: names and references, addressing through routers,
// overlapping allows (nothing may bypass DICOM inspection), windows. Every problem is reported.
#include <algorithm>
#include <tuple>
#include <map>
#include <set>

#include <fmt/format.h>

#include "policy/parse.hpp"

namespace modgate::policy::detail {
namespace {

class Validator {
public:
    Validator(Policy& p, const SourceMap& m, Diagnostics& d, bool (*tz)(std::string_view))
        : p_(p), m_(m), d_(d), tz_exists_(tz) {}

    void run() {
        gateway();
        names();
        modalities();
        peers();
        vendors();
        for (auto& a : p_.allows) allow(a);
        overlaps();
        maintenance();
        unused();
        sinks();
    }

private:
    Policy& p_;
    const SourceMap& m_;
    Diagnostics& d_;
    bool (*tz_exists_)(std::string_view);
    std::set<std::size_t> bypass_reported_;

    Loc at(std::string_view key, Loc fallback) const { return m_.get(key, fallback); }

    // Whether an object's address parsed; checks on values that did not are skipped.
    bool ip_ok(const Modality& m) const {
        return m_.ok(fmt::format("modality.{}.ip", &m - p_.modalities.data()));
    }
    bool ip_ok(const Peer& pe) const { return m_.ok(fmt::format("peer.{}.ip", &pe - p_.peers.data())); }

    static std::string where(Loc l) { return fmt::format("line {}", l.line); }

    void gateway() {
        const auto& g = p_.gateway;
        if (!g.modality_port.empty() && g.modality_port == g.network_port)
            d_.error(at("gateway.network_port", g.loc), "[gateway]: modality_port and network_port are the same interface",
                     "the modality port faces the modality, the network port faces the hospital LAN");
        for (const auto* port : {&g.modality_port, &g.network_port})
            if (!port->empty() && *port == g.bridge)
                d_.error(at(port == &g.modality_port ? "gateway.modality_port" : "gateway.network_port", g.loc),
                         fmt::format("[gateway]: port '{}' is the bridge itself", *port));
        if (g.management) {
            const auto& mg = *g.management;
            if (mg.interface == g.modality_port || mg.interface == g.network_port || mg.interface == g.bridge)
                d_.error(at("gateway.management.interface", mg.loc),
                         fmt::format("[gateway.management]: interface '{}' is part of the bridge", mg.interface),
                         "management must be out of band: a separate interface");
            if (mg.router && m_.ok("gateway.management.address") && !mg.address.network().contains(*mg.router))
                d_.error(at("gateway.management.router", mg.loc),
                         fmt::format("[gateway.management]: router {} is outside {}", mg.router->str(),
                                     mg.address.network().str()));
            for (const auto& m : p_.modalities)
                if (ip_ok(m) && m_.ok("gateway.management.address") && m.ip.network().overlaps(mg.address.network()))
                    d_.warning(at("gateway.management.address", mg.loc),
                               fmt::format("[gateway.management]: address {} shares a network with modality '{}'",
                                           mg.address.str(), m.name),
                               "keep management out of band, on a network of its own");
        }
        if (g.mode == Mode::learn)
            d_.error(at("gateway.mode", g.loc), "[gateway]: mode \"learn\" is not available in this version",
                     "use \"enforce\" (or \"island\" to cut everything)");
    }

    void names() {
        std::map<std::string, std::pair<std::string, Loc>> seen;
        auto check = [&](const std::string& name, const char* kind, std::string key, Loc fallback) {
            if (name.empty()) return;
            Loc l = at(key, fallback);
            auto [it, fresh] = seen.try_emplace(name, kind, l);
            if (!fresh)
                d_.error(l, fmt::format("{} name '{}' is already used by a {}", kind, name, it->second.first),
                         fmt::format("names must be unique; the first is at {}", where(it->second.second)));
        };
        for (std::size_t i = 0; i < p_.modalities.size(); ++i)
            check(p_.modalities[i].name, "modality", fmt::format("modality.{}.name", i), p_.modalities[i].loc);
        for (std::size_t i = 0; i < p_.peers.size(); ++i)
            check(p_.peers[i].name, "peer", fmt::format("peer.{}.name", i), p_.peers[i].loc);
        for (std::size_t i = 0; i < p_.vendors.size(); ++i)
            check(p_.vendors[i].name, "vendor", fmt::format("vendor.{}.name", i), p_.vendors[i].loc);
    }

    void modalities() {
        std::map<Ipv4, std::size_t> by_ip;
        std::map<Mac, std::size_t> by_mac;
        for (std::size_t i = 0; i < p_.modalities.size(); ++i) {
            const auto& m = p_.modalities[i];
            if (ip_ok(m)) {
                auto [it, fresh] = by_ip.try_emplace(m.ip.addr, i);
                if (!fresh)
                    d_.error(at(fmt::format("modality.{}.ip", i), m.loc),
                             fmt::format("modality '{}': address {} is already modality '{}'", m.name, m.ip.addr.str(),
                                         p_.modalities[it->second].name),
                             "each modality needs its own address");
                auto net = m.ip.network();
                if (m.ip.addr == net.addr || m.ip.addr == net.last())
                    d_.error(at(fmt::format("modality.{}.ip", i), m.loc),
                             fmt::format("modality '{}': {} is the network or broadcast address of {}", m.name,
                                         m.ip.addr.str(), net.str()));
            }
            if (m_.ok(fmt::format("modality.{}.mac", i))) {
                auto [it, fresh] = by_mac.try_emplace(m.mac, i);
                if (!fresh)
                    d_.error(at(fmt::format("modality.{}.mac", i), m.loc),
                             fmt::format("modality '{}': MAC {} is already modality '{}'", m.name, m.mac.str(),
                                         p_.modalities[it->second].name));
            }
            if (m.router && ip_ok(m)) {
                auto l = at(fmt::format("modality.{}.router", i), m.loc);
                if (!m.ip.network().contains(*m.router))
                    d_.error(l, fmt::format("modality '{}': router {} is outside its network {}", m.name,
                                            m.router->str(), m.ip.network().str()),
                             "the router must be on the modality's own subnet");
                else if (*m.router == m.ip.addr)
                    d_.error(l, fmt::format("modality '{}': router {} is the modality's own address", m.name,
                                            m.router->str()));
            }
        }
    }

    void peers() {
        for (std::size_t i = 0; i < p_.peers.size(); ++i) {
            const auto& pe = p_.peers[i];
            if (!ip_ok(pe)) continue;
            for (const auto& m : p_.modalities)
                if (ip_ok(m) && pe.address.contains(m.ip.addr))
                    d_.error(at(fmt::format("peer.{}.ip", i), pe.loc),
                             fmt::format("peer '{}': {} includes modality '{}' ({})", pe.name, pe.address.str(), m.name,
                                         m.ip.addr.str()),
                             "a modality is never its own peer; narrow the peer's network");
        }
    }

    void vendors() {
        bool has_dns = p_.gateway.management && !p_.gateway.management->dns.empty();
        for (const auto& v : p_.vendors)
            for (const auto& h : v.hosts)
                if (!h.fqdn.empty() && !has_dns) {
                    d_.error(h.loc, fmt::format("vendor '{}': host name '{}' cannot be resolved: [gateway.management] has no dns servers",
                                                v.name, h.fqdn),
                             "add dns = [\"...\"] under [gateway.management], or give the vendor's addresses");
                    return;
                }
    }

    template <class T>
    std::string suggest(const std::string& name, const std::vector<T>& v) const {
        std::vector<std::string_view> names;
        for (const auto& x : v) names.push_back(x.name);
        auto c = closest(name, names);
        return c.empty() ? std::string{} : fmt::format("did you mean '{}'?", c);
    }

    void allow(Allow& a) {
        auto key = [&](const char* f) { return fmt::format("allow.{}.{}", a.index, f); };
        auto what = fmt::format("allow '{}'", a.name);
        const Modality* m = a.modality.empty() ? nullptr : p_.find_modality(a.modality);
        if (!a.modality.empty() && !m)
            d_.error(at(key("modality"), a.loc), fmt::format("{}: no modality named '{}'", what, a.modality),
                     suggest(a.modality, p_.modalities));
        const Peer* pe = a.peer.empty() ? nullptr : p_.find_peer(a.peer);
        if (!a.peer.empty() && !pe) {
            std::string hint = suggest(a.peer, p_.peers);
            if (p_.find_vendor(a.peer)) hint = "vendors are reached only inside [[maintenance]] windows";
            if (p_.find_modality(a.peer)) hint = "modalities do not talk to each other through modgate";
            d_.error(at(key("peer"), a.loc), fmt::format("{}: no peer named '{}'", what, a.peer), hint);
        }
        if (!m || !pe) return;

        if (a.service == Service::dicom) {
            if (!pe->dicom || pe->dicom->ae_title.empty())
                d_.error(at(key("peer"), a.loc),
                         fmt::format("{}: peer '{}' has no dicom.ae_title", what, pe->name),
                         fmt::format("add dicom = {{ ae_title = \"...\", port = 104 }} to peer '{}'", pe->name));
            if (a.direction == Direction::outbound) {
                if (pe->dicom) a.ports = {{Proto::tcp, pe->dicom->port}};
            } else if (!m->dicom) {
                d_.error(at(key("modality"), a.loc),
                         fmt::format("{}: modality '{}' has no dicom table, so nothing can call it", what, m->name),
                         "add dicom = { ae_title = \"...\", port = 104 } to the modality");
            } else {
                a.ports = {{Proto::tcp, m->dicom->port}};
            }
        }
        if (a.service == Service::tls && a.tls_sni.empty())
            d_.error(at(key("service"), a.loc), fmt::format("{}: service \"tls\" needs tls_sni patterns", what),
                     "list the server names the modality may connect to, or use service \"tcp\"");

        // Addressing: an off-subnet peer is reached through the modality's router.
        if (ip_ok(*m) && ip_ok(*pe)) {
            auto net = m->ip.network();
            if (!net.contains(pe->address) && !m->router)
                d_.error(at(key("peer"), a.loc),
                         fmt::format("{}: peer '{}' ({}) is outside {}'s network {} and '{}' has no router", what,
                                     pe->name, pe->address.str(), m->name, net.str(), m->name),
                         fmt::format("add router = \"...\" to modality '{}'", m->name));
        }
    }

    // Two allows of one modality and direction whose flows meet.
    void overlaps() {
        auto& v = p_.allows;
        // Only allows of the same modality and direction can meet: compare within those groups.
        std::map<std::pair<std::string, Direction>, std::vector<std::size_t>> groups;
        for (std::size_t i = 0; i < v.size(); ++i) groups[{v[i].modality, v[i].direction}].push_back(i);
        std::vector<std::pair<std::size_t, std::size_t>> pairs;
        for (const auto& [key, idx] : groups)
            for (std::size_t x = 0; x < idx.size(); ++x)
                for (std::size_t y = 0; y < x; ++y) pairs.emplace_back(idx[y], idx[x]);
        std::sort(pairs.begin(), pairs.end(), [](auto& l, auto& r) { return std::tie(l.second, l.first) < std::tie(r.second, r.first); });
        for (auto [i, j] : pairs) {
            {
                const auto& a = v[i];
                const auto& b = v[j];
                const Peer* pa = p_.find_peer(a.peer);
                const Peer* pb = p_.find_peer(b.peer);
                if (!pa || !pb || !ip_ok(*pa) || !ip_ok(*pb) || !pa->address.overlaps(pb->address)) continue;
                bool ports_meet = std::any_of(a.ports.begin(), a.ports.end(), [&](const PortSpec& x) {
                    return std::find(b.ports.begin(), b.ports.end(), x) != b.ports.end();
                });
                if (!ports_meet) continue;
                report_overlap(a, *pa, b, *pb);
            }
        }
    }

    static bool relay_kind_udp(Service s) { return s == Service::udp || s == Service::ntp || s == Service::dns; }

    void report_overlap(const Allow& a, const Peer& pa, const Allow& b, const Peer& pb) {
        Loc lb = at(fmt::format("allow.{}.service", b.index), b.loc);
        auto first = fmt::format("allow '{}' at {}", a.name, where(a.loc));
        bool a_dicom = a.service == Service::dicom, b_dicom = b.service == Service::dicom;
        if (a_dicom != b_dicom) {
            const Allow& raw = a_dicom ? b : a;
            const Allow& dic = a_dicom ? a : b;
            if (!bypass_reported_.insert(raw.index).second) return;
            d_.error(at(fmt::format("allow.{}.service", raw.index), raw.loc),
                     fmt::format("allow '{}': service \"{}\" covers the same modality, peer and port as dicom allow '{}'; "
                                 "it would bypass DICOM inspection",
                                 raw.name, to_string(raw.service), dic.name),
                     "remove it: DICOM traffic must go through the dicom allow");
            return;
        }
        bool same_handler = a.service == b.service || (relay_kind_udp(a.service) && relay_kind_udp(b.service));
        if (!same_handler) {
            d_.error(lb, fmt::format("allow '{}': service \"{}\" conflicts with service \"{}\" of {} for the same flows",
                                     b.name, to_string(b.service), to_string(a.service), first),
                     "one flow can have only one handler");
            return;
        }
        bool same_params = a.dimse == b.dimse && a.transfer_syntaxes == b.transfer_syntaxes &&
                           a.max_pdu == b.max_pdu && a.max_associations == b.max_associations &&
                           a.tls_sni == b.tls_sni &&
                           std::equal(a.sop_classes.begin(), a.sop_classes.end(), b.sop_classes.begin(),
                                      b.sop_classes.end(),
                                      [](const SopClass& x, const SopClass& y) { return x.uid == y.uid; });
        if (!same_params) {
            d_.error(lb, fmt::format("allow '{}' overlaps {} with different settings", b.name, first),
                     "merge them into one allow, or make their peers or ports disjoint");
            return;
        }
        if (pa.address == pb.address && a.ports == b.ports)
            d_.warning(lb, fmt::format("allow '{}' duplicates {}", b.name, first), "remove one of them");
        else if (pa.address.contains(pb.address))
            d_.warning(lb, fmt::format("allow '{}' is shadowed by {}, which covers all its flows", b.name, first),
                       "remove the narrower allow, or narrow the wider one");
        else
            d_.warning(lb, fmt::format("allow '{}' overlaps {}", b.name, first));
    }

    void maintenance() {
        std::map<std::pair<std::string, std::string>, Loc> seen;
        for (std::size_t i = 0; i < p_.maintenance.size(); ++i) {
            auto& w = p_.maintenance[i];
            auto key = [&](const char* f) { return fmt::format("maintenance.{}.{}", i, f); };
            auto what = fmt::format("maintenance '{}/{}'", w.modality, w.vendor);
            if (!w.modality.empty() && !p_.find_modality(w.modality))
                d_.error(at(key("modality"), w.loc), fmt::format("{}: no modality named '{}'", what, w.modality),
                         suggest(w.modality, p_.modalities));
            if (!w.vendor.empty() && !p_.find_vendor(w.vendor))
                d_.error(at(key("vendor"), w.loc), fmt::format("{}: no vendor named '{}'", what, w.vendor),
                         suggest(w.vendor, p_.vendors));
            auto [it, fresh] = seen.try_emplace({w.modality, w.vendor}, w.loc);
            if (!fresh)
                d_.error(w.loc, fmt::format("{}: a second window for the same modality and vendor", what),
                         fmt::format("merge its schedule into the one at {}", where(it->second)));
            if (!tz_exists_(w.timezone))
                d_.error(at(key("timezone"), w.loc), fmt::format("{}: unknown time zone '{}'", what, w.timezone),
                         "use an IANA name such as \"Europe/Berlin\" or \"UTC\"");
            if (w.schedule.empty() && !w.on_demand)
                d_.warning(w.loc, fmt::format("{}: no schedule and on_demand = false: the window can never open", what));
            if (const auto* m = p_.find_modality(w.modality); m && ip_ok(*m) && !m->router)
                if (const auto* v = p_.find_vendor(w.vendor))
                    for (const auto& h : v->hosts)
                        if (!h.address || !m->ip.network().contains(*h.address)) {
                            d_.error(at(key("vendor"), w.loc),
                                     fmt::format("{}: vendor '{}' is outside {}'s network and '{}' has no router", what,
                                                 v->name, m->name, m->name),
                                     fmt::format("add router = \"...\" to modality '{}'", m->name));
                            break;
                        }
        }
    }

    // Only stderr (journald) and file sinks in logfmt exist in this version; say so rather than
    // silently dropping what the operator asked for.
    void sinks() {
        for (const auto& sk : p_.logging.sinks) {
            if (sk.type == SinkType::syslog || sk.type == SinkType::journald)
                d_.warning(sk.loc, fmt::format("[[logging.sink]]: type \"{}\" is not available in this version; events go to stderr (journald)",
                                               sk.type == SinkType::syslog ? "syslog" : "journald"),
                           "use type = \"file\" or \"stderr\" for now");
            else if (sk.format != SinkFormat::logfmt)
                d_.warning(sk.loc, "[[logging.sink]]: only format \"logfmt\" is available in this version; this sink writes logfmt");
        }
    }

    void unused() {
        for (std::size_t i = 0; i < p_.modalities.size(); ++i) {
            const auto& m = p_.modalities[i];
            if (m.name.empty()) continue;
            bool used = std::any_of(p_.allows.begin(), p_.allows.end(), [&](const Allow& a) { return a.modality == m.name; });
            if (!used)
                d_.warning(at(fmt::format("modality.{}.name", i), m.loc),
                           fmt::format("modality '{}' has no allow: it is fully isolated", m.name),
                           "add [[allow]] entries for the flows it needs (DICOM to PACS, NTP, DNS, ...)");
        }
        for (std::size_t i = 0; i < p_.peers.size(); ++i) {
            const auto& pe = p_.peers[i];
            if (pe.name.empty()) continue;
            bool used = std::any_of(p_.allows.begin(), p_.allows.end(), [&](const Allow& a) { return a.peer == pe.name; });
            if (!used)
                d_.warning(at(fmt::format("peer.{}.name", i), pe.loc),
                           fmt::format("peer '{}' is not used by any allow", pe.name));
        }
    }
};

}  // namespace

void validate(Policy& p, const SourceMap& locs, Diagnostics& d, bool (*tz_exists)(std::string_view)) {
    Validator(p, locs, d, tz_exists).run();
}

}  // namespace modgate::policy::detail
