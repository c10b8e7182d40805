// NFNLGRP_NFTABLES subscriber. Object notifications are held until the transaction's NEWGEN
// notice, which names the process: a transaction is ours when that pid is ours (the portid of a
// socket we may already have closed is not a reliable test on its own).
#include "gateway/nft/events.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "gateway/nft/kernel_state.hpp"
#include "gateway/nft/netlink.hpp"

namespace modgate::nft {

using K = TableChange::Kind;

const char* to_string(K k) {
    switch (k) {
        case K::table_added: return "table added";
        case K::table_removed: return "table removed";
        case K::chain_added: return "chain added";
        case K::chain_removed: return "chain removed";
        case K::rule_added: return "rule added";
        case K::rule_removed: return "rule removed";
        case K::set_added: return "set added";
        case K::set_removed: return "set removed";
        case K::elements_added: return "elements added";
        case K::elements_removed: return "elements removed";
        case K::lost: return "notifications lost";
    }
    return "?";
}

std::string describe(const TableChange& c) {
    if (c.kind == K::lost) return "notifications lost: state unknown";
    std::string out = fmt::format("{} in {} {}", to_string(c.kind), ruleset::to_string(c.table.family), c.table.name);
    if (!c.object.empty()) out += fmt::format(" ({})", c.object);
    out += c.ours ? " by us" : fmt::format(" by {}", c.process.empty() ? fmt::format("port {}", c.portid) : c.process);
    return out;
}

namespace {

struct Attrs {
    std::string table, object;
    std::uint32_t gen_pid = 0;
    std::string gen_name;
};

int attr_cb(const nlattr* a, void* data) {
    auto* p = static_cast<std::pair<std::uint16_t, Attrs*>*>(data);
    const std::uint16_t msg = p->first;
    Attrs& at = *p->second;
    const auto type = mnl_attr_get_type(a);
    auto str = [&] { return std::string(mnl_attr_get_str(a)); };
    switch (msg) {
        case NFT_MSG_NEWTABLE:
        case NFT_MSG_DELTABLE:
            if (type == NFTA_TABLE_NAME) at.table = str();
            break;
        case NFT_MSG_NEWCHAIN:
        case NFT_MSG_DELCHAIN:
            if (type == NFTA_CHAIN_TABLE) at.table = str();
            if (type == NFTA_CHAIN_NAME) at.object = str();
            break;
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE:
            if (type == NFTA_RULE_TABLE) at.table = str();
            if (type == NFTA_RULE_CHAIN) at.object = str();
            break;
        case NFT_MSG_NEWSET:
        case NFT_MSG_DELSET:
            if (type == NFTA_SET_TABLE) at.table = str();
            if (type == NFTA_SET_NAME) at.object = str();
            break;
        case NFT_MSG_NEWSETELEM:
        case NFT_MSG_DELSETELEM:
            if (type == NFTA_SET_ELEM_LIST_TABLE) at.table = str();
            if (type == NFTA_SET_ELEM_LIST_SET) at.object = str();
            break;
        case NFT_MSG_NEWGEN:
            if (type == NFTA_GEN_PROC_PID) at.gen_pid = ntohl(mnl_attr_get_u32(a));
            if (type == NFTA_GEN_PROC_NAME) at.gen_name = str();
            break;
        default: break;
    }
    return MNL_CB_OK;
}

std::optional<K> kind_of(std::uint16_t msg) {
    switch (msg) {
        case NFT_MSG_NEWTABLE: return K::table_added;
        case NFT_MSG_DELTABLE: return K::table_removed;
        case NFT_MSG_NEWCHAIN: return K::chain_added;
        case NFT_MSG_DELCHAIN: return K::chain_removed;
        case NFT_MSG_NEWRULE: return K::rule_added;
        case NFT_MSG_DELRULE: return K::rule_removed;
        case NFT_MSG_NEWSET: return K::set_added;
        case NFT_MSG_DELSET: return K::set_removed;
        case NFT_MSG_NEWSETELEM: return K::elements_added;
        case NFT_MSG_DELSETELEM: return K::elements_removed;
        default: return std::nullopt;
    }
}

}  // namespace

Result<ChangeMonitor> ChangeMonitor::open(std::vector<TableId> watch) {
    ChangeMonitor m;
    m.watch_ = std::move(watch);
    m.fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
    if (m.fd_ < 0) return std::unexpected(sys_error("netlink socket"));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (bind(m.fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return std::unexpected(sys_error("netlink bind"));
    socklen_t len = sizeof sa;
    getsockname(m.fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    m.own_portid_ = sa.nl_pid;
    int group = NFNLGRP_NFTABLES;
    if (setsockopt(m.fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
        return std::unexpected(sys_error("subscribing to nftables notifications"));
    // An apply of a large ruleset notifies every rule and set; keep room for all of it.
    int size = 16 << 20;
    if (setsockopt(m.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(m.fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return m;
}

ChangeMonitor::ChangeMonitor(ChangeMonitor&& o) noexcept
    : fd_(o.fd_), own_portid_(o.own_portid_), watch_(std::move(o.watch_)), pending_(std::move(o.pending_)), cb_(std::move(o.cb_)) {
    o.fd_ = -1;
}

ChangeMonitor& ChangeMonitor::operator=(ChangeMonitor&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) close(fd_);
        fd_ = o.fd_;
        own_portid_ = o.own_portid_;
        watch_ = std::move(o.watch_);
        pending_ = std::move(o.pending_);
        cb_ = std::move(o.cb_);
        o.fd_ = -1;
    }
    return *this;
}

ChangeMonitor::~ChangeMonitor() {
    if (fd_ >= 0) close(fd_);
}

int ChangeMonitor::fd() const { return fd_; }

Result<std::vector<TableChange>> ChangeMonitor::process_readable() {
    std::vector<TableChange> out;
    std::vector<char> buf(1 << 16);
    auto emit = [&](TableChange c) {
        if (cb_) cb_(c);
        out.push_back(std::move(c));
    };
    for (;;) {
        ssize_t n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n < 0 && errno == ENOBUFS) {  // the kernel dropped notifications
            for (auto& c : pending_) emit(std::move(c));
            pending_.clear();
            emit(TableChange{});
            continue;
        }
        if (n < 0) return std::unexpected(sys_error("reading nftables notifications"));
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
            const auto msg = static_cast<std::uint16_t>(NFNL_MSG_TYPE(nlh->nlmsg_type));
            const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
            Attrs at;
            std::pair<std::uint16_t, Attrs*> ctx{msg, &at};
            mnl_attr_parse(nlh, sizeof(nfgenmsg), attr_cb, &ctx);
            if (msg == NFT_MSG_NEWGEN) {
                const bool ours = at.gen_pid == static_cast<std::uint32_t>(getpid()) || is_own_portid(nlh->nlmsg_pid);
                for (auto& c : pending_) {
                    c.ours = ours || c.ours;
                    c.process = fmt::format("{}[{}]", at.gen_name, at.gen_pid);
                    emit(std::move(c));
                }
                pending_.clear();
                continue;
            }
            auto kind = kind_of(msg);
            auto fam = family_of(nfg->nfgen_family);
            if (!kind || !fam) continue;
            TableId id{*fam, at.table};
            if (!watch_.empty() && std::find(watch_.begin(), watch_.end(), id) == watch_.end()) continue;
            TableChange c;
            c.kind = *kind;
            c.table = std::move(id);
            c.object = std::move(at.object);
            c.portid = nlh->nlmsg_pid;
            c.ours = is_own_portid(nlh->nlmsg_pid);
            pending_.push_back(std::move(c));
        }
    }
    return out;
}

Result<std::vector<TableChange>> ChangeMonitor::wait(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto got = process_readable();
        if (!got || !got->empty()) return got;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return got;
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) return std::unexpected(sys_error("poll"));
    }
}

}  // namespace modgate::nft
