// Thin wrappers over setsockopt/getsockname with the error text callers put in events.
#include "gateway/proxy/sockets.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace modgate::proxy {

std::string Endpoint::str() const { return fmt::format("{}:{}", addr.str(), port); }

sockaddr_in Endpoint::sockaddr() const {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr.value);
    sa.sin_port = htons(port);
    return sa;
}

Endpoint Endpoint::from(const sockaddr_in& sa) { return {policy::Ipv4{ntohl(sa.sin_addr.s_addr)}, ntohs(sa.sin_port)}; }

namespace {
std::string opt(int fd, int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) == 0) return {};
    return fmt::format("{}: {}", what, std::strerror(errno));
}
}  // namespace

std::string set_transparent(int fd) { return opt(fd, SOL_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT"); }
std::string set_nodelay(int fd) { return opt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"); }
void set_quickack(int fd) { (void)opt(fd, IPPROTO_TCP, TCP_QUICKACK, 1, "TCP_QUICKACK"); }
std::string set_reuseaddr(int fd) { return opt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); }
std::string set_recv_orig_dst(int fd) { return opt(fd, SOL_IP, IP_RECVORIGDSTADDR, 1, "IP_RECVORIGDSTADDR"); }

std::optional<Endpoint> orig_dst_from_cmsg(const void* control, std::size_t len) {
    msghdr msg{};
    msg.msg_control = const_cast<void*>(control);
    msg.msg_controllen = len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR && c->cmsg_len >= CMSG_LEN(sizeof(sockaddr_in))) {
            sockaddr_in sa;
            std::memcpy(&sa, CMSG_DATA(c), sizeof sa);
            return Endpoint::from(sa);
        }
    }
    return std::nullopt;
}

Endpoint local_endpoint(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<::sockaddr*>(&sa), &len);
    return Endpoint::from(sa);
}

Endpoint peer_endpoint(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getpeername(fd, reinterpret_cast<::sockaddr*>(&sa), &len);
    return Endpoint::from(sa);
}

void reset_close(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

}  // namespace modgate::proxy
