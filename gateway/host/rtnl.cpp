// The rtnetlink socket: sequence numbers, acks, dumps, and extended-ack error messages.
#include "gateway/host/rtnl.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <linux/netlink.h>

#include <fmt/format.h>

namespace modgate::host {
namespace {

// Shared by the data and the control callbacks of one exchange.
struct Exchange {
    const std::function<void(const nlmsghdr*)>* on_reply = nullptr;
    int error = 0;        // errno from the kernel's NLMSG_ERROR, 0 for an ack
    std::string message;  // NLMSGERR_ATTR_MSG
};

int on_data(const nlmsghdr* nlh, void* data) {
    auto* x = static_cast<Exchange*>(data);
    if (x->on_reply && *x->on_reply) (*x->on_reply)(nlh);
    return MNL_CB_OK;
}

int on_ext_ack_attr(const nlattr* a, void* data) {
    if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
        static_cast<Exchange*>(data)->message = mnl_attr_get_str(a);
    return MNL_CB_OK;
}

// The ack (error 0) or the error, with the extended-ack TLVs after the echoed request: the
// whole request unless the kernel capped it (NETLINK_CAP_ACK), then only its header.
int on_error(const nlmsghdr* nlh, void* data) {
    auto* x = static_cast<Exchange*>(data);
    auto len = mnl_nlmsg_get_payload_len(nlh);
    if (len < sizeof(nlmsgerr)) {
        x->error = EBADMSG;
        return MNL_CB_STOP;
    }
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    x->error = -err->error;
    if (x->error == 0 || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return MNL_CB_STOP;
    std::size_t off = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len >= sizeof(nlmsghdr))
        off += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (off < len)
        mnl_attr_parse_payload(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + off, len - off, on_ext_ack_attr, x);
    return MNL_CB_STOP;
}

int on_done(const nlmsghdr*, void*) { return MNL_CB_STOP; }

int on_overrun(const nlmsghdr*, void* data) {
    static_cast<Exchange*>(data)->error = ENOBUFS;
    return MNL_CB_STOP;
}

std::string failure(const std::string& what, int error, const std::string& message) {
    if (message.empty()) return fmt::format("{}: {}", what, std::strerror(error));
    return fmt::format("{}: {} ({})", what, std::strerror(error), message);
}

}  // namespace

Result<Rtnl> Rtnl::open() {
    mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl) return std::unexpected(fmt::format("rtnetlink socket: {}", std::strerror(errno)));
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        mnl_socket_close(nl);
        return std::unexpected(fmt::format("rtnetlink bind: {}", std::strerror(e)));
    }
    // Both are best effort: older kernels answer without the message, or with the whole request.
    int one = 1;
    (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
    (void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
    return Rtnl(nl);
}

// Dump replies come in batches of up to 32 KiB (libmnl's MNL_SOCKET_DUMP_SIZE, which
// Debian 12's libmnl does not define yet).
Rtnl::Rtnl(mnl_socket* nl)
    : nl_(nl), portid_(mnl_socket_get_portid(nl)), seq_(static_cast<unsigned>(std::time(nullptr))),
      send_(MNL_SOCKET_BUFFER_SIZE), recv_(32768) {}

Rtnl::Rtnl(Rtnl&& o) noexcept
    : nl_(o.nl_), portid_(o.portid_), seq_(o.seq_), last_error_(o.last_error_), send_(std::move(o.send_)), recv_(std::move(o.recv_)) {
    o.nl_ = nullptr;
}

Rtnl::~Rtnl() {
    if (nl_) mnl_socket_close(nl_);
}

nlmsghdr* Rtnl::message(std::uint16_t type, std::uint16_t flags) {
    std::memset(send_.data(), 0, send_.size());
    nlmsghdr* nlh = mnl_nlmsg_put_header(send_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
}

// 0 after the ack or the end of a dump, else the errno; the kernel's message in `message`.
int Rtnl::exchange(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& on_reply, std::string& message) {
    nlh->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return last_error_ = errno;
    Exchange x{&on_reply, 0, {}};
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
    // With a control array libmnl runs no defaults of its own, so the end of a dump is ours too.
    ctl[NLMSG_ERROR] = on_error;
    ctl[NLMSG_DONE] = on_done;
    ctl[NLMSG_OVERRUN] = on_overrun;
    int ret = MNL_CB_OK;
    while (ret == MNL_CB_OK) {
        auto n = mnl_socket_recvfrom(nl_, recv_.data(), recv_.size());
        if (n < 0) return last_error_ = errno;
        ret = mnl_cb_run2(recv_.data(), static_cast<std::size_t>(n), nlh->nlmsg_seq, portid_, on_data, &x, ctl,
                          NLMSG_MIN_TYPE);
    }
    if (ret < 0) return last_error_ = errno ? errno : EPROTO;
    message = std::move(x.message);
    last_error_ = x.error;
    return x.error;
}

Status Rtnl::request(nlmsghdr* nlh, const std::string& what,
                     const std::function<void(const nlmsghdr*)>& on_reply) {
    nlh->nlmsg_flags |= NLM_F_ACK;
    std::string message;
    if (int e = exchange(nlh, on_reply, message); e != 0) return std::unexpected(failure(what, e, message));
    return {};
}

Status Rtnl::dump(nlmsghdr* nlh, const std::string& what, const std::function<void(const nlmsghdr*)>& on_reply) {
    nlh->nlmsg_flags |= NLM_F_DUMP;
    // Replies are kept until the dump is complete: an interrupted one (NLM_F_DUMP_INTR, the
    // table changed meanwhile) is sent again and its partial replies are dropped.
    std::vector<char> request(reinterpret_cast<const char*>(nlh), reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len);
    std::vector<std::vector<char>> replies;
    auto keep = [&](const nlmsghdr* m) {
        replies.emplace_back(reinterpret_cast<const char*>(m), reinterpret_cast<const char*>(m) + m->nlmsg_len);
    };
    for (int attempt = 0;; ++attempt) {
        replies.clear();
        std::memcpy(nlh, request.data(), request.size());
        std::string message;
        int e = exchange(nlh, keep, message);
        if (e == EINTR && attempt < 4) continue;
        if (e != 0) return std::unexpected(failure(what, e, message));
        break;
    }
    for (const auto& r : replies) on_reply(reinterpret_cast<const nlmsghdr*>(r.data()));
    return {};
}

}  // namespace modgate::host
