// HostNet over rtnetlink: links (RTM_GETLINK/RTM_NEWLINK), IPv4 routes and rules (new, delete,
// dump) encoded and decoded with libmnl; sysctls through /proc/sys files.
#include <arpa/inet.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <fmt/format.h>

#include "gateway/host/host.hpp"
#include "gateway/host/rtnl.hpp"

namespace modgate::host {
namespace {

using policy::Cidr;
using policy::Ipv4;

std::string ifname(std::uint32_t index) {
    char buf[IF_NAMESIZE] = {};
    return index && if_indextoname(index, buf) ? std::string(buf) : std::string{};
}

void put_ipv4(nlmsghdr* nlh, std::uint16_t type, Ipv4 a) { mnl_attr_put_u32(nlh, type, htonl(a.value)); }

Ipv4 get_ipv4(const nlattr* a) { return Ipv4{ntohl(mnl_attr_get_u32(a))}; }

// Attributes of one message by type; anything shorter than its type needs is left out.
struct Attrs {
    const nlattr* at[64] = {};
    const nlattr* operator[](unsigned t) const { return t < 64 ? at[t] : nullptr; }
};

int keep_attr(const nlattr* a, void* data) {
    auto t = mnl_attr_get_type(a);
    if (t < 64) static_cast<Attrs*>(data)->at[t] = a;
    return MNL_CB_OK;
}

Attrs parse(const nlmsghdr* nlh, std::size_t header) {
    Attrs out;
    mnl_attr_parse(nlh, static_cast<unsigned>(header), keep_attr, &out);
    return out;
}

bool u32_ok(const nlattr* a) { return a && mnl_attr_validate(a, MNL_TYPE_U32) >= 0; }

std::optional<Route> decode_route(const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return std::nullopt;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    if (rtm->rtm_family != AF_INET) return std::nullopt;
    auto a = parse(nlh, sizeof(rtmsg));
    Route r;
    r.table = u32_ok(a[RTA_TABLE]) ? mnl_attr_get_u32(a[RTA_TABLE]) : rtm->rtm_table;
    r.type = rtm->rtm_type == RTN_UNICAST ? Route::Type::unicast
             : rtm->rtm_type == RTN_LOCAL ? Route::Type::local
                                          : Route::Type::other;
    r.dst = Cidr{u32_ok(a[RTA_DST]) ? get_ipv4(a[RTA_DST]) : Ipv4{0}, rtm->rtm_dst_len};
    if (u32_ok(a[RTA_GATEWAY])) r.gateway = get_ipv4(a[RTA_GATEWAY]);
    if (u32_ok(a[RTA_OIF])) r.dev = ifname(mnl_attr_get_u32(a[RTA_OIF]));
    r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
    r.protocol = rtm->rtm_protocol;
    return r;
}

std::optional<Rule> decode_rule(const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWRULE) return std::nullopt;
    const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
    if (frh->family != AF_INET) return std::nullopt;
    auto a = parse(nlh, sizeof(fib_rule_hdr));
    Rule r;
    r.priority = u32_ok(a[FRA_PRIORITY]) ? mnl_attr_get_u32(a[FRA_PRIORITY]) : 0;
    r.action = frh->action == FR_ACT_TO_TBL        ? Rule::Action::lookup
               : frh->action == FR_ACT_UNREACHABLE ? Rule::Action::unreachable
                                                   : Rule::Action::other;
    if (r.action == Rule::Action::lookup) r.table = u32_ok(a[FRA_TABLE]) ? mnl_attr_get_u32(a[FRA_TABLE]) : frh->table;
    if (u32_ok(a[FRA_FWMARK])) r.fwmark = mnl_attr_get_u32(a[FRA_FWMARK]);
    if (u32_ok(a[FRA_SRC])) r.src = Cidr{get_ipv4(a[FRA_SRC]), frh->src_len};
    if (u32_ok(a[FRA_DST])) r.dst = Cidr{get_ipv4(a[FRA_DST]), frh->dst_len};
    if (a[FRA_PROTOCOL] && mnl_attr_validate(a[FRA_PROTOCOL], MNL_TYPE_U8) >= 0)
        r.protocol = mnl_attr_get_u8(a[FRA_PROTOCOL]);
    return r;
}

std::optional<Link> decode_link(const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return std::nullopt;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    auto a = parse(nlh, sizeof(ifinfomsg));
    Link l;
    if (a[IFLA_IFNAME] && mnl_attr_validate(a[IFLA_IFNAME], MNL_TYPE_NUL_STRING) >= 0)
        l.name = mnl_attr_get_str(a[IFLA_IFNAME]);
    if (u32_ok(a[IFLA_MASTER])) l.master = ifname(mnl_attr_get_u32(a[IFLA_MASTER]));
    l.up = (ifi->ifi_flags & IFF_UP) != 0;
    if (a[IFLA_LINKINFO]) {
        Attrs info;
        mnl_attr_parse_nested(a[IFLA_LINKINFO], keep_attr, &info);
        if (info[IFLA_INFO_KIND] && mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) >= 0)
            l.is_bridge = std::strcmp(mnl_attr_get_str(info[IFLA_INFO_KIND]), "bridge") == 0;
    }
    return l;
}

// Scope as `ip route` chooses it: local routes are host scope, routes without a gateway link
// scope. Deletes match any scope.
std::uint8_t scope_of(const Route& r) {
    if (r.type == Route::Type::local) return RT_SCOPE_HOST;
    return r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
}

Status encode_route(nlmsghdr* nlh, const Route& r, bool for_delete) {
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = r.dst.len;
    // Tables above 255 exist only as RTA_TABLE; rtm_table then says RT_TABLE_UNSPEC.
    rtm->rtm_table = static_cast<std::uint8_t>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
    rtm->rtm_protocol = r.protocol;
    rtm->rtm_scope = for_delete ? std::uint8_t{RT_SCOPE_NOWHERE} : scope_of(r);
    rtm->rtm_type = r.type == Route::Type::local ? RTN_LOCAL : RTN_UNICAST;
    rtm->rtm_flags = r.onlink ? RTNH_F_ONLINK : 0;
    if (r.type == Route::Type::other) return std::unexpected(fmt::format("{}: modgate never writes this type", r.str()));
    mnl_attr_put_u32(nlh, RTA_TABLE, r.table);
    if (r.dst.len > 0) put_ipv4(nlh, RTA_DST, r.dst.addr);
    if (r.gateway) put_ipv4(nlh, RTA_GATEWAY, *r.gateway);
    if (!r.dev.empty()) {
        unsigned index = if_nametoindex(r.dev.c_str());
        if (index == 0) return std::unexpected(fmt::format("{}: device {}: {}", r.str(), r.dev, std::strerror(errno)));
        mnl_attr_put_u32(nlh, RTA_OIF, index);
    }
    return {};
}

void encode_rule(nlmsghdr* nlh, const Rule& r) {
    auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
    frh->family = AF_INET;
    frh->action = r.action == Rule::Action::unreachable ? FR_ACT_UNREACHABLE : FR_ACT_TO_TBL;
    mnl_attr_put_u32(nlh, FRA_PRIORITY, r.priority);
    if (r.action == Rule::Action::lookup) {
        frh->table = static_cast<std::uint8_t>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
        mnl_attr_put_u32(nlh, FRA_TABLE, r.table);
    }
    if (r.fwmark) mnl_attr_put_u32(nlh, FRA_FWMARK, *r.fwmark);
    if (r.src) {
        frh->src_len = r.src->len;
        put_ipv4(nlh, FRA_SRC, r.src->addr);
    }
    if (r.dst) {
        frh->dst_len = r.dst->len;
        put_ipv4(nlh, FRA_DST, r.dst->addr);
    }
    mnl_attr_put_u8(nlh, FRA_PROTOCOL, r.protocol);
}

class NetlinkHostNet final : public HostNet {
public:
    explicit NetlinkHostNet(Rtnl nl) : nl_(std::move(nl)) {}

    Result<std::optional<Link>> link(const std::string& name) override;
    Status set_link(const LinkChange& c) override;
    Result<std::vector<Route>> routes() override;
    Status replace_route(const Route& r) override { return route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r); }
    Status delete_route(const Route& r) override { return route(RTM_DELROUTE, 0, r); }
    Result<std::vector<Rule>> rules() override;
    Status add_rule(const Rule& r) override { return rule(RTM_NEWRULE, NLM_F_CREATE, r); }
    Status delete_rule(const Rule& r) override { return rule(RTM_DELRULE, 0, r); }
    std::string read_sysctl(const std::string& path) override { return host::read_sysctl(path); }
    Status write_sysctl(const std::string& path, const std::string& value) override;

private:
    Status route(std::uint16_t type, std::uint16_t flags, const Route& r);
    Status rule(std::uint16_t type, std::uint16_t flags, const Rule& r);
    Rtnl nl_;
};

Result<std::optional<Link>> NetlinkHostNet::link(const std::string& name) {
    auto* nlh = nl_.message(RTM_GETLINK, 0);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
    // Only what decode_link reads: without the stats the answer stays small.
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<Link> out;
    auto s = nl_.request(nlh, "link " + name, [&](const nlmsghdr* m) {
        if (auto l = decode_link(m)) out = std::move(l);
    });
    if (!s && nl_.last_error() == ENODEV) return std::optional<Link>{};
    if (!s) return std::unexpected(s.error());
    return out;
}

Status NetlinkHostNet::set_link(const LinkChange& c) {
    auto* nlh = nl_.message(RTM_NEWLINK, 0);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    if (c.up) {
        ifi->ifi_change |= IFF_UP;
        if (*c.up) ifi->ifi_flags |= IFF_UP;
    }
    if (c.multicast) {
        ifi->ifi_change |= IFF_MULTICAST;
        if (*c.multicast) ifi->ifi_flags |= IFF_MULTICAST;
    }
    mnl_attr_put_strz(nlh, IFLA_IFNAME, c.name.c_str());
    if (c.mac) mnl_attr_put(nlh, IFLA_ADDRESS, c.mac->bytes.size(), c.mac->bytes.data());
    if (c.mcast_snooping) {
        auto* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        auto* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u8(nlh, IFLA_BR_MCAST_SNOOPING, *c.mcast_snooping ? 1 : 0);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
    }
    return nl_.request(nlh, "link " + c.name);
}

Result<std::vector<Route>> NetlinkHostNet::routes() {
    auto* nlh = nl_.message(RTM_GETROUTE, 0);
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    std::vector<Route> out;
    auto s = nl_.dump(nlh, "route dump", [&](const nlmsghdr* m) {
        if (auto r = decode_route(m)) out.push_back(std::move(*r));
    });
    if (!s) return std::unexpected(s.error());
    return out;
}

Result<std::vector<Rule>> NetlinkHostNet::rules() {
    auto* nlh = nl_.message(RTM_GETRULE, 0);
    auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
    frh->family = AF_INET;
    std::vector<Rule> out;
    auto s = nl_.dump(nlh, "rule dump", [&](const nlmsghdr* m) {
        if (auto r = decode_rule(m)) out.push_back(std::move(*r));
    });
    if (!s) return std::unexpected(s.error());
    return out;
}

Status NetlinkHostNet::route(std::uint16_t type, std::uint16_t flags, const Route& r) {
    auto* nlh = nl_.message(type, flags);
    if (auto s = encode_route(nlh, r, type == RTM_DELROUTE); !s) return s;
    return nl_.request(nlh, r.str());
}

Status NetlinkHostNet::rule(std::uint16_t type, std::uint16_t flags, const Rule& r) {
    auto* nlh = nl_.message(type, flags);
    encode_rule(nlh, r);
    return nl_.request(nlh, r.str());
}

Status NetlinkHostNet::write_sysctl(const std::string& path, const std::string& value) {
    std::ofstream f("/proc/sys/" + path);
    if (!f) return std::unexpected(fmt::format("sysctl {}: {}", path, std::strerror(errno)));
    f << value;
    f.flush();
    if (!f) return std::unexpected(fmt::format("sysctl {} = {}: {}", path, value, std::strerror(errno)));
    return {};
}

}  // namespace

Result<std::unique_ptr<HostNet>> open_netlink_host_net() {
    auto nl = Rtnl::open();
    if (!nl) return std::unexpected(nl.error());
    return std::make_unique<NetlinkHostNet>(std::move(*nl));
}

}  // namespace modgate::host
