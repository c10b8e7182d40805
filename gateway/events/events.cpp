// Event records and their builder; the builder hands the record to the bus when it goes.
#include "gateway/events/events.hpp"

#include <fmt/format.h>

#include "gateway/events/bus.hpp"

namespace modgate::events {

const Value* Record::find(Key k) const {
    for (const auto& f : fields)
        if (f.key == k) return &f.value;
    return nullptr;
}

std::string Record::text(Key k) const {
    const auto* v = find(k);
    if (!v) return {};
    if (const auto* s = std::get_if<std::string>(v)) return *s;
    return {};
}

namespace {

bool type_fits(KeyType t, const Value& v) {
    switch (t) {
        case KeyType::text:
        case KeyType::address:
        case KeyType::time:
        case KeyType::enum_: return std::holds_alternative<std::string>(v);
        case KeyType::integer: return std::holds_alternative<std::int64_t>(v);
        case KeyType::port: {
            const auto* i = std::get_if<std::int64_t>(&v);
            return i && *i >= 0 && *i <= 65535;
        }
        case KeyType::duration: return std::holds_alternative<double>(v);
        case KeyType::counts: return std::holds_alternative<Counts>(v);
    }
    return false;
}

}  // namespace

std::string check(const Record& r) {
    for (const auto& f : r.fields) {
        if (!carries(r.kind, f.key))
            return fmt::format("event {} does not carry key {}", r.spec().name, to_string(f.key));
        if (!type_fits(key_type(f.key), f.value))
            return fmt::format("event {}: key {} is not of type {}", r.spec().name, to_string(f.key),
                               to_string(key_type(f.key)));
    }
    return {};
}

Event::Event(Kind k) : Event(k, events::spec(k).severity) {}

Event::Event(Kind k, Level level) {
    r_.kind = k;
    r_.level = level;
    r_.ts = std::chrono::system_clock::now();
}

Event::~Event() { Bus::get().emit(std::move(r_)); }

Event& Event::kv(Key k, std::string_view v) {
    r_.fields.push_back({k, std::string(v)});
    return *this;
}

Event& Event::kv(Key k, std::int64_t v) {
    r_.fields.push_back({k, v});
    return *this;
}

Event& Event::kv(Key k, double seconds) {
    r_.fields.push_back({k, seconds});
    return *this;
}

Event& Event::kv(Key k, Counts v) {
    r_.fields.push_back({k, std::move(v)});
    return *this;
}

}  // namespace modgate::events
