// All maintenance windows of one policy, keyed by (modality, vendor): what the daemon holds,
// ticks, and persists.
#pragma once
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/windows/window.hpp"
#include "policy/model.hpp"

namespace modgate::windows {

class WindowSet {
public:
    // One Window per [[maintenance]] entry, in policy order. Fails on the first entry whose
    // schedule cannot be built (an unknown time zone: validation normally catches it first).
    static std::expected<WindowSet, std::string> make(const std::vector<policy::Maintenance>& maintenance);
    static std::expected<WindowSet, std::string> make(const policy::Policy& p) { return make(p.maintenance); }

    // nullptr when the policy has no window for the pair: telling the operator is the caller's job.
    Window* find(std::string_view modality, std::string_view vendor);
    const Window* find(std::string_view modality, std::string_view vendor) const;

    // The transitions of every window, in policy order.
    std::vector<Transition> tick(Time now);
    // The earliest next_deadline() of any window.
    std::optional<Time> next_deadline(Time now) const;

    std::vector<Window>& windows() { return windows_; }
    const std::vector<Window>& windows() const { return windows_; }

private:
    std::vector<Window> windows_;
};

}  // namespace modgate::windows
