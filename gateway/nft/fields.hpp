// What each model field and set key type is on the wire: where nf_tables loads it from, how long
// and in which byte order its values are, and which protocol it belongs to (for nft's implicit
// dependencies). Shared by the linearizer, the parser and the set codec.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "gateway/nft/error.hpp"
#include "gateway/nft/insn.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

// nft's protocol descriptions that matter for dependencies (struct proto_desc in nft).
enum class Proto : std::uint8_t { none, inet, eth, netdev, ip, ip6, arp, tcp, udp, unknown };

enum class Source : std::uint8_t { meta, payload, ct, socket };

struct FieldInfo {
    Source source = Source::meta;
    std::uint32_t key = 0;     // NFT_META_*, NFT_CT_*, NFT_SOCKET_*
    std::uint32_t base = 0;    // NFT_PAYLOAD_LL_HEADER / NETWORK / TRANSPORT (payload only)
    std::uint32_t offset = 0;  // bytes into that header (payload only)
    std::uint32_t len = 0;     // bytes loaded and compared
    Proto proto = Proto::none; // the header the payload belongs to
    bool host_int = false;     // a host-endian integer: nft converts it for ranges and interval sets
    bool string = false;       // an interface name
    bool bitmask = false;      // ct state: `ct state new` tests bits
    bool protocol = false;     // nft's EXPR_F_PROTOCOL: ether type, meta nfproto, meta l4proto
    std::optional<ruleset::KeyType> key_type;  // the set key type a lookup on this field needs
};

const FieldInfo& field_info(ruleset::Field f);

// The field a load at (source, key) or payload (base, offset, len) is, if any.
std::optional<ruleset::Field> meta_field(std::uint32_t key);
std::optional<ruleset::Field> payload_field(std::uint32_t base, std::uint32_t offset, std::uint32_t len,
                                            ruleset::Family fam);

// A match or set value in the field's wire form (cmp data, immediate data).
Result<Bytes> encode_value(ruleset::Field f, const ruleset::Value& v);
// The inverse, for read-back; nullopt when the bytes are no value of the field.
std::optional<ruleset::Value> decode_value(ruleset::Field f, const Bytes& b);

// Set key types: nft's datatype id, length in bytes and the byte order nft records in the
// set's userdata (0 invalid, 1 host, 2 big endian).
struct KeyInfo {
    std::uint32_t type_id = 0;
    std::uint32_t len = 0;
    std::uint32_t byteorder = 0;
    bool host_int = false;  // stored host-endian, except in interval sets (converted like nft)
};
const KeyInfo& key_info(ruleset::KeyType k);
std::optional<ruleset::KeyType> key_type_from_id(std::uint32_t id);

// One element key component in set-data form (unpadded); `big_endian` for interval sets.
Result<Bytes> encode_key(ruleset::KeyType k, const ruleset::Value& v, bool big_endian);
std::optional<ruleset::Value> decode_key(ruleset::KeyType k, const Bytes& b, bool big_endian);

inline std::uint32_t padded(std::uint32_t len) { return (len + 3) / 4 * 4; }

std::string describe(const ruleset::Value& v);  // for error messages

}  // namespace modgate::nft
