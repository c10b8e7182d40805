// PDV parsing and P-DATA-TF packing; the only code that splits or joins fragments.
#include "dicom/pdata.hpp"

#include <algorithm>
#include <limits>

#include "dicom/codec.hpp"

namespace modgate::dicom {

Status decode_pdvs(const Frame& frame, std::vector<Pdv>& out) {
    out.clear();
    if (frame.type != PduType::p_data_tf || frame.bytes.size() < pdu_header_length)
        return Status::at(Error::unexpected_pdu, 0);
    Reader r(frame.body(), pdu_header_length);
    if (r.empty()) return Status::at(Error::bad_pdu_length, 2);
    while (!r.empty()) {
        const std::size_t at = r.offset();
        std::uint32_t length = 0;
        if (!r.be32(length)) return Status::at(Error::item_overrun, at);
        if (length < 2) return Status::at(Error::bad_pdv_length, at);
        if (length > r.remaining()) return Status::at(Error::item_overrun, at);
        Pdv pdv;
        std::uint8_t mch = 0;
        r.u8(pdv.context_id);
        r.u8(mch);
        if ((mch & ~(mch_command | mch_last)) != 0) return Status::at(Error::bad_pdv_header, at + 5);
        pdv.command = (mch & mch_command) != 0;
        pdv.last = (mch & mch_last) != 0;
        r.take(length - 2, pdv.data);
        out.push_back(pdv);
    }
    return {};
}

Status decode(const Frame& frame, PData& out) { return decode_pdvs(frame, out.pdvs); }

Status encode(const PData& in, Buffer& out) {
    PDataWriter w(out, 0);
    for (const Pdv& pdv : in.pdvs) w.add(pdv.context_id, pdv.command, pdv.last, pdv.data);
    return {};
}

PDataWriter::PDataWriter(Buffer& out, std::uint32_t max_length)
    : out_(out),
      max_(max_length == 0 ? std::size_t{std::numeric_limits<std::uint32_t>::max()}
                           : std::max<std::size_t>(max_length, pdv_header_length + 1)) {}

void PDataWriter::open() {
    pdu_start_ = out_.size();
    Writer w(out_);
    w.u8(static_cast<std::uint8_t>(PduType::p_data_tf));
    w.u8(0);
    w.be32(0);
    open_ = true;
}

void PDataWriter::finish() {
    if (!open_) return;
    const std::size_t length = out_.size() - pdu_start_ - pdu_header_length;
    Writer(out_).patch_be32(pdu_start_ + 2, static_cast<std::uint32_t>(length));
    open_ = false;
}

void PDataWriter::add(std::uint8_t context_id, bool command, bool last, Bytes data) {
    bool first = true;
    while (first || !data.empty()) {
        first = false;
        if (!open_) open();
        std::size_t used = out_.size() - pdu_start_ - pdu_header_length;
        // Start a new PDU when this one cannot take the header plus a byte of data (or the
        // header alone for an empty fragment).
        if (max_ - used < pdv_header_length + (data.empty() ? 0 : 1)) {
            finish();
            open();
            used = 0;
        }
        const std::size_t room = max_ - used - pdv_header_length;
        const std::size_t n = std::min(room, data.size());
        const bool final_piece = n == data.size();
        Writer w(out_);
        w.be32(static_cast<std::uint32_t>(n + 2));
        w.u8(context_id);
        w.u8(static_cast<std::uint8_t>((command ? mch_command : 0) | (last && final_piece ? mch_last : 0)));
        w.bytes(data.first(n));
        data = data.subspan(n);
    }
}

}  // namespace modgate::dicom
