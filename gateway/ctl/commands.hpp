// modgatectl's subcommands: one function per verb, dispatched from a table in main.cpp.
#pragma once
#include <string>
#include <vector>

namespace modgate::ctl {

// Exit codes shared by every command (DESIGN.md contracts).
enum Exit : int { ok = 0, invalid = 1, usage = 2, runtime = 3, not_authorised = 4 };

struct Globals {
    std::string socket = "/run/modgate/control.sock";
};

using Args = std::vector<std::string>;  // the words after the verb

int cmd_check(const Globals&, const Args&);
int cmd_compile(const Globals&, const Args&);
int cmd_apply(const Globals&, const Args&);
int cmd_diff(const Globals&, const Args&);
int cmd_show(const Globals&, const Args&);
int cmd_status(const Globals&, const Args&);
int cmd_reload(const Globals&, const Args&);
int cmd_window(const Globals&, const Args&);
int cmd_events(const Globals&, const Args&);

}  // namespace modgate::ctl
