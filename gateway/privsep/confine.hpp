// The proxy process's confinement, set up by the proxy itself right after fork (no systemd
// needed, so the lab and the shipped unit get the same): an empty root, a user and group of its
// own, no capability but CAP_NET_RAW (transparent sockets) and CAP_NET_BIND_SERVICE (UDP reply
// sockets on the server's port), no_new_privs, the parent's
// death kills it, no file system access (Landlock), and a seccomp filter that allows only the
// system calls it uses.
#pragma once
#include <string>
#include <sys/types.h>

namespace modgate::privsep {

struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string root;  // an empty directory to chroot into
};

// Looks the proxy user up and makes sure `root` exists, is empty and not writable by it. The
// parent calls this once, before any fork; false with `error` set when it cannot.
bool proxy_identity(const std::string& user, const std::string& root, Identity& out, std::string& error);

// In the proxy process, after its sockets are open: everything above, in an order where each
// step still has the privilege it needs, and Landlock where the kernel has it (`landlock_abi`:
// its version, 0 without). "" on success, or what failed.
std::string confine(const Identity& id, pid_t parent, int& landlock_abi);

// The seccomp filter alone (confine() loads it last).
std::string load_seccomp_filter();

}  // namespace modgate::privsep
