// The windows of one policy: look-up by pair, and tick/deadline over all of them.
#include "gateway/windows/window_set.hpp"

#include <algorithm>

namespace modgate::windows {

std::expected<WindowSet, std::string> WindowSet::make(const std::vector<policy::Maintenance>& maintenance) {
    WindowSet set;
    set.windows_.reserve(maintenance.size());
    for (const auto& m : maintenance) {
        auto w = Window::make(m);
        if (!w) return std::unexpected(w.error());
        set.windows_.push_back(std::move(*w));
    }
    return set;
}

namespace {

// Both constnesses of find(), from one body.
template <class Windows>
auto find_in(Windows& windows, std::string_view modality, std::string_view vendor) {
    auto it = std::find_if(windows.begin(), windows.end(),
                           [&](const Window& w) { return w.modality() == modality && w.vendor() == vendor; });
    return it == windows.end() ? nullptr : &*it;
}

}  // namespace

Window* WindowSet::find(std::string_view modality, std::string_view vendor) {
    return find_in(windows_, modality, vendor);
}

const Window* WindowSet::find(std::string_view modality, std::string_view vendor) const {
    return find_in(windows_, modality, vendor);
}

std::vector<Transition> WindowSet::tick(Time now) {
    std::vector<Transition> out;
    for (auto& w : windows_) {
        auto t = w.tick(now);
        out.insert(out.end(), std::make_move_iterator(t.begin()), std::make_move_iterator(t.end()));
    }
    return out;
}

std::optional<Time> WindowSet::next_deadline(Time now) const {
    std::optional<Time> best;
    for (const auto& w : windows_)
        if (auto d = w.next_deadline(now)) best = best ? std::min(*best, *d) : *d;
    return best;
}

}  // namespace modgate::windows
