// The netfilter netlink socket and the transaction batch: one growable buffer sent with one
// sendmsg, every message asking for an ACK, each sequence number remembered with the model
// object it came from so kernel errors name that object. Internal to gateway/nft.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace modgate::nft {

// Sockets of this process, so change events can tell our own transactions from others'.
bool is_own_portid(std::uint32_t portid);

class Socket {
public:
    // NETLINK_NETFILTER, bound with an automatic port id; `groups` as for bind(2)'s nl_groups.
    static Result<Socket> open();
    Socket(Socket&&) noexcept;
    Socket& operator=(Socket&&) noexcept;
    ~Socket();

    int fd() const;
    std::uint32_t portid() const { return portid_; }
    std::uint32_t next_seq() { return seq_++; }
    mnl_socket* raw() const { return nl_; }

    // Both buffers must hold a whole batch and all its ACKs (SO_*BUFFORCE as root).
    Result<void> size_buffers(std::size_t send, std::size_t receive);
    Result<void> send(const void* data, std::size_t len);

    // A request whose replies end with NLMSG_DONE (dump) or an ACK; `cb` sees each data message.
    using MessageFn = std::function<Result<void>(const nlmsghdr*)>;
    Result<void> request(nlmsghdr* req, const MessageFn& cb);

private:
    Socket() = default;
    mnl_socket* nl_ = nullptr;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
};

// One model object a batch message came from.
struct MessageOrigin {
    std::string object;      // "rule 3 of chain inet modgate from_bridge"
    ruleset::Origin origin;
    // For element messages: offset of each element's nest from the message start, with what it
    // was (so an extended ACK pointing at one element names it).
    struct Elem {
        std::uint32_t offset = 0;
        std::string object;
        ruleset::Origin origin;
    };
    std::vector<Elem> elems;
};

class Batch {
public:
    explicit Batch(std::uint32_t first_seq, std::uint32_t genid);

    // Starts a message in the buffer; attributes are appended by the caller (libnftnl or
    // mnl_attr_put). Space for `room` bytes is guaranteed until the next begin().
    nlmsghdr* begin(std::uint16_t type, std::uint16_t family, std::uint16_t flags, MessageOrigin origin,
                    std::size_t room = 1 << 17);
    MessageOrigin& last_origin() { return origins_.back(); }
    std::size_t messages() const { return origins_.size(); }

    // Closes the batch. Without the end message the kernel validates everything and commits
    // nothing (nft -c does the same).
    void finish(bool commit);

    // Sends the batch and drains every reply. On rejection the error lists each failed message
    // mapped to its object; ERESTART means the generation moved and the caller may retry.
    Result<void> send(Socket& sock);

    const char* data() const { return buf_.data(); }
    std::size_t size() const { return used_; }

private:
    void reserve(std::size_t room);
    void put_batch_marker(std::uint16_t type, std::uint32_t genid);

    std::vector<char> buf_;
    std::size_t used_ = 0;
    std::uint32_t seq_;
    std::uint32_t begin_seq_;
    std::vector<MessageOrigin> origins_;  // index = seq - begin_seq_ - 1
};

// The ruleset generation (NFT_MSG_GETGEN).
Result<std::uint32_t> get_generation(Socket& sock);

}  // namespace modgate::nft
