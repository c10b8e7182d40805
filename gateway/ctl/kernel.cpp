// `modgatectl apply|diff|show`: placeholder until the netlink engine lands.
#include <cstdio>

#include "gateway/ctl/commands.hpp"

namespace modgate::ctl {
static int not_yet(const char* verb) {
    std::fprintf(stderr, "modgatectl %s: not available in this build\n", verb);
    return Exit::runtime;
}
int cmd_apply(const Globals&, const Args&) { return not_yet("apply"); }
int cmd_diff(const Globals&, const Args&) { return not_yet("diff"); }
int cmd_show(const Globals&, const Args&) { return not_yet("show"); }
}  // namespace modgate::ctl
