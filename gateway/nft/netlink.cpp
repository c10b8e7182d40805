// Netfilter netlink plumbing with libmnl: the socket, request/dump loops, and the batch that is
// sent as one transaction with its replies drained and mapped back to model objects.
#include "gateway/nft/netlink.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>

#include <fmt/format.h>

namespace modgate::nft {

namespace {

std::mutex own_mutex;
std::set<std::uint32_t>& own_portids() {
    static std::set<std::uint32_t> s;
    return s;
}

void own_add(std::uint32_t p) {
    std::lock_guard lock(own_mutex);
    own_portids().insert(p);
}
void own_remove(std::uint32_t p) {
    std::lock_guard lock(own_mutex);
    own_portids().erase(p);
}

constexpr std::size_t recv_size = 1 << 16;  // above MNL_SOCKET_DUMP_SIZE: dumps never truncate

}  // namespace

bool is_own_portid(std::uint32_t portid) {
    std::lock_guard lock(own_mutex);
    return own_portids().count(portid) != 0;
}

Result<Socket> Socket::open() {
    Socket s;
    s.nl_ = mnl_socket_open(NETLINK_NETFILTER);
    if (!s.nl_) return std::unexpected(sys_error("netlink socket"));
    if (mnl_socket_bind(s.nl_, 0, MNL_SOCKET_AUTOPID) < 0) return std::unexpected(sys_error("netlink bind"));
    // Extended ACKs name the offending attribute; capped ACKs keep error replies small.
    int on = 1;
    mnl_socket_setsockopt(s.nl_, NETLINK_EXT_ACK, &on, sizeof on);
    mnl_socket_setsockopt(s.nl_, NETLINK_CAP_ACK, &on, sizeof on);
    s.portid_ = mnl_socket_get_portid(s.nl_);
    s.seq_ = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    own_add(s.portid_);
    return s;
}

Socket::Socket(Socket&& o) noexcept : nl_(o.nl_), portid_(o.portid_), seq_(o.seq_) { o.nl_ = nullptr; }

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        this->~Socket();
        nl_ = o.nl_;
        portid_ = o.portid_;
        seq_ = o.seq_;
        o.nl_ = nullptr;
    }
    return *this;
}

Socket::~Socket() {
    if (nl_) {
        own_remove(portid_);
        mnl_socket_close(nl_);
    }
}

int Socket::fd() const { return mnl_socket_get_fd(nl_); }

Result<void> Socket::size_buffers(std::size_t send, std::size_t receive) {
    auto set = [&](int force, int plain, std::size_t want, const char* what) -> Result<void> {
        int v = static_cast<int>(std::min<std::size_t>(want, INT32_MAX / 2));
        int cur = 0;
        socklen_t len = sizeof cur;
        const int opt = plain;
        if (getsockopt(fd(), SOL_SOCKET, opt, &cur, &len) == 0 && cur / 2 >= v) return {};
        if (setsockopt(fd(), SOL_SOCKET, force, &v, sizeof v) == 0) return {};
        // Without CAP_NET_ADMIN in the initial namespace the forced variant fails; the plain one
        // is capped by net.core.[rw]mem_max, which may still be enough.
        if (setsockopt(fd(), SOL_SOCKET, plain, &v, sizeof v) < 0) return std::unexpected(sys_error(what));
        return {};
    };
    if (auto r = set(SO_SNDBUFFORCE, SO_SNDBUF, send, "netlink send buffer"); !r) return r;
    return set(SO_RCVBUFFORCE, SO_RCVBUF, receive, "netlink receive buffer");
}

Result<void> Socket::send(const void* data, std::size_t len) {
    if (mnl_socket_sendto(nl_, data, len) < 0) return std::unexpected(sys_error("netlink send"));
    return {};
}

Result<void> Socket::request(nlmsghdr* req, const MessageFn& cb) {
    const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (!dump) req->nlmsg_flags |= NLM_F_ACK;
    if (auto r = send(req, req->nlmsg_len); !r) return r;
    std::vector<char> buf(recv_size);
    Result<void> status;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
        if (n < 0) return std::unexpected(sys_error("netlink receive"));
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_seq != req->nlmsg_seq) continue;
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)  // the ruleset changed under the dump
                status = std::unexpected(Error{EINTR, "netlink dump interrupted by a concurrent change", {}});
            if (nlh->nlmsg_type == NLMSG_DONE) return status;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                if (err->error != 0) return std::unexpected(Error{-err->error, std::strerror(-err->error), {}});
                if (!dump) return status;
                continue;
            }
            if (status)
                if (auto r = cb(nlh); !r) status = r;
        }
    }
}

Batch::Batch(std::uint32_t first_seq, std::uint32_t genid) : seq_(first_seq), begin_seq_(first_seq) {
    buf_.resize(1 << 16);
    put_batch_marker(NFNL_MSG_BATCH_BEGIN, genid);
}

void Batch::reserve(std::size_t room) {
    if (used_ + room > buf_.size()) buf_.resize(std::max(buf_.size() * 2, used_ + room));
}

void Batch::put_batch_marker(std::uint16_t type, std::uint32_t genid) {
    reserve(256);
    auto* nlh = mnl_nlmsg_put_header(buf_.data() + used_);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq_++;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
    // The kernel refuses the batch with ERESTART if the ruleset moved past the generation our
    // plan was read at: read-modify-write without a window for someone else's change.
    if (genid) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
    used_ += NLMSG_ALIGN(nlh->nlmsg_len);
}

nlmsghdr* Batch::begin(std::uint16_t type, std::uint16_t family, std::uint16_t flags, MessageOrigin origin, std::size_t room) {
    if (!origins_.empty()) {  // close the previous message
        auto* prev = reinterpret_cast<nlmsghdr*>(buf_.data() + used_);
        used_ += NLMSG_ALIGN(prev->nlmsg_len);
    }
    reserve(room + 256);
    auto* nlh = mnl_nlmsg_put_header(buf_.data() + used_);
    nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
    nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    nlh->nlmsg_seq = seq_++;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = static_cast<std::uint8_t>(family);
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    origins_.push_back(std::move(origin));
    return nlh;
}

void Batch::finish(bool commit) {
    if (!origins_.empty()) {
        auto* prev = reinterpret_cast<nlmsghdr*>(buf_.data() + used_);
        used_ += NLMSG_ALIGN(prev->nlmsg_len);
    }
    if (commit) put_batch_marker(NFNL_MSG_BATCH_END, 0);
}

namespace {

struct Ack {
    int error = 0;
    std::string text;
    std::int64_t offset = -1;  // of the offending attribute, from the message start
};

Ack parse_ack(const nlmsghdr* nlh) {
    Ack a;
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    a.error = -err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return a;
    std::size_t off = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
    mnl_attr_parse(
        nlh, static_cast<unsigned>(off),
        [](const nlattr* attr, void* data) {
            auto* ack = static_cast<Ack*>(data);
            switch (mnl_attr_get_type(attr)) {
                case NLMSGERR_ATTR_MSG: ack->text = mnl_attr_get_str(attr); break;
                case NLMSGERR_ATTR_OFFS: ack->offset = mnl_attr_get_u32(attr); break;
                default: break;
            }
            return MNL_CB_OK;
        },
        &a);
    return a;
}

}  // namespace

Result<void> Batch::send(Socket& sock) {
    const std::size_t n = origins_.size();
    // Every message is ACKed; each ACK costs the receive queue about a kilobyte.
    if (auto r = sock.size_buffers(used_ + 4096, n * 2048 + (1 << 18)); !r) return r;
    if (auto r = sock.send(buf_.data(), used_); !r) return r;

    std::vector<bool> acked(n, false);
    std::size_t acks = 0;
    std::vector<KernelError> errors;
    int batch_error = 0;
    std::string batch_detail;
    std::vector<char> rbuf(recv_size);
    // The kernel handles the whole batch inside sendmsg, so every reply is queued already; the
    // short poll only guards against a reply still in flight.
    for (;;) {
        ssize_t got = recv(sock.fd(), rbuf.data(), rbuf.size(), MSG_DONTWAIT);
        if (got < 0 && errno == EAGAIN) {
            if (acks == n || batch_error) break;
            pollfd p{sock.fd(), POLLIN, 0};
            if (poll(&p, 1, 1000) <= 0) break;
            continue;
        }
        if (got < 0) {
            if (errno == ENOBUFS)
                return std::unexpected(Error{ENOBUFS, "netlink: replies lost (receive buffer overrun); the outcome is unknown", {}});
            return std::unexpected(sys_error("netlink receive"));
        }
        int len = static_cast<int>(got);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != NLMSG_ERROR) continue;
            const Ack ack = parse_ack(nlh);
            if (nlh->nlmsg_seq == begin_seq_) {  // refused as a whole (EPERM, ERESTART, ...)
                batch_error = ack.error;
                batch_detail = ack.text;
                continue;
            }
            if (nlh->nlmsg_seq <= begin_seq_ || nlh->nlmsg_seq > begin_seq_ + n) continue;
            const std::size_t idx = nlh->nlmsg_seq - begin_seq_ - 1;
            if (!acked[idx]) {
                acked[idx] = true;
                ++acks;
            }
            if (ack.error == 0) continue;
            const auto& o = origins_[idx];
            KernelError ke{ack.error, o.object, o.origin, ack.text};
            // An extended ACK inside an element list names the element.
            for (std::size_t e = 0; ack.offset >= 0 && e < o.elems.size(); ++e) {
                const bool last = e + 1 == o.elems.size();
                if (ack.offset >= o.elems[e].offset && (last || ack.offset < o.elems[e + 1].offset)) {
                    ke.object = o.elems[e].object;
                    ke.origin = o.elems[e].origin;
                }
            }
            errors.push_back(std::move(ke));
        }
    }
    if (batch_error) {
        Error e{batch_error, fmt::format("batch refused: {}", std::strerror(batch_error)), {}};
        if (!batch_detail.empty()) e.message += ": " + batch_detail;
        return std::unexpected(std::move(e));
    }
    if (!errors.empty()) {
        Error e{errors.front().code, {}, std::move(errors)};
        for (const auto& k : e.kernel) {
            if (!e.message.empty()) e.message += '\n';
            e.message += k.str();
        }
        return std::unexpected(std::move(e));
    }
    if (acks != n)
        return std::unexpected(Error{EPROTO, fmt::format("netlink: {} of {} messages were not acknowledged", n - acks, n), {}});
    return {};
}

Result<std::uint32_t> get_generation(Socket& sock) {
    char buf[256];
    auto* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = sock.next_seq();
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    std::uint32_t gen = 0;
    auto r = sock.request(nlh, [&](const nlmsghdr* m) -> Result<void> {
        mnl_attr_parse(
            m, sizeof(nfgenmsg),
            [](const nlattr* a, void* data) {
                if (mnl_attr_get_type(a) == NFTA_GEN_ID) *static_cast<std::uint32_t*>(data) = ntohl(mnl_attr_get_u32(a));
                return MNL_CB_OK;
            },
            &gen);
        return {};
    });
    if (!r) {
        r.error().message = "reading the ruleset generation: " + r.error().message;
        return std::unexpected(r.error());
    }
    return gen;
}

}  // namespace modgate::nft
