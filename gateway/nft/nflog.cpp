// nfnetlink_log with libmnl: bind a group in packet-copy mode, parse NFULNL_MSG_PACKET records
// and the start of the packet (IPv4/IPv6/ARP headers, TCP/UDP ports). Packets are never trusted:
// every header read is checked against the bytes that arrived.
#include "gateway/nft/nflog.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include <fmt/format.h>

namespace modgate::nft {

namespace {

Result<void> config(int fd, std::uint32_t portid, std::uint32_t seq, std::uint16_t group, std::uint8_t family,
                    const std::function<void(nlmsghdr*)>& attrs) {
    char buf[512];
    auto* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(group);
    attrs(nlh);
    if (::send(fd, nlh, nlh->nlmsg_len, 0) < 0) return std::unexpected(sys_error("nflog config"));
    char rbuf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) return std::unexpected(Error{ETIMEDOUT, "nflog config: no answer", {}});
        ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
        if (n < 0) return std::unexpected(sys_error("nflog config"));
        int len = static_cast<int>(n);
        for (auto* r = reinterpret_cast<const nlmsghdr*>(rbuf); mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
            if (r->nlmsg_type != NLMSG_ERROR || r->nlmsg_seq != seq || r->nlmsg_pid != portid) continue;
            const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r));
            if (err->error) return std::unexpected(sys_error(fmt::format("binding NFLOG group {}", group), -err->error));
            return {};
        }
    }
}

std::string ifname(std::uint32_t index) {
    char name[IF_NAMESIZE] = {};
    if (index && if_indextoname(index, name)) return name;
    return {};
}

std::string ipv4(const std::uint8_t* p) { return fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]); }

std::string ipv6(const std::uint8_t* p) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, p, buf, sizeof buf);
    return buf;
}

void parse_payload(LogRecord& r, const std::uint8_t* p, std::size_t n) {
    if (r.l3_proto == 0 && n >= 1) r.l3_proto = (p[0] >> 4) == 4 ? 0x0800 : (p[0] >> 4) == 6 ? 0x86dd : 0;
    auto ports = [&](const std::uint8_t* l4, std::size_t left) {
        if ((r.l4_proto == IPPROTO_TCP || r.l4_proto == IPPROTO_UDP) && left >= 4) {
            r.sport = static_cast<std::uint16_t>(l4[0] << 8 | l4[1]);
            r.dport = static_cast<std::uint16_t>(l4[2] << 8 | l4[3]);
        }
    };
    switch (r.l3_proto) {
        case 0x0800: {
            if (n < 20 || (p[0] >> 4) != 4) return;
            const std::size_t ihl = (p[0] & 0x0f) * 4u;
            r.length = static_cast<std::uint32_t>(p[2] << 8 | p[3]);
            r.l4_proto = p[9];
            r.src = ipv4(p + 12);
            r.dst = ipv4(p + 16);
            const bool first_fragment = ((p[6] & 0x1f) << 8 | p[7]) == 0;
            if (ihl >= 20 && ihl <= n && first_fragment) ports(p + ihl, n - ihl);
            return;
        }
        case 0x86dd:
            if (n < 40) return;
            r.length = static_cast<std::uint32_t>((p[4] << 8 | p[5]) + 40);
            r.l4_proto = p[6];
            r.src = ipv6(p + 8);
            r.dst = ipv6(p + 24);
            ports(p + 40, n - 40);
            return;
        case 0x0806:
            r.length = static_cast<std::uint32_t>(n);
            // Ethernet/IPv4 ARP only: hlen 6, plen 4.
            if (n >= 28 && p[4] == 6 && p[5] == 4) {
                r.src = ipv4(p + 14);
                r.dst = ipv4(p + 24);
            }
            return;
        default: r.length = static_cast<std::uint32_t>(n);
    }
}

int packet_attr(const nlattr* a, void* data) {
    auto* r = static_cast<LogRecord*>(data);
    const auto be32 = [&] { return mnl_attr_get_payload_len(a) >= 4 ? ntohl(mnl_attr_get_u32(a)) : 0u; };
    switch (mnl_attr_get_type(a)) {
        case NFULA_PACKET_HDR:
            if (mnl_attr_get_payload_len(a) >= sizeof(nfulnl_msg_packet_hdr)) {
                const auto* h = static_cast<const nfulnl_msg_packet_hdr*>(mnl_attr_get_payload(a));
                r->l3_proto = ntohs(h->hw_protocol);
                r->hook = h->hook;
            }
            break;
        case NFULA_PREFIX: {
            const char* s = static_cast<const char*>(mnl_attr_get_payload(a));
            r->prefix.assign(s, strnlen(s, mnl_attr_get_payload_len(a)));
            break;
        }
        case NFULA_IFINDEX_INDEV: r->in_index = be32(); break;
        case NFULA_IFINDEX_OUTDEV: r->out_index = be32(); break;
        case NFULA_IFINDEX_PHYSINDEV: r->phys_in_index = be32(); break;
        case NFULA_IFINDEX_PHYSOUTDEV: r->phys_out_index = be32(); break;
        default: break;
    }
    return MNL_CB_OK;
}

int payload_attr(const nlattr* a, void* data) {
    if (mnl_attr_get_type(a) == NFULA_PAYLOAD) {
        auto* r = static_cast<LogRecord*>(data);
        parse_payload(*r, static_cast<const std::uint8_t*>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a));
    }
    return MNL_CB_OK;
}

}  // namespace

Result<NflogReader> NflogReader::open(std::uint16_t group, std::uint32_t copy_range) {
    NflogReader r;
    r.group_ = group;
    r.fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (r.fd_ < 0) return std::unexpected(sys_error("nflog socket"));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (bind(r.fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return std::unexpected(sys_error("nflog bind"));
    socklen_t len = sizeof sa;
    getsockname(r.fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    int size = 4 << 20;  // bursts of drops while the daemon is busy
    if (setsockopt(r.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(r.fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    auto bind_cmd = config(r.fd_, sa.nl_pid, 1, group, AF_UNSPEC, [](nlmsghdr* nlh) {
        nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
        mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof cmd, &cmd);
    });
    if (!bind_cmd) return std::unexpected(bind_cmd.error());
    auto mode = config(r.fd_, sa.nl_pid, 2, group, AF_UNSPEC, [&](nlmsghdr* nlh) {
        nfulnl_msg_config_mode m{};
        m.copy_range = htonl(copy_range);
        m.copy_mode = NFULNL_COPY_PACKET;
        mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof m, &m);
    });
    if (!mode) return std::unexpected(mode.error());
    // The kernel batches up to 100 records or one second by default; drops should become events
    // at once, so flush every record.
    auto flush = config(r.fd_, sa.nl_pid, 3, group, AF_UNSPEC, [](nlmsghdr* nlh) {
        mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
        mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
    });
    if (!flush) return std::unexpected(flush.error());
    return r;
}

NflogReader::NflogReader(NflogReader&& o) noexcept : fd_(o.fd_), group_(o.group_), dropped_(o.dropped_) { o.fd_ = -1; }

NflogReader& NflogReader::operator=(NflogReader&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) close(fd_);
        fd_ = o.fd_;
        group_ = o.group_;
        dropped_ = o.dropped_;
        o.fd_ = -1;
    }
    return *this;
}

NflogReader::~NflogReader() {
    if (fd_ >= 0) close(fd_);  // closing the socket unbinds the group
}

Result<std::vector<LogRecord>> NflogReader::process_readable() {
    std::vector<LogRecord> out;
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n < 0 && errno == ENOBUFS) {
            ++dropped_;
            continue;
        }
        if (n < 0) return std::unexpected(sys_error("reading NFLOG"));
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
            if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) continue;
            const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
            LogRecord r;
            r.group = ntohs(nfg->res_id);
            r.family = nfg->nfgen_family;
            if (mnl_attr_parse(nlh, sizeof(nfgenmsg), packet_attr, &r) < 0) continue;
            mnl_attr_parse(nlh, sizeof(nfgenmsg), payload_attr, &r);  // after the header: l3_proto known
            r.in_name = ifname(r.in_index);
            r.out_name = ifname(r.out_index);
            r.phys_in_name = ifname(r.phys_in_index);
            r.phys_out_name = ifname(r.phys_out_index);
            out.push_back(std::move(r));
        }
    }
    return out;
}

std::string describe(const LogRecord& r) {
    auto name = [](const std::string& n, std::uint32_t i) { return n.empty() ? std::to_string(i) : n; };
    std::string out = fmt::format("prefix=\"{}\"", r.prefix);
    if (r.phys_in_index) out += " in=" + name(r.phys_in_name, r.phys_in_index);
    else if (r.in_index) out += " in=" + name(r.in_name, r.in_index);
    if (r.phys_out_index) out += " out=" + name(r.phys_out_name, r.phys_out_index);
    else if (r.out_index) out += " out=" + name(r.out_name, r.out_index);
    out += fmt::format(" l3=0x{:04x}", r.l3_proto);
    if (!r.src.empty()) out += fmt::format(" src={} dst={}", r.src, r.dst);
    if (r.l4_proto) out += fmt::format(" proto={}", r.l4_proto);
    if (r.sport || r.dport) out += fmt::format(" sport={} dport={}", r.sport, r.dport);
    out += fmt::format(" len={}", r.length);
    return out;
}

}  // namespace modgate::nft
