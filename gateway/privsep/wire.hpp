// The messages modgated's privileged parent and its unprivileged proxy process exchange over a
// socketpair: typed, versioned, each with a bound on its length. The parent decodes what the
// proxy sends as hostile input (a compromised proxy may send anything), so the decoder refuses
// any length larger than what remains, any unknown kind, key or enum value, and any event that
// does not keep to the catalogue. Pure code: fuzzed like the DICOM decoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gateway/events/events.hpp"
#include "gateway/metrics/registry.hpp"
#include "policy/net.hpp"

namespace modgate::privsep {

inline constexpr std::uint8_t wire_version = 1;
// "MG", version, type, payload length (big-endian u32).
inline constexpr std::size_t header_size = 8;

enum class Type : std::uint8_t {
    // parent -> proxy
    policy = 1,
    windows = 2,
    cut = 3,
    counters_request = 4,
    probe = 5,
    // proxy -> parent
    ready = 64,
    event = 65,
    counters = 66,
    policy_applied = 67,
    resolved = 68,
};

// Which side a decoder reads for: each accepts only the types the other side sends.
enum class From : std::uint8_t { parent, proxy };

// The policy in force, as the parent loaded and checked it: the proxy parses the same text.
struct PolicyMsg {
    std::string hash, source, text;
    std::uint8_t mode = 0;  // policy::Mode, the effective mode
};
struct OpenWindow {
    std::string modality, vendor;
    std::int64_t ends_at_ms = 0;  // system clock, ms since the epoch
    std::vector<policy::Cidr> addresses;
};
// Every open maintenance window with its vendor's addresses (the whole set each time).
struct WindowsMsg {
    std::vector<OpenWindow> open;
};
// Ends the live sessions of a window that closed; with no modality, every live session (island).
struct CutMsg {
    std::string modality, vendor;
};
struct CountersRequest {
    std::uint64_t id = 0;
};
// Test builds only (MODGATE_TEST_PROBES): the proxy attempts something its confinement forbids.
struct ProbeMsg {
    std::string name;
};
// The proxy is listening (error empty) or could not start (it exits after sending this).
struct ReadyMsg {
    std::uint32_t pid = 0;
    std::string error;
    std::uint32_t landlock = 0;  // the Landlock ABI the proxy restricted itself with, 0: none
};
struct EventMsg {
    events::Record record;
};
// Cumulative since the proxy started: a lost message loses no count.
struct CountersMsg {
    std::uint64_t id = 0;  // the request answered, 0 when sent unasked
    std::uint64_t live_sessions = 0;
    metrics::Snapshot snapshot;
};
struct PolicyAppliedMsg {
    std::string hash;
    std::uint64_t closed_sessions = 0;
};

// One vendor host name resolved (or not) by the proxy: the parent checks it before using it.
struct ResolvedMsg {
    std::string name;
    bool ok = false;
    std::vector<policy::Ipv4> addresses;  // sorted, unique (when ok)
    std::uint32_t ttl = 0;
    std::string error;  // when not ok
};

using Message = std::variant<PolicyMsg, WindowsMsg, CutMsg, CountersRequest, ProbeMsg, ReadyMsg, EventMsg,
                             CountersMsg, PolicyAppliedMsg, ResolvedMsg>;

Type type_of(const Message& m);
// The largest payload a message of this type may have.
std::size_t max_payload(Type t);

// Header and payload, ready to write.
std::vector<std::uint8_t> encode(const Message& m);

struct Decoded {
    std::optional<Message> message;
    std::string error;  // set when message is not
};
// One payload of a known type.
Decoded decode_payload(Type t, std::span<const std::uint8_t> payload);

// Cuts a byte stream into messages. After an error the stream is out of step and unusable: the
// reader stays failed and the caller ends the channel.
class FrameReader {
public:
    explicit FrameReader(From from) : from_(from) {}
    void feed(std::span<const std::uint8_t> bytes);
    // The next complete message; nothing when more bytes are needed or on an error.
    std::optional<Message> next();
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t buffered() const { return buf_.size() - pos_; }

private:
    bool accepts(std::uint8_t type) const;
    From from_;
    std::vector<std::uint8_t> buf_;
    std::size_t pos_ = 0;
    std::string error_;
};

}  // namespace modgate::privsep
