// The one host-name rule: the policy's vendor hosts and SNI patterns, the SNI reader and the DNS
// encoder all ask this, so a name the policy accepts is a name the proxy and the resolver accept.
// ASCII ranges spelled out, never <cctype>: a locale must not widen what counts as a letter.
// Header-only and constexpr: the policy parser (fuzzed with clang 14) and gateway/vendors/ include it.
#pragma once
#include <cstddef>
#include <string_view>

namespace modgate::policy {

inline constexpr std::size_t max_host_name = 253;  // text form without a trailing dot (RFC 1035 255 on the wire)
inline constexpr std::size_t max_host_label = 63;

// A letter, digit or hyphen (RFC 1123 "LDH"), ASCII only.
constexpr bool is_ldh(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// One label: 1..63 LDH bytes, not starting or ending with a hyphen.
constexpr bool is_host_label(std::string_view label) {
    if (label.empty() || label.size() > max_host_label) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
        if (!is_ldh(c)) return false;
    return true;
}

// Dot-separated labels (RFC 1123), at most 253 bytes. No trailing dot and no empty label: callers
// that accept an absolute name strip its dot first. A single label ("pacs") is a host name;
// the policy additionally asks vendor hosts for a dot.
constexpr bool is_host_name(std::string_view name) {
    if (name.empty() || name.size() > max_host_name) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
        if (!is_host_label(name.substr(start, end - start))) return false;  // also "a..b", ".a", "a."
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

// ASCII-only case folding, for the same reason: 'I' must fold to 'i' under every locale.
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace modgate::policy
