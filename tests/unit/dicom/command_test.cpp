// DIMSE command sets: exact Implicit VR LE bytes, the elements the proxy routes on, and
// malformed sets.
#include "test_support.hpp"

using namespace dicom_test;

namespace {

// C-ECHO-RQ, message id 1, written by hand from PS3.7 E.1 (what DCMTK's echoscu sends).
Buffer echo_golden() {
    Buffer b = hex("0000 0000 04000000 38000000  0000 0200 12000000");
    const std::string uid = verification + '\0';
    b.insert(b.end(), uid.begin(), uid.end());
    const Buffer rest = hex("0000 0001 02000000 3000  0000 1001 02000000 0100  0000 0008 02000000 0101");
    b.insert(b.end(), rest.begin(), rest.end());
    return b;
}

// One raw element (group 0000 unless given).
Buffer element(std::uint16_t elem, const Buffer& value, std::uint16_t group = 0) {
    Buffer b{static_cast<std::uint8_t>(group), static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(elem),
             static_cast<std::uint8_t>(elem >> 8)};
    const auto n = static_cast<std::uint32_t>(value.size());
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    b.insert(b.end(), value.begin(), value.end());
    return b;
}
Buffer us(std::uint16_t v) { return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)}; }
Buffer ui(std::string_view s) {
    Buffer b(s.begin(), s.end());
    if (b.size() % 2) b.push_back(0);
    return b;
}
Buffer cat(std::initializer_list<Buffer> parts) {
    Buffer out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Status parse_error(const Buffer& b) {
    Command c;
    return parse_command(b, c);
}

}  // namespace

TEST_CASE("C-ECHO-RQ has the exact bytes of PS3.7 and parses back", "[dicom][command]") {
    CHECK(command_bytes(echo_rq(1)) == echo_golden());
    Command c;
    REQUIRE(parse_command(echo_golden(), c).ok());
    CHECK(c.field == command::c_echo);
    CHECK(c.message_id == std::optional<std::uint16_t>(1));
    CHECK(c.affected_sop_class == verification);  // NUL pad stripped
    CHECK_FALSE(c.has_data_set());
    CHECK_FALSE(c.is_response());
    CHECK(c == echo_rq(1));
}

TEST_CASE("every routed element round trips", "[dicom][command]") {
    for (const Command& c : {store_rq(3), find_rq(4), move_rq(5, "DEST_AE"), get_rq(6), n_action_rq(7),
                             n_event_report_rq(8), cancel_rq(4), response(store_rq(3), 0xa700),
                             response(find_rq(4), status::pending)}) {
        Command back;
        REQUIRE(parse_command(command_bytes(c), back).ok());
        CHECK(back == c);
    }
}

TEST_CASE("responses name what the request named", "[dicom][command]") {
    const Command store = make_response(store_rq(9), status::not_authorized);
    CHECK(store.field == 0x8001);
    CHECK(store.responded_to == std::optional<std::uint16_t>(9));
    CHECK(store.status == std::optional<std::uint16_t>(0x0124));
    CHECK(store.affected_sop_class == ct);
    CHECK(store.affected_sop_instance == "1.2.3.4.5.6");
    CHECK_FALSE(store.has_data_set());
    CHECK_FALSE(store.message_id.has_value());
    const Command action = make_response(n_action_rq(2), status::not_authorized);
    CHECK(action.affected_sop_class == storage_commitment);  // Requested -> Affected
    CHECK(action.affected_sop_instance == "1.2.840.10008.1.20.1.1");
    const Command find = make_response(find_rq(2), status::not_authorized);
    CHECK(find.affected_sop_instance.empty());
    // C-ECHO-RSP, status 0x0124, to message id 1: exact bytes.
    const Buffer golden = cat({element(0x0000, {0x42, 0, 0, 0}), element(0x0002, ui(verification)),
                               element(0x0100, us(0x8030)), element(0x0120, us(1)), element(0x0800, us(0x0101)),
                               element(0x0900, us(0x0124))});
    CHECK(command_bytes(make_response(echo_rq(1), status::not_authorized)) == golden);
}

TEST_CASE("elements the proxy does not route are skipped", "[dicom][command]") {
    const Buffer b = cat({element(0x0002, ui(verification)), element(0x0100, us(0x8030)), element(0x0120, us(1)),
                          element(0x0800, us(0x0101)), element(0x0900, us(0)), element(0x0902, ui("comment"))});
    Command c;
    REQUIRE(parse_command(b, c).ok());
    CHECK(c.status == std::optional<std::uint16_t>(0));
}

TEST_CASE("malformed command sets", "[dicom][command]") {
    const Buffer sop = element(0x0002, ui(verification));
    const Buffer field = element(0x0100, us(0x0030));
    const Buffer id = element(0x0110, us(1));
    const Buffer none = element(0x0800, us(0x0101));
    SECTION("an element outside group 0000") {
        const Status s = parse_error(cat({sop, field, id, none, element(0x0010, ui("X"), 0x0008)}));
        CHECK(s.error == Error::bad_command);
        CHECK(s.offset == sop.size() + field.size() + id.size() + none.size());
    }
    SECTION("elements out of order or repeated") {
        CHECK(parse_error(cat({field, sop, id, none})).error == Error::bad_command);
        CHECK(parse_error(cat({sop, field, field, id, none})).error == Error::bad_command);
    }
    SECTION("a US value of the wrong size") {
        CHECK(parse_error(cat({sop, element(0x0100, Buffer{0x30, 0, 0, 0}), id, none})).error == Error::bad_command);
        CHECK(parse_error(cat({sop, field, element(0x0110, Buffer{1}), none})).error == Error::bad_command);
    }
    SECTION("a group length that disagrees") {
        const Buffer body = cat({sop, field, id, none});
        CHECK(parse_error(cat({element(0x0000, {0x10, 0, 0, 0}), body})).error == Error::bad_command);
        Buffer ok_len{0, 0, 0, 0};
        ok_len[0] = static_cast<std::uint8_t>(body.size());
        CHECK(parse_error(cat({element(0x0000, ok_len), body})).ok());
    }
    SECTION("an element longer than the command set") {
        Buffer b = cat({sop, field, id, none});
        b[4] = 0xff;  // the first element's length
        const Status s = parse_error(b);
        CHECK(s.error == Error::item_overrun);
        CHECK(s.offset == 4);
        Buffer undefined = cat({sop, field, id, none, element(0x0902, {})});
        std::fill(undefined.end() - 4, undefined.end(), 0xff);
        CHECK(parse_error(undefined).error == Error::item_overrun);
    }
    SECTION("a truncated element header") {
        const Buffer b = cat({sop, field, id, none, Buffer{0, 0, 0x02}});
        CHECK(parse_error(b).error == Error::item_overrun);
    }
    SECTION("UIDs with bad characters, move destinations with control characters") {
        const Status s = parse_error(cat({element(0x0002, ui("1.2.840.10008.1.x")), field, id, none}));
        CHECK(s.error == Error::bad_uid);
        CHECK(s.offset == 8);
        CHECK(parse_error(cat({element(0x0002, ui("1.2..3")), field, id, none})).error == Error::bad_uid);
        Command m = move_rq(1, "DEST");
        Buffer b = command_bytes(m);
        const std::string needle = "DEST";
        auto at = std::search(b.begin(), b.end(), needle.begin(), needle.end());
        REQUIRE(at != b.end());
        at[1] = 0x07;
        CHECK(parse_error(b).error == Error::bad_ae_title);
    }
    SECTION("mandatory elements") {
        CHECK(parse_error(cat({sop, id, none})).error == Error::missing_command_element);  // no CommandField
        CHECK(parse_error(cat({sop, field, id})).error == Error::missing_command_element);  // no DataSetType
        CHECK(parse_error(cat({sop, field, none})).error == Error::missing_command_element);  // no MessageID
        CHECK(parse_error(cat({field, id, none})).error == Error::missing_command_element);  // no SOP class
        Command rsp = response(echo_rq(1));
        rsp.status.reset();
        CHECK(parse_error(command_bytes(rsp)).error == Error::missing_command_element);
        Command move = move_rq(1, "X");
        move.move_destination.clear();
        CHECK(parse_error(command_bytes(move)).error == Error::missing_command_element);
        Command action = n_action_rq(1);
        action.requested_sop_class.clear();
        action.affected_sop_class = storage_commitment;  // N-ACTION names the Requested SOP class
        CHECK(parse_error(command_bytes(action)).error == Error::missing_command_element);
        Command cancel = cancel_rq(1);
        cancel.responded_to.reset();
        CHECK(parse_error(command_bytes(cancel)).error == Error::missing_command_element);
    }
    SECTION("command fields that are not DIMSE") {
        CHECK(parse_error(cat({sop, element(0x0100, us(0x0042)), id, none})).error == Error::unknown_command_field);
        CHECK(parse_error(cat({sop, element(0x0100, us(0x8fff)), element(0x0120, us(1)), none, element(0x0900, us(0))}))
                  .error == Error::unknown_command_field);
    }
    SECTION("dataset presence that contradicts the command") {
        Command echo = echo_rq(1);
        echo.data_set_type = 0x0102;
        CHECK(parse_error(command_bytes(echo)).error == Error::dataset_presence);
        Command store = store_rq(1);
        store.data_set_type = command::no_data_set;
        CHECK(parse_error(command_bytes(store)).error == Error::dataset_presence);
    }
}

TEST_CASE("command names and counters", "[dicom][command]") {
    CHECK(std::string(command_name(0x0001)) == "C-STORE-RQ");
    CHECK(std::string(command_name(0x8021)) == "C-MOVE-RSP");
    CHECK(std::string(command_name(0x0fff)) == "C-CANCEL-RQ");
    CHECK(std::string(command_name(0x8fff)) == "unknown");
    CHECK(std::string(command_name(0x0002)) == "unknown");
    for (int i = 0; i < dimse_kinds; ++i) CHECK(dimse_index(dimse_field(i)) == i);
    CHECK(dimse_index(0x8001) == -1);
}
