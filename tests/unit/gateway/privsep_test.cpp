// The parent-proxy messages and channel without root: every message survives a round trip, the
// decoder refuses what a compromised proxy could send (wrong side, wrong version, lengths
// larger than what remains, events that break the catalogue), and a channel over a real
// socketpair delivers in order, answers wait_for(), and closes on a bad message.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "gateway/events/events.hpp"
#include "gateway/privsep/channel.hpp"
#include "gateway/privsep/wire.hpp"

using namespace modgate;
using namespace modgate::privsep;

namespace {

events::Record flow_opened() {
    events::Record r;
    r.kind = events::Kind::flow_opened;
    r.level = events::Level::info;
    r.ts = std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
    r.fields = {{events::Key::id, std::int64_t{7}},
                {events::Key::allow, std::string("pet-ct-1->pacs")},
                {events::Key::service, std::string("dicom")},
                {events::Key::src, std::string("10.20.30.40:50000")}};
    return r;
}

Message round_trip(const Message& m) {
    auto bytes = encode(m);
    FrameReader r(type_of(m) >= Type::ready ? From::proxy : From::parent);
    r.feed(bytes);
    auto back = r.next();
    INFO(r.error());
    REQUIRE(back);
    CHECK(encode(*back) == bytes);
    CHECK(r.buffered() == 0);
    return *back;
}

// The header of `bytes` with its payload length set to `len`.
void set_length(std::vector<std::uint8_t>& bytes, std::uint32_t len) {
    for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<std::uint8_t>(len >> (8 * (3 - i)));
}

std::string refusal(std::vector<std::uint8_t> bytes, From from = From::proxy) {
    FrameReader r(from);
    r.feed(bytes);
    CHECK(!r.next());
    CHECK(r.failed());
    return r.error();
}

}  // namespace

TEST_CASE("every message type survives a round trip, fed whole or one byte at a time") {
    metrics::Snapshot snap;
    snap.events[0] = 3;
    snap.flows[{"pet-ct-1->pacs", "dicom"}].bytes_up = 1234;
    snap.dimse["c_store"] = {5, 1};
    snap.associations["released"] = 2;
    snap.drops_logged[{policy::DropReason::flow, policy::Direction::inbound}] = 9;
    policy::Cidr net{policy::Ipv4{0xc6336400}, 28};
    const std::vector<Message> all = {
        PolicyMsg{"abcd", "/etc/modgate/policy.toml", "[gateway]\n", 2},
        WindowsMsg{{OpenWindow{"pet-ct-1", "acme", 1'700'000'000'000, {net}}}},
        CutMsg{"pet-ct-1", "acme"},
        CountersRequest{42},
        ProbeMsg{"netlink"},
        ReadyMsg{1234, ""},
        EventMsg{flow_opened()},
        CountersMsg{42, 3, snap},
        PolicyAppliedMsg{"abcd", 2},
        ResolvedMsg{"remote.vendor.example", true, {policy::Ipv4{0xcb00710a}}, 300, {}},
    };
    for (const auto& m : all) {
        auto back = round_trip(m);
        CHECK(back.index() == m.index());
    }
    auto e = std::get<EventMsg>(round_trip(EventMsg{flow_opened()}));
    CHECK(e.record.ts == flow_opened().ts);
    CHECK(e.record.text(events::Key::allow) == "pet-ct-1->pacs");
    auto c = std::get<CountersMsg>(round_trip(CountersMsg{1, 3, snap}));
    CHECK(c.snapshot.dimse.at("c_store").refused == 1);
    CHECK(c.snapshot.flows.at({"pet-ct-1->pacs", "dicom"}).bytes_up == 1234);

    // A stream of several messages, one byte at a time.
    std::vector<std::uint8_t> stream;
    for (const auto& m : all)
        if (type_of(m) >= Type::ready) {
            auto b = encode(m);
            stream.insert(stream.end(), b.begin(), b.end());
        }
    FrameReader r(From::proxy);
    int got = 0;
    for (auto byte : stream) {
        r.feed(std::span(&byte, 1));
        while (r.next()) ++got;
    }
    CHECK(got == 5);
    CHECK(!r.failed());
}

TEST_CASE("the decoder refuses what a compromised proxy could send") {
    auto ready = encode(ReadyMsg{1, ""});
    SECTION("a parent's message from the proxy, and a proxy's from the parent") {
        CHECK_THAT(refusal(encode(PolicyMsg{"h", "s", "t", 0})), Catch::Contains("not accepted"));
        CHECK_THAT(refusal(ready, From::parent), Catch::Contains("not accepted"));
    }
    SECTION("another version, a bad header") {
        auto b = ready;
        b[2] = wire_version + 1;
        CHECK_THAT(refusal(b), Catch::Contains("version"));
        b = ready;
        b[0] = 'X';
        CHECK_THAT(refusal(b), Catch::Contains("header"));
    }
    SECTION("a length over the type's limit is refused before its bytes arrive") {
        auto b = ready;
        set_length(b, static_cast<std::uint32_t>(max_payload(Type::ready) + 1));
        CHECK_THAT(refusal(b), Catch::Contains("limit"));
    }
    SECTION("an inner length larger than what remains") {
        auto b = encode(ReadyMsg{1, "abc"});
        b[header_size + 7] = 200;  // the error string's length, low byte
        CHECK_THAT(refusal(b), Catch::Contains("larger"));
    }
    SECTION("bytes after the message") {
        auto b = ready;
        b.push_back(0);
        set_length(b, static_cast<std::uint32_t>(b.size() - header_size));
        CHECK_THAT(refusal(b), Catch::Contains("after the message"));
    }
    SECTION("an event with a key its kind does not carry, or of the wrong type") {
        auto r = flow_opened();
        r.fields.push_back({events::Key::hash, std::string("x")});
        CHECK_THAT(refusal(encode(EventMsg{r})), Catch::Contains("does not carry"));
        r = flow_opened();
        r.fields[0].value = std::string("seven");
        CHECK_THAT(refusal(encode(EventMsg{r})), Catch::Contains("type"));
    }
    SECTION("a time the clock cannot hold") {
        auto r = flow_opened();
        r.ts = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 200));
        CHECK_THAT(refusal(encode(EventMsg{r})), Catch::Contains("time out of range"));
    }
    SECTION("an unknown event kind") {
        auto b = encode(EventMsg{flow_opened()});
        b[header_size] = 0xff;
        b[header_size + 1] = 0xff;
        CHECK_THAT(refusal(b), Catch::Contains("unknown event kind"));
    }
    SECTION("a list that claims more items than its bytes could hold") {
        auto b = encode(WindowsMsg{{OpenWindow{"m", "v", 1, {}}}});
        b[header_size] = 0x7f;
        CHECK_THAT(refusal(b, From::parent), Catch::Contains("count"));
    }
    SECTION("counters with a label twice") {
        metrics::Snapshot s;
        s.associations["released"] = 1;
        s.associations["timeout"] = 1;
        auto b = encode(CountersMsg{0, 0, s});
        auto at = std::search(b.begin(), b.end(), std::begin("timeout"), std::end("timeout") - 1);
        REQUIRE(at != b.end());
        std::copy_n("release", 7, at);  // "released" twice would need the same length: make it sort first
        CHECK_THAT(refusal(b), Catch::Contains("out of order"));
    }
    SECTION("an address with host bits under its prefix") {
        policy::Cidr bad{policy::Ipv4{0x0a000001}, 24};
        CHECK_THAT(refusal(encode(WindowsMsg{{OpenWindow{"m", "v", 1, {bad}}}}), From::parent),
                   Catch::Contains("prefix"));
    }
}

TEST_CASE("a channel over a socketpair: order, wait_for, and a bad message closes it") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    asio::io_context io, proxy_io;  // two processes' loops
    auto parent = std::make_shared<Channel>(io, sv[0], From::proxy, 1 << 20);
    auto proxy = std::make_shared<Channel>(proxy_io, sv[1], From::parent, 1 << 20);
    std::vector<std::string> at_parent, at_proxy;
    std::string closed;
    parent->start([&](Message m) { at_parent.push_back(std::to_string(static_cast<int>(type_of(m)))); },
                  [&](const std::string& why) { closed = why; });
    proxy->start(
        [&](Message m) {
            at_proxy.push_back(std::to_string(static_cast<int>(type_of(m))));
            if (auto* p = std::get_if<PolicyMsg>(&m)) proxy->send(PolicyAppliedMsg{p->hash, 4});
        },
        [](const std::string&) {});

    REQUIRE(proxy->send(EventMsg{flow_opened()}));
    REQUIRE(parent->send(PolicyMsg{"h2", "p.toml", "[gateway]\n", 0}));
    // The parent blocks in wait_for while the proxy's loop runs (here: in turns).
    std::optional<Message> applied;
    for (int i = 0; i < 100 && !applied; ++i) {
        proxy_io.poll();
        applied = parent->wait_for([](const Message& m) { return std::holds_alternative<PolicyAppliedMsg>(m); },
                                   std::chrono::milliseconds(10));
    }
    REQUIRE(applied);
    CHECK(std::get<PolicyAppliedMsg>(*applied).closed_sessions == 4);
    CHECK(at_parent == std::vector<std::string>{"65"});  // the event came first, to the handler
    CHECK(at_proxy == std::vector<std::string>{"1"});

    // A proxy that sends garbage: the parent's end closes and says why.
    const std::uint8_t junk[] = {'M', 'G', wire_version, 99, 0, 0, 0, 0};
    REQUIRE(::write(sv[1], junk, sizeof junk) == sizeof junk);
    for (int i = 0; i < 100 && closed.empty(); ++i) io.run_one_for(std::chrono::milliseconds(10));
    CHECK_THAT(closed, Catch::StartsWith("bad message"));
    CHECK(!parent->open());
    CHECK(!parent->send(CountersRequest{1}));
}

TEST_CASE("the queue bound refuses a message rather than grow") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    asio::io_context io;
    auto ch = std::make_shared<Channel>(io, sv[0], From::proxy, 4096);
    ch->start([](Message) {}, [](const std::string&) {});
    PolicyMsg big{"h", "s", std::string(3000, 'x'), 0};
    int sent = 0, refused = 0;
    for (int i = 0; i < 1000; ++i) (ch->send(big) ? sent : refused)++;  // nobody reads the other end
    CHECK(sent > 0);
    CHECK(refused > 0);
    CHECK(ch->queued() <= 4096);
    ::close(sv[1]);
}
