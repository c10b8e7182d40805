// Events for the operator: the sinks the policy names, and `modgatectl events` over the control
// socket (the recent ones from the bus's ring, then, with --follow, each one as it happens).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/control/server.hpp"
#include "gateway/events/events.hpp"
#include "gateway/proxy/asio.hpp"
#include "policy/model.hpp"

namespace modgate::events {
class Sink;
}

namespace modgate::daemon {

// stderr always; every `file` sink of the policy, and `extra_file` (--event-file) when given.
// Empty with `error` set when a file cannot be opened.
std::vector<std::shared_ptr<events::Sink>> make_sinks(const policy::Logging& l, const std::string& extra_file,
                                                      std::string& error);
events::Level level_of(const policy::Logging& l);

// Which events a request asks for: kind=NAME, modality=NAME (its key, or its address as source
// or destination), level=MIN.
struct EventFilter {
    std::optional<events::Kind> kind;
    events::Level min_level = events::Level::debug;
    std::string modality;
    std::string modality_ip;
    bool json = false;
    bool matches(const events::Record& r) const;
    std::string format(const events::Record& r) const;  // one line, logfmt or JSON
};

// The filter of a request, or a refusal naming the bad value.
std::optional<EventFilter> parse_filter(const control::Fields& f, const policy::Policy& p, control::Reply& refusal);

control::Reply list_events(const EventFilter& filter);
// Streams matching events to `out` from now on (the recent ones first); the follower ends when
// the client hangs up.
control::Reply follow_events(asio::io_context& io, const EventFilter& filter, const std::shared_ptr<control::Stream>& out);

}  // namespace modgate::daemon
