// The state file: exact text, round trips (awkward reasons included), and every kind of damage,
// including every truncation of a valid file, refused with the line it is on.
#include "gateway/windows/state_file.hpp"
#include "test_support.hpp"

using namespace windows_test;
using namespace modgate::windows;

namespace {

Record manual_open() {
    Record r;
    r.modality = "pet-ct-1";
    r.vendor = "vendor-remote";
    r.open = OpenState{utc("2026-03-28T01:00:00Z"), utc("2026-03-28T03:00:00Z"), Source::manual, Who{1000, "alice"},
                       "CHG-1234 detector firmware"};
    return r;
}

Record scheduled_open_and_hold() {
    Record r;
    r.modality = "xray-2";
    r.vendor = "vendor-b";
    r.open = OpenState{utc("2026-03-28T02:00:00Z"), utc("2026-03-28T06:00:00Z"), Source::schedule, std::nullopt,
                       "schedule Sat 02:00-06:00"};
    r.hold = Hold{utc("2026-03-28T02:10:00Z"), utc("2026-04-04T02:00:00Z"), Who{0, "root"}, "incident 77"};
    return r;
}

const std::string header = "modgate-windows 1\n";
const std::string open_line =
    "open modality=pet-ct-1 vendor=vendor-remote opened_at=2026-03-28T01:00:00Z ends_at=2026-03-28T03:00:00Z "
    "source=manual uid=1000 user=alice reason=\"CHG-1234 detector firmware\"\n";

std::string parse_error(const std::string& text) {
    auto r = parse_state(text);
    if (r) FAIL("parsed without error:\n" << text);
    return r.error();
}

}  // namespace

TEST_CASE("the exact text of the state file", "[windows][state_file]") {
    const auto text = format_state({manual_open(), scheduled_open_and_hold()});
    CHECK(text ==
          "# modgate maintenance windows (state file, written by modgated; times are UTC)\n" + header + open_line +
              "open modality=xray-2 vendor=vendor-b opened_at=2026-03-28T02:00:00Z ends_at=2026-03-28T06:00:00Z "
              "source=schedule reason=\"schedule Sat 02:00-06:00\"\n"
              "hold modality=xray-2 vendor=vendor-b since=2026-03-28T02:10:00Z until=2026-04-04T02:00:00Z uid=0 "
              "user=root reason=\"incident 77\"\n"
              "end records=3\n");
    CHECK(format_state({}) == "# modgate maintenance windows (state file, written by modgated; times are UTC)\n" +
                                  header + "end records=0\n");
}

TEST_CASE("round trips, awkward values included", "[windows][state_file]") {
    auto awkward = manual_open();
    awkward.open->reason = "quote \" backslash \\ equals = hash # tab\t newline\n bell\x07 ümlaut";
    awkward.open->who = Who{4294967295u, "d\xc3\xa9j\xc3\xa0 vu"};
    auto hold_only = scheduled_open_and_hold();
    hold_only.modality = "ct-3";
    hold_only.open.reset();
    hold_only.hold->until.reset();
    hold_only.hold->reason = "";
    const std::vector<Record> records{awkward, scheduled_open_and_hold(), hold_only};
    const auto text = format_state(records);
    INFO(text);
    // One record per line whatever the reason holds.
    CHECK(std::count(text.begin(), text.end(), '\n') == 7);
    auto back = parse_state(text);
    REQUIRE(back);
    CHECK(*back == records);
}

TEST_CASE("readers' conveniences: comments, blank lines, key order", "[windows][state_file]") {
    const std::string text =
        "# hand-inspected\n\n" + header +
        "open reason=x source=manual user=alice uid=7 ends_at=2026-03-28T03:00:00Z opened_at=2026-03-28T01:00:00Z "
        "vendor=v modality=m\n"
        "   \n# still fine\nend records=1\n";
    auto r = parse_state(text);
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].open->who == Who{7, "alice"});
}

TEST_CASE("every truncation of a valid file is refused", "[windows][state_file]") {
    const auto text = format_state({manual_open(), scheduled_open_and_hold()});
    for (std::size_t n = 0; n < text.size(); ++n) {
        INFO("cut after " << n << " bytes: " << text.substr(0, n));
        CHECK_FALSE(parse_state(text.substr(0, n)));
    }
    CHECK(parse_state(text));
}

TEST_CASE("damage is refused with the line it is on", "[windows][state_file]") {
    const auto end1 = std::string("end records=1\n");
    CHECK_THAT(parse_error(""), Catch::Contains("empty"));
    CHECK_THAT(parse_error(header + open_line + "end records=1"), Catch::Contains("newline"));
    CHECK_THAT(parse_error("\x7f"
                           "ELF garbage\n"),
               Catch::Contains("line 1") && Catch::Contains("not a modgate"));
    CHECK_THAT(parse_error("modgate-windows 2\nend records=0\n"), Catch::Contains("version '2'"));
    CHECK_THAT(parse_error("# only a comment\n"), Catch::Contains("not a modgate"));
    CHECK_THAT(parse_error(header + open_line), Catch::Contains("no end line"));
    CHECK_THAT(parse_error(header + open_line.substr(0, open_line.size() - 1) + "\r\n" + end1),
               Catch::Contains("line 2") &&
                   Catch::Contains("control character at column " + std::to_string(open_line.size())));
    CHECK_THAT(parse_error(header + std::string(500, 'x') + "\n" + end1),
               Catch::Contains("unknown record '" + std::string(40, 'x') + "...'"));
    CHECK_THAT(parse_error(header + open_line + "end records=2\n"),
               Catch::Contains("counts 2 records but the file holds 1"));
    CHECK_THAT(parse_error(header + open_line + "end records=one\n"),
               Catch::Contains("line 3") && Catch::Contains("end records=N"));
    CHECK_THAT(parse_error(header + open_line + end1 + open_line),
               Catch::Contains("line 4") && Catch::Contains("after the end"));
    CHECK_THAT(parse_error(header + "close modality=m vendor=v\n" + end1),
               Catch::Contains("line 2") && Catch::Contains("unknown record 'close'"));
    CHECK_THAT(parse_error(header + open_line + open_line + "end records=2\n"),
               Catch::Contains("line 3") && Catch::Contains("second open line for window pet-ct-1/vendor-remote"));

    const auto with = [&](const std::string& from, const std::string& to) {
        auto line = open_line;
        const auto at = line.find(from);
        if (at == std::string::npos) FAIL("test typo: " << from);
        line.replace(at, from.size(), to);
        return parse_error(header + line + end1);
    };
    CHECK_THAT(with("uid=1000", "uid=1000 colour=blue"),
               Catch::Contains("line 2") && Catch::Contains("unknown key 'colour'"));
    CHECK_THAT(with("uid=1000", "uid=1000 uid=1000"), Catch::Contains("'uid' appears twice"));
    CHECK_THAT(with("ends_at=2026-03-28T03:00:00Z", "ends_at=2026-02-30T03:00:00Z"),
               Catch::Contains("ends_at=2026-02-30T03:00:00Z is not a UTC time"));
    CHECK_THAT(with("ends_at=2026-03-28T03:00:00Z", "ends_at=2026-03-28T03:00:00+01:00"),
               Catch::Contains("not a UTC time"));
    CHECK_THAT(with("ends_at=2026-03-28T03:00:00Z ", ""), Catch::Contains("'ends_at' is missing"));
    CHECK_THAT(with("ends_at=2026-03-28T03:00:00Z", "ends_at=2026-03-28T00:00:00Z"),
               Catch::Contains("not after opened_at"));
    CHECK_THAT(with("source=manual", "source=magic"), Catch::Contains("source=magic is not schedule or manual"));
    CHECK_THAT(with("uid=1000", "uid=4294967296"), Catch::Contains("not a user id"));
    CHECK_THAT(with("uid=1000", "uid=-1"), Catch::Contains("not a user id"));
    CHECK_THAT(with("uid=1000 ", ""), Catch::Contains("'uid' and 'user' go together"));
    CHECK_THAT(with("uid=1000 user=alice ", ""), Catch::Contains("manual window names who"));
    CHECK_THAT(with("source=manual uid=1000 user=alice", "source=schedule uid=1000 user=alice"),
               Catch::Contains("manual window names who"));
    CHECK_THAT(with("detector firmware\"", "detector firmware"), Catch::Contains("no closing quote"));
    CHECK_THAT(with("reason=\"CHG", "reason=\"\\qCHG"), Catch::Contains("unknown escape"));
    CHECK_THAT(with("firmware\"", "firmware\"x"), Catch::Contains("after the closing quote"));
    CHECK_THAT(with("user=alice", "user=al\"ice"), Catch::Contains("quote inside an unquoted value"));
    CHECK_THAT(with("user=alice", "=alice"), Catch::Contains("expected key=value"));
    CHECK_THAT(with("user=alice", "user"), Catch::Contains("expected key=value"));

    const std::string hold = "hold modality=m vendor=v since=2026-03-28T02:10:00Z uid=0 user=root reason=x\n";
    CHECK(parse_state(header + hold + end1));
    CHECK_THAT(parse_error(header + "hold modality=m vendor=v since=2026-03-28T02:10:00Z reason=x\n" + end1),
               Catch::Contains("hold names who closed"));
    CHECK_THAT(parse_error(header +
                           "hold modality=m vendor=v since=2026-03-28T02:10:00Z until=2026-03-28T02:00:00Z uid=0 "
                           "user=root reason=x\n" +
                           end1),
               Catch::Contains("until is not after since"));
    CHECK_THAT(parse_error(header + hold + hold + "end records=2\n"), Catch::Contains("second hold line"));
}
