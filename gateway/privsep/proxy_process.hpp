// modgated's unprivileged proxy process: it owns every listener and session and runs the
// DICOM, TLS and relay handlers, confined (see confine.hpp), and talks only to its parent over
// the channel. It starts as a fork of the parent and never returns.
#pragma once
#include <sys/types.h>

#include <vector>

#include "gateway/privsep/confine.hpp"
#include "gateway/privsep/wire.hpp"

namespace modgate::privsep {

struct ProxyStart {
    int channel_fd = -1;  // the proxy's end of the socketpair
    pid_t parent = 0;
    PolicyMsg policy;     // the policy in force
    std::vector<OpenWindow> windows;
    Identity identity;
};

// In the child, right after fork: opens the listeners, confines itself, then serves until the
// parent closes the channel. Exits with _exit (no atexit handlers of the parent run twice).
[[noreturn]] void run_proxy(ProxyStart start);

// Probes (test builds only): the names the proxy understands, each an attempt its confinement
// must stop.
bool probes_built();

}  // namespace modgate::privsep
