// PDU header checks and framing (PS3.8 9.3.1): the only place a peer's length field is trusted,
// and only after it was compared with the limit for its PDU type.
#include "dicom/framer.hpp"

namespace modgate::dicom {

const char* to_string(PduType t) {
    switch (t) {
    case PduType::associate_rq: return "A-ASSOCIATE-RQ";
    case PduType::associate_ac: return "A-ASSOCIATE-AC";
    case PduType::associate_rj: return "A-ASSOCIATE-RJ";
    case PduType::p_data_tf: return "P-DATA-TF";
    case PduType::release_rq: return "A-RELEASE-RQ";
    case PduType::release_rp: return "A-RELEASE-RP";
    case PduType::abort: return "A-ABORT";
    }
    return "unknown PDU";
}

Status check_header(std::uint8_t type, std::uint32_t length, const FrameLimits& limits) {
    constexpr std::size_t type_at = 0, length_at = 2;
    switch (type) {
    case 0x01:
    case 0x02:
        if (length < associate_fixed_length) return Status::at(Error::bad_pdu_length, length_at);
        if (length > limits.max_associate) return Status::at(Error::pdu_too_long, length_at);
        return {};
    case 0x03:
    case 0x05:
    case 0x06:
    case 0x07:
        if (length != 4) return Status::at(Error::bad_pdu_length, length_at);
        return {};
    case 0x04:
        // One PDV item at least: 4 bytes of length, context id and control header.
        if (length < 6) return Status::at(Error::bad_pdu_length, length_at);
        if (length > limits.max_pdata) return Status::at(Error::pdu_too_long, length_at);
        return {};
    default:
        return Status::at(Error::unrecognized_pdu_type, type_at);
    }
}

FrameResult frame_pdu(Bytes buffered, const FrameLimits& limits) {
    FrameResult r;
    if (buffered.empty()) return r;
    if (buffered[0] < 0x01 || buffered[0] > 0x07) {
        r.status = FrameStatus::error;
        r.error = Status::at(Error::unrecognized_pdu_type, 0);
        return r;
    }
    if (buffered.size() < pdu_header_length) return r;
    const std::uint32_t length = load_be32(buffered.data() + 2);
    if (Status s = check_header(buffered[0], length, limits); !s) {
        r.status = FrameStatus::error;
        r.error = s;
        return r;
    }
    // length is at most 64 KiB or the negotiated P-DATA maximum here, so this cannot overflow.
    const std::size_t total = pdu_header_length + std::size_t{length};
    r.needed = total;
    if (buffered.size() < total) return r;
    r.status = FrameStatus::complete;
    r.frame.type = static_cast<PduType>(buffered[0]);
    r.frame.bytes = buffered.first(total);
    return r;
}

}  // namespace modgate::dicom
