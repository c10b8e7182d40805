// Probes for the test binary modgated-probes only: attempts that the proxy process's confinement
// must stop. Compiled twice; without MODGATE_TEST_PROBES (the installed modgated) there are none.
#include "gateway/privsep/proxy_process.hpp"

#ifdef MODGATE_TEST_PROBES
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#endif

namespace modgate::privsep {

#ifdef MODGATE_TEST_PROBES
bool probes_built() { return true; }

std::optional<std::string> attempt_probe(const std::string& name) {
    long rc = -1;
    int one = 1;
    if (name == "netlink") rc = ::socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
    else if (name == "raw") rc = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    else if (name == "packet") rc = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    else if (name == "mark") rc = ::setsockopt(::socket(AF_INET, SOCK_STREAM, 0), SOL_SOCKET, SO_MARK, &one, sizeof one);
    else if (name == "exec") {
        char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
        rc = ::execve("/bin/true", argv, nullptr);
    } else if (name == "open") rc = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    else if (name == "ptrace") rc = ::ptrace(PTRACE_ATTACH, ::getppid(), nullptr, nullptr);
    else return std::nullopt;
    return rc < 0 ? std::string(std::strerror(errno)) : std::string("it succeeded");
}
#else
bool probes_built() { return false; }

std::optional<std::string> attempt_probe(const std::string&) { return std::nullopt; }
#endif

}  // namespace modgate::privsep
