// Encoding and bounded decoding of the parent-proxy messages (see wire.hpp).
#include "gateway/privsep/wire.hpp"

#include <bit>
#include <cstring>
#include <type_traits>

namespace modgate::privsep {

namespace {

inline constexpr std::size_t max_text = 64 * 1024;   // any one string but the policy text
// Times are refused outside 1970..2100: converting a larger one to the clock's nanoseconds
// would overflow.
inline constexpr std::int64_t max_time_us = 4'102'444'800'000'000;
inline constexpr std::size_t max_small = 64 * 1024;  // payloads that carry a few strings

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { be(v, 2); }
    void u32(std::uint32_t v) { be(v, 4); }
    void u64(std::uint64_t v) { be(v, 8); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    std::vector<std::uint8_t> take() { return std::move(out_); }

private:
    void be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    std::vector<std::uint8_t> out_;
};

// Every read fails once anything is short or out of range; callers check ok() at the end.
class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}
    bool ok() const { return error_.empty(); }
    bool done() const { return ok() && pos_ == b_.size(); }
    const std::string& error() const { return error_; }
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }
    std::size_t remaining() const { return b_.size() - pos_; }

    std::uint64_t be(int n, const char* what) {
        if (!ok() || remaining() < static_cast<std::size_t>(n)) {
            fail(std::string("truncated at ") + what);
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = (v << 8) | b_[pos_++];
        return v;
    }
    std::uint8_t u8(const char* what) { return static_cast<std::uint8_t>(be(1, what)); }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(be(2, what)); }
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(be(4, what)); }
    std::uint64_t u64(const char* what) { return be(8, what); }
    std::int64_t i64(const char* what) { return static_cast<std::int64_t>(u64(what)); }
    double f64(const char* what) { return std::bit_cast<double>(u64(what)); }
    std::string str(const char* what, std::size_t max = max_text) {
        auto n = u32(what);
        if (!ok()) return {};
        if (n > max || n > remaining()) {
            fail(std::string(what) + ": length " + std::to_string(n) + " larger than allowed or left");
            return {};
        }
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    // A list count: each item takes at least `min_item` bytes, so a count that claims more
    // items than the remaining bytes could hold is refused before anything is allocated.
    std::uint32_t count(const char* what, std::size_t min_item) {
        auto n = u32(what);
        if (ok() && static_cast<std::size_t>(n) * min_item > remaining()) {
            fail(std::string(what) + ": count " + std::to_string(n) + " larger than the bytes left");
            return 0;
        }
        return n;
    }

private:
    std::span<const std::uint8_t> b_;
    std::size_t pos_ = 0;
    std::string error_;
};

// --- events ---

enum class ValueTag : std::uint8_t { text, integer, real, counts };

void put_value(Writer& w, const events::Value& v) {
    if (const auto* s = std::get_if<std::string>(&v)) {
        w.u8(static_cast<std::uint8_t>(ValueTag::text));
        w.str(*s);
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        w.u8(static_cast<std::uint8_t>(ValueTag::integer));
        w.i64(*i);
    } else if (const auto* d = std::get_if<double>(&v)) {
        w.u8(static_cast<std::uint8_t>(ValueTag::real));
        w.f64(*d);
    } else {
        const auto& c = std::get<events::Counts>(v);
        w.u8(static_cast<std::uint8_t>(ValueTag::counts));
        w.u32(static_cast<std::uint32_t>(c.size()));
        for (const auto& [name, n] : c) {
            w.str(name);
            w.u64(n);
        }
    }
}

events::Value get_value(Reader& r) {
    switch (static_cast<ValueTag>(r.u8("value tag"))) {
    case ValueTag::text: return r.str("text value");
    case ValueTag::integer: return r.i64("integer value");
    case ValueTag::real: return r.f64("duration value");
    case ValueTag::counts: {
        events::Counts c;
        auto n = r.count("counts", 12);
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
            auto name = r.str("count name", 64);
            c.emplace_back(std::move(name), r.u64("count"));
        }
        return c;
    }
    }
    r.fail("unknown value tag");
    return std::int64_t{0};
}

void put_event(Writer& w, const events::Record& rec) {
    w.u16(static_cast<std::uint16_t>(rec.kind));
    w.u8(static_cast<std::uint8_t>(rec.level));
    w.i64(std::chrono::duration_cast<std::chrono::microseconds>(rec.ts.time_since_epoch()).count());
    w.u32(static_cast<std::uint32_t>(rec.fields.size()));
    for (const auto& f : rec.fields) {
        w.u8(static_cast<std::uint8_t>(f.key));
        put_value(w, f.value);
    }
}

inline constexpr std::size_t key_count = 0
#define MODGATE_X(k, t) +1
    MODGATE_EVENT_KEYS(MODGATE_X)
#undef MODGATE_X
    ;

EventMsg get_event(Reader& r) {
    EventMsg m;
    auto& rec = m.record;
    auto kind = r.u16("kind");
    auto level = r.u8("level");
    if (kind >= events::kind_count) r.fail("unknown event kind " + std::to_string(kind));
    if (level > static_cast<std::uint8_t>(events::Level::critical)) r.fail("unknown level " + std::to_string(level));
    rec.kind = static_cast<events::Kind>(kind);
    rec.level = static_cast<events::Level>(level);
    auto us = r.i64("time");
    if (us < 0 || us > max_time_us) r.fail("time out of range");
    else rec.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(us));
    auto n = r.count("fields", 2);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        auto key = r.u8("key");
        if (key >= key_count) {
            r.fail("unknown key " + std::to_string(key));
            break;
        }
        auto v = get_value(r);
        rec.fields.push_back({static_cast<events::Key>(key), std::move(v)});
    }
    if (r.ok())
        if (auto why = events::check(rec); !why.empty()) r.fail(why);
    return m;
}

// --- counters ---

// Map keys come in the order the encoder writes them (ascending, each once): anything else is
// refused, so every message has one encoding.
template <typename Map, typename Key>
bool next_key(Reader& r, const Map& m, const Key& k, const char* what) {
    if (!m.empty() && !(m.rbegin()->first < k)) {
        r.fail(std::string(what) + ": keys repeated or out of order");
        return false;
    }
    return r.ok();
}

void put_snapshot(Writer& w, const metrics::Snapshot& s) {
    w.u16(static_cast<std::uint16_t>(s.events.size()));
    for (auto v : s.events) w.u64(v);
    w.u32(static_cast<std::uint32_t>(s.flows.size()));
    for (const auto& [k, f] : s.flows) {
        w.str(k.first);
        w.str(k.second);
        for (auto o : f.outcomes) w.u64(o);
        w.u64(f.bytes_up);
        w.u64(f.bytes_down);
    }
    auto named = [&w](const std::map<std::string, std::uint64_t>& m) {
        w.u32(static_cast<std::uint32_t>(m.size()));
        for (const auto& [k, v] : m) {
            w.str(k);
            w.u64(v);
        }
    };
    named(s.refused);
    w.u32(static_cast<std::uint32_t>(s.drops_logged.size()));
    for (const auto& [k, v] : s.drops_logged) {
        w.u8(static_cast<std::uint8_t>(k.first));
        w.u8(static_cast<std::uint8_t>(k.second));
        w.u64(v);
    }
    w.u64(s.drops_logged_unknown);
    w.u32(static_cast<std::uint32_t>(s.dimse.size()));
    for (const auto& [k, d] : s.dimse) {
        w.str(k);
        w.u64(d.forwarded);
        w.u64(d.refused);
    }
    named(s.associations);
    for (auto v : {s.windows_opened, s.windows_extended, s.windows_closed, s.nflog_lost, s.loop_max_lag_ms}) w.u64(v);
}

void get_named(Reader& r, std::map<std::string, std::uint64_t>& m, const char* what) {
    auto n = r.count(what, 12);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        auto k = r.str(what, 256);
        auto v = r.u64(what);
        if (next_key(r, m, k, what)) m[std::move(k)] = v;
    }
}

void get_flows(Reader& r, metrics::Snapshot& s) {
    auto n = r.count("flows", 48);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        auto allow = r.str("flow allow", 512);
        auto service = r.str("flow service", 32);
        metrics::FlowCounters f;
        for (auto& o : f.outcomes) o = r.u64("flow outcome");
        f.bytes_up = r.u64("flow bytes");
        f.bytes_down = r.u64("flow bytes");
        std::pair<std::string, std::string> k{std::move(allow), std::move(service)};
        if (next_key(r, s.flows, k, "flows")) s.flows[std::move(k)] = f;
    }
}

void get_drops(Reader& r, metrics::Snapshot& s) {
    auto n = r.count("drops", 10);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        auto reason = r.u8("drop reason");
        auto dir = r.u8("drop direction");
        auto v = r.u64("drop count");
        if (reason >= std::size(policy::all_drop_reasons) || dir > 1) {
            r.fail("unknown drop reason or direction");
            break;
        }
        std::pair k{static_cast<policy::DropReason>(reason), static_cast<policy::Direction>(dir)};
        if (next_key(r, s.drops_logged, k, "drops")) s.drops_logged[k] = v;
    }
}

metrics::Snapshot get_snapshot(Reader& r) {
    metrics::Snapshot s;
    if (r.u16("event kinds") != s.events.size()) r.fail("event kind count differs");
    for (auto& v : s.events) v = r.u64("event count");
    get_flows(r, s);
    get_named(r, s.refused, "refused");
    get_drops(r, s);
    s.drops_logged_unknown = r.u64("drops unknown");
    auto n = r.count("dimse", 20);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        auto k = r.str("dimse", 64);
        metrics::DimseCounters d;
        d.forwarded = r.u64("dimse forwarded");
        d.refused = r.u64("dimse refused");
        if (next_key(r, s.dimse, k, "dimse")) s.dimse[std::move(k)] = d;
    }
    get_named(r, s.associations, "associations");
    for (auto* v : {&s.windows_opened, &s.windows_extended, &s.windows_closed, &s.nflog_lost, &s.loop_max_lag_ms})
        *v = r.u64("counter");
    return s;
}

// --- windows ---

void put_windows(Writer& w, const WindowsMsg& m) {
    w.u32(static_cast<std::uint32_t>(m.open.size()));
    for (const auto& o : m.open) {
        w.str(o.modality);
        w.str(o.vendor);
        w.i64(o.ends_at_ms);
        w.u32(static_cast<std::uint32_t>(o.addresses.size()));
        for (const auto& c : o.addresses) {
            w.u32(c.addr.value);
            w.u8(c.len);
        }
    }
}

WindowsMsg get_windows(Reader& r) {
    WindowsMsg m;
    auto n = r.count("windows", 20);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        OpenWindow o;
        o.modality = r.str("window modality", 256);
        o.vendor = r.str("window vendor", 256);
        o.ends_at_ms = r.i64("window end");
        if (o.ends_at_ms < 0 || o.ends_at_ms > max_time_us / 1000) r.fail("window end out of range");
        auto k = r.count("window addresses", 5);
        for (std::uint32_t j = 0; j < k && r.ok(); ++j) {
            policy::Cidr c;
            c.addr.value = r.u32("address");
            c.len = r.u8("prefix length");
            if (c.len > 32 || (c.addr.value & ~c.mask()) != 0) r.fail("bad address prefix");
            o.addresses.push_back(c);
        }
        m.open.push_back(std::move(o));
    }
    return m;
}

// --- one payload per message type ---

void put(Writer& w, const PolicyMsg& m) {
    w.str(m.hash);
    w.str(m.source);
    w.str(m.text);
    w.u8(m.mode);
}
void put(Writer& w, const WindowsMsg& m) { put_windows(w, m); }
void put(Writer& w, const CutMsg& m) {
    w.str(m.modality);
    w.str(m.vendor);
}
void put(Writer& w, const CountersRequest& m) { w.u64(m.id); }
void put(Writer& w, const ProbeMsg& m) { w.str(m.name); }
void put(Writer& w, const ReadyMsg& m) {
    w.u32(m.pid);
    w.str(m.error);
    w.u32(m.landlock);
}
void put(Writer& w, const EventMsg& m) { put_event(w, m.record); }
void put(Writer& w, const CountersMsg& m) {
    w.u64(m.id);
    w.u64(m.live_sessions);
    put_snapshot(w, m.snapshot);
}
void put(Writer& w, const PolicyAppliedMsg& m) {
    w.str(m.hash);
    w.u64(m.closed_sessions);
}

void put(Writer& w, const ResolvedMsg& m) {
    w.str(m.name);
    w.u8(m.ok ? 1 : 0);
    w.u32(static_cast<std::uint32_t>(m.addresses.size()));
    for (auto a : m.addresses) w.u32(a.value);
    w.u32(m.ttl);
    w.str(m.error);
}

ResolvedMsg get_resolved(Reader& r) {
    ResolvedMsg m;
    m.name = r.str("host name", 255);
    auto ok = r.u8("ok");
    if (ok > 1) r.fail("ok is not 0 or 1");
    m.ok = ok == 1;
    auto n = r.count("addresses", 4);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.addresses.push_back(policy::Ipv4{r.u32("address")});
    m.ttl = r.u32("ttl");
    m.error = r.str("error", 1024);
    return m;
}

Message get(Type t, Reader& r) {
    switch (t) {
    case Type::policy: {
        PolicyMsg m;
        m.hash = r.str("hash", 64);
        m.source = r.str("source", 4096);
        m.text = r.str("policy text", max_payload(Type::policy));
        m.mode = r.u8("mode");
        if (m.mode > 2) r.fail("unknown mode");
        return m;
    }
    case Type::windows: return get_windows(r);
    case Type::cut: {
        CutMsg m;
        m.modality = r.str("modality", 256);
        m.vendor = r.str("vendor", 256);
        return m;
    }
    case Type::counters_request: return CountersRequest{r.u64("id")};
    case Type::probe: return ProbeMsg{r.str("probe", 64)};
    case Type::ready: {
        ReadyMsg m;
        m.pid = r.u32("pid");
        m.error = r.str("error", 4096);
        m.landlock = r.u32("landlock");
        return m;
    }
    case Type::event: return get_event(r);
    case Type::counters: {
        CountersMsg m;
        m.id = r.u64("id");
        m.live_sessions = r.u64("live sessions");
        m.snapshot = get_snapshot(r);
        return m;
    }
    case Type::resolved: return get_resolved(r);
    case Type::policy_applied: {
        PolicyAppliedMsg m;
        m.hash = r.str("hash", 64);
        m.closed_sessions = r.u64("closed sessions");
        return m;
    }
    }
    r.fail("unknown message type");
    return CountersRequest{};
}

// Which side sends a type: the parent's run from policy to probe, the proxy's from ready to
// resolved (the enum's order); nothing for an unknown type.
std::optional<From> sender(std::uint8_t t) {
    auto in = [t](Type first, Type last) {
        return t >= static_cast<std::uint8_t>(first) && t <= static_cast<std::uint8_t>(last);
    };
    if (in(Type::policy, Type::probe)) return From::parent;
    if (in(Type::ready, Type::resolved)) return From::proxy;
    return std::nullopt;
}

}  // namespace

Type type_of(const Message& m) {
    static constexpr Type types[] = {Type::policy, Type::windows,  Type::cut,           Type::counters_request,
                                     Type::probe,  Type::ready,    Type::event,         Type::counters,
                                     Type::policy_applied, Type::resolved};
    static_assert(std::size(types) == std::variant_size_v<Message>);
    return types[m.index()];
}

std::size_t max_payload(Type t) {
    switch (t) {
    case Type::policy: return 4 * 1024 * 1024;
    case Type::windows:
    case Type::counters: return 1024 * 1024;
    default: return max_small;
    }
}

std::vector<std::uint8_t> encode(const Message& m) {
    Writer w;
    for (auto b : {std::uint8_t{'M'}, std::uint8_t{'G'}, wire_version, static_cast<std::uint8_t>(type_of(m))}) w.u8(b);
    w.u32(0);  // the length, filled in below
    std::visit([&w](const auto& msg) { put(w, msg); }, m);
    auto out = w.take();
    auto len = static_cast<std::uint32_t>(out.size() - header_size);
    for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<std::uint8_t>(len >> (8 * (3 - i)));
    return out;
}

Decoded decode_payload(Type t, std::span<const std::uint8_t> payload) {
    if (!sender(static_cast<std::uint8_t>(t))) return {std::nullopt, "unknown message type"};
    if (payload.size() > max_payload(t)) return {std::nullopt, "payload larger than its type allows"};
    Reader r(payload);
    auto m = get(t, r);
    if (r.ok() && !r.done()) r.fail(std::to_string(r.remaining()) + " bytes after the message");
    if (!r.ok()) return {std::nullopt, r.error()};
    return {std::move(m), {}};
}

bool FrameReader::accepts(std::uint8_t t) const { return sender(t) == from_; }

void FrameReader::feed(std::span<const std::uint8_t> bytes) {
    if (failed()) return;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Message> FrameReader::next() {
    if (failed() || buffered() < header_size) return std::nullopt;
    const auto* h = buf_.data() + pos_;
    if (h[0] != 'M' || h[1] != 'G') {
        error_ = "not a message header";
        return std::nullopt;
    }
    if (h[2] != wire_version) {
        error_ = "message version " + std::to_string(h[2]) + ", expected " + std::to_string(wire_version);
        return std::nullopt;
    }
    auto t = static_cast<Type>(h[3]);
    if (!accepts(h[3])) {
        error_ = "message type " + std::to_string(h[3]) + " not accepted from this side";
        return std::nullopt;
    }
    std::size_t len = (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) | (std::size_t{h[6]} << 8) | h[7];
    if (len > max_payload(t)) {
        error_ = "message of " + std::to_string(len) + " bytes, over its type's limit";
        return std::nullopt;
    }
    if (buffered() < header_size + len) return std::nullopt;
    auto d = decode_payload(t, std::span(buf_).subspan(pos_ + header_size, len));
    pos_ += header_size + len;
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    if (!d.message) error_ = d.error;
    return std::move(d.message);
}

}  // namespace modgate::privsep
