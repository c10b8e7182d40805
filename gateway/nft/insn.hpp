// The bytecode of one rule as plain data: the nf_tables expressions nft would send, without
// libnftnl types, so linearizing and parsing rules can be tested and compared without root.
// Register numbers are the ones on the wire (1-4 for 16-byte registers, 8-23 for 4-byte ones).
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace modgate::nft {

using Bytes = std::vector<std::uint8_t>;

namespace insn {

struct Meta { std::uint32_t key = 0, dreg = 0; bool operator==(const Meta&) const = default; };
struct Payload {
    std::uint32_t base = 0, offset = 0, len = 0, dreg = 0;  // base: NFT_PAYLOAD_*_HEADER
    bool operator==(const Payload&) const = default;
};
struct Ct { std::uint32_t key = 0, dreg = 0; bool operator==(const Ct&) const = default; };
struct Socket { std::uint32_t key = 0, level = 0, dreg = 0; bool operator==(const Socket&) const = default; };
struct Cmp { std::uint32_t sreg = 0, op = 0; Bytes data; bool operator==(const Cmp&) const = default; };
struct Range {
    std::uint32_t sreg = 0, op = 0;
    Bytes from, to;
    bool operator==(const Range&) const = default;
};
struct Bitwise {
    std::uint32_t sreg = 0, dreg = 0, len = 0;
    Bytes mask, xor_;
    bool operator==(const Bitwise&) const = default;
};
struct Byteorder {
    std::uint32_t sreg = 0, dreg = 0, op = 0, len = 0, size = 0;
    bool operator==(const Byteorder&) const = default;
};
struct Lookup {
    std::uint32_t sreg = 0;
    std::string set;
    std::uint32_t flags = 0;  // NFT_LOOKUP_F_INV
    bool operator==(const Lookup&) const = default;
};
struct Immediate { std::uint32_t dreg = 0; Bytes data; bool operator==(const Immediate&) const = default; };
struct Verdict {
    std::int32_t code = 0;  // NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO, NFT_RETURN
    std::string chain;
    bool operator==(const Verdict&) const = default;
};
struct MetaSet { std::uint32_t key = 0, sreg = 0; bool operator==(const MetaSet&) const = default; };
struct PayloadSet {
    std::uint32_t sreg = 0, base = 0, offset = 0, len = 0, csum_type = 0, csum_offset = 0, csum_flags = 0;
    bool operator==(const PayloadSet&) const = default;
};
// Counter values are state, not bytecode: equality ignores them.
struct Counter {
    std::uint64_t packets = 0, bytes = 0;
    bool operator==(const Counter&) const { return true; }
};
struct Limit {
    std::uint64_t rate = 0, unit = 0;
    std::uint32_t burst = 0, type = 0, flags = 0;
    bool operator==(const Limit&) const = default;
};
struct Log {
    std::string prefix;
    std::uint16_t group = 0;
    bool has_group = false;
    bool operator==(const Log&) const = default;
};
struct Tproxy { std::uint32_t family = 0, port_reg = 0; bool operator==(const Tproxy&) const = default; };
// An expression this engine never emits (read back from a rule someone else wrote).
struct Unknown { std::string text; bool operator==(const Unknown&) const = default; };

}  // namespace insn

using Insn = std::variant<insn::Meta, insn::Payload, insn::Ct, insn::Socket, insn::Cmp, insn::Range, insn::Bitwise,
                          insn::Byteorder, insn::Lookup, insn::Immediate, insn::Verdict, insn::MetaSet,
                          insn::PayloadSet, insn::Counter, insn::Limit, insn::Log, insn::Tproxy, insn::Unknown>;

// A rule's bytecode plus its userdata (the comment, encoded as nft does).
struct RuleCode {
    std::vector<Insn> insns;
    Bytes userdata;
    bool operator==(const RuleCode&) const = default;
};

}  // namespace modgate::nft
