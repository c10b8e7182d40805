// The proxy process's confinement (see confine.hpp).
#include "gateway/privsep/confine.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace modgate::privsep {

namespace {

std::string sys_error(std::string_view what) { return fmt::format("{}: {}", what, std::strerror(errno)); }

bool dir_is_empty(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return false;
    bool empty = true;
    while (auto* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    return empty;
}

// The proxy's two capabilities: transparent sockets (IP_TRANSPARENT), and the UDP relay's reply
// sockets, bound to the server's own port (NTP 123, DNS 53).
constexpr int kept[] = {CAP_NET_RAW, CAP_NET_BIND_SERVICE};

bool is_kept(int cap) { return std::find(std::begin(kept), std::end(kept), cap) != std::end(kept); }

// Every other capability leaves the bounding set, so nothing can bring one back.
std::string drop_bounding_set() {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (is_kept(cap) || ::prctl(PR_CAPBSET_READ, cap) != 1) continue;
        if (::prctl(PR_CAPBSET_DROP, cap) != 0) return sys_error(fmt::format("dropping capability {} from the bounding set", cap));
    }
    return {};
}

std::string keep_only_kept() {
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    for (int cap : kept) {
        d[cap / 32].effective |= 1u << (cap % 32);
        d[cap / 32].permitted |= 1u << (cap % 32);
    }
    if (::syscall(SYS_capset, &h, d) != 0) return sys_error("capset");
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return sys_error("clearing ambient capabilities");
    if (::prctl(PR_SET_KEEPCAPS, 0) != 0) return sys_error("PR_SET_KEEPCAPS");
    return {};
}

std::string switch_user(const Identity& id) {
    if (::setgroups(0, nullptr) != 0) return sys_error("setgroups");
    if (::setresgid(id.gid, id.gid, id.gid) != 0) return sys_error("setresgid");
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0) return sys_error("PR_SET_KEEPCAPS");
    if (::setresuid(id.uid, id.uid, id.uid) != 0) return sys_error("setresuid");
    return keep_only_kept();
}

// System calls allowed without looking at their arguments: memory, time, the event loop, and
// the socket calls of a proxy that already has its listeners.
constexpr int plain_calls[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
    SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(bind), SCMP_SYS(listen),
    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(shutdown),
    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg),
    SCMP_SYS(recvmmsg), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fcntl), SCMP_SYS(brk),
    SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
    SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getrandom), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(exit),
    SCMP_SYS(exit_group), SCMP_SYS(restart_syscall), SCMP_SYS(sched_yield), SCMP_SYS(tgkill),
    SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer's runtime probes memory with a pipe (test builds only).
    SCMP_SYS(pipe2),
#endif
};

// Socket options the proxy sets; anything else (SO_MARK above all: mark 0x1 means "deliver
// locally" in our rules) kills it.
constexpr std::pair<int, int> socket_options[] = {
    {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_LINGER},     {SOL_SOCKET, SO_KEEPALIVE},
    {SOL_SOCKET, SO_RCVBUF},    {SOL_SOCKET, SO_SNDBUF},      {SOL_IP, IP_TRANSPARENT},
    {SOL_IP, IP_RECVORIGDSTADDR}, {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_QUICKACK},
};

std::string add_filtered_rules(scmp_filter_ctx ctx) {
    int rc = 0;
    // IPv4 TCP and UDP sockets only: no netlink (the ruleset), no packet or raw sockets.
    for (int type : {SOCK_STREAM, SOCK_DGRAM})
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_INET),
                               SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, static_cast<scmp_datum_t>(type)));
    for (auto [level, name] : socket_options)
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
                               SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(level)),
                               SCMP_A2(SCMP_CMP_EQ, static_cast<scmp_datum_t>(name)));
    for (unsigned long req : {static_cast<unsigned long>(FIONBIO), static_cast<unsigned long>(FIONREAD)})
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, req));
    // Memory, never executable: no code can be written and run.
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    return rc == 0 ? std::string{} : fmt::format("seccomp_rule_add: {}", std::strerror(-rc));
}

// Landlock, where the kernel has it: a ruleset that handles every file system access and allows
// none, on top of the empty root and the filter's missing open(). The ABI version, or 0.
constexpr std::uint64_t landlock_truncate = 1ULL << 14;  // ABI 3 (not in Debian 12's headers)

std::string restrict_filesystem(int& abi) {
    long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    abi = v > 0 ? static_cast<int>(v) : 0;
    if (abi == 0) return {};
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // EXECUTE .. MAKE_SYM: ABI 1
    if (abi >= 2) attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) attr.handled_access_fs |= landlock_truncate;
    int fd = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
    if (fd < 0) return sys_error("landlock_create_ruleset");
    long rc = ::syscall(SYS_landlock_restrict_self, fd, 0);
    ::close(fd);
    return rc == 0 ? std::string{} : sys_error("landlock_restrict_self");
}

}  // namespace

bool proxy_identity(const std::string& user, const std::string& root, Identity& out, std::string& error) {
    errno = 0;
    const passwd* pw = ::getpwnam(user.c_str());
    if (!pw) {
        error = fmt::format("the proxy user '{}' does not exist (create it: useradd --system {})", user, user);
        return false;
    }
    if (pw->pw_uid == 0 || pw->pw_uid == ::getuid()) {
        error = fmt::format("the proxy user '{}' must not be root or modgated's own user", user);
        return false;
    }
    if (::mkdir(root.c_str(), 0555) != 0 && errno != EEXIST) {
        error = sys_error("creating " + root);
        return false;
    }
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid == pw->pw_uid || (st.st_mode & 0022) ||
        !dir_is_empty(root)) {
        error = fmt::format("{} must be an empty directory the proxy user cannot write", root);
        return false;
    }
    out = Identity{pw->pw_uid, pw->pw_gid, root};
    return true;
}

std::string load_seccomp_filter() {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx) return "seccomp_init failed";
    int rc = 0;
    for (int nr : plain_calls) rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    std::string error = rc == 0 ? add_filtered_rules(ctx) : fmt::format("seccomp_rule_add: {}", std::strerror(-rc));
    if (error.empty() && (rc = seccomp_load(ctx)) != 0) error = fmt::format("seccomp_load: {}", std::strerror(-rc));
    seccomp_release(ctx);
    return error;
}

std::string confine(const Identity& id, pid_t parent, int& landlock_abi) {
    if (::chroot(id.root.c_str()) != 0) return sys_error("chroot " + id.root);
    if (::chdir("/") != 0) return sys_error("chdir /");
    if (auto e = drop_bounding_set(); !e.empty()) return e;
    if (auto e = switch_user(id); !e.empty()) return e;
    // Set after the user switch, which clears it: the proxy never outlives modgated.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return sys_error("PR_SET_PDEATHSIG");
    if (::getppid() != parent) return "modgated went away during start-up";
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("PR_SET_NO_NEW_PRIVS");
    if (auto e = restrict_filesystem(landlock_abi); !e.empty()) return e;
    return load_seccomp_filter();
}

}  // namespace modgate::privsep
