// modgatectl commands that talk to a running modgated over its control socket.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "gateway/control/client.hpp"
#include "gateway/control/status.hpp"
#include "gateway/ctl/commands.hpp"
#include "policy/duration.hpp"

#include <optional>

namespace modgate::ctl {
namespace {

// One request: Exit::ok with the reply's body, or the exit code after saying why on stderr.
int request(const Globals& g, const control::Fields& req, std::string& body) {
    std::string error;
    auto r = control::call(g.socket, req, error);
    if (!r) {
        std::fprintf(stderr, "modgatectl: %s\n", error.c_str());
        return Exit::runtime;
    }
    if (r->code != Exit::ok) {
        std::fprintf(stderr, "modgatectl: %s\n", r->message.c_str());
        std::fputs(r->body.c_str(), stderr);
        return r->code;
    }
    body = std::move(r->body);
    return Exit::ok;
}

int send(const Globals& g, const control::Fields& req) {
    std::string body;
    int code = request(g, req, body);
    std::fputs(body.c_str(), stdout);
    return code;
}

// A reply whose body is JSON (status, window list): printed as it is with --json, else parsed
// into its struct and rendered as text. A body that does not parse is the daemon's fault.
template <class Parse, class Render>
int send_json(const Globals& g, const control::Fields& req, bool json, Parse parse, Render render) {
    std::string body;
    if (int code = request(g, req, body); code != Exit::ok) return code;
    try {
        auto j = nlohmann::json::parse(body);
        auto text = json ? j.dump() + "\n" : render(parse(j));
        std::fputs(text.c_str(), stdout);
        return Exit::ok;
    } catch (const nlohmann::json::exception& e) {
        std::fprintf(stderr, "modgatectl: malformed reply from modgated: %s\n", e.what());
        return Exit::runtime;
    }
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
    bool json = false;
    for (const auto& x : a) {
        if (x == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: modgatectl status [--json]\n");
            return Exit::usage;
        }
    }
    return send_json(g, {{"cmd", "status"}}, json, control::status_from_json,
                     [](const control::Status& s) { return control::render_text(s); });
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

int cmd_island(const Globals& g, const Args& a) {
    const char* usage =
        "usage: modgatectl island on --reason TEXT\n"
        "       modgatectl island off\n\n"
        "Island mode cuts every modality off at once: every frame to and from them is dropped in\n"
        "the kernel and every live session is cut, within a second. It holds across reloads and\n"
        "restarts until `island off`. Root or the policy's admin_group only; the reason (an incident\n"
        "number) goes into the audit event. A policy whose own mode is island stays in island.\n";
    if (help(a, usage)) return Exit::ok;
    if (a.size() == 3 && a[0] == "on" && a[1] == "--reason" && !a[2].empty())
        return send(g, {{"cmd", "island"}, {"state", "on"}, {"reason", a[2]}});
    if (a.size() == 1 && a[0] == "off") return send(g, {{"cmd", "island"}, {"state", "off"}});
    std::fputs(usage, stderr);
    return Exit::usage;
}

}  // namespace modgate::ctl

namespace modgate::ctl {

int cmd_window(const Globals& g, const Args& a) {
    const char* usage =
        "usage: modgatectl window open MODALITY VENDOR --for DURATION --reason TEXT\n"
        "       modgatectl window close MODALITY VENDOR [--reason TEXT]\n"
        "       modgatectl window list [--json]\n\n"
        "Maintenance windows let one modality reach one vendor. An open window is a kernel set\n"
        "element with a timeout: it closes on time even if modgated is not running. DURATION is\n"
        "e.g. 2h, 90m, 1h30m (at most the window's max_duration); the reason (a change or ticket\n"
        "number) goes into the audit event. Opening needs root or the policy's admin_group or the\n"
        "window's group.\n";
    if (a.empty()) {
        std::fputs(usage, stderr);
        return Exit::usage;
    }
    if (a[0] == "-h" || a[0] == "--help") {
        std::fputs(usage, stdout);
        return Exit::ok;
    }
    const auto& verb = a[0];
    if (verb == "list") {
        bool json = false;
        for (std::size_t i = 1; i < a.size(); ++i) {
            if (a[i] == "--json") json = true;
            else {
                std::fputs(usage, stderr);
                return Exit::usage;
            }
        }
        return send_json(g, {{"cmd", "window-list"}}, json, control::windows_from_json,
                         [](const std::vector<control::WindowStatus>& w) { return control::render_text(w); });
    }
    if ((verb != "open" && verb != "close") || a.size() < 3) {
        std::fputs(usage, stderr);
        return Exit::usage;
    }
    control::Fields req{{"cmd", "window-" + verb}, {"modality", a[1]}, {"vendor", a[2]}};
    std::optional<std::string> duration, reason;
    for (std::size_t i = 3; i < a.size(); ++i) {
        std::string v;
        auto take = [&](const char* name) {
            if (a[i] == name && i + 1 < a.size()) {
                v = a[++i];
                return true;
            }
            std::string eq = std::string(name) + "=";
            if (a[i].starts_with(eq)) {
                v = a[i].substr(eq.size());
                return true;
            }
            return false;
        };
        if (take("--for")) duration = v;
        else if (take("--reason")) reason = v;
        else {
            std::fprintf(stderr, "modgatectl window: unknown argument '%s'\n", a[i].c_str());
            return Exit::usage;
        }
    }
    if (verb == "open") {
        if (!duration) {
            std::fputs("modgatectl window open: --for DURATION is required (e.g. --for 2h)\n", stderr);
            return Exit::usage;
        }
        if (!reason || reason->find_first_not_of(" \t") == std::string::npos) {
            std::fputs("modgatectl window open: --reason is required (e.g. --reason \"CHG-1234\")\n", stderr);
            return Exit::invalid;
        }
        auto d = policy::parse_duration(*duration);
        if (!d || d->count() <= 0) {
            std::fprintf(stderr, "modgatectl window open: '%s' is not a duration (e.g. 2h, 90m, 1h30m)\n", duration->c_str());
            return Exit::usage;
        }
        req["for"] = std::to_string(d->count());
    } else if (duration) {
        std::fputs("modgatectl window close: --for does not apply\n", stderr);
        return Exit::usage;
    }
    if (reason) req["reason"] = *reason;
    return send(g, req);
}

}  // namespace modgate::ctl

namespace modgate::ctl {

int cmd_events(const Globals& g, const Args& a) {
    const char* usage =
        "usage: modgatectl events [--follow] [--json] [--modality NAME] [--kind EVENT] [--level LEVEL]\n\n"
        "The most recent events modgated emitted (it keeps the last 2000), oldest first, as logfmt\n"
        "lines or, with --json, one JSON object per line. --follow keeps printing events as they\n"
        "happen until interrupted. --modality keeps the events of one modality (its name, or its\n"
        "address as source or destination), --kind one event kind (docs/events.md), --level those\n"
        "at or above a severity (debug, info, warning, error, critical). Root or admin_group only.\n";
    if (a.size() == 1 && (a[0] == "-h" || a[0] == "--help")) {
        std::fputs(usage, stdout);
        return Exit::ok;
    }
    control::Fields req{{"cmd", "events"}};
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "--follow") req["cmd"] = "events-follow";
        else if (a[i] == "--json") req["json"] = "1";
        else if ((a[i] == "--modality" || a[i] == "--kind" || a[i] == "--level") && i + 1 < a.size())
            req[a[i].substr(2)] = a[i + 1], ++i;
        else {
            std::fputs(usage, stderr);
            return Exit::usage;
        }
    }
    if (req["cmd"] == "events") return send(g, req);
    std::string error;
    int code = control::stream(g.socket, req, [](std::string_view chunk) {
        std::fwrite(chunk.data(), 1, chunk.size(), stdout);
        std::fflush(stdout);
    }, error);
    if (code != Exit::ok) std::fprintf(stderr, "modgatectl: %s\n", error.c_str());
    return code;
}

}  // namespace modgate::ctl
