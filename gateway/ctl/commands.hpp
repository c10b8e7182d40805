// modgatectl's subcommands: one function per verb, dispatched from a table in main.cpp.
#pragma once
#include <string>
#include <vector>

#include "gateway/control/exit_code.hpp"

namespace modgate::ctl {

using modgate::Exit;  // every command returns one of these (gateway/control/exit_code.hpp)

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
int cmd_island(const Globals&, const Args&);
int cmd_window(const Globals&, const Args&);
int cmd_events(const Globals&, const Args&);

}  // namespace modgate::ctl
