// The kernel side of maintenance windows, as small as it can be: read both window sets, write one
// set's delta. The daemon's implementation goes through gateway/nft (netlink); tests use a fake.
#pragma once
#include <expected>
#include <string>

#include "gateway/windows/elements.hpp"
#include "policy/ruleset.hpp"

namespace modgate::windows {

class KernelSets {
public:
    virtual ~KernelSets() = default;

    // What both window sets hold now, each element with the instant it times out. Sets (or their
    // table) that do not exist read as empty.
    virtual std::expected<Elements, std::string> read() = 0;

    // One transaction on the set `def` names (its key and flags; its elements are ignored):
    // deletes and replaced elements out, adds and replacements in, never a moment without a
    // replaced element. An element to delete that has timed out meanwhile is no error. Adding an
    // element the set already holds is no error either; whether it takes the new timeout depends
    // on the kernel (6.18 does, older ones did not), so delta() never asks for it: a new end is
    // always a replacement.
    virtual std::expected<void, std::string> write(const ruleset::Set& def, const SetDelta& d) = 0;
};

}  // namespace modgate::windows
