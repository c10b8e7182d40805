// Control protocol and event formatting: what operators and the SIEM read must be exact.
#include <catch2/catch.hpp>

#include "gateway/control/protocol.hpp"
#include "gateway/events/format.hpp"

using namespace modgate;

TEST_CASE("requests round-trip, quoting values that need it") {
    control::Fields f{{"cmd", "window-open"}, {"modality", "pet-ct-1"}, {"reason", "CHG-1234 \"urgent\" a=b"}};
    auto line = control::encode_request(f);
    CHECK(line == "cmd=window-open modality=pet-ct-1 reason=\"CHG-1234 \\\"urgent\\\" a=b\"\n");
    std::string err;
    auto back = control::decode_request(line, err);
    REQUIRE(back);
    CHECK(*back == f);
}

TEST_CASE("malformed requests are refused with a reason") {
    std::string err;
    CHECK_FALSE(control::decode_request("modality=x\n", err));
    CHECK(err == "no cmd");
    CHECK_FALSE(control::decode_request("cmd=status cmd=reload", err));
    CHECK(err == "key 'cmd' given twice");
    CHECK_FALSE(control::decode_request("cmd=\"open", err));
    CHECK(err == "unterminated quoted value");
    CHECK_FALSE(control::decode_request("just words", err));
}

TEST_CASE("replies carry an exit code and a message") {
    auto ok = control::decode_reply(control::encode_reply({0, {}, "body\n"}));
    REQUIRE(ok);
    CHECK(ok->code == 0);
    CHECK(ok->body == "body\n");
    auto err = control::decode_reply(control::encode_reply({4, "user x may not\nreload", "details\n"}));
    REQUIRE(err);
    CHECK(err->code == 4);
    CHECK(err->message == "user x may not reload");
    CHECK(err->body == "details\n");
    CHECK_FALSE(control::decode_reply("garbage"));
    CHECK_FALSE(control::decode_reply("error x y\n"));
}

TEST_CASE("logfmt values are quoted only when needed") {
    CHECK(events::logfmt_value("10.20.30.40:104") == "10.20.30.40:104");
    CHECK(events::logfmt_value("") == "\"\"");
    CHECK(events::logfmt_value("idle timeout") == "\"idle timeout\"");
    CHECK(events::logfmt_value("a=b") == "\"a=b\"");
    CHECK(events::logfmt_value("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(events::logfmt_value("x\ny") == "\"x\\x0ay\"");
}

TEST_CASE("events are one logfmt line") {
    events::Record r;
    r.kind = events::Kind::flow_closed;
    r.fields = {{events::Key::id, std::int64_t{7}}, {events::Key::reason, std::string("idle timeout")},
                {events::Key::dst, policy::Ipv4{0x0a140105}.str()}};
    auto line = events::logfmt_line(r);
    CHECK(line.substr(line.find(' ') + 1) == "level=info component=proxy event=flow_closed id=7 reason=\"idle timeout\" dst=10.20.1.5");
}
