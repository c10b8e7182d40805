// Address value types shared by the policy model and the ruleset model: IPv4, CIDR, MAC.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modgate::policy {

struct Ipv4 {
    std::uint32_t value = 0;  // host byte order
    auto operator<=>(const Ipv4&) const = default;
    std::string str() const;
    static std::optional<Ipv4> parse(std::string_view text);
};

struct Cidr {
    Ipv4 addr;          // network address (host bits cleared)
    std::uint8_t len = 32;
    auto operator<=>(const Cidr&) const = default;
    std::uint32_t mask() const { return len == 0 ? 0u : ~std::uint32_t{0} << (32 - len); }
    Ipv4 last() const { return Ipv4{addr.value | ~mask()}; }
    bool is_host() const { return len == 32; }
    bool contains(Ipv4 a) const { return (a.value & mask()) == addr.value; }
    bool contains(const Cidr& c) const { return c.len >= len && contains(c.addr); }
    bool overlaps(const Cidr& c) const { return contains(c.addr) || c.contains(addr); }
    std::string str() const;  // "10.0.0.0/8", or just the address for a /32
    // Accepts "a.b.c.d" (a /32) and "a.b.c.d/len". Host bits must be clear unless keep_host.
    static std::optional<Cidr> parse(std::string_view text);
};

// An interface address: an address with its prefix length, host bits allowed ("10.20.30.40/24").
struct IfAddr {
    Ipv4 addr;
    std::uint8_t len = 32;
    auto operator<=>(const IfAddr&) const = default;
    Cidr network() const;
    std::string str() const;
    static std::optional<IfAddr> parse(std::string_view text);
};

struct Mac {
    std::array<std::uint8_t, 6> bytes{};
    auto operator<=>(const Mac&) const = default;
    std::string str() const;  // lower-case, colon separated
    static std::optional<Mac> parse(std::string_view text);
    bool is_multicast() const { return (bytes[0] & 1) != 0; }
    bool is_zero() const { return bytes == std::array<std::uint8_t, 6>{}; }
};

}  // namespace modgate::policy
