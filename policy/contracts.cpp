// The drop reasons' names and the NFLOG prefix, written and parsed in one place.
#include "policy/contracts.hpp"

#include <fmt/format.h>

namespace modgate::policy {

namespace {
constexpr std::string_view prefix_tag = "modgate";
}  // namespace

const char* to_string(DropReason r) {
    switch (r) {
        case DropReason::spoof: return "spoof";
        case DropReason::ipv6: return "ipv6";
        case DropReason::bridge: return "bridge";
        case DropReason::flow: return "flow";
        case DropReason::local: return "local";
        case DropReason::island: return "island";
    }
    return "?";
}

std::optional<DropReason> drop_reason_from_string(std::string_view s) {
    for (auto r : all_drop_reasons)
        if (s == to_string(r)) return r;
    return std::nullopt;
}

std::string drop_prefix(DropReason reason, Direction dir) {
    return fmt::format("{}:{}:{}", prefix_tag, to_string(reason), to_string(dir));
}

std::optional<DropPrefix> parse_drop_prefix(std::string_view prefix) {
    auto a = prefix.find(':');
    if (a == std::string_view::npos || prefix.substr(0, a) != prefix_tag) return std::nullopt;
    auto b = prefix.find(':', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    auto reason = drop_reason_from_string(prefix.substr(a + 1, b - a - 1));
    auto dir = direction_from_string(prefix.substr(b + 1));  // a third ':' makes this fail
    if (!reason || !dir) return std::nullopt;
    return DropPrefix{*reason, *dir};
}

std::string drop_chain_name(DropReason reason, Direction dir) {
    return fmt::format("drop_{}_{}", to_string(reason), to_string(dir));
}

}  // namespace modgate::policy
