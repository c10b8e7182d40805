// modgated's unprivileged proxy process: it owns every listener and session and runs the
// DICOM, TLS and relay handlers, confined (see confine.hpp), and talks only to its parent over
// the channel. It starts as a fork of the parent and never returns.
#pragma once
#include <optional>
#include <string>
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

// Probes, built only into modgated-probes, the test binary (privsep/probes.cpp is compiled twice:
// with MODGATE_TEST_PROBES for it, without for modgated): each name an attempt the proxy's
// confinement must stop.
bool probes_built();
// Makes the attempt named `name`; what it returned (it should never return), or nothing when
// probes are not built or the name is unknown.
std::optional<std::string> attempt_probe(const std::string& name);

}  // namespace modgate::privsep
