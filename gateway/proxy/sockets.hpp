// Socket options the transparent proxy needs (kernel recipe): IP_TRANSPARENT listeners and
// upstream legs that bind the client's own address, original destinations, prompt ACKs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <netinet/in.h>

#include "policy/net.hpp"

namespace modgate::proxy {

struct Endpoint {
    policy::Ipv4 addr;
    std::uint16_t port = 0;
    auto operator<=>(const Endpoint&) const = default;
    std::string str() const;
    sockaddr_in sockaddr() const;
    static Endpoint from(const sockaddr_in& sa);
};

// Each returns an empty string on success, or "what: strerror".
std::string set_transparent(int fd);
std::string set_nodelay(int fd);
void set_quickack(int fd);           // best effort, before every read
std::string set_reuseaddr(int fd);
std::string set_recv_orig_dst(int fd);

// The original destination carried in an IP_RECVORIGDSTADDR control message.
std::optional<Endpoint> orig_dst_from_cmsg(const void* control, std::size_t len);

Endpoint local_endpoint(int fd);
Endpoint peer_endpoint(int fd);

// Abortive close: the other side sees a reset, as if the destination had refused.
void reset_close(int fd);

}  // namespace modgate::proxy
