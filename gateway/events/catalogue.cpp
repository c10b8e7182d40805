// The catalogue's table. Keys are listed in the order call sites add them, which is the order
// logfmt prints them.
#include "gateway/events/catalogue.hpp"

#include <array>

namespace modgate::events {
namespace {

using enum Key;
using L = Level;

constexpr Key k_drop[] = {rule, dir, in, proto, src, dst, sport, dport};
constexpr Key k_nflog_failed[] = {error, records};
constexpr Key k_flow_opened[] = {id, allow, service, dir, src, dst};
constexpr Key k_flow_closed[] = {id, allow, service, dir, src, dst, bytes_up, bytes_down, duration, end, reason};
constexpr Key k_flow_refused[] = {id, proto, src, dst, reason};
constexpr Key k_upstream_failed[] = {id, allow, src, dst, error};
constexpr Key k_tls_sni_allowed[] = {id, allow, sni};
constexpr Key k_tls_refused[] = {id, allow, src, dst, reason, sni};
constexpr Key k_vendor_resolved[] = {name, addresses, ttl};
constexpr Key k_vendor_resolve_failed[] = {name, error, kept};
constexpr Key k_file_error[] = {file, error};
constexpr Key k_association[] = {id, allow, dir, src, dst, calling_ae, called_ae, contexts_proposed,
                                 contexts_accepted, contexts_rejected_policy, contexts_rejected_acceptor,
                                 dimse_counts, bytes_from_initiator, bytes_from_acceptor, duration, end, reason};
constexpr Key k_dicom_refused[] = {id, allow, from, reason};
constexpr Key k_window[] = {modality, vendor, cause, at, opened_at, ends_at, timeout, uid, user, reason, capped};
constexpr Key k_window_refused[] = {action, modality, vendor, uid, user, reason, why};
constexpr Key k_window_restore[] = {modality, vendor, record, outcome, detail};
constexpr Key k_sessions_cut[] = {modality, vendor, sessions, reason};
constexpr Key k_error[] = {error};
constexpr Key k_state_file_damaged[] = {file, error, action};
constexpr Key k_kernel_update_failed[] = {set, error};
constexpr Key k_started[] = {policy, hash, proxy_port};
constexpr Key k_stopped[] = {reason};
constexpr Key k_ruleset_applied[] = {policy, hash, mode};
constexpr Key k_ports_up[] = {bridge, modality_port, network_port};
constexpr Key k_fatal[] = {stage, error};
constexpr Key k_reload_applied[] = {hash, previous, closed_sessions, mode};
constexpr Key k_reload_rejected[] = {file, line, col, error, errors, kept};
constexpr Key k_reload_failed[] = {stage, file, line, col, error, kept};
constexpr Key k_tampered[] = {change};
constexpr Key k_hash[] = {hash};
constexpr Key k_loop_stalled[] = {lag_ms};
constexpr Key k_reload_requested[] = {uid, user};
constexpr Key k_events_dropped[] = {sink, dropped};
constexpr Key k_proxy_started[] = {pid, uid, landlock, restarts};
constexpr Key k_proxy_exited[] = {pid, signal, exit_code};
constexpr Key k_proxy_probe[] = {name, error};
constexpr Key k_island_on[] = {cause, uid, user, reason};
constexpr Key k_island_off[] = {uid, user};
constexpr Key k_control_refused[] = {action, uid, user, why};
constexpr Key k_boot_ruleset[] = {cause, file, hash, mode};

constexpr std::array table = {
    KindSpec{Kind::drop, "filter", "drop", L::info, k_drop,
             "a packet dropped by a drop rule (rate-limited per rule in the kernel; counters count all)"},
    KindSpec{Kind::nflog_failed, "filter", "nflog_failed", L::error, k_nflog_failed,
             "reading drop records from NFLOG failed (e.g. the socket buffer overran); `records` were lost"},
    KindSpec{Kind::flow_opened, "proxy", "flow_opened", L::info, k_flow_opened,
             "a proxied TCP connection or UDP flow starts"},
    KindSpec{Kind::flow_closed, "proxy", "flow_closed", L::info, k_flow_closed,
             "a proxied flow ends, whatever its service; `end` is one of the flow end reasons"},
    KindSpec{Kind::flow_refused, "proxy", "flow_refused", L::warning, k_flow_refused,
             "a diverted connection no allow or open window matches, or over a cap"},
    KindSpec{Kind::upstream_failed, "proxy", "upstream_failed", L::warning, k_upstream_failed,
             "the upstream leg could not be connected"},
    KindSpec{Kind::tls_sni_allowed, "proxy", "tls_sni_allowed", L::info, k_tls_sni_allowed,
             "the ClientHello's server name matched the allow's patterns"},
    KindSpec{Kind::tls_refused, "proxy", "tls_refused", L::warning, k_tls_refused,
             "a missing or mismatching server name was refused (a TLS alert went to the client, nothing upstream)"},
    KindSpec{Kind::vendor_resolved, "vendors", "vendor_resolved", L::info, k_vendor_resolved,
             "a vendor host name's addresses, through the management DNS servers"},
    KindSpec{Kind::vendor_resolve_failed, "vendors", "vendor_resolve_failed", L::warning, k_vendor_resolve_failed,
             "resolving a vendor host name failed; the last good addresses are kept"},
    KindSpec{Kind::vendor_state_write_failed, "vendors", "vendor_state_write_failed", L::error, k_file_error,
             "the resolved vendor addresses could not be persisted"},
    KindSpec{Kind::association, "dicom", "association", L::info, k_association,
             "one per association, at its end: who called whom, what was negotiated and done, how it ended"},
    KindSpec{Kind::dicom_refused, "dicom", "dicom_refused", L::warning, k_dicom_refused,
             "a refusal: A-ASSOCIATE-RJ, a DIMSE request refused with 0x0124, ..."},
    KindSpec{Kind::association_aborted, "dicom", "association_aborted", L::warning, k_dicom_refused,
             "modgate aborted an association (A-ABORT to both sides)"},
    KindSpec{Kind::window_open, "windows", "window_open", L::info, k_window, "a maintenance window opened"},
    KindSpec{Kind::window_extend, "windows", "window_extend", L::info, k_window,
             "an open maintenance window was extended"},
    KindSpec{Kind::window_close, "windows", "window_close", L::info, k_window, "a maintenance window closed"},
    KindSpec{Kind::window_refused, "windows", "window_refused", L::warning, k_window_refused,
             "a window request was refused"},
    KindSpec{Kind::window_restore, "windows", "window_restore", L::info, k_window_restore,
             "what happened to a persisted window after a restart (restored, or why not)"},
    KindSpec{Kind::sessions_cut, "windows", "sessions_cut", L::info, k_sessions_cut,
             "live sessions cut: those of a window when it closed, or every one when island mode went on "
             "(then without modality and vendor); `reason` says which"},
    KindSpec{Kind::element_writer_failed, "windows", "element_writer_failed", L::critical, k_error,
             "the netlink writer of window elements could not be opened"},
    KindSpec{Kind::windows_unavailable, "windows", "windows_unavailable", L::critical, k_error,
             "the policy's windows could not be set up"},
    KindSpec{Kind::state_file_damaged, "windows", "state_file_damaged", L::critical, k_state_file_damaged,
             "the window state file could not be read; `action` says what was done instead"},
    KindSpec{Kind::kernel_update_failed, "windows", "kernel_update_failed", L::critical, k_kernel_update_failed,
             "the kernel refused a window set update"},
    KindSpec{Kind::state_file_write_failed, "windows", "state_file_write_failed", L::error, k_file_error,
             "the window state file could not be written"},
    KindSpec{Kind::started, "daemon", "started", L::info, k_started, "modgated is ready"},
    KindSpec{Kind::stopped, "daemon", "stopped", L::info, k_stopped, "modgated stops; the ruleset stays in force (a SIGTERM or SIGINT first takes the bridge ports down)"},
    KindSpec{Kind::ruleset_applied, "daemon", "ruleset_applied", L::info, k_ruleset_applied,
             "the first ruleset is in the kernel; `mode` is the effective mode"},
    KindSpec{Kind::ports_up, "daemon", "ports_up", L::info, k_ports_up, "the bridge ports came up"},
    KindSpec{Kind::ports_down, "daemon", "ports_down", L::warning, k_stopped, "the bridge ports were taken down"},
    KindSpec{Kind::ports_down_failed, "daemon", "ports_down_failed", L::critical, k_error,
             "the bridge ports could not be taken down"},
    KindSpec{Kind::fatal, "daemon", "fatal", L::critical, k_fatal,
             "the daemon cannot go on; the ports are taken down"},
    KindSpec{Kind::refused_to_start, "daemon", "refused_to_start", L::critical, k_error,
             "modgated refused to start (interfaces missing, another daemon, no netlink)"},
    KindSpec{Kind::reload_applied, "daemon", "reload_applied", L::info, k_reload_applied,
             "a new policy is in force (SIGHUP or `modgatectl reload`)"},
    KindSpec{Kind::reload_rejected, "daemon", "reload_rejected", L::error, k_reload_rejected,
             "a reload refused: one event per error with `file`, `line`, `col`, `error`, then a summary "
             "with `errors` and `kept` (the hash still in force)"},
    KindSpec{Kind::reload_failed, "daemon", "reload_failed", L::error, k_reload_failed,
             "a valid policy could not be put in force; with the location of the rule the kernel refused when "
             "it names one"},
    KindSpec{Kind::ruleset_tampered, "daemon", "ruleset_tampered", L::critical, k_tampered,
             "someone altered or removed modgate's tables"},
    KindSpec{Kind::ruleset_reapplied, "daemon", "ruleset_reapplied", L::warning, k_hash,
             "the ruleset was put back after a tamper"},
    KindSpec{Kind::reapply_failed, "daemon", "reapply_failed", L::critical, k_error,
             "the ruleset could not be put back after a tamper"},
    KindSpec{Kind::monitor_failed, "daemon", "monitor_failed", L::error, k_error,
             "reading nftables change notifications failed; tamper detection is re-armed"},
    KindSpec{Kind::loop_stalled, "daemon", "loop_stalled", L::warning, k_loop_stalled,
             "the event loop was late by more than a second"},
    KindSpec{Kind::proxy_started, "daemon", "proxy_started", L::info, k_proxy_started,
             "the unprivileged proxy process is confined and listening (`landlock`: the Landlock ABI it "
             "restricted itself with, 0 when the kernel has none; `restarts`: how many times it was "
             "restarted before)"},
    KindSpec{Kind::proxy_exited, "daemon", "proxy_exited", L::error, k_proxy_exited,
             "the proxy process ended (`signal=SIGSYS`: its seccomp filter killed it); it is restarted "
             "within a second, and nothing is proxied meanwhile"},
    KindSpec{Kind::proxy_failed, "daemon", "proxy_failed", L::critical, k_fatal,
             "the proxy process could not start or be restarted, or sent a message the parent refused "
             "(it is then killed and restarted)"},
    KindSpec{Kind::proxy_probe, "proxy", "proxy_probe", L::critical, k_proxy_probe,
             "test builds only: an attempt the proxy's confinement should have stopped returned"},
    KindSpec{Kind::island_on, "daemon", "island_on", L::critical, k_island_on,
             "island mode switched on: every frame to and from the modalities dropped, live sessions cut "
             "(`cause=restored`: still on from before a restart)"},
    KindSpec{Kind::island_off, "daemon", "island_off", L::warning, k_island_off,
             "island mode switched off: the policy's own mode is in force again"},
    KindSpec{Kind::island_failed, "daemon", "island_failed", L::critical, k_fatal,
             "the island switch could not be put in force or saved; nothing changed"},
    KindSpec{Kind::control_refused, "control", "control_refused", L::warning, k_control_refused,
             "a control request refused because the caller may not make it (exit 4)"},
    KindSpec{Kind::reload_requested, "control", "reload_requested", L::info, k_reload_requested,
             "a reload through the control socket"},
    KindSpec{Kind::events_dropped, "events", "events_dropped", L::warning, k_events_dropped,
             "a sink fell behind and dropped events; sent once it has caught up (`sink=follow`: in an "
             "`events --follow` stream, before the next line a client too slow to keep up gets)"},
    KindSpec{Kind::boot_ruleset, "daemon", "boot_ruleset", L::info, k_boot_ruleset,
             "modgate-boot.service loaded the boot-time ruleset before any interface came up: "
             "`cause=persisted` the last policy modgated applied (`file`, `hash`) in its persisted `mode`, "
             "`cause=default_deny` nothing is forwarded on any bridge (no policy was ever applied, or it "
             "no longer loads: `file`)"},
    KindSpec{Kind::boot_ruleset_failed, "daemon", "boot_ruleset_failed", L::critical, k_error,
             "the boot-time ruleset could not be loaded; the bridge ports stay down (systemd-networkd "
             "leaves them to modgated)"},
    KindSpec{Kind::boot_state_write_failed, "daemon", "boot_state_write_failed", L::error, k_file_error,
             "the policy just put in force could not be saved for the next boot; the next boot starts "
             "from the previous one"},
    KindSpec{Kind::waiting_for_interfaces, "daemon", "waiting_for_interfaces", L::warning, k_error,
             "modgated waits at start for the bridge and its ports (missing, or not yet enslaved); it "
             "refuses to start if they are not ready in time"},
};

constexpr std::string_view key_names[] = {
#define MODGATE_X(k, t) #k,
    MODGATE_EVENT_KEYS(MODGATE_X)
#undef MODGATE_X
};
constexpr KeyType key_types[] = {
#define MODGATE_X(k, t) KeyType::t,
    MODGATE_EVENT_KEYS(MODGATE_X)
#undef MODGATE_X
};

constexpr bool table_in_order() {
    for (std::size_t i = 0; i < table.size(); ++i)
        if (static_cast<std::size_t>(table[i].kind) != i) return false;
    return true;
}
static_assert(table_in_order(), "catalogue rows must follow the Kind enum");

}  // namespace

std::string_view to_string(Level l) {
    constexpr std::string_view n[] = {"debug", "info", "warning", "error", "critical"};
    return n[static_cast<std::size_t>(l)];
}

std::optional<Level> level_from_string(std::string_view s) {
    for (auto l : {Level::debug, Level::info, Level::warning, Level::error, Level::critical})
        if (to_string(l) == s) return l;
    return std::nullopt;
}

std::string_view to_string(KeyType t) {
    constexpr std::string_view n[] = {"text", "integer", "address", "port", "duration", "time", "enum", "counts"};
    return n[static_cast<std::size_t>(t)];
}

std::string_view to_string(Key k) { return key_names[static_cast<std::size_t>(k)]; }
KeyType key_type(Key k) { return key_types[static_cast<std::size_t>(k)]; }

const KindSpec& spec(Kind k) { return table[static_cast<std::size_t>(k)]; }
std::span<const KindSpec> catalogue() { return table; }

std::optional<Kind> kind_from_name(std::string_view name) {
    for (const auto& s : table)
        if (s.name == name) return s.kind;
    return std::nullopt;
}

bool carries(Kind k, Key key) {
    for (auto x : spec(k).keys)
        if (x == key) return true;
    return false;
}

}  // namespace modgate::events
