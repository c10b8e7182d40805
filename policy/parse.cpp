// TOML text -> Policy: reads every section with types and per-value checks (addresses, MACs, AE
// titles, ports, durations, names), recording where each value stands for later messages.
#include "policy/parse.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "policy/host_name.hpp"
#include "policy/sop_classes.hpp"
#include "policy/toml_reader.hpp"

namespace modgate::policy::detail {
namespace {

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 32) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

bool valid_ifname(std::string_view s) {
    if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isgraph(static_cast<unsigned char>(c)) && c != '/' && c != ':' && c != '"' && c != '*';
    });
}

// Why an AE title is invalid, or empty when it is fine (PS3.5: 16 chars of the default
// repertoire, no backslash or control characters, not all spaces).
std::string ae_title_problem(std::string_view s) {
    if (s.empty()) return "is empty";
    if (s.size() > 16) return fmt::format("has {} characters; AE titles have at most 16", s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) return "contains a control or non-ASCII character";
        if (c == '\\') return "contains a backslash";
    }
    if (std::all_of(s.begin(), s.end(), [](char c) { return c == ' '; })) return "is all spaces";
    return {};
}

// A fully qualified host name: the shared rule (policy/host_name.hpp) plus at least one dot.
bool valid_fqdn(std::string_view s) { return s.find('.') != std::string_view::npos && is_host_name(s); }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

class Parser {
public:
    Parser(Policy& p, SourceMap& m, Diagnostics& d) : p_(p), m_(m), d_(d) {}

    void run(const toml::table& root) {
        TableReader r(root, d_, "policy");
        if (const auto* g = r.subtable("gateway", true)) gateway(*g);
        if (const auto* l = r.subtable("logging")) logging(*l);
        each(r, "modality", [&](TableReader& t, std::size_t i) { modality(t, i); });
        each(r, "peer", [&](TableReader& t, std::size_t i) { peer(t, i); });
        each(r, "vendor", [&](TableReader& t, std::size_t i) { vendor(t, i); });
        each(r, "allow", [&](TableReader& t, std::size_t i) { allow(t, i); });
        each(r, "maintenance", [&](TableReader& t, std::size_t i) { maintenance(t, i); });
        r.finish();
    }

private:
    Policy& p_;
    SourceMap& m_;
    Diagnostics& d_;

    template <class F>
    void each(TableReader& r, std::string_view key, F&& f) {
        const auto* arr = r.array_of_tables(key);
        if (!arr) return;
        for (std::size_t i = 0; i < arr->size(); ++i) {
            TableReader t(*arr->get(i)->as_table(), d_, fmt::format("{} #{}", key, i + 1));
            f(t, i);
            t.finish();
        }
    }

    void note(std::string key, Loc l) { m_.at[std::move(key)] = l; }

    // Reads `name`, checks its syntax and renames the reader to "KIND 'name'".
    std::string name(TableReader& t, std::string_view kind, std::string_view map_prefix) {
        auto n = t.string("name", true);
        if (!n) return {};
        note(fmt::format("{}.name", map_prefix), t.loc("name"));
        if (!valid_name(*n)) {
            d_.error(t.loc("name"), fmt::format("{}: name '{}' is not valid", t.what(), *n),
                     "use 1-32 letters, digits, '-', '_' or '.'");
            return *n;
        }
        t.rename(fmt::format("{} '{}'", kind, *n));
        return *n;
    }

    std::optional<Ipv4> ipv4(TableReader& t, std::string_view key, bool required = false) {
        auto s = t.string(key, required);
        if (!s) return std::nullopt;
        auto a = Ipv4::parse(*s);
        if (!a) d_.error(t.loc(key), fmt::format("{}: '{}' is not an IPv4 address", t.what(), *s), "write it as a.b.c.d");
        return a;
    }

    std::optional<Mac> mac(TableReader& t, std::string_view key, bool required = false) {
        auto s = t.string(key, required);
        if (!s) return std::nullopt;
        auto m = Mac::parse(*s);
        if (!m) {
            d_.error(t.loc(key), fmt::format("{}: '{}' is not a MAC address", t.what(), *s),
                     "write six hex pairs: 00:16:3e:12:34:56");
        } else if (m->is_multicast() || m->is_zero()) {
            d_.error(t.loc(key), fmt::format("{}: '{}' is not a unicast MAC address", t.what(), *s));
            return std::nullopt;
        }
        return m;
    }

    std::string ifname(TableReader& t, std::string_view key, bool required, std::string fallback = {}) {
        auto s = t.string(key, required);
        if (!s) return fallback;
        if (!valid_ifname(*s))
            d_.error(t.loc(key), fmt::format("{}: '{}' is not a valid interface name", t.what(), *s),
                     "interface names have 1-15 characters, no '/', ':' or spaces");
        return *s;
    }

    std::optional<Seconds> duration(TableReader& t, std::string_view key, Seconds max) {
        auto s = t.string(key);
        if (!s) return std::nullopt;
        auto v = parse_duration(*s);
        if (!v || v->count() == 0) {
            d_.error(t.loc(key), fmt::format("{}: '{}' is not a duration", t.what(), *s),
                     "write e.g. \"30s\", \"15m\", \"4h\" or \"1h30m\"");
            return std::nullopt;
        }
        if (*v > max) {
            d_.error(t.loc(key), fmt::format("{}: '{}' is {}, more than the maximum {}", t.what(), key,
                                             format_duration(*v), format_duration(max)));
            return std::nullopt;
        }
        return v;
    }

    std::string ae_title(TableReader& t, std::string_view key, bool required) {
        auto s = t.string(key, required);
        if (!s) return {};
        if (auto why = ae_title_problem(*s); !why.empty())
            d_.error(t.loc(key), fmt::format("{}: AE title '{}' {}", t.what(), *s, why),
                     "AE titles are 1-16 printable characters without backslash");
        return *s;
    }

    std::optional<DicomEndpoint> dicom_endpoint(TableReader& parent, std::string_view prefix, bool ae_required) {
        const auto* sub = parent.subtable("dicom");
        if (!sub) return std::nullopt;
        TableReader t(*sub, d_, parent.what() + " dicom");
        DicomEndpoint e;
        e.loc = t.loc();
        e.ae_title = ae_title(t, "ae_title", ae_required);
        note(fmt::format("{}.dicom.ae_title", prefix), t.loc("ae_title"));
        if (auto port = t.integer("port", 1, 65535)) e.port = static_cast<std::uint16_t>(*port);
        t.finish();
        return e;
    }

    void limits(TableReader& t, Limits& l) {
        if (auto v = t.integer("max_associations", 1, 10000)) l.max_associations = static_cast<std::uint32_t>(*v);
        if (auto v = t.integer("max_connections", 1, 100000)) l.max_connections = static_cast<std::uint32_t>(*v);
    }

    void gateway(const toml::table& tbl) {
        TableReader t(tbl, d_, "[gateway]");
        auto& g = p_.gateway;
        g.loc = t.loc();
        g.bridge = ifname(t, "bridge", false, "br0");
        g.modality_port = ifname(t, "modality_port", true);
        g.network_port = ifname(t, "network_port", true);
        note("gateway.bridge", t.loc("bridge"));
        note("gateway.modality_port", t.loc("modality_port"));
        note("gateway.network_port", t.loc("network_port"));
        if (auto m = t.string("mode")) {
            note("gateway.mode", t.loc("mode"));
            if (*m == "enforce") g.mode = Mode::enforce;
            else if (*m == "learn") g.mode = Mode::learn;
            else if (*m == "island") g.mode = Mode::island;
            else
                d_.error(t.loc("mode"), fmt::format("[gateway]: unknown mode '{}'", *m),
                         "mode is one of \"enforce\", \"learn\", \"island\"");
        }
        if (auto m = mac(t, "bridge_mac")) g.bridge_mac = *m;
        if (auto v = t.integer("proxy_port", 1, 65535)) g.proxy_port = static_cast<std::uint16_t>(*v);
        if (auto s = t.string("admin_group")) g.admin_group = *s;
        if (const auto* mg = t.subtable("management")) management(*mg);
        if (const auto* dl = t.subtable("drop_log")) {
            TableReader r(*dl, d_, "[gateway.drop_log]");
            if (auto v = r.integer("rate", 1, 100000)) g.drop_log.rate = static_cast<std::uint32_t>(*v);
            if (auto v = r.integer("burst", 1, 100000)) g.drop_log.burst = static_cast<std::uint32_t>(*v);
            if (auto v = r.integer("group", 0, 65535)) g.drop_log.group = static_cast<std::uint16_t>(*v);
            r.finish();
        }
        if (const auto* dc = t.subtable("dicom")) {
            TableReader r(*dc, d_, "[gateway.dicom]");
            auto& to = g.dicom;
            const Seconds day{86400}, week{7 * 86400};
            if (auto v = duration(r, "artim", Seconds{600})) to.artim = *v;
            if (auto v = duration(r, "idle", day)) to.idle = *v;
            if (auto v = duration(r, "max_association", week)) to.max_association = *v;
            if (auto v = duration(r, "write", Seconds{3600})) to.write = *v;
            if (auto v = duration(r, "connect", Seconds{600})) to.connect = *v;
            r.finish();
        }
        t.finish();
    }

    void management(const toml::table& tbl) {
        TableReader t(tbl, d_, "[gateway.management]");
        Management m;
        m.loc = t.loc();
        m.interface = ifname(t, "interface", true);
        note("gateway.management.interface", t.loc("interface"));
        if (auto s = t.string("address", true)) {
            note("gateway.management.address", t.loc("address"));
            auto a = IfAddr::parse(*s);
            if (!a || a->len == 32 || a->len < 8) {
                d_.error(t.loc("address"), fmt::format("[gateway.management]: '{}' is not an address with prefix length", *s),
                         "write it as a.b.c.d/len, e.g. 10.99.0.5/24");
                m_.invalid.insert("gateway.management.address");
            } else
                m.address = *a;
        }
        m.router = ipv4(t, "router");
        note("gateway.management.router", t.loc("router"));
        if (auto dns = t.strings("dns")) {
            for (auto& [s, l] : *dns) {
                if (auto a = Ipv4::parse(s)) m.dns.push_back(*a);
                else d_.error(l, fmt::format("[gateway.management]: DNS server '{}' is not an IPv4 address", s));
            }
        }
        t.finish();
        p_.gateway.management = std::move(m);
    }

    void logging(const toml::table& tbl) {
        TableReader t(tbl, d_, "[logging]");
        p_.logging.loc = t.loc();
        if (auto lvl = t.string("level")) {
            static constexpr std::string_view levels[] = {"trace", "debug", "info", "warning", "error"};
            if (std::find(std::begin(levels), std::end(levels), *lvl) == std::end(levels))
                d_.error(t.loc("level"), fmt::format("[logging]: unknown level '{}'", *lvl),
                         "level is one of trace, debug, info, warning, error");
            else
                p_.logging.level = *lvl;
        }
        each(t, "sink", [&](TableReader& s, std::size_t) { sink(s); });
        t.finish();
    }

    void sink(TableReader& t) {
        Sink s;
        s.loc = t.loc();
        if (auto type = t.string("type", true)) {
            if (*type == "stderr") s.type = SinkType::stderr_;
            else if (*type == "journald") s.type = SinkType::journald;
            else if (*type == "syslog") s.type = SinkType::syslog;
            else if (*type == "file") s.type = SinkType::file;
            else d_.error(t.loc("type"), fmt::format("{}: unknown sink type '{}'", t.what(), *type),
                          "type is one of stderr, journald, syslog, file");
        }
        if (auto f = t.string("format")) {
            if (*f == "logfmt") s.format = SinkFormat::logfmt;
            else if (*f == "json") s.format = SinkFormat::json;
            else if (*f == "cef") s.format = SinkFormat::cef;
            else if (*f == "rfc5424") s.format = SinkFormat::rfc5424;
            else d_.error(t.loc("format"), fmt::format("{}: unknown format '{}'", t.what(), *f),
                          "format is one of logfmt, json, cef, rfc5424");
        }
        if (auto path = t.string("path")) s.target = *path;
        if (auto addr = t.string("address")) s.target = *addr;
        if (auto tr = t.string("transport")) {
            if (*tr == "udp") s.transport = Proto::udp;
            else if (*tr == "tcp") s.transport = Proto::tcp;
            else d_.error(t.loc("transport"), fmt::format("{}: transport must be \"udp\" or \"tcp\"", t.what()));
        }
        if (s.type == SinkType::file && !t.has("path")) t.missing("path", "a file sink needs path = \"/var/log/...\"");
        if (s.type == SinkType::syslog) {
            if (!t.has("address")) t.missing("address", "a syslog sink needs address = \"host:port\"");
            else if (!valid_host_port(s.target))
                d_.error(t.loc("address"), fmt::format("{}: '{}' is not IPV4:PORT", t.what(), s.target),
                         "write e.g. \"10.99.0.20:514\"");
        }
        p_.logging.sinks.push_back(std::move(s));
    }

    static bool valid_host_port(std::string_view s) {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos || !Ipv4::parse(s.substr(0, colon))) return false;
        auto port = s.substr(colon + 1);
        if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
        auto v = std::stoul(std::string(port));
        return v >= 1 && v <= 65535;
    }

    void modality(TableReader& t, std::size_t i) {
        Modality m;
        m.loc = t.loc();
        auto prefix = fmt::format("modality.{}", i);
        m.name = name(t, "modality", prefix);
        m_.invalid.insert(prefix + ".ip");  // until it parses
        if (auto s = t.string("ip", true)) {
            note(prefix + ".ip", t.loc("ip"));
            auto a = IfAddr::parse(*s);
            if (!a || s->find('/') == std::string::npos)
                d_.error(t.loc("ip"), fmt::format("{}: '{}' is not an address with prefix length", t.what(), *s),
                         "write the modality's address and prefix as configured on it, e.g. \"10.20.30.40/24\"");
            else if (a->len < 8 || a->len > 30)
                d_.error(t.loc("ip"), fmt::format("{}: prefix length /{} is not plausible for a modality", t.what(), a->len),
                         "use the prefix length configured on the modality, between /8 and /30");
            else {
                m.ip = *a;
                m_.invalid.erase(prefix + ".ip");
            }
        }
        if (auto x = mac(t, "mac", true)) m.mac = *x;
        else m_.invalid.insert(prefix + ".mac");
        note(prefix + ".mac", t.loc("mac"));
        m.router = ipv4(t, "router");
        note(prefix + ".router", t.loc("router"));
        m.dicom = dicom_endpoint(t, prefix, true);
        limits(t, m.limits);
        t.string("description");
        p_.modalities.push_back(std::move(m));
    }

    void peer(TableReader& t, std::size_t i) {
        Peer pe;
        pe.loc = t.loc();
        auto prefix = fmt::format("peer.{}", i);
        pe.name = name(t, "peer", prefix);
        m_.invalid.insert(prefix + ".ip");  // until it parses
        if (auto s = t.string("ip", true)) {
            note(prefix + ".ip", t.loc("ip"));
            auto c = Cidr::parse(*s);
            if (!c) {
                auto a = IfAddr::parse(*s);
                d_.error(t.loc("ip"), fmt::format("{}: '{}' is not an IPv4 address or network", t.what(), *s),
                         a ? fmt::format("host bits are set; the network is {}", a->network().str())
                           : std::string("write a.b.c.d or a.b.c.d/len"));
            } else {
                pe.address = *c;
                m_.invalid.erase(prefix + ".ip");
            }
        }
        pe.dicom = dicom_endpoint(t, prefix, false);
        limits(t, pe.limits);
        t.string("description");
        p_.peers.push_back(std::move(pe));
    }

    void vendor(TableReader& t, std::size_t i) {
        Vendor v;
        v.loc = t.loc();
        auto prefix = fmt::format("vendor.{}", i);
        v.name = name(t, "vendor", prefix);
        if (auto hosts = t.strings("hosts", true)) {
            note(prefix + ".hosts", t.loc("hosts"));
            for (auto& [s, l] : *hosts) {
                VendorHost h;
                h.loc = l;
                if (auto c = Cidr::parse(s)) {
                    h.address = *c;
                } else if (valid_fqdn(s) && !std::isdigit(static_cast<unsigned char>(s.back()))) {
                    h.fqdn = lower(s);
                } else {
                    d_.error(l, fmt::format("{}: host '{}' is not a host name, IPv4 address or network", t.what(), s),
                             "write e.g. \"remote.vendor.example\", \"203.0.113.10\" or \"203.0.113.0/28\"");
                    continue;
                }
                v.hosts.push_back(std::move(h));
            }
            if (hosts->empty()) d_.error(t.loc("hosts"), fmt::format("{}: 'hosts' is empty", t.what()));
        }
        if (auto ports = t.integers("ports", 1, 65535)) {
            for (auto& [port, l] : *ports) v.ports.push_back(static_cast<std::uint16_t>(port));
        } else if (!t.has("ports")) {
            v.ports = {443};
        }
        if (auto sni = t.strings("tls_sni")) sni_patterns(t, *sni, v.tls_sni);
        t.string("description");
        p_.vendors.push_back(std::move(v));
    }

    // TLS server name patterns: an exact host name or "*." and a domain, kept lower-case.
    void sni_patterns(TableReader& t, const std::vector<std::pair<std::string, Loc>>& patterns,
                      std::vector<std::string>& out) {
        for (const auto& [s, l] : patterns) {
            std::string_view body = s;
            if (body.starts_with("*.")) body.remove_prefix(2);
            if (!valid_fqdn(body))
                d_.error(l, fmt::format("{}: TLS name pattern '{}' is not valid", t.what(), s),
                         "write an exact name or \"*.\" followed by a domain, e.g. \"*.vendor.example\"");
            else
                out.push_back(lower(s));
        }
    }

    void allow(TableReader& t, std::size_t i) {
        Allow a;
        a.index = i;
        a.loc = t.loc();
        auto prefix = fmt::format("allow.{}", i);
        if (auto n = t.string("name")) {
            if (!valid_name(*n))
                d_.error(t.loc("name"), fmt::format("{}: name '{}' is not valid", t.what(), *n),
                         "use 1-32 letters, digits, '-', '_' or '.'");
            a.name = *n;
        }
        if (auto m = t.string("modality", true)) a.modality = *m;
        note(prefix + ".modality", t.loc("modality"));
        auto to = t.string("to");
        auto from = t.string("from");
        if (to && from) {
            d_.error(t.loc("from"), fmt::format("{}: give either 'to' (the modality opens) or 'from' (the peer opens), not both", t.what()),
                     "write a second [[allow]] for the other direction");
        } else if (!to && !from && !t.has("to") && !t.has("from")) {
            t.missing("to", "name the peer: to = \"pacs\" (the modality opens) or from = \"pacs\" (the peer opens)");
        }
        if (to) {
            a.peer = *to;
            a.direction = Direction::outbound;
            note(prefix + ".peer", t.loc("to"));
        } else if (from) {
            a.peer = *from;
            a.direction = Direction::inbound;
            note(prefix + ".peer", t.loc("from"));
        }
        bool have_service = false;
        if (auto s = t.string("service", true)) {
            note(prefix + ".service", t.loc("service"));
            static constexpr std::pair<std::string_view, Service> services[] = {
                {"dicom", Service::dicom}, {"tcp", Service::tcp}, {"udp", Service::udp},
                {"tls", Service::tls}, {"ntp", Service::ntp}, {"dns", Service::dns}};
            for (auto [n, v] : services)
                if (*s == n) { a.service = v; have_service = true; }
            if (!have_service) {
                std::vector<std::string_view> names;
                for (auto [n, v] : services) names.push_back(n);
                auto guess = closest(*s, names);
                d_.error(t.loc("service"), fmt::format("{}: unknown service '{}'", t.what(), *s),
                         guess.empty() ? "service is one of dicom, tcp, udp, tls, ntp, dns"
                                       : fmt::format("did you mean '{}'?", guess));
            }
        }
        if (a.name.empty() && !a.modality.empty() && !a.peer.empty())
            a.name = a.direction == Direction::outbound
                         ? fmt::format("{}->{}:{}", a.modality, a.peer, to_string(a.service))
                         : fmt::format("{}->{}:{}", a.peer, a.modality, to_string(a.service));
        t.rename(fmt::format("allow '{}'", a.name.empty() ? fmt::format("#{}", i + 1) : a.name));

        auto ports = t.integers("ports", 1, 65535);
        note(prefix + ".ports", t.loc("ports"));
        if (have_service) allow_ports(t, a, ports);
        if (have_service && a.service == Service::dicom) {
            allow_dicom(t, a, prefix);
        } else {
            for (auto key : {"dimse", "sop_classes", "transfer_syntaxes", "max_pdu", "max_associations"})
                if (t.has(key) && have_service)
                    d_.error(t.loc(key), fmt::format("{}: '{}' applies only to service \"dicom\"", t.what(), key));
            t.node("dimse"), t.node("sop_classes"), t.node("transfer_syntaxes"), t.node("max_pdu"),
                t.node("max_associations");
        }
        if (auto sni = t.strings("tls_sni")) {
            if (have_service && a.service != Service::tls)
                d_.error(t.loc("tls_sni"), fmt::format("{}: 'tls_sni' applies only to service \"tls\"", t.what()));
            sni_patterns(t, *sni, a.tls_sni);
        }
        t.string("description");
        p_.allows.push_back(std::move(a));
    }

    void allow_ports(TableReader& t, Allow& a, const std::optional<std::vector<std::pair<std::int64_t, Loc>>>& ports) {
        auto add = [&](Proto p) {
            for (auto& [v, l] : *ports) {
                PortSpec ps{p, static_cast<std::uint16_t>(v)};
                if (std::find(a.ports.begin(), a.ports.end(), ps) != a.ports.end())
                    d_.warning(l, fmt::format("{}: port {} is listed twice", t.what(), v));
                else
                    a.ports.push_back(ps);
            }
        };
        switch (a.service) {
            case Service::tcp:
            case Service::tls:
            case Service::udp:
                if (!ports) {
                    if (!t.has("ports"))
                        t.missing("ports", fmt::format("service \"{}\" needs the ports, e.g. ports = [{}]",
                                                       to_string(a.service), a.service == Service::tls ? 443 : 445));
                    return;
                }
                if (ports->empty()) {
                    d_.error(t.loc("ports"), fmt::format("{}: 'ports' is empty", t.what()));
                    return;
                }
                add(a.service == Service::udp ? Proto::udp : Proto::tcp);
                break;
            case Service::ntp:
            case Service::dns:
            case Service::dicom:
                if (t.has("ports"))
                    d_.error(t.loc("ports"),
                             fmt::format("{}: service \"{}\" has fixed ports; remove 'ports'", t.what(), to_string(a.service)),
                             a.service == Service::dicom
                                 ? "the DICOM port is the peer's dicom.port (or the modality's, for 'from' allows)"
                                 : std::string(a.service == Service::ntp ? "ntp is udp/123" : "dns is udp/53 and tcp/53"));
                if (a.service == Service::ntp) a.ports = {{Proto::udp, 123}};
                if (a.service == Service::dns) a.ports = {{Proto::udp, 53}, {Proto::tcp, 53}};
                break;
        }
    }

    void allow_dicom(TableReader& t, Allow& a, const std::string& prefix) {
        if (auto dimse = t.strings("dimse", true)) {
            note(prefix + ".dimse", t.loc("dimse"));
            static constexpr std::pair<std::string_view, Dimse> names[] = {
                {"C-STORE", Dimse::c_store}, {"C-GET", Dimse::c_get}, {"C-FIND", Dimse::c_find},
                {"C-MOVE", Dimse::c_move}, {"C-ECHO", Dimse::c_echo}, {"N-EVENT-REPORT", Dimse::n_event_report},
                {"N-GET", Dimse::n_get}, {"N-SET", Dimse::n_set}, {"N-ACTION", Dimse::n_action},
                {"N-CREATE", Dimse::n_create}, {"N-DELETE", Dimse::n_delete}};
            for (auto& [s, l] : *dimse) {
                std::string norm;
                for (char c : s) norm += c == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                bool found = false;
                for (auto [n, v] : names) {
                    if (norm != n) continue;
                    found = true;
                    if (std::find(a.dimse.begin(), a.dimse.end(), v) != a.dimse.end())
                        d_.warning(l, fmt::format("{}: {} is listed twice", t.what(), n));
                    else
                        a.dimse.push_back(v);
                }
                if (!found) {
                    std::vector<std::string_view> all;
                    for (auto [n, v] : names) all.push_back(n);
                    auto guess = closest(norm, all);
                    d_.error(l, fmt::format("{}: unknown DIMSE service '{}'", t.what(), s),
                             guess.empty() ? "use C-STORE, C-FIND, C-MOVE, C-GET, C-ECHO, N-ACTION, N-EVENT-REPORT, "
                                             "N-CREATE, N-SET, N-GET or N-DELETE"
                                           : fmt::format("did you mean '{}'?", guess));
                }
            }
            if (dimse->empty()) d_.error(t.loc("dimse"), fmt::format("{}: 'dimse' is empty", t.what()));
        }
        if (auto sops = t.strings("sop_classes")) {
            for (auto& [s, l] : *sops) add_uids(t, l, s, a.sop_classes, true);
        }
        if (std::find(a.dimse.begin(), a.dimse.end(), Dimse::c_echo) != a.dimse.end())
            add_group_silently("Verification", a.sop_classes);
        if (a.sop_classes.empty() && !a.dimse.empty() && !t.has("sop_classes"))
            d_.error(t.loc("dimse"), fmt::format("{}: no SOP classes are allowed", t.what()),
                     "add sop_classes = [\"CT\", ...]; C-ECHO alone implies Verification");
        if (auto tss = t.strings("transfer_syntaxes")) {
            std::vector<SopClass> ts;
            for (auto& [s, l] : *tss) add_uids(t, l, s, ts, false);
            for (auto& x : ts) a.transfer_syntaxes.push_back(x.uid);
        }
        if (auto v = t.integer("max_pdu", 4096, 16 * 1024 * 1024)) a.max_pdu = static_cast<std::uint32_t>(*v);
        if (auto v = t.integer("max_associations", 1, 10000)) a.max_associations = static_cast<std::uint32_t>(*v);
    }

    static void add_group_silently(std::string_view group, std::vector<SopClass>& out) {
        const auto* g = find_sop_class_group(group);
        for (auto uid : g->uids) {
            if (std::none_of(out.begin(), out.end(), [&](const SopClass& s) { return s.uid == uid; }))
                out.push_back({std::string(uid), std::string(g->name)});
        }
    }

    void add_uids(TableReader& t, Loc l, const std::string& s, std::vector<SopClass>& out, bool sop) {
        bool looks_like_uid = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
        });
        const char* kind = sop ? "SOP class" : "transfer syntax";
        if (looks_like_uid) {
            if (!valid_uid(s)) {
                d_.error(l, fmt::format("{}: malformed UID '{}'", t.what(), s),
                         "a UID has at most 64 characters, digits and single dots, no leading zeros");
                return;
            }
            if (std::none_of(out.begin(), out.end(), [&](const SopClass& x) { return x.uid == s; }))
                out.push_back({s, ""});
            return;
        }
        const auto* g = sop ? find_sop_class_group(s) : find_transfer_syntax(s);
        if (!g) {
            std::vector<std::string_view> names;
            for (const auto& x : sop ? sop_class_groups() : transfer_syntax_names()) names.push_back(x.name);
            auto guess = closest(s, names);
            d_.error(l, fmt::format("{}: unknown {} name '{}'", t.what(), kind, s),
                     guess.empty() ? fmt::format("use a name listed in docs/policy.md or a UID such as {}",
                                                 sop ? "1.2.840.10008.5.1.4.1.1.128" : "1.2.840.10008.1.2.1")
                                   : fmt::format("did you mean '{}'?", guess));
            return;
        }
        for (auto uid : g->uids) {
            if (std::none_of(out.begin(), out.end(), [&](const SopClass& x) { return x.uid == uid; }))
                out.push_back({std::string(uid), std::string(g->name)});
        }
    }

    void maintenance(TableReader& t, std::size_t i) {
        Maintenance m;
        m.loc = t.loc();
        auto prefix = fmt::format("maintenance.{}", i);
        if (auto s = t.string("modality", true)) m.modality = *s;
        note(prefix + ".modality", t.loc("modality"));
        if (auto s = t.string("vendor", true)) m.vendor = *s;
        note(prefix + ".vendor", t.loc("vendor"));
        if (!m.modality.empty() && !m.vendor.empty())
            t.rename(fmt::format("maintenance '{}/{}'", m.modality, m.vendor));
        if (auto s = t.string("timezone")) {
            note(prefix + ".timezone", t.loc("timezone"));
            m.timezone = *s;
        }
        if (auto d = duration(t, "max_duration", Seconds{7 * 86400})) m.max_duration = *d;
        note(prefix + ".max_duration", t.loc("max_duration"));
        if (auto sched = t.strings("schedule")) {
            for (auto& [s, l] : *sched) {
                std::string err;
                auto slot = parse_slot(s, err);
                if (!slot) {
                    d_.error(l, fmt::format("{}: schedule '{}' does not parse: {}", t.what(), s, err),
                             "write e.g. \"Sat 02:00-06:00\", \"Mon-Fri 22:00-02:00\" or \"daily 01:00-03:00\"");
                    continue;
                }
                if (Seconds{slot->minutes() * 60} > m.max_duration)
                    d_.error(l, fmt::format("{}: schedule '{}' lasts {}, more than max_duration {}", t.what(), s,
                                            format_duration(Seconds{slot->minutes() * 60}),
                                            format_duration(m.max_duration)),
                             "shorten the slot or raise max_duration");
                m.schedule.push_back(*slot);
            }
        }
        if (auto b = t.boolean("on_demand")) m.on_demand = *b;
        if (auto s = t.string("group")) m.group = *s;
        if (auto b = t.boolean("cut_sessions")) m.cut_sessions = *b;
        if (auto ports = t.integers("inbound_ports", 1, 65535))
            for (auto& [v, l] : *ports) m.inbound.push_back({Proto::tcp, static_cast<std::uint16_t>(v)});
        t.string("description");
        p_.maintenance.push_back(std::move(m));
    }
};

}  // namespace

}  // namespace modgate::policy::detail

namespace modgate::policy {

std::optional<Seconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long long total = 0;
    while (!text.empty()) {
        std::size_t n = 0;
        long long v = 0;
        while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) {
            v = v * 10 + (text[n] - '0');
            if (v > 1'000'000'000) return std::nullopt;
            ++n;
        }
        if (n == 0 || n == text.size()) return std::nullopt;
        switch (text[n]) {
            case 'd': total += v * 86400; break;
            case 'h': total += v * 3600; break;
            case 'm': total += v * 60; break;
            case 's': total += v; break;
            default: return std::nullopt;
        }
        text.remove_prefix(n + 1);
    }
    return Seconds{total};
}

std::string format_duration(Seconds s) {
    auto v = s.count();
    if (v == 0) return "0s";
    std::string out;
    for (auto [size, unit] : {std::pair{86400LL, 'd'}, {3600LL, 'h'}, {60LL, 'm'}, {1LL, 's'}}) {
        if (v >= size) {
            out += fmt::format("{}{}", v / size, unit);
            v %= size;
        }
    }
    return out;
}

}  // namespace modgate::policy

namespace modgate::policy::detail {

bool parse(std::string_view text, const std::string& source, Policy& out, SourceMap& locs, Diagnostics& d) {
    out.source = source;
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& err) {
        const auto& b = err.source().begin;
        d.error(Loc{static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column)},
                fmt::format("TOML syntax: {}", err.description()),
                "nothing else is checked until the syntax is fixed");
        return false;
    }
    Parser(out, locs, d).run(root);
    return true;
}

}  // namespace modgate::policy::detail
