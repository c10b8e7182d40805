// The daemon's maintenance windows: transitions become audit events, a state file and a delta of
// kernel set elements (one small transaction per set); the proxy asks here about window flows.
#include "gateway/daemon/window_manager.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "gateway/events/events.hpp"
#include "gateway/nft/readback.hpp"
#include "gateway/windows/atomic_file.hpp"
#include "gateway/windows/restore.hpp"
#include "gateway/windows/state_file.hpp"
#include "policy/compile.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;
using windows::Time;

namespace {

const nft::TableId inet_table{ruleset::Family::inet, policy::names::table};
constexpr const char* in_set_name = policy::names::window_in_set;

std::string window_name(const std::string& m, const std::string& v) { return m + "/" + v; }

windows::Millis now_ms() { return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

// The saved windows of a previous run; a damaged file restores nothing and says so.
std::vector<windows::Record> load_state_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = windows::parse_state(ss.str());
    if (parsed) return std::move(*parsed);
    Event(Kind::state_file_damaged, Level::critical)
        .kv(Key::file, path).kv(Key::error, parsed.error()).kv(Key::action, "no window restored");
    return {};
}

}  // namespace

nft::Result<NetlinkKernelSets> NetlinkKernelSets::open() {
    auto w = nft::ElementWriter::open();
    if (!w) return std::unexpected(std::move(w.error()));
    return NetlinkKernelSets(std::move(*w));
}

std::expected<windows::Elements, std::string> NetlinkKernelSets::read() {
    auto snap = nft::read_tables({inet_table});
    if (!snap) return std::unexpected(snap.error().message);
    windows::Elements out;
    const auto* lt = snap->find(inet_table);
    if (!lt) return out;
    const auto now = now_ms();
    for (const auto& s : lt->table.sets) {
        auto* into = s.name == policy::names::window_set ? &out.out : s.name == in_set_name ? &out.in : nullptr;
        if (!into) continue;
        for (const auto& e : s.elements)
            (*into)[windows::key_of(e)] = windows::Held{e, now + std::chrono::milliseconds(e.expires_ms)};
    }
    return out;
}

std::expected<void, std::string> NetlinkKernelSets::write(const ruleset::Set& def, const windows::SetDelta& d) {
    auto removes = d.remove, adds = d.add;
    for (const auto& r : d.replace) {
        removes.push_back(r.from);
        adds.push_back(r.to);
    }
    auto r = writer_.replace(inet_table, def, removes, adds);
    if (!r && r.error().code == ENOENT) {
        // Something to remove had just timed out in the kernel: remove only what is left.
        std::vector<ruleset::Element> still;
        if (auto snap = nft::read_tables({inet_table}))
            if (const auto* lt = snap->find(inet_table))
                if (const auto* s = lt->table.find_set(def.name))
                    for (const auto& e : removes)
                        for (const auto& k : s->elements)
                            if (k.key == e.key) still.push_back(e);
        r = writer_.replace(inet_table, def, still, adds);
    }
    if (!r) return std::unexpected(r.error().message);
    return {};
}

WindowManager::WindowManager(asio::io_context& io, std::string state_dir, WindowHooks hooks)
    : io_(io), state_dir_(std::move(state_dir)), hooks_(std::move(hooks)), timer_(io), netlink_(true) {}

WindowManager::WindowManager(asio::io_context& io, std::string state_dir, WindowHooks hooks,
                             std::shared_ptr<windows::KernelSets> sets)
    : io_(io), state_dir_(std::move(state_dir)), hooks_(std::move(hooks)), timer_(io), sets_(std::move(sets)),
      netlink_(!sets_) {}

Time WindowManager::now() const { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

std::vector<policy::Cidr> WindowManager::addresses_of(const policy::Vendor& v) const {
    auto it = resolved_.find(v.name);
    return windows::vendor_addresses(v, it == resolved_.end() ? std::vector<policy::Ipv4>{} : it->second);
}

void WindowManager::set_policy(std::shared_ptr<const proxy::PolicyState> state, const ruleset::Ruleset& compiled) {
    state_ = std::move(state);
    if (const auto* t = compiled.find(ruleset::Family::inet, policy::names::table)) {
        if (const auto* s = t->find_set(policy::names::window_set)) out_def_ = *s;
        if (const auto* s = t->find_set(in_set_name)) in_def_ = *s;
        out_def_.elements.clear();
        in_def_.elements.clear();
    }
    if (!sets_ && netlink_) {
        auto w = NetlinkKernelSets::open();
        if (!w) {
            Event(Kind::element_writer_failed, Level::critical).kv(Key::error, w.error().message);
        } else {
            sets_ = std::make_shared<NetlinkKernelSets>(std::move(*w));
        }
    }
    auto fresh = windows::WindowSet::make(state_->policy);
    if (!fresh) {
        Event(Kind::windows_unavailable, Level::critical).kv(Key::error, fresh.error());
        return;
    }
    std::vector<windows::Record> records;
    if (set_) {
        records = windows::snapshot(*set_);  // a reload: carry the state over
    } else {
        // First start: the state file, and what the kernel still holds from before.
        records = load_state_file(state_dir_ + "/windows.state");
        read_kernel();
    }
    set_ = std::move(*fresh);
    auto result = windows::restore(*set_, records, now());
    for (const auto& n : result.notes)
        Event(Kind::window_restore, n.outcome == windows::Outcome::restored ? Level::info : Level::warning)
            .kv(Key::modality, n.modality).kv(Key::vendor, n.vendor).kv(Key::record, n.record)
            .kv(Key::outcome, windows::to_string(n.outcome)).kv(Key::detail, n.detail);
    apply(result.transitions);
    // Scheduled slots running now (or missed while the daemon was down) open at once.
    apply(set_->tick(now()));
    publish();
    schedule_tick();
}

// What the kernel's window sets hold now, as the starting point for reconcile(); nothing when
// they cannot be read.
void WindowManager::read_kernel() {
    have_ = {};
    if (!sets_) return;
    if (auto r = sets_->read()) have_ = std::move(*r);
}

void WindowManager::kernel_replaced() {
    read_kernel();
    reconcile();
}

void WindowManager::set_resolved(const std::string& vendor, std::vector<policy::Ipv4> addrs) {
    std::sort(addrs.begin(), addrs.end());
    if (resolved_[vendor] == addrs) return;
    resolved_[vendor] = std::move(addrs);
    if (!state_) return;  // bound to a policy later
    publish();
    reconcile();
}

std::vector<privsep::OpenWindow> WindowManager::open_windows() const {
    std::vector<privsep::OpenWindow> out;
    if (!set_ || !state_) return out;
    const auto t = now();
    for (const auto& m : state_->policy.maintenance) {
        const auto* w = set_->find(m.modality, m.vendor);
        const auto* v = state_->policy.find_vendor(m.vendor);
        if (!w || !v || !w->is_open() || w->state().open->ends_at <= t) continue;
        auto ends = std::chrono::duration_cast<std::chrono::milliseconds>(w->state().open->ends_at.time_since_epoch());
        out.push_back({m.modality, m.vendor, ends.count(), addresses_of(*v)});
    }
    return out;
}

void WindowManager::publish() {
    if (hooks_.open_windows) hooks_.open_windows(open_windows());
}

void WindowManager::schedule_tick() {
    if (!set_) return;
    auto t = now();
    auto next = set_->next_deadline(t);
    auto wait = next ? std::clamp<std::chrono::seconds>(*next - t, std::chrono::seconds(0), std::chrono::seconds(3600))
                     : std::chrono::seconds(3600);
    timer_.expires_after(wait);
    timer_.async_wait([this](const error_code& ec) {
        if (!ec) tick();
    });
}

void WindowManager::tick() {
    apply(set_->tick(now()));
    schedule_tick();
}

void WindowManager::audit(const windows::Transition& t) {
    Event e(t.action == windows::Action::open ? Kind::window_open : t.action == windows::Action::extend ? Kind::window_extend : Kind::window_close);
    e.kv(Key::modality, t.modality).kv(Key::vendor, t.vendor).kv(Key::cause, windows::to_string(t.cause))
        .kv(Key::at, windows::format_time(t.at));
    if (t.action != windows::Action::close)
        e.kv(Key::opened_at, windows::format_time(t.opened_at)).kv(Key::ends_at, windows::format_time(t.ends_at))
            .kv(Key::timeout, windows::format_duration(t.timeout()));
    if (t.who) e.kv(Key::uid, static_cast<std::uint64_t>(t.who->uid)).kv(Key::user, t.who->user);
    if (!t.reason.empty()) e.kv(Key::reason, t.reason);
    if (t.capped) e.kv(Key::capped, true);
}

void WindowManager::apply(const std::vector<windows::Transition>& ts) {
    if (ts.empty()) return;
    for (const auto& t : ts) {
        audit(t);
        if (t.action != windows::Action::close) continue;
        const auto& mw = state_->policy.maintenance;
        auto w = std::find_if(mw.begin(), mw.end(), [&](const policy::Maintenance& m) {
            return m.modality == t.modality && m.vendor == t.vendor;
        });
        if (w != mw.end() && w->cut_sessions && hooks_.cut) hooks_.cut(t.modality, t.vendor);
    }
    publish();
    reconcile();
    persist();
}

// Makes the kernel's window elements match the open windows: what should be there with its
// remaining time; what should not, removed. One transaction per set.
void WindowManager::reconcile() {
    if (!sets_ || !set_ || out_def_.name.empty()) return;
    const auto t = now_ms();
    windows::VendorAddresses addresses;
    for (const auto& v : state_->policy.vendors) addresses[v.name] = addresses_of(v);
    const auto want = windows::desired_elements(*set_, state_->policy, addresses, t);
    sync(have_.out, want.out, out_def_, t);
    if (!in_def_.name.empty()) sync(have_.in, want.in, in_def_, t);
}

void WindowManager::sync(windows::SetElements& have, const windows::SetElements& want, const ruleset::Set& def,
                         windows::Millis t) {
    const auto d = windows::delta(have, want, t);
    if (!d.empty()) {
        auto r = sets_->write(def, d);
        if (!r) {
            Event(Kind::kernel_update_failed, Level::critical).kv(Key::set, def.name).kv(Key::error, r.error());
            return;
        }
    }
    have = windows::applied(have, want, d);
}

void WindowManager::persist() {
    if (!set_) return;
    auto text = windows::format_state(windows::snapshot(*set_));
    auto path = state_dir_ + "/windows.state";
    if (auto error = windows::write_file_atomically(path, text); !error.empty())
        Event(Kind::state_file_write_failed, Level::error).kv(Key::file, path).kv(Key::error, error);
}

namespace {

std::string remaining(Time ends, Time now) { return ends > now ? windows::format_duration(ends - now) : "0s"; }

}  // namespace

// The window a control request names, and whether the caller may change it; a refusal is an
// audit event and a reply with the exit code modgatectl returns.
std::expected<WindowManager::Target, control::Reply> WindowManager::target(const control::Fields& f,
                                                                             const control::Caller& c,
                                                                             const char* verb) {
    auto get = [&](const char* k) { auto it = f.find(k); return it == f.end() ? std::string{} : it->second; };
    Target t{get("modality"), get("vendor"), get("reason"), nullptr, nullptr};
    const auto& p = state_->policy;
    auto refuse = [&](int code, std::string msg) {
        Event(Kind::window_refused, Level::warning)
            .kv(Key::action, verb).kv(Key::modality, t.modality).kv(Key::vendor, t.vendor)
            .kv(Key::uid, static_cast<std::uint64_t>(c.uid)).kv(Key::user, c.user).kv(Key::reason, t.reason).kv(Key::why, msg);
        return std::unexpected(control::Reply{code, std::move(msg), {}});
    };
    if (!p.find_modality(t.modality)) return refuse(1, fmt::format("unknown modality '{}'", t.modality));
    if (!p.find_vendor(t.vendor)) return refuse(1, fmt::format("unknown vendor '{}'", t.vendor));
    t.window = set_ ? set_->find(t.modality, t.vendor) : nullptr;
    for (const auto& x : p.maintenance)
        if (x.modality == t.modality && x.vendor == t.vendor) t.maintenance = &x;
    if (!t.window || !t.maintenance)
        return refuse(1, fmt::format("the policy has no [[maintenance]] window for {} and {}", t.modality, t.vendor));
    const auto& group = t.maintenance->group;
    if (!c.root_or_member(p.gateway.admin_group) && !c.root_or_member(group))
        return refuse(4, fmt::format("user {} may not {} this window (root, group '{}'{} only)", c.user, verb,
                                     p.gateway.admin_group, group.empty() ? "" : " or '" + group + "'"));
    return t;
}

control::Reply WindowManager::open(const control::Fields& f, const control::Caller& c) {
    auto t = target(f, c, "open");
    if (!t) return t.error();
    auto* w = t->window;
    const auto& m = t->modality;
    const auto& v = t->vendor;
    const auto& reason = t->reason;
    auto refuse = [&](int code, std::string msg) {
        Event(Kind::window_refused, Level::warning)
            .kv(Key::action, "open").kv(Key::modality, m).kv(Key::vendor, v).kv(Key::uid, static_cast<std::uint64_t>(c.uid))
            .kv(Key::user, c.user).kv(Key::reason, reason).kv(Key::why, msg);
        return control::Reply{code, std::move(msg), {}};
    };
    long long secs = 0;
    try {
        auto it = f.find("for");
        secs = std::stoll(it == f.end() ? std::string{} : it->second);
    } catch (...) {
        return refuse(2, "missing or bad duration");
    }
    auto now_t = now();
    auto r = w->open(now_t, std::chrono::seconds(secs), windows::Who{c.uid, c.user}, reason);
    if (!r) return refuse(1, r.error());
    apply(*r);
    const auto& o = *w->state().open;
    return {0, {}, fmt::format("window {} open until {} ({} left){}\n", window_name(m, v), windows::format_time(o.ends_at),
                               remaining(o.ends_at, now_t),
                               std::any_of(r->begin(), r->end(), [](auto& x) { return x.capped; })
                                   ? fmt::format(", capped at max_duration {}", windows::format_duration(w->max_duration()))
                                   : "")};
}

control::Reply WindowManager::close(const control::Fields& f, const control::Caller& c) {
    auto t = target(f, c, "close");
    if (!t) return t.error();
    bool was_open = t->window->is_open();
    apply(t->window->close(now(), windows::Who{c.uid, c.user}, t->reason));
    return {0, {}, fmt::format("window {} {}\n", window_name(t->modality, t->vendor), was_open ? "closed" : "was not open")};
}

std::vector<control::WindowStatus> WindowManager::list() const {
    std::vector<control::WindowStatus> out;
    if (!set_) return out;
    auto t = now();
    for (const auto& w : set_->windows()) {
        const auto& s = w.state();
        control::WindowStatus ws;
        ws.modality = w.modality();
        ws.vendor = w.vendor();
        ws.open = w.is_open();
        if (s.open) {
            ws.opened_at = windows::format_time(s.open->opened_at);
            ws.ends_at = windows::format_time(s.open->ends_at);
            ws.remaining_s = s.open->ends_at > t ? (s.open->ends_at - t).count() : 0;
            ws.source = windows::to_string(s.open->source);
            ws.user = s.open->who ? s.open->who->user : "";
            ws.reason = s.open->reason;
        }
        if (auto next = w.schedule().next_start_after(t)) ws.next_scheduled = windows::format_time(next->start);
        if (s.hold) ws.held_by = s.hold->who.user;
        out.push_back(std::move(ws));
    }
    return out;
}

}  // namespace modgate::daemon
