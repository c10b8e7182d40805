// Sets on the wire: the definition nft 1.0.6 sends for a model set (flags, concatenated key type,
// key length, field lengths, userdata with the key byte order) and element keys (interval
// starts/ends, concatenated ranges), plus the reverse for read-back. Internal to gateway/nft.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"
#include "gateway/nft/insn.hpp"
#include "policy/ruleset.hpp"

struct nlmsghdr;

namespace modgate::nft {

// What NEWSET carries (besides table and name).
struct SetWire {
    std::uint32_t flags = 0;
    std::uint32_t key_type = 0;
    std::uint32_t key_len = 0;
    Bytes field_len;  // NFTA_SET_DESC_CONCAT: one byte per field, interval concatenations only
    Bytes userdata;
    bool operator==(const SetWire&) const = default;
};
Result<SetWire> set_wire(const ruleset::Set& s);

// One kernel element: interval sets turn a model element into a start and an end element.
struct ElemWire {
    Bytes key, key_end;
    std::uint32_t flags = 0;      // NFT_SET_ELEM_INTERVAL_END
    std::uint64_t timeout_ms = 0;
    Bytes userdata;               // comment, interval-open flag
    int source = -1;              // index of the model element, -1 for the leading zero segment
};
// `first_segment`: the set is being created, so nft adds the "nothing below the first start"
// end element at zero to a single-field interval set.
Result<std::vector<ElemWire>> encode_elements(const ruleset::Set& s, const std::vector<ruleset::Element>& elems,
                                              bool first_segment);

// Appends NEWSETELEM/DELSETELEM attributes for elems[begin, end) until the nest would pass
// `limit` bytes; returns how far it got, and records each element nest's offset.
std::size_t put_elements(nlmsghdr* nlh, const std::string& table, const std::string& set,
                         const std::vector<ElemWire>& elems, std::size_t begin, std::size_t limit,
                         std::vector<std::uint32_t>& offsets);

// Read-back. A decoded element list loses what the model cannot say (a range that is no prefix);
// `exact` tells.
struct DecodedSet {
    ruleset::Set set;
    bool exact = true;
};
std::optional<DecodedSet> decode_set(const std::string& name, const SetWire& w);
bool decode_elements(ruleset::Set& s, const std::vector<ElemWire>& elems, const std::vector<std::uint64_t>& expires);

std::string element_text(const ruleset::Set& s, const ruleset::Element& e);

}  // namespace modgate::nft
