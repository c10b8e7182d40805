// Durations as the policy and the CLI write them: "30s", "15m", "4h", "1h30m", "2d".
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "policy/model.hpp"

namespace modgate::policy {

std::optional<Seconds> parse_duration(std::string_view text);
std::string format_duration(Seconds s);

}  // namespace modgate::policy
