// What `status` and `window list` report, as plain data: modgated fills it, the control socket
// carries it as JSON, modgatectl prints it as text or passes the JSON on.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace modgate::control {

struct ModalityStatus {
    std::string name, ip, mac;
    std::uint64_t allows = 0;
};

struct WindowStatus {
    std::string modality, vendor;
    bool open = false;
    // Open windows:
    std::string opened_at, ends_at, source, user, reason;
    std::int64_t remaining_s = 0;
    // Closed windows:
    std::string next_scheduled;  // empty when no slot is scheduled
    std::string held_by;         // a manual close that holds until the next scheduled start
};

struct ProxyStatus {
    std::uint64_t accepted = 0, refused = 0, upstream_failed = 0, closed = 0, live = 0;
    std::uint64_t bytes_up = 0, bytes_down = 0;
    std::int64_t pid = 0;  // the unprivileged proxy process; 0 while none runs
    std::uint64_t restarts = 0;
};

struct SinkStatus {
    std::uint64_t written = 0, dropped = 0;
};

struct Status {
    std::int64_t uptime_s = 0;
    std::string policy_path, hash;
    std::string mode;         // the effective mode
    std::string policy_mode;  // what the policy file says
    std::vector<ModalityStatus> modalities;
    ProxyStatus proxy;
    bool drops_available = false;                      // whether the kernel's counters could be read
    std::map<std::string, std::uint64_t> drops;         // "reason:dir" -> packets the kernel dropped
    std::map<std::string, std::uint64_t> drops_logged;  // "reason:dir" -> NFLOG records (rate-limited)
    std::map<std::string, std::uint64_t> associations;  // end -> count
    std::map<std::string, std::uint64_t> dimse_forwarded, dimse_refused;
    std::map<std::string, SinkStatus> sinks;
    std::uint64_t loop_max_lag_ms = 0;
    std::uint64_t nflog_lost = 0;
    std::vector<WindowStatus> windows;
};

nlohmann::json to_json(const Status& s);
nlohmann::json to_json(const std::vector<WindowStatus>& w);
// Throw nlohmann::json::exception on a reply that does not have the shape.
Status status_from_json(const nlohmann::json& j);
std::vector<WindowStatus> windows_from_json(const nlohmann::json& j);

std::string render_text(const Status& s);
std::string render_text(const std::vector<WindowStatus>& w);

}  // namespace modgate::control
