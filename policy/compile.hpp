// The compiler: a pure function from a validated policy to the ruleset model.
#pragma once
#include "policy/model.hpp"
#include "policy/ruleset.hpp"

namespace modgate::policy {

// Names shared by the compiler, the daemon and the tests.
namespace names {
inline constexpr const char* table = "modgate";
inline constexpr const char* window_set = "window_tcp";  // dynamic: modality . vendor address . port
inline constexpr std::uint32_t proxy_mark = 0x1;
}  // namespace names

ruleset::Ruleset compile(const Policy& p);

// The NFLOG prefix of a drop rule: "modgate:REASON:DIR", parsed back by the daemon.
std::string drop_prefix(std::string_view reason, Direction dir);

}  // namespace modgate::policy
