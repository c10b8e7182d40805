// Host-name rules shared by the SNI reader, the SNI patterns and the DNS encoder: one definition
// of "a valid host name" so a name the proxy accepts is a name the resolver can ask for.
#pragma once
#include <string>
#include <string_view>

#include "policy/host_name.hpp"

namespace modgate::vendors {

inline constexpr std::size_t max_host_name = policy::max_host_name;
inline constexpr std::size_t max_label = policy::max_host_label;

// The policy's rule (policy/host_name.hpp): letters, digits and hyphens in dot-separated labels of
// 1..63 bytes, no label starting or ending with a hyphen, at most 253 bytes. No trailing dot:
// callers that accept one strip it first.
using policy::is_host_name;

// ASCII-only case folding: DNS and SNI compare names byte-wise with A-Z folded, never by locale.
char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// `name` without one trailing dot (an absolute name), if it has one.
std::string_view strip_trailing_dot(std::string_view name);

}  // namespace modgate::vendors
