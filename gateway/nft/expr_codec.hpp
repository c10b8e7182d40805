// Between the plain bytecode (insn.hpp) and libnftnl's rule expressions. Internal to gateway/nft:
// only forward declarations of libnftnl types appear here.
#pragma once
#include <string>
#include <vector>

#include "gateway/nft/insn.hpp"

struct nftnl_rule;

namespace modgate::nft {

void add_exprs(nftnl_rule* rule, const std::vector<Insn>& insns);
std::vector<Insn> read_exprs(nftnl_rule* rule);

// libnftnl's debug text, as `nft --debug=netlink` prints it: "  [ cmp eq reg 1 0x... ]" lines.
std::string bytecode_text(const std::vector<Insn>& insns);

}  // namespace modgate::nft
