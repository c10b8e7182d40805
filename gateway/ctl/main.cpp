// modgatectl: check and compile policies, apply them, and talk to a running modgated.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "gateway/ctl/commands.hpp"

namespace modgate::ctl {
namespace {

struct Command {
    const char* name;
    const char* synopsis;
    const char* summary;
    int (*run)(const Globals&, const Args&);
};

constexpr Command commands[] = {
    {"check", "check POLICY", "validate a policy file; every problem with its location", cmd_check},
    {"compile", "compile POLICY", "print the nftables ruleset a policy compiles to (no root needed)",
     cmd_compile},
    {"apply", "apply POLICY [--check]", "load a policy into the kernel in one transaction (root)",
     cmd_apply},
    {"diff", "diff POLICY", "show what applying POLICY would add, remove or change (root)", cmd_diff},
    {"show", "show", "show modgate's tables as the kernel holds them, with counters (root)", cmd_show},
    {"status", "status [--json]", "what the running modgated enforces, with counters", cmd_status},
    {"reload", "reload", "make modgated re-read its policy (a bad policy is refused)", cmd_reload},
    {"island", "island on --reason TEXT | off", "cut every modality off at once, or end that", cmd_island},
    {"window", "window open|close|list ...", "vendor maintenance windows (see `window --help`)", cmd_window},
    {"events", "events [--follow] [--json] ...", "recent events, or follow them as they happen", cmd_events},
};

void print_usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: modgatectl [--socket PATH] COMMAND [ARGS]\n\n"
                 "modgate quarantines legacy medical modalities behind an inline bridge; this tool\n"
                 "checks and compiles its policy files and controls a running modgated.\n\n"
                 "commands:\n");
    for (const auto& c : commands) std::fprintf(out, "  %-26s %s\n", c.synopsis, c.summary);
    std::fprintf(out,
                 "\noptions:\n"
                 "  --socket PATH              control socket of modgated (default /run/modgate/control.sock)\n"
                 "  -h, --help                 this help; `modgatectl COMMAND --help` for a command\n\n"
                 "exit codes: 0 ok, 1 invalid input or refused, 2 usage, 3 runtime error, 4 not authorised\n"
                 "example: modgatectl check /etc/modgate/policy.toml\n");
}

}  // namespace
}  // namespace modgate::ctl

int main(int argc, char** argv) {
    using namespace modgate::ctl;
    Globals g;
    int i = 1;
    for (; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            print_usage(stdout);
            return Exit::ok;
        }
        if (a == "--socket" && i + 1 < argc) {
            g.socket = argv[++i];
        } else if (a.starts_with("--socket=")) {
            g.socket = std::string(a.substr(9));
        } else {
            break;
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return Exit::usage;
    }
    std::string_view verb = argv[i];
    for (const auto& c : commands) {
        if (verb == c.name) return c.run(g, Args(argv + i + 1, argv + argc));
    }
    std::fprintf(stderr, "modgatectl: unknown command '%.*s'\n\n", static_cast<int>(verb.size()), verb.data());
    print_usage(stderr);
    return Exit::usage;
}
