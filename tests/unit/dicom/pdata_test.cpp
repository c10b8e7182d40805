// P-DATA-TF PDVs: decoding limits and the writer that packs fragments under a maximum length.
#include "test_support.hpp"

using namespace dicom_test;

namespace {

Buffer operator+(Buffer a, const Buffer& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Status pdv_error(const Buffer& pdu) {
    std::vector<Pdv> pdvs;
    return decode_pdvs(frame_of(pdu), pdvs);
}

}  // namespace

TEST_CASE("PDVs: length at least 2, inside the PDU, reserved bits zero", "[dicom][pdata]") {
    SECTION("PDV length 0 or 1") {
        for (std::uint8_t n : {std::uint8_t{0}, std::uint8_t{1}}) {
            const Status s = pdv_error(hex("04 00 00000006 000000") + Buffer{n} + hex("0103"));
            CHECK(s.error == Error::bad_pdv_length);
            CHECK(s.offset == 6);
        }
    }
    SECTION("PDV longer than the PDU") {
        const Status s = pdv_error(hex("04 00 00000008 00000005 0103 aabb"));
        CHECK(s.error == Error::item_overrun);
        CHECK(abort_reason(s.error) == AbortReason::invalid_parameter);
        CHECK(pdv_error(hex("04 00 0000000a 00000004 0103 aabb ffff")).error == Error::item_overrun);
        CHECK(pdv_error(hex("04 00 00000008 ffffffff 0103 aabb")).error == Error::item_overrun);
    }
    SECTION("message control header bits 2..7") {
        for (std::uint8_t mch : {std::uint8_t{0x04}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
            const Status s = pdv_error(hex("04 00 00000006 00000002 01") + Buffer{mch});
            CHECK(s.error == Error::bad_pdv_header);
            CHECK(s.offset == 11);
        }
    }
    SECTION("a well-formed PDU") {
        std::vector<Pdv> pdvs;
        const Buffer pdu = hex("04 00 0000000e 00000003 0301 aa 00000003 0502 bb");
        REQUIRE(decode_pdvs(frame_of(pdu), pdvs).ok());
        REQUIRE(pdvs.size() == 2);
        CHECK(pdvs[0].context_id == 3);
        CHECK(pdvs[0].command);
        CHECK_FALSE(pdvs[0].last);
        CHECK(pdvs[1].context_id == 5);
        CHECK_FALSE(pdvs[1].command);
        CHECK(pdvs[1].last);
        CHECK(pdvs[1].data[0] == 0xbb);
    }
}

TEST_CASE("PDataWriter splits data to fit a maximum length", "[dicom][pdata]") {
    Buffer data(100);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
    Buffer out;
    {
        PDataWriter w(out, 50);
        w.add(7, false, true, data);
    }
    PduReassembler r;
    r.append(out);
    Buffer joined;
    std::vector<bool> lasts;
    for (;;) {
        FrameResult f = r.next(FrameLimits{max_associate_length, 50});
        if (f.status != FrameStatus::complete) {
            REQUIRE(f.status == FrameStatus::need_more);
            break;
        }
        std::vector<Pdv> pdvs;
        REQUIRE(decode_pdvs(f.frame, pdvs).ok());
        for (const Pdv& p : pdvs) {
            CHECK(p.context_id == 7);
            CHECK_FALSE(p.command);
            joined.insert(joined.end(), p.data.begin(), p.data.end());
            lasts.push_back(p.last);
        }
        r.consume(f.frame.bytes.size());
    }
    CHECK(r.pending().empty());
    CHECK(joined == data);
    CHECK(lasts == std::vector<bool>{false, false, true});  // 44 + 44 + 12
}

TEST_CASE("PDataWriter packs small PDVs into one PDU and writes empty fragments", "[dicom][pdata]") {
    Buffer out;
    {
        PDataWriter w(out, 16384);
        w.add(1, true, true, Buffer{1, 2});
        w.add(1, false, true, Buffer{});
    }
    CHECK(out == hex("04 00 0000000e 00000004 0103 0102 00000002 0102"));
}
