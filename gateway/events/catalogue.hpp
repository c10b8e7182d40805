// The one catalogue of events modgated can emit: each kind's component, name, default severity
// and the keys it may carry; each key has one type everywhere. docs/events.md is checked
// against this table by a test.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace modgate::events {

enum class Level : std::uint8_t { debug, info, warning, error, critical };
std::string_view to_string(Level l);
std::optional<Level> level_from_string(std::string_view s);

// text: free text; address: IPv4 address, optionally with :port; port: 0..65535; integer:
// a count or id; duration: seconds with milliseconds; time: ISO 8601 UTC; enum: one word from a
// closed set the catalogue documents; counts: one integer key per name (DIMSE counts).
enum class KeyType : std::uint8_t { text, integer, address, port, duration, time, enum_, counts };
std::string_view to_string(KeyType t);

#define MODGATE_EVENT_KEYS(X)                                                                                 \
    X(id, integer) X(allow, text) X(service, enum_) X(dir, enum_) X(src, address) X(dst, address)             \
    X(sport, port) X(dport, port) X(in, text) X(proto, enum_) X(rule, enum_) X(bytes_up, integer)            \
    X(bytes_down, integer) X(duration, duration) X(reason, text) X(end, enum_) X(sni, text) X(error, text)   \
    X(name, text) X(addresses, text) X(ttl, integer) X(kept, text) X(calling_ae, text) X(called_ae, text)    \
    X(contexts_proposed, integer) X(contexts_accepted, integer) X(contexts_rejected_policy, integer)          \
    X(contexts_rejected_acceptor, integer) X(dimse_counts, counts) X(bytes_from_initiator, integer)          \
    X(bytes_from_acceptor, integer) X(from, enum_) X(modality, text) X(vendor, text) X(cause, enum_)         \
    X(at, time) X(opened_at, time) X(ends_at, time) X(timeout, text) X(uid, integer) X(user, text)           \
    X(capped, enum_) X(action, text) X(why, text) X(record, text) X(outcome, enum_) X(detail, text)          \
    X(sessions, integer) X(set, text) X(file, text) X(line, integer) X(col, integer) X(errors, integer)      \
    X(hash, text) X(previous, text) X(closed_sessions, integer) X(policy, text) X(mode, enum_)              \
    X(proxy_port, port) X(bridge, text) X(modality_port, text) X(network_port, text) X(stage, enum_)         \
    X(change, text) X(sink, text) X(dropped, integer) X(records, integer) X(lag_ms, integer)    \
    X(pid, integer) X(signal, enum_) X(exit_code, integer) X(restarts, integer) X(landlock, integer)

enum class Key : std::uint8_t {
#define MODGATE_X(k, t) k,
    MODGATE_EVENT_KEYS(MODGATE_X)
#undef MODGATE_X
};
std::string_view to_string(Key k);
KeyType key_type(Key k);

#define MODGATE_EVENT_KINDS(X)                                                                        \
    X(drop, filter) X(nflog_failed, filter)                                                          \
    X(flow_opened, proxy) X(flow_closed, proxy) X(flow_refused, proxy) X(upstream_failed, proxy)     \
    X(tls_sni_allowed, proxy) X(tls_refused, proxy)                                                  \
    X(vendor_resolved, vendors) X(vendor_resolve_failed, vendors) X(vendor_state_write_failed, vendors) \
    X(association, dicom) X(dicom_refused, dicom) X(association_aborted, dicom)                      \
    X(window_open, windows) X(window_extend, windows) X(window_close, windows)                       \
    X(window_refused, windows) X(window_restore, windows) X(sessions_cut, windows)                   \
    X(element_writer_failed, windows) X(windows_unavailable, windows) X(state_file_damaged, windows) \
    X(kernel_update_failed, windows) X(state_file_write_failed, windows)                             \
    X(started, daemon) X(stopped, daemon) X(ruleset_applied, daemon) X(ports_up, daemon)             \
    X(ports_down, daemon) X(ports_down_failed, daemon) X(fatal, daemon) X(refused_to_start, daemon)  \
    X(reload_applied, daemon) X(reload_rejected, daemon) X(reload_failed, daemon)                    \
    X(ruleset_tampered, daemon) X(ruleset_reapplied, daemon) X(reapply_failed, daemon)               \
    X(monitor_failed, daemon) X(loop_stalled, daemon)                                                \
    X(proxy_started, daemon) X(proxy_exited, daemon) X(proxy_failed, daemon) X(proxy_probe, proxy)   \
    X(island_on, daemon) X(island_off, daemon) X(island_failed, daemon) X(control_refused, control)  \
    X(reload_requested, control) X(events_dropped, events)                                           \
    X(boot_ruleset, daemon) X(boot_ruleset_failed, daemon) X(boot_state_write_failed, daemon)        \
    X(waiting_for_interfaces, daemon)

enum class Kind : std::uint8_t {
#define MODGATE_X(k, c) k,
    MODGATE_EVENT_KINDS(MODGATE_X)
#undef MODGATE_X
};

inline constexpr std::size_t kind_count = 0
#define MODGATE_X(k, c) +1
    MODGATE_EVENT_KINDS(MODGATE_X)
#undef MODGATE_X
    ;

struct KindSpec {
    Kind kind;
    std::string_view component;
    std::string_view name;
    Level severity;                // the default; a call site may raise or lower it
    std::span<const Key> keys;     // every key this kind may carry, in emission order
    std::string_view when;         // one line for docs/events.md
};

const KindSpec& spec(Kind k);
std::span<const KindSpec> catalogue();
std::optional<Kind> kind_from_name(std::string_view name);
bool carries(Kind k, Key key);

}  // namespace modgate::events
