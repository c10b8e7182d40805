// The one metrics registry: counters labelled by enums and bounded names (allow names come
// from the policy, DIMSE names from the codec), fed synchronously by the event bus, so a count
// is taken before any sink queue can drop the event. status (and later Prometheus) read a
// snapshot of it.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "gateway/events/events.hpp"
#include "policy/contracts.hpp"

namespace modgate::metrics {

enum class FlowOutcome : std::uint8_t { opened, closed, upstream_failed };
inline constexpr std::size_t flow_outcomes = 3;
std::string_view to_string(FlowOutcome o);

struct FlowCounters {
    std::array<std::uint64_t, flow_outcomes> outcomes{};
    std::uint64_t bytes_up = 0, bytes_down = 0;
};

struct DimseCounters {
    std::uint64_t forwarded = 0, refused = 0;
};

struct Snapshot {
    std::array<std::uint64_t, events::kind_count> events{};  // by kind
    std::map<std::pair<std::string, std::string>, FlowCounters> flows;        // (allow, service)
    std::map<std::string, std::uint64_t> refused;                             // proto -> flows refused
    std::map<std::pair<policy::DropReason, policy::Direction>, std::uint64_t> drops_logged;  // NFLOG records
    std::uint64_t drops_logged_unknown = 0;  // records whose prefix is not one of our drop rules
    std::map<std::string, DimseCounters> dimse;                               // "c_store" -> counts
    std::map<std::string, std::uint64_t> associations;                        // end -> count
    std::uint64_t windows_opened = 0, windows_extended = 0, windows_closed = 0;
    std::uint64_t nflog_lost = 0;
    std::uint64_t loop_max_lag_ms = 0;

    // Totals over every label, for the one-line summaries.
    FlowCounters flow_totals() const;
    std::uint64_t refused_total() const;
};

// Adds `from` to `into`, label by label (the loop lag: the larger of the two). modgated's
// status is its own registry plus its proxy processes'.
void add(Snapshot& into, const Snapshot& from);

class Registry {
public:
    // Feeds every event into the counters; register once with the bus.
    void observe(const events::Record& r);
    void note_loop_lag(std::uint64_t ms);
    Snapshot snapshot() const;
    void reset();

private:
    void observe_flow(const events::Record& r, FlowOutcome o);
    void observe_association(const events::Record& r);
    void observe_drop(const events::Record& r);
    mutable std::mutex mu_;
    Snapshot s_;
};

}  // namespace modgate::metrics
