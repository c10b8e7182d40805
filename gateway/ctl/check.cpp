// `modgatectl check POLICY` and `modgatectl compile POLICY`: pure, no root needed.
#include <cstdio>
#include <string_view>

#include "gateway/ctl/commands.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"

namespace modgate::ctl {
namespace {

// Both commands take exactly one policy path (and --help).
bool one_path(const Args& args, const char* verb, const char* help, std::string& path, int& rc) {
    if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
        std::printf("%s", help);
        rc = Exit::ok;
        return false;
    }
    if (args.size() != 1 || args[0].starts_with("-")) {
        std::fprintf(stderr, "usage: modgatectl %s POLICY\n", verb);
        rc = Exit::usage;
        return false;
    }
    path = args[0];
    return true;
}

}  // namespace

int cmd_check(const Globals&, const Args& args) {
    std::string path;
    int rc = 0;
    if (!one_path(args, "check",
                  "usage: modgatectl check POLICY\n\n"
                  "Validates POLICY and prints every problem as FILE:LINE:COL: error|warning: message,\n"
                  "with the source line, a caret and a hint. Prints `policy OK` (or `policy OK (N warnings)`)\n"
                  "and exits 0 when the policy can be applied; exits 1 otherwise.\n",
                  path, rc))
        return rc;
    auto r = policy::load_file(path);
    auto report = r.report();
    std::fputs(report.c_str(), r.policy ? stdout : stderr);
    return r.policy ? Exit::ok : Exit::invalid;
}

int cmd_compile(const Globals&, const Args& args) {
    std::string path;
    int rc = 0;
    if (!one_path(args, "compile",
                  "usage: modgatectl compile POLICY\n\n"
                  "Prints the nftables ruleset POLICY compiles to, as text `nft -f` loads. Deterministic:\n"
                  "the same policy always gives the same text. Problems are reported as by `check`.\n",
                  path, rc))
        return rc;
    auto r = policy::load_file(path);
    if (!r.policy) {
        std::fputs(r.report().c_str(), stderr);
        return Exit::invalid;
    }
    auto text = ruleset::render_file(policy::compile(*r.policy));
    std::fputs(text.c_str(), stdout);
    return Exit::ok;
}

}  // namespace modgate::ctl
