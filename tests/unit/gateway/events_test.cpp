// The event model: the catalogue against docs/events.md, the schema check, sinks that fall
// behind, the ring and the metrics registry.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gateway/events/bus.hpp"
#include "gateway/events/format.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/metrics/registry.hpp"

using namespace modgate;
using events::Key;
using events::Kind;

namespace {

// A sink that records what it writes; `hold()` makes its writer block until `release()`.
class TestSink : public events::Sink {
public:
    TestSink(std::string name, std::size_t capacity) : Sink(std::move(name), events::Level::debug, capacity) { start(); }
    ~TestSink() override {
        release();
        stop();
    }
    void hold() {
        std::lock_guard lock(mu_);
        held_ = true;
    }
    void release() {
        std::lock_guard lock(mu_);
        held_ = false;
        cv_.notify_all();
    }
    std::vector<events::Record> records() {
        std::lock_guard lock(mu_);
        return got_;
    }

private:
    void write(const events::Record& r) override {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !held_; });
        got_.push_back(r);
    }
    std::mutex mu_;
    std::condition_variable cv_;
    bool held_ = false;
    std::vector<events::Record> got_;
};

struct DocRow {
    std::string component, severity;
    std::set<std::string> keys;
};

std::set<std::string> backticked(const std::string& cell) {
    std::set<std::string> out;
    static const std::regex tick("`([a-z_]+)`");
    for (std::sregex_iterator i(cell.begin(), cell.end(), tick), end; i != end; ++i) out.insert((*i)[1]);
    return out;
}

std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line.substr(1));
    for (std::string c; std::getline(ss, c, '|');) {
        auto a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
        out.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
    }
    return out;
}

void emit_flow(std::int64_t id) {
    events::Event(Kind::flow_opened).kv(Key::id, id).kv(Key::allow, "a").kv(Key::service, "dicom");
}

}  // namespace

TEST_CASE("docs/events.md lists every event kind with exactly its keys, and every key's type") {
    std::ifstream in(MODGATE_SOURCE_DIR "/docs/events.md");
    REQUIRE(in);
    std::map<std::string, DocRow> kinds;
    std::map<std::string, std::string> key_types;
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("| ")) continue;
        auto c = cells(line);
        if (c.size() == 5 && c[1].starts_with("`")) kinds[c[1].substr(1, c[1].size() - 2)] = {c[0], c[2], backticked(c[4])};
        if (c.size() == 2 && c[0].starts_with("`")) key_types[c[0].substr(1, c[0].size() - 2)] = c[1];
    }
    std::set<std::string> documented;
    for (const auto& [name, row] : kinds) documented.insert(name);
    std::set<std::string> catalogued;
    for (const auto& s : events::catalogue()) {
        catalogued.insert(std::string(s.name));
        INFO("event " << s.name);
        REQUIRE(kinds.contains(std::string(s.name)));
        const auto& row = kinds[std::string(s.name)];
        CHECK(row.component == s.component);
        CHECK(row.severity == events::to_string(s.severity));
        std::set<std::string> keys;
        for (auto k : s.keys) {
            keys.insert(std::string(events::to_string(k)));
            INFO("key " << events::to_string(k));
            auto t = std::string(events::to_string(events::key_type(k)));
            CHECK(key_types[std::string(events::to_string(k))] == t);
        }
        CHECK(row.keys == keys);
    }
    CHECK(documented == catalogued);  // no row for an event the code cannot emit
}

TEST_CASE("records are checked against their kind's keys and types") {
    events::Record r;
    r.kind = Kind::drop;
    r.fields = {{Key::rule, std::string("flow")}, {Key::dport, std::int64_t{445}}};
    CHECK(events::check(r).empty());
    r.fields.push_back({Key::allow, std::string("x")});
    CHECK(events::check(r) == "event drop does not carry key allow");
    r.fields = {{Key::dport, std::string("445")}};
    CHECK(events::check(r) == "event drop: key dport is not of type port");
    r.fields = {{Key::dport, std::int64_t{70000}}};
    CHECK_FALSE(events::check(r).empty());
}

TEST_CASE("JSON and logfmt carry the same typed values") {
    events::Record r;
    r.seq = 3;
    r.kind = Kind::association;
    r.fields = {{Key::id, std::int64_t{9}}, {Key::dimse_counts, events::Counts{{"c_store", 6}, {"c_store_refused", 1}}},
                {Key::duration, 1.5}, {Key::end, std::string("released")}};
    auto line = events::logfmt_line(r);
    CHECK(line.substr(line.find(' ') + 1) ==
          "level=info component=dicom event=association id=9 c_store=6 c_store_refused=1 duration=1.500 end=released");
    auto j = events::to_json(r);
    CHECK(j["event"] == "association");
    CHECK(j["id"] == 9);
    CHECK(j["dimse_counts"]["c_store_refused"] == 1);
    CHECK(j["duration"] == 1.5);
}

TEST_CASE("a sink that never drains loses events, counts them and says so once it has caught up") {
    auto& bus = events::Bus::get();
    bus.reset();
    metrics::Registry registry;
    bus.observe([&registry](const events::Record& r) { registry.observe(r); });
    auto stalled = std::make_shared<TestSink>("stalled", 16);
    auto healthy = std::make_shared<TestSink>("healthy", 100000);
    bus.set_sinks({stalled, healthy});
    stalled->hold();
    constexpr int n = 5000;
    for (int i = 1; i <= n; ++i) emit_flow(i);  // returns although one sink writes nothing
    healthy->flush();
    CHECK(stalled->dropped() >= n - 17);
    CHECK(healthy->dropped() == 0);
    CHECK(registry.snapshot().flow_totals().outcomes[0] == n);  // counted before any queue
    // A stalled sink does not hold up a shutdown's flush beyond its limit.
    CHECK_FALSE(bus.flush(std::chrono::milliseconds(50)));
    auto dropped = stalled->dropped();
    stalled->release();
    stalled->flush();
    bus.flush();
    auto summaries = [](const std::vector<events::Record>& rs) {
        std::vector<events::Record> out;
        for (const auto& r : rs)
            if (r.kind == Kind::events_dropped) out.push_back(r);
        return out;
    };
    auto seen_by_healthy = summaries(healthy->records());
    REQUIRE(seen_by_healthy.size() == 1);
    CHECK(seen_by_healthy[0].text(Key::sink) == "stalled");
    CHECK(std::get<std::int64_t>(*seen_by_healthy[0].find(Key::dropped)) == static_cast<std::int64_t>(dropped));
    CHECK(healthy->records().size() == n + 1);  // every event, then the summary
    CHECK(summaries(stalled->records()).size() == 1);
    CHECK(registry.snapshot().events[static_cast<std::size_t>(Kind::events_dropped)] == 1);
    bus.reset();
}

TEST_CASE("the ring keeps the most recent events and followers see new ones") {
    auto& bus = events::Bus::get();
    bus.reset();
    bus.set_ring_capacity(10);
    std::vector<std::int64_t> followed;
    bus.follow([&](const events::Bus::RecordPtr& r) {
        followed.push_back(std::get<std::int64_t>(*r->find(Key::id)));
        return followed.size() < 3;  // unsubscribes after the third
    });
    for (int i = 1; i <= 25; ++i) emit_flow(i);
    auto recent = bus.recent();
    REQUIRE(recent.size() == 10);
    CHECK(std::get<std::int64_t>(*recent.front()->find(Key::id)) == 16);
    CHECK(bus.recent(recent.back()->seq).empty());
    CHECK(followed == std::vector<std::int64_t>{1, 2, 3});
    bus.set_ring_capacity(2000);
    bus.reset();
}

TEST_CASE("the registry counts flows by allow and service, DIMSE by name and outcome, drops by reason") {
    metrics::Registry reg;
    auto rec = [](Kind k, std::vector<events::Field> f) {
        events::Record r;
        r.kind = k;
        r.fields = std::move(f);
        return r;
    };
    reg.observe(rec(Kind::flow_opened, {{Key::allow, std::string("a")}, {Key::service, std::string("dicom")}}));
    reg.observe(rec(Kind::flow_closed, {{Key::allow, std::string("a")}, {Key::service, std::string("dicom")},
                                        {Key::bytes_up, std::int64_t{100}}, {Key::bytes_down, std::int64_t{7}}}));
    reg.observe(rec(Kind::flow_refused, {{Key::proto, std::string("tcp")}}));
    reg.observe(rec(Kind::drop, {{Key::rule, std::string("flow")}, {Key::dir, std::string("out")}}));
    reg.observe(rec(Kind::association, {{Key::end, std::string("released")},
                                        {Key::dimse_counts, events::Counts{{"c_store", 6}, {"c_echo_refused", 1}}}}));
    auto s = reg.snapshot();
    auto f = s.flows.at({"a", "dicom"});
    CHECK(f.outcomes == std::array<std::uint64_t, 3>{1, 1, 0});
    CHECK(f.bytes_up == 100);
    CHECK(f.bytes_down == 7);
    CHECK(s.refused_total() == 1);
    CHECK(s.drops_logged.at({policy::DropReason::flow, policy::Direction::outbound}) == 1);
    CHECK(s.dimse.at("c_store").forwarded == 6);
    CHECK(s.dimse.at("c_echo").refused == 1);
    CHECK(s.associations.at("released") == 1);
}
