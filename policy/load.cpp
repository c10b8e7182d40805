// Reading a policy file and running parse + validate; the report `modgatectl check` prints.
#include "policy/load.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "policy/parse.hpp"

namespace modgate::policy {
namespace {

bool tz_exists(std::string_view name) {
    if (name == "UTC") return true;
    if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) return false;
    std::error_code ec;
    return std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / name, ec);
}

bool tz_checked_before(std::string_view) { return true; }

LoadResult load_text(std::string_view text, std::string source, bool (*tz)(std::string_view)) {
    LoadResult r;
    r.source = std::move(source);
    r.text = std::string(text);
    Policy p;
    detail::SourceMap locs;
    if (detail::parse(r.text, r.source, p, locs, r.diagnostics)) detail::validate(p, locs, r.diagnostics, tz);
    r.diagnostics.sort();
    if (r.diagnostics.ok()) r.policy = std::move(p);
    return r;
}

}  // namespace

LoadResult load_string(std::string_view text, std::string source) { return load_text(text, std::move(source), tz_exists); }

LoadResult load_checked(std::string_view text, std::string source) {
    return load_text(text, std::move(source), tz_checked_before);
}

LoadResult load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        LoadResult r;
        r.source = path;
        r.unreadable = true;
        std::error_code ec;
        auto why = std::filesystem::exists(path, ec) ? "cannot be read (permission denied?)" : "does not exist";
        r.diagnostics.error({}, fmt::format("the policy file {}", why));
        return r;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return load_string(ss.str(), path);
}

std::string LoadResult::report() const {
    std::string out;
    for (const auto& d : diagnostics.all()) out += format(d, source, text);
    if (policy) {
        auto w = diagnostics.warnings();
        out += w ? fmt::format("policy OK ({} warning{})\n", w, w == 1 ? "" : "s") : "policy OK\n";
    } else {
        auto e = diagnostics.errors();
        out += fmt::format("{}: {} error{}, policy not usable\n", source, e, e == 1 ? "" : "s");
    }
    return out;
}

std::string policy_hash(std::string_view text) {
    // FNV-1a 64: a stable identifier of the text for status and events, not a security digest.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return fmt::format("{:016x}", h);
}

}  // namespace modgate::policy
