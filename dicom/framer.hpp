// Incremental PDU framing over the caller's buffer: bytes may arrive in any split; a PDU is
// handed out only when all of it is present, and a bad header is refused as soon as its six
// bytes are there (before any body is buffered). No allocation: frames are spans.
#pragma once
#include <cstdint>

#include "dicom/bytes.hpp"
#include "dicom/error.hpp"
#include "dicom/pdu.hpp"

namespace modgate::dicom {

struct FrameLimits {
    std::uint32_t max_associate = max_associate_length;  // A-ASSOCIATE-RQ/AC length field
    std::uint32_t max_pdata = 16384;  // P-DATA-TF length field: the maximum length we negotiated
};

// One complete PDU at the front of the caller's buffer.
struct Frame {
    PduType type = PduType::abort;
    Bytes bytes;  // header and body; forward these bytes as they are when the verdict says so

    std::uint32_t length() const { return static_cast<std::uint32_t>(bytes.size() - pdu_header_length); }
    Bytes body() const { return bytes.subspan(pdu_header_length); }
};

enum class FrameStatus : std::uint8_t {
    need_more,  // the front of the buffer is a valid prefix; read more
    complete,   // `frame` is one whole PDU; consume frame.bytes.size() bytes after acting on it
    error,      // `error` says why (offset 0 = type, 2 = length); nothing here may be forwarded
};

struct FrameResult {
    FrameStatus status = FrameStatus::need_more;
    Frame frame;
    Status error;
    std::size_t needed = 0;  // need_more: total bytes this PDU occupies, once the header is known
};

// Checks a PDU header on its own: type known, length allowed for that type.
Status check_header(std::uint8_t type, std::uint32_t length, const FrameLimits& limits);

// Frames the PDU at the front of `buffered`. The type byte is checked as soon as it arrives, the
// length as soon as all six header bytes have.
FrameResult frame_pdu(Bytes buffered, const FrameLimits& limits);

// An owning buffer for callers without one (tests, the fuzz target, tools). It grows only by
// the bytes appended, never by a length a peer claims.
class PduReassembler {
public:
    void append(Bytes bytes) { buffer_.insert(buffer_.end(), bytes.begin(), bytes.end()); }
    FrameResult next(const FrameLimits& limits) const { return frame_pdu(buffer_, limits); }
    void consume(std::size_t n) { buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n)); }
    Bytes pending() const { return buffer_; }

private:
    Buffer buffer_;
};

}  // namespace modgate::dicom
