// Parsing and formatting of IPv4, CIDR and MAC values (strict: no shorthand forms).
#include "policy/net.hpp"

#include <charconv>
#include <cstdio>

namespace modgate::policy {
namespace {

std::optional<unsigned> parse_dec(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 3) return std::nullopt;
    if (s.size() > 1 && s[0] == '0') return std::nullopt;  // no leading zeros: 010 is ambiguous
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

}  // namespace

std::string Ipv4::str() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                  value & 0xff);
    return buf;
}

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = text.find('.');
        if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
        auto part = parse_dec(text.substr(0, dot), 255);
        if (!part) return std::nullopt;
        v = (v << 8) | *part;
        text = i < 3 ? text.substr(dot + 1) : std::string_view{};
    }
    return Ipv4{v};
}

std::string Cidr::str() const { return is_host() ? addr.str() : addr.str() + "/" + std::to_string(len); }

std::optional<Cidr> Cidr::parse(std::string_view text) {
    auto a = IfAddr::parse(text);
    if (!a) return std::nullopt;
    Cidr c{a->addr, a->len};
    if ((c.addr.value & c.mask()) != c.addr.value) return std::nullopt;
    return c;
}

Cidr IfAddr::network() const {
    Cidr c{addr, len};
    c.addr.value &= c.mask();
    return c;
}

std::string IfAddr::str() const { return addr.str() + "/" + std::to_string(len); }

std::optional<IfAddr> IfAddr::parse(std::string_view text) {
    auto slash = text.find('/');
    auto a = Ipv4::parse(text.substr(0, slash));
    if (!a) return std::nullopt;
    if (slash == std::string_view::npos) return IfAddr{*a, 32};
    auto len = parse_dec(text.substr(slash + 1), 32);
    if (!len) return std::nullopt;
    return IfAddr{*a, static_cast<std::uint8_t>(*len)};
}

std::string Mac::str() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                  bytes[4], bytes[5]);
    return buf;
}

std::optional<Mac> Mac::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    Mac m;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return std::nullopt;
        if (i > 0 && text[i * 3 - 1] != text[2]) return std::nullopt;  // one separator style
        unsigned v = 0;
        auto s = text.substr(i * 3, 2);
        auto [p, ec] = std::from_chars(s.data(), s.data() + 2, v, 16);
        if (ec != std::errc{} || p != s.data() + 2) return std::nullopt;
        m.bytes[i] = static_cast<std::uint8_t>(v);
    }
    return m;
}

}  // namespace modgate::policy
