// Host set-up through sysctl files and iproute2, each step checked and reported with its error.
#include "gateway/host/host.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "gateway/host/command.hpp"
#include "policy/compile.hpp"

namespace modgate::host {
namespace {

namespace fs = std::filesystem;

Status ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    auto r = run_command(args);
    if (!r.ok()) return std::unexpected(fmt::format("`{}` failed: {}", join(args), r.err.empty() ? "no output" : r.err));
    return {};
}

Status write_sysctl(const std::string& path, const std::string& value) {
    std::ofstream f("/proc/sys/" + path);
    if (!f) return std::unexpected(fmt::format("cannot open sysctl {}: {}", path, std::strerror(errno)));
    f << value;
    f.flush();
    if (!f) return std::unexpected(fmt::format("cannot set sysctl {} = {}", path, value));
    return {};
}

bool is_dir(const std::string& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

std::string master_of(const std::string& ifname) {
    std::error_code ec;
    auto target = fs::read_symlink("/sys/class/net/" + ifname + "/master", ec);
    return ec ? std::string{} : target.filename().string();
}

// Rules modgate owns, as `ip rule show` prints them ("200:\tfrom 10.20.30.40 lookup 1000").
std::set<std::string> current_rules() {
    std::set<std::string> out;
    auto r = run_command({"ip", "-4", "rule", "show"});
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        int pref = std::atoi(line.substr(0, colon).c_str());
        if (pref == rule_pref_divert || pref == rule_pref_from || pref == rule_pref_to || pref == rule_pref_block) {
            auto body = line.substr(colon + 1);
            while (!body.empty() && (body.front() == '\t' || body.front() == ' ')) body.erase(0, 1);
            while (!body.empty() && body.back() == ' ') body.pop_back();
            out.insert(fmt::format("{} {}", pref, body));
        }
    }
    return out;
}

}  // namespace

std::string read_sysctl(const std::string& path) {
    std::ifstream f("/proc/sys/" + path);
    std::string v;
    std::getline(f, v);
    return v;
}

bool link_up(const std::string& ifname) {
    std::ifstream f("/sys/class/net/" + ifname + "/flags");
    unsigned flags = 0;
    f >> std::hex >> flags;
    return f && (flags & 0x1);  // IFF_UP
}

Status check_interfaces(const policy::Gateway& g) {
    if (!is_dir("/sys/class/net/" + g.bridge))
        return std::unexpected(fmt::format("bridge '{}' does not exist; create it with its ports (e.g. `ip link add {} type bridge`)",
                                           g.bridge, g.bridge));
    if (!is_dir("/sys/class/net/" + g.bridge + "/bridge"))
        return std::unexpected(fmt::format("'{}' exists but is not a bridge", g.bridge));
    for (const auto& port : {g.modality_port, g.network_port}) {
        if (!is_dir("/sys/class/net/" + port))
            return std::unexpected(fmt::format("bridge port '{}' does not exist", port));
        if (master_of(port) != g.bridge)
            return std::unexpected(fmt::format("'{}' is not a port of bridge '{}' (`ip link set {} master {}`)", port,
                                               g.bridge, port, g.bridge));
    }
    if (g.management && !is_dir("/sys/class/net/" + g.management->interface))
        return std::unexpected(fmt::format("management interface '{}' does not exist", g.management->interface));
    return {};
}

Status set_ports(const policy::Gateway& g, bool up) {
    const char* state = up ? "up" : "down";
    // The bridge itself stays up (routes point at it); without its ports it carries nothing.
    for (const auto& i : {g.modality_port, g.network_port})
        if (auto s = ip({"link", "set", "dev", i, state}); !s) return s;
    return {};
}

Status prepare(const policy::Policy& p) {
    const auto& g = p.gateway;
    // br_netfilter is built in: with these on, inet tproxy answers diverted SYNs with RST.
    for (const char* k : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
                          "net/bridge/bridge-nf-call-arptables"})
        if (auto s = write_sysctl(k, "0"); !s) return s;
    if (auto s = write_sysctl("net/ipv4/ip_forward", "0"); !s) return s;
    for (const auto& i : {g.bridge, g.modality_port, g.network_port}) {
        if (auto s = write_sysctl("net/ipv6/conf/" + i + "/disable_ipv6", "1"); !s) return s;
    }
    // Replies from peers arrive on the bridge with sources the main table routes elsewhere.
    if (auto s = write_sysctl("net/ipv4/conf/" + g.bridge + "/rp_filter", "0"); !s) return s;
    if (read_sysctl("net/ipv4/conf/all/rp_filter") != "0") {
        auto was = read_sysctl("net/ipv4/conf/all/rp_filter");
        if (auto s = write_sysctl("net/ipv4/conf/all/rp_filter", "0"); !s) return s;
        if (g.management) (void)write_sysctl("net/ipv4/conf/" + g.management->interface + "/rp_filter", was);
    }
    // The gateway owns no address on the bridge and must never answer ARP there.
    if (auto s = write_sysctl("net/ipv4/conf/" + g.bridge + "/arp_ignore", "8"); !s) return s;
    if (auto s = ip({"link", "set", "dev", g.bridge, "address", g.bridge_mac.str()}); !s) return s;
    // The gateway joins no multicast groups on the clinical segment (no IGMP reports from it),
    // and the bridge forwards no multicast, so it needs no snooping or querier.
    if (auto s = ip({"link", "set", "dev", g.bridge, "multicast", "off", "type", "bridge", "mcast_snooping", "0"}); !s)
        return s;
    // Routes need the bridge up; with its ports down (first start) it carries nothing yet.
    if (auto s = ip({"link", "set", "dev", g.bridge, "up"}); !s) return s;

    // Desired rules, then routes; stale rules are removed after the new ones exist.
    std::set<std::string> want;
    want.insert(fmt::format("{} from all fwmark 0x{:x} lookup {}", rule_pref_divert, policy::names::proxy_mark,
                            table_local));
    if (auto s = ip({"route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", std::to_string(table_local)}); !s)
        return s;
    for (std::size_t i = 0; i < p.modalities.size(); ++i) {
        const auto& m = p.modalities[i];
        auto table = std::to_string(table_base + static_cast<int>(i));
        if (auto s = ip({"route", "replace", m.ip.network().str(), "dev", g.bridge, "table", table}); !s) return s;
        if (m.router) {
            if (auto s = ip({"route", "replace", "default", "via", m.router->str(), "dev", g.bridge, "onlink", "table", table});
                !s)
                return s;
        } else {
            (void)ip({"route", "del", "default", "table", table});
        }
        want.insert(fmt::format("{} from {} lookup {}", rule_pref_from, m.ip.addr.str(), table));
        want.insert(fmt::format("{} from all to {} lookup {}", rule_pref_to, m.ip.addr.str(), table));
        want.insert(fmt::format("{} from {} unreachable", rule_pref_block, m.ip.addr.str()));
    }
    auto have = current_rules();
    for (const auto& r : want) {
        if (have.contains(r)) continue;
        std::istringstream words(r);
        std::vector<std::string> args{"rule", "add", "pref"};
        for (std::string w; words >> w;) args.push_back(w);
        if (auto s = ip(args); !s) return s;
    }
    for (const auto& r : have) {
        if (want.contains(r)) continue;
        std::istringstream words(r);
        std::vector<std::string> args{"rule", "del", "pref"};
        for (std::string w; words >> w;) args.push_back(w);
        (void)ip(args);
    }
    // Tables of modalities no longer in the policy.
    std::set<int> stale;
    std::istringstream routes(run_command({"ip", "-4", "route", "show", "table", "all"}).out);
    for (std::string line; std::getline(routes, line);) {
        auto at = line.find(" table ");
        if (at == std::string::npos) continue;
        int t = std::atoi(line.c_str() + at + 7);
        if (t >= table_base + static_cast<int>(p.modalities.size()) && t < table_base + 100000) stale.insert(t);
    }
    for (int t : stale) (void)run_command({"ip", "route", "flush", "table", std::to_string(t)});
    return {};
}

}  // namespace modgate::host
