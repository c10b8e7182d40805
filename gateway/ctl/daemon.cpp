// modgatectl commands that talk to a running modgated over its control socket.
#include <cstdio>

#include "gateway/control/client.hpp"
#include "gateway/ctl/commands.hpp"

namespace modgate::ctl {
namespace {

int send(const Globals& g, control::Fields req) {
    std::string error;
    auto r = control::call(g.socket, req, error);
    if (!r) {
        std::fprintf(stderr, "modgatectl: %s\n", error.c_str());
        return Exit::runtime;
    }
    if (r->code != 0) {
        std::fprintf(stderr, "modgatectl: %s\n", r->message.c_str());
        std::fputs(r->body.c_str(), stderr);
        return r->code;
    }
    std::fputs(r->body.c_str(), stdout);
    return Exit::ok;
}

bool help(const Args& a, const char* text) {
    if (a.size() == 1 && (a[0] == "-h" || a[0] == "--help")) {
        std::fputs(text, stdout);
        return true;
    }
    return false;
}

}  // namespace

int cmd_status(const Globals& g, const Args& a) {
    if (help(a, "usage: modgatectl status [--json]\n\nWhat modgated is running: policy and its hash, mode, "
                "modalities, proxy and drop counters, uptime.\n"))
        return Exit::ok;
    control::Fields req{{"cmd", "status"}};
    for (const auto& x : a) {
        if (x == "--json") req["json"] = "1";
        else {
            std::fprintf(stderr, "usage: modgatectl status [--json]\n");
            return Exit::usage;
        }
    }
    return send(g, req);
}

int cmd_reload(const Globals& g, const Args& a) {
    if (help(a, "usage: modgatectl reload\n\nAsks modgated to re-read its policy file. A policy with errors is "
                "refused (exit 1, with the errors) and the running one stays in force.\n"))
        return Exit::ok;
    if (!a.empty()) {
        std::fprintf(stderr, "usage: modgatectl reload\n");
        return Exit::usage;
    }
    return send(g, {{"cmd", "reload"}});
}

}  // namespace modgate::ctl
