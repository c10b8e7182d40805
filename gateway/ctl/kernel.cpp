// `modgatectl apply|diff|show`: the one-shot commands that talk to the kernel through gateway/nft
// (no daemon involved). Kernel errors are printed against the policy line they came from.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "gateway/ctl/commands.hpp"
#include "gateway/nft/apply.hpp"
#include "gateway/nft/diff.hpp"
#include "gateway/nft/readback.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"

namespace modgate::ctl {
namespace {

int exit_for(const nft::Error& e) {
    if (e.code == EPERM || e.code == EACCES) return Exit::not_authorised;
    return Exit::runtime;
}

// FILE:LINE:COL: error: kernel refused OBJECT: REASON, one line per refused object.
void print_error(const std::string& verb, const std::string& path, const nft::Error& e) {
    if (e.kernel.empty()) {
        std::fprintf(stderr, "modgatectl %s: %s\n", verb.c_str(), e.message.c_str());
        return;
    }
    for (const auto& k : e.kernel) {
        const std::string reason = k.code ? std::strerror(k.code) : e.message;
        std::string what = k.object;
        if (!k.origin.what.empty()) what += fmt::format(" (\"{}\")", k.origin.what);
        std::string detail = k.detail.empty() ? "" : ": " + k.detail;
        if (k.origin.line)
            std::fprintf(stderr, "%s:%u:%u: error: the kernel refused %s: %s%s\n", path.c_str(), k.origin.line, k.origin.col,
                         what.c_str(), reason.c_str(), detail.c_str());
        else
            std::fprintf(stderr, "modgatectl %s: the kernel refused %s: %s%s\n", verb.c_str(), what.c_str(), reason.c_str(), detail.c_str());
    }
}

bool help_asked(const Args& args, const char* text) {
    for (const auto& a : args)
        if (a == "-h" || a == "--help") {
            std::fputs(text, stdout);
            return true;
        }
    return false;
}

// Loads and compiles POLICY; prints the diagnostics and returns false when it is invalid.
bool compile_policy(const std::string& path, ruleset::Ruleset& out) {
    auto r = policy::load_file(path);
    if (!r.policy) {
        std::fputs(r.report().c_str(), stderr);
        return false;
    }
    out = policy::compile(*r.policy);
    return true;
}

const char* apply_help =
    "usage: modgatectl apply POLICY [--check]\n\n"
    "Compiles POLICY and loads it into the kernel as one netlink transaction. Only modgate's own\n"
    "tables are created or replaced; open maintenance windows survive. With --check the kernel\n"
    "validates the whole transaction and nothing changes. Exit codes: 0 applied (or valid),\n"
    "1 invalid policy, 3 refused by the kernel (each refused object with its policy line),\n"
    "4 not permitted (needs CAP_NET_ADMIN).\n";

const char* diff_help =
    "usage: modgatectl diff POLICY\n\n"
    "Shows what `modgatectl apply POLICY` would add (+), remove (-) or change (~) in the tables\n"
    "the kernel holds now. Rules compare by their bytecode. Exit 0 either way.\n";

const char* show_help =
    "usage: modgatectl show\n\n"
    "Prints modgate's tables as the kernel holds them, with counter values and the time left on\n"
    "set elements with timeouts.\n";

}  // namespace

int cmd_apply(const Globals&, const Args& args) {
    if (help_asked(args, apply_help)) return Exit::ok;
    std::string path;
    bool check = false;
    for (const auto& a : args) {
        if (a == "--check") check = true;
        else if (a.starts_with("-") || !path.empty()) {
            std::fputs("usage: modgatectl apply POLICY [--check]\n", stderr);
            return Exit::usage;
        } else path = a;
    }
    if (path.empty()) {
        std::fputs("usage: modgatectl apply POLICY [--check]\n", stderr);
        return Exit::usage;
    }
    ruleset::Ruleset rs;
    if (!compile_policy(path, rs)) return Exit::invalid;
    nft::ApplyOptions opts;
    opts.check = check;
    auto r = nft::apply(rs, opts);
    if (!r) {
        print_error("apply", path, r.error());
        return exit_for(r.error());
    }
    if (check)
        std::printf("kernel accepts the ruleset (%zu messages, %zu bytes); nothing changed\n", r->messages, r->bytes);
    else
        std::printf("applied %s: %zu messages, %zu bytes, generation %u%s\n", path.c_str(), r->messages, r->bytes, r->generation,
                    r->kept_dynamic_sets ? fmt::format(", {} window sets kept", r->kept_dynamic_sets).c_str() : "");
    return Exit::ok;
}

int cmd_diff(const Globals&, const Args& args) {
    if (help_asked(args, diff_help)) return Exit::ok;
    if (args.size() != 1 || args[0].starts_with("-")) {
        std::fputs("usage: modgatectl diff POLICY\n", stderr);
        return Exit::usage;
    }
    ruleset::Ruleset rs;
    if (!compile_policy(args[0], rs)) return Exit::invalid;
    auto snap = nft::read_tables(nft::ids_of(rs));
    if (!snap) {
        print_error("diff", args[0], snap.error());
        return exit_for(snap.error());
    }
    std::fputs(nft::diff(rs, *snap).text().c_str(), stdout);
    return Exit::ok;
}

int cmd_show(const Globals&, const Args& args) {
    if (help_asked(args, show_help)) return Exit::ok;
    if (!args.empty()) {
        std::fputs("usage: modgatectl show\n", stderr);
        return Exit::usage;
    }
    const std::string name = policy::names::table;
    auto snap = nft::read_tables({{ruleset::Family::bridge, name}, {ruleset::Family::inet, name}, {ruleset::Family::arp, name}});
    if (!snap) {
        print_error("show", "", snap.error());
        return exit_for(snap.error());
    }
    if (snap->tables.empty()) {
        std::puts("no modgate tables are loaded");
        return Exit::ok;
    }
    std::fputs(nft::render_snapshot(*snap).c_str(), stdout);
    return Exit::ok;
}

}  // namespace modgate::ctl
