// The kernel set elements the open windows need, and the difference from what the window sets
// hold: plain data, no I/O (diff-then-apply, as wireguard-tools' syncconf does it).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gateway/windows/window_set.hpp"
#include "policy/model.hpp"
#include "policy/ruleset.hpp"

namespace modgate::windows {

// An instant to the millisecond: kernel element timeouts and expiry are counted in ms.
using Millis = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// A vendor's addresses for its windows' elements: the policy's fixed ones and the resolved ones,
// sorted, without duplicates, and without a host inside a listed network (the kernel refuses
// overlapping elements).
std::vector<policy::Cidr> vendor_addresses(const policy::Vendor& v, const std::vector<policy::Ipv4>& resolved);
// Vendor name -> vendor_addresses().
using VendorAddresses = std::map<std::string, std::vector<policy::Cidr>, std::less<>>;

// An element of a window set and the instant it times out in the kernel.
struct Held {
    ruleset::Element element;
    Millis ends{};
    bool operator==(const Held&) const = default;  // element: key, timeout and comment
};

// Elements by key; a /32 prefix is keyed as its address, the form the kernel reads back.
using ElementKey = std::vector<ruleset::Value>;
ElementKey key_of(const ruleset::Element& e);
using SetElements = std::map<ElementKey, Held>;

// Both window sets: modality . vendor address . port outbound (policy::names::window_set) and
// the vendor's sessions into the modality (policy::names::window_in_set).
struct Elements {
    SetElements out, in;
    bool operator==(const Elements&) const = default;
};

// What the sets should hold at `now` for every window of `set` that is open and not past its
// end: for each vendor address, one element per vendor port (out) and per inbound port (in),
// with the window's remaining time as timeout, counted from `now` to the second as the windows
// count, and ending `now` plus that timeout. Windows whose modality, vendor or [[maintenance]]
// the policy lacks add nothing; where two windows want one element, the longer timeout wins.
Elements desired_elements(const WindowSet& set, const policy::Policy& p, const VendorAddresses& addresses, Millis now);

struct Replacement {
    ruleset::Element from, to;  // same key, another timeout: delete and add in one transaction
    bool operator==(const Replacement&) const = default;
};

// One set's change. Elements to delete carry no expiry (the kernel matches them by key).
struct SetDelta {
    std::vector<ruleset::Element> add;
    std::vector<ruleset::Element> remove;
    std::vector<Replacement> replace;
    bool empty() const { return add.empty() && remove.empty() && replace.empty(); }
    bool operator==(const SetDelta&) const = default;
};

struct Delta {
    SetDelta out, in;
    bool empty() const { return out.empty() && in.empty(); }
    bool operator==(const Delta&) const = default;
};

// What turns `have` into `want` at `now`, in key order. Ends less than 2 s apart are the same end
// (kernel timeouts drift by milliseconds): such an element is already right and left alone. An
// element that ended a second or more before `now` has timed out in the kernel: it is not
// deleted, and is added again if wanted.
SetDelta delta(const SetElements& have, const SetElements& want, Millis now);
Delta delta(const Elements& have, const Elements& want, Millis now);

// What a set holds once `d` = delta(have, want, now) is written: `want`, except that the
// elements left alone keep the end `have` knew for them.
SetElements applied(const SetElements& have, const SetElements& want, const SetDelta& d);

}  // namespace modgate::windows
