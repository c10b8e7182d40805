// PDU codec: round trips of every PDU and item, exact wire layout, and malformed input.
#include "test_support.hpp"

using namespace dicom_test;

namespace {

AssociateRq full_rq() {
    AssociateRq rq = sample_rq();
    UserInfo& u = rq.user_info;
    u.async_window = AsyncOperationsWindow{5, 3};
    u.roles = {{ct, 1, 0}, {pet, 1, 1}};
    u.sop_class_extended = {{study_root_find, {1, 1, 0, 1}}};
    u.common_extended = {{ct, "1.2.840.10008.4.2", {"1.2.840.10008.5.1.4.1.1.2.1", "1.2.3"}}};
    u.identity_rq = UserIdentityRq{2, 1, {'u', 's', 'e', 'r'}, {'p', 'w'}};
    u.unknown = {{0x5a, {9, 8, 7}}, {0xff, {}}};
    return rq;
}

AssociateAc full_ac() {
    AssociateAc ac = sample_ac(sample_rq());
    ac.contexts[1].result = ContextResult::transfer_syntaxes_not_supported;
    ac.contexts[1].transfer_syntax = "";
    ac.contexts[2].result = ContextResult::user_rejection;
    ac.contexts[2].transfer_syntax = implicit_le;
    ac.user_info.async_window = AsyncOperationsWindow{1, 1};
    ac.user_info.roles = {{ct, 0, 1}};
    ac.user_info.implementation_version_name = "PACS 1.0";
    ac.user_info.sop_class_extended = {{study_root_find, {1}}};
    ac.user_info.identity_ac = UserIdentityAc{{'o', 'k'}};
    ac.user_info.unknown = {{0x60, {1, 2}}};
    return ac;
}

// Patches a big-endian 16-bit field.
void put16(Buffer& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(Buffer& b, std::size_t at, std::uint32_t v) {
    put16(b, at, static_cast<std::uint16_t>(v >> 16));
    put16(b, at + 2, static_cast<std::uint16_t>(v));
}

// Offset of the first item of `type` at top level of an A-ASSOCIATE PDU.
std::size_t find_item(const Buffer& pdu, std::uint8_t type) {
    std::size_t at = 74;
    while (at + 4 <= pdu.size()) {
        if (pdu[at] == type) return at;
        at += 4 + ((pdu[at + 2] << 8) | pdu[at + 3]);
    }
    FAIL("item not found");
    return 0;
}

// Appends one raw item inside the PDU's user-information item (or as a top-level item when
// `top` is set), fixing up every enclosing length.
Buffer with_item(Buffer pdu, Buffer item, bool top = false) {
    if (top) {
        pdu.insert(pdu.end(), item.begin(), item.end());
    } else {
        const std::size_t ui = find_item(pdu, 0x50);
        REQUIRE(ui + 4 + ((pdu[ui + 2] << 8) | pdu[ui + 3]) == pdu.size());  // user info is last
        pdu.insert(pdu.end(), item.begin(), item.end());
        put16(pdu, ui + 2, static_cast<std::uint16_t>(pdu.size() - ui - 4));
    }
    put32(pdu, 2, static_cast<std::uint32_t>(pdu.size() - 6));
    return pdu;
}

Buffer item_bytes(std::uint8_t type, const Buffer& value) {
    Buffer b{type, 0, static_cast<std::uint8_t>(value.size() >> 8), static_cast<std::uint8_t>(value.size())};
    b.insert(b.end(), value.begin(), value.end());
    return b;
}

Buffer text_bytes(std::string_view s) { return Buffer(s.begin(), s.end()); }

}  // namespace

TEST_CASE("A-ASSOCIATE-RQ with every item survives a round trip", "[dicom][codec]") {
    const AssociateRq rq = full_rq();
    const Buffer bytes = encoded(rq);
    CHECK(decoded<AssociateRq>(bytes) == rq);
    CHECK(encoded(decoded<AssociateRq>(bytes)) == bytes);
}

TEST_CASE("A-ASSOCIATE-AC with every item survives a round trip", "[dicom][codec]") {
    const AssociateAc ac = full_ac();
    const Buffer bytes = encoded(ac);
    CHECK(decoded<AssociateAc>(bytes) == ac);
}

TEST_CASE("the four-byte PDUs have their exact layout and round trip", "[dicom][codec]") {
    CHECK(encoded(AssociateRj{1, 1, 3}) == hex("03 00 00000004 00 01 01 03"));
    CHECK(encoded(AssociateRj{2, 3, 2}) == hex("03 00 00000004 00 02 03 02"));
    CHECK(encoded(ReleaseRq{}) == hex("05 00 00000004 00000000"));
    CHECK(encoded(ReleaseRp{}) == hex("06 00 00000004 00000000"));
    CHECK(encoded(Abort{2, 6}) == hex("07 00 00000004 00 00 02 06"));
    CHECK(decoded<AssociateRj>(hex("03 00 00000004 00 02 03 02")) == AssociateRj{2, 3, 2});
    CHECK(decoded<Abort>(hex("07 00 00000004 00 00 00 00")) == Abort{0, 0});
    decoded<ReleaseRq>(hex("05 00 00000004 00000000"));
    decoded<ReleaseRp>(hex("06 00 00000004 00000000"));
}

TEST_CASE("P-DATA-TF round trips and decodes through the Pdu variant", "[dicom][codec]") {
    const Buffer cmd = command_bytes(echo_rq(1));
    const Buffer bytes = pdata({{1, true, true, cmd}, {3, false, false, data_set(10)}, {3, false, true, {}}});
    Pdu pdu;
    REQUIRE(decode(frame_of(bytes), pdu).ok());
    const auto& p = std::get<PData>(pdu);
    REQUIRE(p.pdvs.size() == 3);
    CHECK(p.pdvs[0].context_id == 1);
    CHECK(p.pdvs[0].command);
    CHECK(p.pdvs[0].last);
    CHECK(Buffer(p.pdvs[0].data.begin(), p.pdvs[0].data.end()) == cmd);
    CHECK_FALSE(p.pdvs[1].last);
    CHECK(p.pdvs[2].data.empty());
    Buffer again;
    REQUIRE(encode(pdu, again).ok());
    CHECK(again == bytes);
}

TEST_CASE("every PDU type round trips through the Pdu variant", "[dicom][codec]") {
    const std::vector<Pdu> all{full_rq(), full_ac(), AssociateRj{1, 2, 2}, ReleaseRq{}, ReleaseRp{}, Abort{0, 0}};
    for (const Pdu& p : all) {
        Buffer bytes;
        REQUIRE(encode(p, bytes).ok());
        Pdu back;
        REQUIRE(decode(frame_of(bytes), back).ok());
        CHECK(back == p);
    }
}

TEST_CASE("A-ASSOCIATE-RQ bytes match PS3.8 layout written by hand", "[dicom][codec]") {
    AssociateRq rq;
    rq.called_ae = "CALLED";
    rq.calling_ae = "CALLING";
    rq.contexts = {{1, verification, {implicit_le}}};
    rq.user_info.max_length = 16384;
    Buffer golden = hex("01 00 0000009b 0001 0000");
    auto append = [&](const Buffer& b) { golden.insert(golden.end(), b.begin(), b.end()); };
    append(text_bytes("CALLED          "));
    append(text_bytes("CALLING         "));
    append(Buffer(32, 0));
    append(hex("10 00 0015"));
    append(text_bytes("1.2.840.10008.3.1.1.1"));
    append(hex("20 00 002e 01 00 00 00 30 00 0011"));
    append(text_bytes("1.2.840.10008.1.1"));
    append(hex("40 00 0011"));
    append(text_bytes("1.2.840.10008.1.2"));
    append(hex("50 00 0008 51 00 0004 00004000"));
    CHECK(encoded(rq) == golden);
    CHECK(decoded<AssociateRq>(golden) == rq);
}

TEST_CASE("UIDs padded with a NUL decode without it", "[dicom][codec]") {
    AssociateRq rq = sample_rq();
    rq.contexts = {{1, verification, {implicit_le}}};
    Buffer b = encoded(rq);
    Buffer value{1, 0, 0, 0};
    for (const Buffer& sub : {item_bytes(0x30, text_bytes(verification + '\0')), item_bytes(0x40, text_bytes(implicit_le + '\0'))})
        value.insert(value.end(), sub.begin(), sub.end());
    const Buffer item = item_bytes(0x20, value);
    const std::size_t at = find_item(b, 0x20);
    const std::size_t len = 4 + ((b[at + 2] << 8) | b[at + 3]);
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len));
    b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), item.begin(), item.end());
    put32(b, 2, static_cast<std::uint32_t>(b.size() - 6));
    const auto back = decoded<AssociateRq>(b);
    CHECK(back.contexts[0].abstract_syntax == verification);
    CHECK(back.contexts[0].transfer_syntaxes[0] == implicit_le);
}

TEST_CASE("the framer hands out a PDU only when all of it is there, in any split", "[dicom][framer]") {
    Buffer stream = encoded(sample_rq());
    const Buffer second = pdata({{1, true, true, command_bytes(echo_rq(7))}});
    const std::size_t first_size = stream.size();
    stream.insert(stream.end(), second.begin(), second.end());
    const FrameLimits limits{};
    for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        PduReassembler r;
        std::vector<std::size_t> sizes;
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            r.append(Bytes(stream).subspan(at, std::min(chunk, stream.size() - at)));
            for (;;) {
                FrameResult f = r.next(limits);
                REQUIRE(f.status != FrameStatus::error);
                if (f.status == FrameStatus::need_more) break;
                sizes.push_back(f.frame.bytes.size());
                r.consume(f.frame.bytes.size());
            }
        }
        REQUIRE(sizes == std::vector<std::size_t>{first_size, second.size()});
    }
}

TEST_CASE("a truncated PDU at every offset is 'need more', never a frame", "[dicom][framer]") {
    const std::vector<Buffer> pdus{encoded(full_rq()), encoded(full_ac()), encoded(AssociateRj{}),
                                   encoded(ReleaseRq{}), encoded(ReleaseRp{}), encoded(Abort{}),
                                   pdata({{1, true, true, command_bytes(echo_rq(1))}})};
    for (const Buffer& pdu : pdus) {
        for (std::size_t n = 0; n < pdu.size(); ++n) {
            FrameResult f = frame_pdu(Bytes(pdu).first(n), FrameLimits{});
            INFO("type " << int(pdu[0]) << " cut at " << n);
            REQUIRE(f.status == FrameStatus::need_more);
            if (n >= 6) CHECK(f.needed == pdu.size());
        }
        CHECK(frame_pdu(pdu, FrameLimits{}).status == FrameStatus::complete);
    }
}

TEST_CASE("a body cut short with its length fixed up fails to decode inside an item", "[dicom][codec]") {
    const Buffer pdu = encoded(full_rq());
    // Top-level item boundaries: a cut there leaves a shorter but well-formed item list.
    std::vector<std::size_t> boundaries;
    for (std::size_t at = 74; at < pdu.size(); at += 4 + ((pdu[at + 2] << 8) | pdu[at + 3])) boundaries.push_back(at);
    for (std::size_t n = 74; n < pdu.size(); ++n) {
        Buffer cut(pdu.begin(), pdu.begin() + static_cast<std::ptrdiff_t>(n));
        put32(cut, 2, static_cast<std::uint32_t>(n - 6));
        AssociateRq rq;
        const Status s = decode(frame_of(cut), rq);
        INFO("cut at " << n);
        if (std::find(boundaries.begin(), boundaries.end(), n) == boundaries.end()) {
            CHECK(s.error == Error::item_overrun);
        } else {
            CHECK((s.ok() || s.error == Error::missing_item));
        }
    }
}

TEST_CASE("PDU headers are judged before the body arrives", "[dicom][framer]") {
    auto status_of = [](const Buffer& b, FrameLimits l = {}) { return frame_pdu(b, l); };
    SECTION("unknown type byte: refused at the first byte") {
        for (std::uint8_t t : {std::uint8_t{0x00}, std::uint8_t{0x08}, std::uint8_t{0x10}, std::uint8_t{0xff}}) {
            FrameResult f = status_of(Buffer{t});
            CHECK(f.status == FrameStatus::error);
            CHECK(f.error.error == Error::unrecognized_pdu_type);
            CHECK(abort_reason(f.error.error) == AbortReason::unrecognized_pdu);
        }
    }
    SECTION("four-byte PDUs must say exactly 4") {
        for (std::uint8_t t : {std::uint8_t{0x03}, std::uint8_t{0x05}, std::uint8_t{0x06}, std::uint8_t{0x07}}) {
            for (std::uint32_t len : {0u, 3u, 5u, 0xffffffffu}) {
                Buffer h{t, 0, 0, 0, 0, 0};
                put32(h, 2, len);
                FrameResult f = status_of(h);
                CHECK(f.status == FrameStatus::error);
                CHECK(f.error.error == Error::bad_pdu_length);
                CHECK(f.error.offset == 2);
            }
        }
    }
    SECTION("A-ASSOCIATE: at least 68, at most 64 KiB") {
        Buffer h{0x01, 0, 0, 0, 0, 67};
        CHECK(status_of(h).error.error == Error::bad_pdu_length);
        put32(h, 2, 65537);
        CHECK(status_of(h).error.error == Error::pdu_too_long);
        put32(h, 2, 0xffffffff);
        CHECK(status_of(h).error.error == Error::pdu_too_long);
        put32(h, 2, 65536);
        CHECK(status_of(h).status == FrameStatus::need_more);
    }
    SECTION("P-DATA-TF: at least one PDV, at most the negotiated maximum") {
        Buffer h{0x04, 0, 0, 0, 0, 5};
        CHECK(status_of(h).error.error == Error::bad_pdu_length);
        put32(h, 2, 16385);
        CHECK(status_of(h, FrameLimits{65536, 16384}).error.error == Error::pdu_too_long);
        CHECK(abort_reason(Error::pdu_too_long) == AbortReason::invalid_parameter);
        put32(h, 2, 16384);
        CHECK(status_of(h, FrameLimits{65536, 16384}).status == FrameStatus::need_more);
    }
}

TEST_CASE("an inner length larger than its parent is refused", "[dicom][codec]") {
    const Buffer pdu = encoded(full_rq());
    SECTION("abstract syntax item longer than its presentation context") {
        Buffer b = pdu;
        const std::size_t ctx = find_item(b, 0x20);
        put16(b, ctx + 8 + 2, 0x0100);  // the 0x30 sub-item length
        const Status s = decode_error<AssociateRq>(b);
        CHECK(s.error == Error::item_overrun);
        CHECK(s.offset == ctx + 8 + 2);
    }
    SECTION("presentation context longer than the PDU") {
        Buffer b = pdu;
        put16(b, find_item(b, 0x20) + 2, 0xfff0);
        CHECK(decode_error<AssociateRq>(b).error == Error::item_overrun);
    }
    SECTION("user-information sub-item longer than the user-information item") {
        Buffer b = pdu;
        const std::size_t ui = find_item(b, 0x50);
        put16(b, ui + 4 + 2, 0x0400);  // first sub-item (0x51) length
        CHECK(decode_error<AssociateRq>(b).error == Error::item_overrun);
    }
    SECTION("role selection UID length larger than the sub-item") {
        Buffer b = with_item(encoded(sample_rq()), item_bytes(0x54, hex("0040 312e32 01 00")));
        CHECK(decode_error<AssociateRq>(b).error == Error::item_overrun);
    }
    SECTION("user identity secondary field longer than the sub-item") {
        Buffer b = with_item(encoded(sample_rq()), item_bytes(0x58, hex("01 00 0001 41 0009 42")));
        CHECK(decode_error<AssociateRq>(b).error == Error::item_overrun);
    }
    SECTION("common extended negotiation related-class list longer than the sub-item") {
        Buffer v = hex("0003");
        for (char c : std::string("1.2")) v.push_back(static_cast<std::uint8_t>(c));
        Buffer rest = hex("0003 312e33 0010 0001 31");
        v.insert(v.end(), rest.begin(), rest.end());
        CHECK(decode_error<AssociateRq>(with_item(encoded(sample_rq()), item_bytes(0x57, v))).error ==
              Error::item_overrun);
    }
    SECTION("an item header cut by the end of the PDU") {
        CHECK(decode_error<AssociateRq>(with_item(pdu, hex("50 00"), true)).error == Error::item_overrun);
    }
}

TEST_CASE("inner lengths shorter than the item leave bytes nobody owns", "[dicom][codec]") {
    const Buffer rq = encoded(sample_rq());
    CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x54, hex("0003 312e32 01 00 ff")))).error ==
          Error::bad_item_length);
    CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x58, hex("01 00 0001 41 0000 ff")))).error ==
          Error::bad_item_length);
    CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x51, hex("000040")))).error ==
          Error::unexpected_item);  // a second 0x51
    AssociateRq no_max = sample_rq();
    no_max.user_info.max_length.reset();
    CHECK(decode_error<AssociateRq>(with_item(encoded(no_max), item_bytes(0x51, hex("000040")))).error ==
          Error::bad_item_length);
    CHECK(decode_error<AssociateRq>(with_item(encoded(no_max), item_bytes(0x53, hex("0001000100")))).error ==
          Error::bad_item_length);
}

TEST_CASE("unknown and misplaced item types", "[dicom][codec]") {
    const Buffer rq = encoded(sample_rq());
    SECTION("an undefined top-level item is unrecognized (A-ABORT reason 4)") {
        const Status s = decode_error<AssociateRq>(with_item(rq, item_bytes(0x11, {}), true));
        CHECK(s.error == Error::unknown_item);
        CHECK(abort_reason(s.error) == AbortReason::unrecognized_parameter);
        CHECK(s.offset == rq.size());
    }
    SECTION("a defined item in the wrong place is unexpected (reason 5)") {
        const Status s = decode_error<AssociateRq>(with_item(rq, item_bytes(0x30, text_bytes(ct)), true));
        CHECK(s.error == Error::unexpected_item);
        CHECK(abort_reason(s.error) == AbortReason::unexpected_parameter);
        CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x21, hex("01000000")), true)).error ==
              Error::unexpected_item);
    }
    SECTION("user-information: defined types elsewhere are unexpected, 0x00 unknown") {
        CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x20, {}))).error == Error::unexpected_item);
        CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x00, {}))).error == Error::unknown_item);
    }
    SECTION("user-information sub-items 0x5a..0xff are kept verbatim") {
        const auto back = decoded<AssociateRq>(with_item(rq, item_bytes(0x77, hex("0102"))));
        REQUIRE(back.user_info.unknown.size() == 1);
        CHECK(back.user_info.unknown[0] == RawItem{0x77, {1, 2}});
    }
    SECTION("RQ-only and AC-only sub-items on the wrong side") {
        CHECK(decode_error<AssociateRq>(with_item(rq, item_bytes(0x59, hex("0000")))).error == Error::unexpected_item);
        const Buffer ac = encoded(sample_ac(sample_rq()));
        CHECK(decode_error<AssociateAc>(with_item(ac, item_bytes(0x58, hex("01 00 0000 0000")))).error ==
              Error::unexpected_item);
        CHECK(decode_error<AssociateAc>(with_item(ac, item_bytes(0x57, hex("0001 31 0001 31 0000")))).error ==
              Error::unexpected_item);
    }
    SECTION("an abstract syntax sub-item inside an AC context") {
        AssociateAc ac = sample_ac(sample_rq());
        Buffer b = encoded(ac);
        const std::size_t at = find_item(b, 0x21);
        b[at + 8] = 0x30;
        CHECK(decode_error<AssociateAc>(b).error == Error::unexpected_item);
    }
}

TEST_CASE("presentation context ids must be odd and unique", "[dicom][codec]") {
    for (std::uint8_t bad : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{254}}) {
        AssociateRq rq = sample_rq();
        rq.contexts[1].id = bad;
        const Buffer b = encoded(rq);
        const Status s = decode_error<AssociateRq>(b);
        CHECK(s.error == Error::bad_context_id);
        const std::size_t first = find_item(b, 0x20);
        const std::size_t second = first + 4 + ((b[first + 2] << 8) | b[first + 3]);
        CHECK(s.offset == second + 4);  // the second context's id byte
    }
    AssociateRq dup = sample_rq();
    dup.contexts[2].id = 1;
    CHECK(decode_error<AssociateRq>(encoded(dup)).error == Error::duplicate_context_id);
    AssociateAc ac = sample_ac(sample_rq());
    ac.contexts[1].id = 4;
    CHECK(decode_error<AssociateAc>(encoded(ac)).error == Error::bad_context_id);
    ac.contexts[1].id = 1;
    CHECK(decode_error<AssociateAc>(encoded(ac)).error == Error::duplicate_context_id);
}

TEST_CASE("mandatory and single items", "[dicom][codec]") {
    SECTION("no presentation context") {
        AssociateRq rq = sample_rq();
        rq.contexts.clear();
        CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::missing_item);
    }
    SECTION("two application contexts") {
        const Buffer b = with_item(encoded(sample_rq()), item_bytes(0x10, text_bytes(std::string(dicom_application_context))), true);
        CHECK(decode_error<AssociateRq>(b).error == Error::unexpected_item);
    }
    SECTION("no application context") {
        Buffer b = encoded(sample_rq());
        const std::size_t at = find_item(b, 0x10);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + 25));
        put32(b, 2, static_cast<std::uint32_t>(b.size() - 6));
        CHECK(decode_error<AssociateRq>(b).error == Error::missing_item);
    }
    SECTION("a context without a transfer syntax, or with two abstract syntaxes") {
        AssociateRq rq = sample_rq();
        rq.contexts[0].transfer_syntaxes.clear();
        CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::missing_item);
        Buffer b = encoded(sample_rq());
        const std::size_t ctx = find_item(b, 0x20);
        b[ctx + 8 + 4 + 17] = 0x30;  // the transfer syntax becomes a second abstract syntax
        CHECK(decode_error<AssociateRq>(b).error == Error::unexpected_item);
    }
    SECTION("an accepted AC context without a transfer syntax") {
        Buffer b = encoded(sample_ac(sample_rq()));
        const std::size_t at = find_item(b, 0x21);
        Buffer emptied = item_bytes(0x21, hex("01 00 00 00"));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + 4 + 4 + 4 + 17));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), emptied.begin(), emptied.end());
        put32(b, 2, static_cast<std::uint32_t>(b.size() - 6));
        CHECK(decode_error<AssociateAc>(b).error == Error::missing_item);
    }
    SECTION("an AC result above 4") {
        Buffer b = encoded(sample_ac(sample_rq()));
        b[find_item(b, 0x21) + 6] = 5;
        CHECK(decode_error<AssociateAc>(b).error == Error::bad_context_result);
    }
}

TEST_CASE("AE titles: printable, no backslash, not blank", "[dicom][codec]") {
    const Buffer good = encoded(sample_rq());
    auto with_called = [&](std::string_view field) {
        Buffer b = good;
        std::copy(field.begin(), field.end(), b.begin() + 10);
        return b;
    };
    auto with_calling = [&](std::string_view field) {
        Buffer b = good;
        std::copy(field.begin(), field.end(), b.begin() + 26);
        return b;
    };
    for (std::string_view bad : {std::string_view("PACS\x01MAIN       ", 16), std::string_view("PACS\nMAIN       ", 16),
                                 std::string_view("PACS\0MAIN       ", 16), std::string_view("PACS\\MAIN       ", 16),
                                 std::string_view("                ", 16), std::string_view("PACS\x7fMAIN       ", 16),
                                 std::string_view("PACS\x80MAIN       ", 16)}) {
        Status s = decode_error<AssociateRq>(with_called(bad));
        CHECK(s.error == Error::bad_ae_title);
        CHECK(s.offset == 10);
        s = decode_error<AssociateRq>(with_calling(bad));
        CHECK(s.error == Error::bad_ae_title);
        CHECK(s.offset == 26);
        CHECK(abort_reason(s.error) == AbortReason::invalid_parameter);
    }
    const auto rq = decoded<AssociateRq>(with_called("  MY AE TITLE   "));
    CHECK(rq.called_ae == "MY AE TITLE");
    AssociateRq too_long = sample_rq();
    too_long.called_ae = "AN_AE_TITLE_OF_17";
    Buffer out;
    CHECK(encode(too_long, out).error == Error::bad_ae_title);
    CHECK(out.empty());
}

TEST_CASE("UID syntax", "[dicom][syntax]") {
    CHECK(valid_uid("1.2.840.10008.1.1"));
    CHECK(valid_uid("1"));
    CHECK(valid_uid("1.2.840.0123"));  // a leading zero: tolerated for legacy senders
    CHECK(valid_uid(std::string(64, '1')));
    CHECK_FALSE(valid_uid(std::string(65, '1')));
    CHECK_FALSE(valid_uid(""));
    CHECK_FALSE(valid_uid("1.2.a"));
    CHECK_FALSE(valid_uid("1.2 .3"));
    CHECK_FALSE(valid_uid("1..2"));
    CHECK_FALSE(valid_uid(".1.2"));
    CHECK_FALSE(valid_uid("1.2."));
    CHECK_FALSE(valid_uid(std::string_view("1.2\0", 4)));
    CHECK(strip_uid_padding(std::string_view("1.2\0", 4)) == "1.2");
    CHECK(strip_uid_padding(std::string_view("1.2\0\0", 5)) == std::string_view("1.2\0", 4));
    CHECK(strip_uid_padding("1.2") == "1.2");
}

TEST_CASE("bad UIDs in items are refused with their offset", "[dicom][codec]") {
    for (const std::string& bad : std::vector<std::string>{"1.2.840.10008.1.a", "1..2", "1.2.", std::string(65, '1'), std::string("1.2\0\0", 5)}) {
        AssociateRq rq = sample_rq();
        rq.contexts[0].abstract_syntax = bad;
        const Buffer b = encoded(rq);
        const Status s = decode_error<AssociateRq>(b);
        CHECK(s.error == Error::bad_uid);
        CHECK(s.offset == find_item(b, 0x20) + 8 + 4);
    }
    AssociateRq rq = sample_rq();
    rq.application_context = "1.2.x";
    CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::bad_uid);
    rq = sample_rq();
    rq.user_info.roles = {{"1.2.3a", 1, 0}};
    CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::bad_uid);
    rq = sample_rq();
    rq.user_info.implementation_class_uid = "";
    CHECK(decode_error<AssociateRq>(with_item(encoded(rq), item_bytes(0x52, {}))).error == Error::bad_uid);
}

TEST_CASE("user-information values are checked", "[dicom][codec]") {
    AssociateRq rq = sample_rq();
    rq.user_info.roles = {{ct, 2, 0}};
    CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::bad_field_value);
    rq = sample_rq();
    rq.user_info.implementation_version_name = "VERSION\x01";
    CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::bad_text);
    rq.user_info.implementation_version_name = "SEVENTEEN_CHARS__";
    CHECK(decode_error<AssociateRq>(encoded(rq)).error == Error::bad_text);
}

TEST_CASE("a rejected AC context keeps a valid transfer syntax and drops an invalid one", "[dicom][codec]") {
    AssociateAc ac = sample_ac(sample_rq());
    ac.contexts[0].result = ContextResult::no_reason;
    ac.contexts[0].transfer_syntax = "garbage!";
    ac.contexts[1].result = ContextResult::abstract_syntax_not_supported;
    const auto back = decoded<AssociateAc>(encoded(ac));
    CHECK(back.contexts[0].transfer_syntax.empty());
    CHECK(back.contexts[1].transfer_syntax == explicit_le);
}

TEST_CASE("encoding refuses what does not fit the wire format", "[dicom][codec]") {
    AssociateRq rq = sample_rq();
    rq.contexts[0].abstract_syntax = std::string(70000, '1');
    Buffer out{0xaa};
    CHECK(encode(rq, out).error == Error::bad_item_length);
    CHECK(out == Buffer{0xaa});
    rq = sample_rq();
    for (int i = 0; i < 200; ++i) rq.user_info.unknown.push_back({0x5a, Buffer(400, 1)});
    CHECK(encode(rq, out).error == Error::bad_item_length);  // user information over 64 KiB
    rq = sample_rq();
    rq.contexts.clear();
    for (std::uint8_t id = 1; id < 120; id += 2) {
        rq.contexts.push_back({id, ct, {}});
        for (int i = 0; i < 20; ++i) rq.contexts.back().transfer_syntaxes.push_back(std::string(60, '2'));
    }
    CHECK(encode(rq, out).error == Error::pdu_too_long);  // every item fits, the PDU does not
}

TEST_CASE("every error has a text and an A-ABORT reason", "[dicom][codec]") {
    CHECK(abort_reason(Error::unrecognized_pdu_type) == AbortReason::unrecognized_pdu);
    CHECK(abort_reason(Error::unexpected_pdu) == AbortReason::unexpected_pdu);
    CHECK(abort_reason(Error::unknown_item) == AbortReason::unrecognized_parameter);
    CHECK(abort_reason(Error::pdv_unaccepted_context) == AbortReason::unexpected_parameter);
    CHECK(abort_reason(Error::interleaved_fragments) == AbortReason::unexpected_parameter);
    CHECK(abort_reason(Error::bad_uid) == AbortReason::invalid_parameter);
    CHECK(abort_reason(Error::bad_pdv_length) == AbortReason::invalid_parameter);
    for (int e = 0; e <= static_cast<int>(Error::refused_unanswerable); ++e)
        CHECK(std::string(describe(static_cast<Error>(e))) != "unknown error");
}
