// Maintenance windows in the running daemon: the pure window logic (gateway/windows/) driven by
// a timer, the control socket and the resolver, turned into kernel set elements whose timeouts
// close each window on time even if modgated dies, persisted in the state directory. The kernel
// is reached only through windows::KernelSets: netlink here, a fake in the unit tests.
#pragma once
#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/control/protocol.hpp"
#include "gateway/control/server.hpp"
#include "gateway/control/status.hpp"
#include "gateway/nft/elements.hpp"
#include "gateway/proxy/asio.hpp"
#include "gateway/privsep/wire.hpp"
#include "gateway/proxy/runtime.hpp"
#include "gateway/windows/elements.hpp"
#include "gateway/windows/kernel_sets.hpp"
#include "gateway/windows/window_set.hpp"
#include "policy/model.hpp"
#include "policy/ruleset.hpp"

namespace modgate::daemon {

// What the window manager tells the proxy: the open windows (the whole set, on every change)
// and the windows whose live sessions must end now.
struct WindowHooks {
    std::function<void(const std::vector<privsep::OpenWindow>&)> open_windows;
    std::function<void(const std::string& modality, const std::string& vendor)> cut;
};

// The window sets in modgate's inet table, through gateway/nft: one transaction per write.
class NetlinkKernelSets final : public windows::KernelSets {
public:
    static nft::Result<NetlinkKernelSets> open();
    std::expected<windows::Elements, std::string> read() override;
    std::expected<void, std::string> write(const ruleset::Set& def, const windows::SetDelta& d) override;

private:
    explicit NetlinkKernelSets(nft::ElementWriter w) : writer_(std::move(w)) {}
    nft::ElementWriter writer_;
};

class WindowManager {
public:
    // The kernel through netlink, opened when the first policy is bound.
    WindowManager(asio::io_context& io, std::string state_dir, WindowHooks hooks);
    // The kernel through `sets` (shared: a test's fake outlives a restart of the manager); null:
    // netlink, as the constructor above.
    WindowManager(asio::io_context& io, std::string state_dir, WindowHooks hooks,
                  std::shared_ptr<windows::KernelSets> sets);

    // Binds to a (new) policy: window state carries over under the restore rules. On the first
    // call it restores the state file and reconciles the kernel's window elements with it.
    void set_policy(std::shared_ptr<const proxy::PolicyState> state, const ruleset::Ruleset& compiled);

    // The ruleset was re-applied after someone removed or altered it: the window elements may be
    // gone; put back those of the open windows.
    void kernel_replaced();

    // Resolved addresses of a vendor's host names (fixed addresses come from the policy).
    void set_resolved(const std::string& vendor, std::vector<policy::Ipv4> addrs);

    control::Reply open(const control::Fields& f, const control::Caller& c);
    control::Reply close(const control::Fields& f, const control::Caller& c);
    // Every window of the policy, open or not (status, `window list`).
    std::vector<control::WindowStatus> list() const;

    // The open windows with their vendors' addresses, as the proxy needs them.
    std::vector<privsep::OpenWindow> open_windows() const;

private:
    struct Target {
        std::string modality, vendor, reason;
        windows::Window* window;
        const policy::Maintenance* maintenance;
    };
    std::expected<Target, control::Reply> target(const control::Fields& f, const control::Caller& c, const char* verb);
    void schedule_tick();
    void tick();
    void apply(const std::vector<windows::Transition>& ts);
    void audit(const windows::Transition& t);
    void reconcile();
    void sync(windows::SetElements& have, const windows::SetElements& want, const ruleset::Set& def, windows::Millis now);
    void read_kernel();
    void persist();
    void publish();
    windows::Time now() const;
    std::vector<policy::Cidr> addresses_of(const policy::Vendor& v) const;

    asio::io_context& io_;
    std::string state_dir_;
    WindowHooks hooks_;
    asio::steady_timer timer_;
    std::shared_ptr<const proxy::PolicyState> state_;
    std::optional<windows::WindowSet> set_;
    std::shared_ptr<windows::KernelSets> sets_;
    bool netlink_ = false;           // open the netlink sets when binding a policy, if not yet open
    ruleset::Set out_def_, in_def_;  // the window sets' definitions, from the compiled ruleset
    windows::Elements have_;         // what the kernel holds, as far as we know
    std::map<std::string, std::vector<policy::Ipv4>> resolved_;
    bool restored_ = false;
};

}  // namespace modgate::daemon
