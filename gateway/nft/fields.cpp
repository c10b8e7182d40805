// Wire facts for model fields and set key types, taken from nft 1.0.6's templates (meta.c, ct.c,
// socket.c, proto.c, datatype.c) so that our bytecode matches what nft emits byte for byte.
#include "gateway/nft/fields.hpp"

#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <array>
#include <cstring>

#include <fmt/format.h>

namespace modgate::nft {

using ruleset::Family;
using ruleset::Field;
using ruleset::KeyType;
using ruleset::Value;

namespace {

FieldInfo meta(std::uint32_t key, std::uint32_t len, bool host_int, std::optional<KeyType> kt = {}) {
    FieldInfo f;
    f.source = Source::meta;
    f.key = key;
    f.len = len;
    f.host_int = host_int;
    f.key_type = kt;
    return f;
}

FieldInfo payload(std::uint32_t base, std::uint32_t offset, std::uint32_t len, Proto proto,
                  std::optional<KeyType> kt = {}) {
    FieldInfo f;
    f.source = Source::payload;
    f.base = base;
    f.offset = offset;
    f.len = len;
    f.proto = proto;
    f.key_type = kt;
    return f;
}

FieldInfo make_info(Field f) {
    constexpr auto ll = NFT_PAYLOAD_LL_HEADER, nh = NFT_PAYLOAD_NETWORK_HEADER, th = NFT_PAYLOAD_TRANSPORT_HEADER;
    switch (f) {
        case Field::meta_iifname: {
            auto i = meta(NFT_META_IIFNAME, IFNAMSIZ, false, KeyType::ifname);
            i.string = true;
            return i;
        }
        case Field::meta_oifname: {
            auto i = meta(NFT_META_OIFNAME, IFNAMSIZ, false, KeyType::ifname);
            i.string = true;
            return i;
        }
        case Field::meta_nfproto: {
            auto i = meta(NFT_META_NFPROTO, 1, true);
            i.protocol = true;
            return i;
        }
        case Field::meta_l4proto: {
            auto i = meta(NFT_META_L4PROTO, 1, true, KeyType::inet_proto);
            i.protocol = true;
            return i;
        }
        case Field::meta_mark: return meta(NFT_META_MARK, 4, true, KeyType::mark);
        case Field::meta_pkttype: return meta(NFT_META_PKTTYPE, 1, true);
        case Field::ether_daddr: return payload(ll, 0, 6, Proto::eth, KeyType::ether_addr);
        case Field::ether_saddr: return payload(ll, 6, 6, Proto::eth, KeyType::ether_addr);
        case Field::ether_type: {
            auto i = payload(ll, 12, 2, Proto::eth);
            i.protocol = true;
            return i;
        }
        case Field::arp_htype: return payload(nh, 0, 2, Proto::arp);
        case Field::arp_ptype: return payload(nh, 2, 2, Proto::arp);
        case Field::arp_hlen: return payload(nh, 4, 1, Proto::arp);
        case Field::arp_plen: return payload(nh, 5, 1, Proto::arp);
        case Field::arp_operation: return payload(nh, 6, 2, Proto::arp);
        case Field::arp_saddr_ether: return payload(nh, 8, 6, Proto::arp, KeyType::ether_addr);
        case Field::arp_saddr_ip: return payload(nh, 14, 4, Proto::arp, KeyType::ipv4_addr);
        case Field::arp_daddr_ether: return payload(nh, 18, 6, Proto::arp, KeyType::ether_addr);
        case Field::arp_daddr_ip: return payload(nh, 24, 4, Proto::arp, KeyType::ipv4_addr);
        case Field::ip_saddr: return payload(nh, 12, 4, Proto::ip, KeyType::ipv4_addr);
        case Field::ip_daddr: return payload(nh, 16, 4, Proto::ip, KeyType::ipv4_addr);
        case Field::tcp_sport: return payload(th, 0, 2, Proto::tcp, KeyType::inet_service);
        case Field::tcp_dport: return payload(th, 2, 2, Proto::tcp, KeyType::inet_service);
        case Field::udp_sport: return payload(th, 0, 2, Proto::udp, KeyType::inet_service);
        case Field::udp_dport: return payload(th, 2, 2, Proto::udp, KeyType::inet_service);
        case Field::ct_state: {
            FieldInfo i;
            i.source = Source::ct;
            i.key = NFT_CT_STATE;
            i.len = 4;
            i.host_int = true;
            i.bitmask = true;
            return i;
        }
        case Field::socket_transparent:
        case Field::socket_wildcard: {
            FieldInfo i;
            i.source = Source::socket;
            i.key = f == Field::socket_transparent ? NFT_SOCKET_TRANSPARENT : NFT_SOCKET_WILDCARD;
            i.len = 1;
            i.host_int = true;
            return i;
        }
    }
    return {};
}

constexpr Field all_fields[] = {
    Field::meta_iifname, Field::meta_oifname, Field::meta_nfproto, Field::meta_l4proto, Field::meta_mark,
    Field::meta_pkttype, Field::ether_daddr, Field::ether_saddr, Field::ether_type, Field::arp_htype,
    Field::arp_ptype, Field::arp_hlen, Field::arp_plen, Field::arp_operation, Field::arp_saddr_ether,
    Field::arp_saddr_ip, Field::arp_daddr_ether, Field::arp_daddr_ip, Field::ip_saddr, Field::ip_daddr,
    Field::tcp_sport, Field::tcp_dport, Field::udp_sport, Field::udp_dport, Field::ct_state,
    Field::socket_transparent, Field::socket_wildcard,
};

void put_be(Bytes& out, std::uint64_t v, std::uint32_t len) {
    for (std::uint32_t i = 0; i < len; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * (len - 1 - i))));
}
void put_le(Bytes& out, std::uint64_t v, std::uint32_t len) {
    for (std::uint32_t i = 0; i < len; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_be(const Bytes& b) {
    std::uint64_t v = 0;
    for (auto c : b) v = v << 8 | c;
    return v;
}
std::uint64_t get_le(const Bytes& b) {
    std::uint64_t v = 0;
    for (std::size_t i = b.size(); i-- > 0;) v = v << 8 | b[i];
    return v;
}

bool fits(std::uint64_t v, std::uint32_t len) { return len >= 8 || v < (std::uint64_t{1} << (8 * len)); }

Result<Bytes> encode_number(std::uint64_t n, std::uint32_t len, bool big_endian, const std::string& what) {
    if (!fits(n, len)) return std::unexpected(model_error(fmt::format("value {} does not fit {}", n, what)));
    Bytes out;
    big_endian ? put_be(out, n, len) : put_le(out, n, len);
    return out;
}

Result<Bytes> encode_ifname(const std::string& s, const std::string& what) {
    if (s.size() >= IFNAMSIZ) return std::unexpected(model_error(fmt::format("interface name \"{}\" is too long for {}", s, what)));
    Bytes out(IFNAMSIZ, 0);
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}

std::string ifname_of(const Bytes& b) {
    std::string s(b.begin(), b.end());
    if (auto z = s.find('\0'); z != std::string::npos) s.resize(z);
    return s;
}

}  // namespace

const FieldInfo& field_info(Field f) {
    static const auto table = [] {
        std::array<FieldInfo, std::size(all_fields)> t{};
        for (std::size_t i = 0; i < std::size(all_fields); ++i) t[static_cast<std::size_t>(all_fields[i])] = make_info(all_fields[i]);
        return t;
    }();
    return table.at(static_cast<std::size_t>(f));
}

std::optional<Field> meta_field(std::uint32_t key) {
    for (Field f : all_fields) {
        const auto& i = field_info(f);
        if (i.source == Source::meta && i.key == key) return f;
    }
    return std::nullopt;
}

std::optional<Field> payload_field(std::uint32_t base, std::uint32_t offset, std::uint32_t len, Family fam) {
    for (Field f : all_fields) {
        const auto& i = field_info(f);
        if (i.source != Source::payload || i.base != base || i.offset != offset || i.len != len) continue;
        // The network header is ARP in the arp family and for ARP fields; IPv4 otherwise. The
        // transport header is read as tcp here; the dependency decides tcp or udp (see raise).
        if (i.proto == Proto::arp && fam != Family::arp && fam != Family::bridge) continue;
        if (i.proto == Proto::ip && fam == Family::arp) continue;
        if (i.proto == Proto::udp) continue;
        return f;
    }
    return std::nullopt;
}

Result<Bytes> encode_value(Field f, const Value& v) {
    const auto& info = field_info(f);
    const std::string what = ruleset::to_string(f);
    if (info.string) {
        if (const auto* s = std::get_if<std::string>(&v)) return encode_ifname(*s, what);
    } else if (const auto* n = std::get_if<std::uint64_t>(&v)) {
        return encode_number(*n, info.len, !info.host_int, what);
    } else if (const auto* a = std::get_if<ruleset::Ipv4>(&v); a && info.len == 4 && info.key_type == KeyType::ipv4_addr) {
        Bytes out;
        put_be(out, a->value, 4);
        return out;
    } else if (const auto* c = std::get_if<ruleset::Cidr>(&v); c && info.key_type == KeyType::ipv4_addr) {
        Bytes out;
        put_be(out, c->addr.value, 4);
        return out;
    } else if (const auto* m = std::get_if<ruleset::Mac>(&v); m && info.key_type == KeyType::ether_addr) {
        return Bytes(m->bytes.begin(), m->bytes.end());
    }
    return std::unexpected(model_error(fmt::format("{} cannot take the value {}", what, describe(v))));
}

std::optional<Value> decode_value(Field f, const Bytes& b) {
    const auto& info = field_info(f);
    if (b.size() != info.len) return std::nullopt;
    if (info.string) return Value{ifname_of(b)};
    if (info.key_type == KeyType::ipv4_addr) return Value{ruleset::Ipv4{static_cast<std::uint32_t>(get_be(b))}};
    if (info.key_type == KeyType::ether_addr) {
        ruleset::Mac m;
        std::copy(b.begin(), b.end(), m.bytes.begin());
        return Value{m};
    }
    return Value{info.host_int ? get_le(b) : get_be(b)};
}

const KeyInfo& key_info(KeyType k) {
    // Type ids from nft's enum datatypes; byte orders as nft 1.0.6 writes them into set userdata.
    static const KeyInfo ipv4{7, 4, 2, false}, ether{9, 6, 2, false}, service{13, 2, 2, false},
        proto{12, 1, 0, false}, mark{19, 4, 1, true}, ifname{41, IFNAMSIZ, 1, false};
    switch (k) {
        case KeyType::ipv4_addr: return ipv4;
        case KeyType::ether_addr: return ether;
        case KeyType::inet_service: return service;
        case KeyType::inet_proto: return proto;
        case KeyType::mark: return mark;
        case KeyType::ifname: return ifname;
    }
    return ipv4;
}

std::optional<KeyType> key_type_from_id(std::uint32_t id) {
    for (KeyType k : {KeyType::ipv4_addr, KeyType::ether_addr, KeyType::inet_service, KeyType::inet_proto,
                      KeyType::mark, KeyType::ifname})
        if (key_info(k).type_id == id) return k;
    return std::nullopt;
}

Result<Bytes> encode_key(KeyType k, const Value& v, bool big_endian) {
    const auto& info = key_info(k);
    const std::string what = fmt::format("a {} key", ruleset::to_string(k));
    switch (k) {
        case KeyType::ipv4_addr:
            if (const auto* a = std::get_if<ruleset::Ipv4>(&v)) {
                Bytes out;
                put_be(out, a->value, 4);
                return out;
            }
            break;
        case KeyType::ether_addr:
            if (const auto* m = std::get_if<ruleset::Mac>(&v)) return Bytes(m->bytes.begin(), m->bytes.end());
            break;
        case KeyType::ifname:
            if (const auto* s = std::get_if<std::string>(&v)) return encode_ifname(*s, what);
            break;
        case KeyType::inet_service:
        case KeyType::inet_proto:
        case KeyType::mark:
            if (const auto* n = std::get_if<std::uint64_t>(&v))
                return encode_number(*n, info.len, !info.host_int || big_endian, what);
            break;
    }
    return std::unexpected(model_error(fmt::format("{} cannot hold the value {}", what, describe(v))));
}

std::optional<Value> decode_key(KeyType k, const Bytes& b, bool big_endian) {
    const auto& info = key_info(k);
    if (b.size() != info.len) return std::nullopt;
    switch (k) {
        case KeyType::ipv4_addr: return Value{ruleset::Ipv4{static_cast<std::uint32_t>(get_be(b))}};
        case KeyType::ether_addr: {
            ruleset::Mac m;
            std::copy(b.begin(), b.end(), m.bytes.begin());
            return Value{m};
        }
        case KeyType::ifname: return Value{ifname_of(b)};
        case KeyType::inet_service:
        case KeyType::inet_proto:
        case KeyType::mark: return Value{(!info.host_int || big_endian) ? get_be(b) : get_le(b)};
    }
    return std::nullopt;
}

std::string describe(const Value& v) {
    if (const auto* n = std::get_if<std::uint64_t>(&v)) return std::to_string(*n);
    if (const auto* s = std::get_if<std::string>(&v)) return fmt::format("\"{}\"", *s);
    if (const auto* a = std::get_if<ruleset::Ipv4>(&v)) return a->str();
    if (const auto* c = std::get_if<ruleset::Cidr>(&v)) return c->str();
    if (const auto* m = std::get_if<ruleset::Mac>(&v)) return m->str();
    return "?";
}

}  // namespace modgate::nft
