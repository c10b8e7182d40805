// An in-memory Kernel: it keeps the last ruleset applied, can be told to refuse applies, and
// delivers change notices and NFLOG records queued by the test through real pipes, so the
// daemon's event loop wakes up exactly as it does on the netlink sockets.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/daemon/kernel.hpp"

namespace modgate::daemon::testing {

class FakeKernel : public Kernel {
public:
    FakeKernel() {
        if (::pipe(monitor_) != 0 || ::pipe(nflog_) != 0) throw std::runtime_error("pipe");
    }
    ~FakeKernel() override {
        for (int fd : {monitor_[0], monitor_[1], nflog_[0], nflog_[1]}) ::close(fd);
    }

    std::optional<ruleset::Ruleset> held;  // what the kernel holds
    std::vector<std::string> calls;         // "apply", in order
    std::optional<ApplyError> refuse;       // the next applies fail with this
    std::map<std::string, std::uint64_t> packets;  // "reason:dir" -> packets counted (tests set it)

    std::expected<void, ApplyError> apply(const ruleset::Ruleset& rs) override {
        calls.push_back("apply");
        if (refuse) return std::unexpected(*refuse);
        if (auto e = dangling_jump(rs)) return std::unexpected(*e);
        held = rs;
        return {};
    }
    bool tables_present(const ruleset::Ruleset& rs) override { return held && held->tables.size() == rs.tables.size(); }

    // Someone else removed our tables (a `flush ruleset`).
    void tamper(std::string what) {
        held.reset();
        queue_monitor({std::move(what), {}});
    }
    void queue_monitor(MonitorRead m) {
        monitor_q_.push_back(std::move(m));
        (void)!::write(monitor_[1], "x", 1);
    }
    int monitor_fd() override { return monitor_[0]; }
    MonitorRead process_monitor() override {
        char c;
        (void)!::read(monitor_[0], &c, 1);
        auto m = monitor_q_.front();
        monitor_q_.pop_front();
        return m;
    }

    // Like the kernel: one counter per drop chain of the tables it holds, keyed by its prefix.
    std::map<std::string, std::uint64_t> drop_counters(const ruleset::Ruleset&) override {
        std::map<std::string, std::uint64_t> out;
        if (!held) return out;
        for (const auto& t : held->tables)
            for (const auto& c : t.chains)
                for (const auto& r : c.rules)
                    for (const auto& st : r.stmts)
                        if (const auto* l = std::get_if<ruleset::Log>(&st))
                            if (auto p = policy::parse_drop_prefix(l->prefix)) {
                                auto key = std::string(policy::to_string(p->reason)) + ":" + policy::to_string(p->dir);
                                out[key] += packets[key];
                            }
        return out;
    }

    void queue_nflog(std::vector<DropRecord> recs, std::string error = {}, std::uint64_t lost = 0) {
        nflog_q_.push_back({std::move(recs), std::move(error), lost});
        (void)!::write(nflog_[1], "x", 1);
    }
    int nflog_fd() override { return nflog_[0]; }
    std::string process_nflog(const std::function<void(const DropRecord&)>& on_record, std::uint64_t& lost) override {
        char c;
        (void)!::read(nflog_[0], &c, 1);
        auto n = nflog_q_.front();
        nflog_q_.pop_front();
        for (const auto& r : n.records) on_record(r);
        lost = n.lost;
        return n.error;
    }

private:
    // The kernel refuses a jump to a chain its table does not have, naming the rule.
    static std::optional<ApplyError> dangling_jump(const ruleset::Ruleset& rs) {
        for (const auto& t : rs.tables)
            for (const auto& c : t.chains)
                for (const auto& r : c.rules)
                    for (const auto& st : r.stmts) {
                        const auto* v = std::get_if<ruleset::Verdict>(&st);
                        if (!v || v->chain.empty()) continue;
                        bool found = std::any_of(t.chains.begin(), t.chains.end(),
                                                 [&](const ruleset::Chain& x) { return x.name == v->chain; });
                        if (!found) return ApplyError{"jump to " + v->chain + ": No such file or directory", r.origin};
                    }
        return std::nullopt;
    }
    struct Nflog {
        std::vector<DropRecord> records;
        std::string error;
        std::uint64_t lost;
    };
    int monitor_[2]{-1, -1}, nflog_[2]{-1, -1};
    std::deque<MonitorRead> monitor_q_;
    std::deque<Nflog> nflog_q_;
};

}  // namespace modgate::daemon::testing
