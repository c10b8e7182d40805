// Decoding and encoding of whole PDUs. decode() takes one framed PDU (see framer.hpp) and
// checks every item against the bytes its parent still holds; encode() appends one PDU.
//
// decode() checks structure and value syntax: item nesting and lengths, one application
// context, odd unique context ids, one abstract syntax and at least one transfer syntax per
// proposed context, UID and AE title syntax, fixed-size fields. It does not judge the protocol
// version or the application context name: those lead to an A-ASSOCIATE-RJ, not an A-ABORT,
// and are checked by the association (association.hpp).
#pragma once
#include "dicom/bytes.hpp"
#include "dicom/error.hpp"
#include "dicom/framer.hpp"
#include "dicom/pdu.hpp"

namespace modgate::dicom {

Status decode(const Frame&, AssociateRq&);
Status decode(const Frame&, AssociateAc&);
Status decode(const Frame&, AssociateRj&);
Status decode(const Frame&, ReleaseRq&);
Status decode(const Frame&, ReleaseRp&);
Status decode(const Frame&, Abort&);
Status decode(const Frame&, PData&);  // PDV spans point into the frame's bytes
Status decode(const Frame&, Pdu&);    // dispatches on frame.type

// Each appends one PDU to `out`; on failure `out` is left as it was. Encoding fails only for
// values that do not fit the wire format (an AE title over 16 characters, an item over 64 KiB,
// an A-ASSOCIATE over max_associate_length).
Status encode(const AssociateRq&, Buffer& out);
Status encode(const AssociateAc&, Buffer& out);
Status encode(const AssociateRj&, Buffer& out);
Status encode(const ReleaseRq&, Buffer& out);
Status encode(const ReleaseRp&, Buffer& out);
Status encode(const Abort&, Buffer& out);
Status encode(const PData&, Buffer& out);  // one PDU holding every PDV as given
Status encode(const Pdu&, Buffer& out);

}  // namespace modgate::dicom
