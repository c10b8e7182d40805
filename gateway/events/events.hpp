// Typed events: a record of one catalogue kind with typed values, built at the call site and
// handed to the bus when the builder goes out of scope. No patient data: callers pass only
// addresses, AE titles, UIDs, ids, counts and reasons.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/events/catalogue.hpp"
#include "policy/net.hpp"

namespace modgate::events {

using Counts = std::vector<std::pair<std::string, std::uint64_t>>;
// text, address, time, enum: string; integer, port: int64; duration: seconds; counts.
using Value = std::variant<std::string, std::int64_t, double, Counts>;

struct Field {
    Key key;
    Value value;
};

struct Record {
    std::uint64_t seq = 0;  // set by the bus: 1, 2, ... in emission order
    Kind kind = Kind::drop;
    Level level = Level::info;
    std::chrono::system_clock::time_point ts;
    std::vector<Field> fields;

    const Value* find(Key k) const;
    std::string text(Key k) const;  // empty when absent or not text
    const KindSpec& spec() const { return events::spec(kind); }
};

// Whether the record keeps to its kind's keys and their types; the message says what is wrong.
std::string check(const Record& r);

class Event {
public:
    explicit Event(Kind k);
    Event(Kind k, Level level);
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event();  // emits

    Event& kv(Key k, std::string_view v);
    Event& kv(Key k, const char* v) { return kv(k, std::string_view(v)); }
    Event& kv(Key k, const std::string& v) { return kv(k, std::string_view(v)); }
    Event& kv(Key k, std::int64_t v);
    Event& kv(Key k, std::uint64_t v) { return kv(k, static_cast<std::int64_t>(v)); }
    Event& kv(Key k, int v) { return kv(k, static_cast<std::int64_t>(v)); }
    Event& kv(Key k, unsigned v) { return kv(k, static_cast<std::int64_t>(v)); }
    Event& kv(Key k, double seconds);
    Event& kv(Key k, bool v) { return kv(k, std::string_view(v ? "true" : "false")); }
    Event& kv(Key k, policy::Ipv4 v) { return kv(k, v.str()); }
    Event& kv(Key k, Counts v);

private:
    Record r_;
};

}  // namespace modgate::events
