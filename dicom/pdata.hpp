// P-DATA-TF presentation data values (PS3.8 9.3.5, annex E): zero-copy decoding into spans over
// the PDU, and a writer that packs fragments into PDUs no longer than a negotiated maximum.
#pragma once
#include <cstdint>
#include <vector>

#include "dicom/bytes.hpp"
#include "dicom/error.hpp"
#include "dicom/framer.hpp"
#include "dicom/pdu.hpp"

namespace modgate::dicom {

inline constexpr std::uint8_t mch_command = 0x01;  // message control header bit 0
inline constexpr std::uint8_t mch_last = 0x02;     // bit 1; bits 2..7 must be zero
inline constexpr std::size_t pdv_header_length = 6;  // item length (4), context id, control header

// Fills `out` (cleared first, capacity reused) with the PDVs of one P-DATA-TF: each PDV length
// at least 2 and inside the PDU, reserved control bits zero, at least one PDV.
Status decode_pdvs(const Frame& frame, std::vector<Pdv>& out);

// Packs PDVs into P-DATA-TF PDUs whose length field is at most `max_length` (0 = unlimited),
// splitting a PDV's data into several fragments when it does not fit; only the final fragment
// keeps the `last` bit. A max_length under 7 cannot carry a byte of data and is raised to 7.
class PDataWriter {
public:
    PDataWriter(Buffer& out, std::uint32_t max_length);
    ~PDataWriter() { finish(); }
    PDataWriter(const PDataWriter&) = delete;
    PDataWriter& operator=(const PDataWriter&) = delete;

    void add(std::uint8_t context_id, bool command, bool last, Bytes data);
    void finish();  // closes the open PDU, if any

private:
    void open();

    Buffer& out_;
    std::size_t max_;
    std::size_t pdu_start_ = 0;
    bool open_ = false;
};

}  // namespace modgate::dicom
