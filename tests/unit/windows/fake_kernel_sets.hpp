// An in-memory kernel for the window sets, behaving as the netlink implementation does (checked
// against the kernel by tests/integration/windows/kernel_sets_test.cpp): elements time out,
// deleting a timed-out element is no error, adding a held element gives it the new timeout (as
// kernels with element timeout updates do; the contract test says which kind it ran on).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "gateway/windows/kernel_sets.hpp"
#include "policy/contracts.hpp"

namespace windows_test {

class FakeKernelSets final : public modgate::windows::KernelSets {
public:
    using Millis = modgate::windows::Millis;
    using SetElements = modgate::windows::SetElements;

    // Both window sets exist, empty: as after the ruleset's apply.
    FakeKernelSets() { clear(); }

    // The tables re-created (a `flush ruleset` and a re-apply): both sets empty.
    void clear() {
        sets[modgate::policy::names::window_set] = {};
        sets[modgate::policy::names::window_in_set] = {};
    }

    std::expected<modgate::windows::Elements, std::string> read() override {
        ++reads;
        return modgate::windows::Elements{live(modgate::policy::names::window_set),
                                          live(modgate::policy::names::window_in_set)};
    }

    std::expected<void, std::string> write(const modgate::ruleset::Set& def,
                                           const modgate::windows::SetDelta& d) override {
        ++writes;
        auto it = sets.find(def.name);
        if (it == sets.end()) return std::unexpected("set " + def.name + ": No such file or directory");
        auto& held = it->second = live(def.name);
        for (const auto& e : d.remove) held.erase(modgate::windows::key_of(e));
        for (const auto& r : d.replace) held.erase(modgate::windows::key_of(r.from));
        const auto t = clock();
        auto add = [&](const modgate::ruleset::Element& e) {
            modgate::windows::Held h{e, t + std::chrono::milliseconds(e.timeout_ms)};
            h.element.expires_ms = 0;
            held.insert_or_assign(modgate::windows::key_of(e), std::move(h));
        };
        for (const auto& e : d.add) add(e);
        for (const auto& r : d.replace) add(r.to);
        return {};
    }

    // What a set holds now; timed-out elements are gone, as in a kernel dump.
    SetElements live(const std::string& name) const {
        SetElements out;
        auto it = sets.find(name);
        if (it == sets.end()) return out;
        const auto t = clock();
        for (const auto& [k, h] : it->second)
            if (h.ends > t) {
                auto& kept = out[k] = h;
                kept.element.expires_ms = static_cast<std::uint64_t>((h.ends - t).count());
            }
        return out;
    }

    std::function<Millis()> clock = [] {
        return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    };
    std::map<std::string, SetElements> sets;  // by set name; a set missing here does not exist
    int reads = 0, writes = 0;
};

}  // namespace windows_test
