// Running a system tool (iproute2) without a shell: argv in, exit status and output back.
#pragma once
#include <string>
#include <vector>

namespace modgate::host {

struct CommandResult {
    int status = -1;  // exit status, or -1 when it could not run
    std::string out, err;
    bool ok() const { return status == 0; }
};

CommandResult run_command(const std::vector<std::string>& argv);

// "ip rule add pref 100 ..." for messages.
std::string join(const std::vector<std::string>& argv);

}  // namespace modgate::host
