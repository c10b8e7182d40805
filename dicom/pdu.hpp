// The seven PS3.8 PDUs and every A-ASSOCIATE item as plain data: what decode() fills in and
// encode() writes out. A-ASSOCIATE values own their strings (small, bounded by 64 KiB);
// P-DATA-TF values are spans over the caller's buffer (zero copy for bulk data).
#pragma once
#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dicom/bytes.hpp"

namespace modgate::dicom {

enum class PduType : std::uint8_t {
    associate_rq = 0x01,
    associate_ac = 0x02,
    associate_rj = 0x03,
    p_data_tf = 0x04,
    release_rq = 0x05,
    release_rp = 0x06,
    abort = 0x07,
};
const char* to_string(PduType);  // "A-ASSOCIATE-RQ"

inline constexpr std::size_t pdu_header_length = 6;
inline constexpr std::size_t associate_fixed_length = 68;   // version .. reserved, before items
inline constexpr std::uint32_t max_associate_length = 64 * 1024;
inline constexpr std::string_view dicom_application_context = "1.2.840.10008.3.1.1.1";

// A-ASSOCIATE item and user-information sub-item types (PS3.8 9.3.2, PS3.7 D.3.3).
namespace item {
inline constexpr std::uint8_t application_context = 0x10;
inline constexpr std::uint8_t presentation_context_rq = 0x20;
inline constexpr std::uint8_t presentation_context_ac = 0x21;
inline constexpr std::uint8_t abstract_syntax = 0x30;
inline constexpr std::uint8_t transfer_syntax = 0x40;
inline constexpr std::uint8_t user_information = 0x50;
inline constexpr std::uint8_t max_length = 0x51;
inline constexpr std::uint8_t implementation_class_uid = 0x52;
inline constexpr std::uint8_t async_operations_window = 0x53;
inline constexpr std::uint8_t role_selection = 0x54;
inline constexpr std::uint8_t implementation_version_name = 0x55;
inline constexpr std::uint8_t sop_class_extended_negotiation = 0x56;
inline constexpr std::uint8_t common_extended_negotiation = 0x57;
inline constexpr std::uint8_t user_identity_rq = 0x58;
inline constexpr std::uint8_t user_identity_ac = 0x59;
}  // namespace item

enum class ContextResult : std::uint8_t {
    acceptance = 0,
    user_rejection = 1,
    no_reason = 2,
    abstract_syntax_not_supported = 3,
    transfer_syntaxes_not_supported = 4,
};

struct PresentationContextRq {
    std::uint8_t id = 1;                          // odd, 1..255, unique in the RQ
    std::string abstract_syntax;                  // without NUL padding
    std::vector<std::string> transfer_syntaxes;   // at least one
    bool operator==(const PresentationContextRq&) const = default;
};

struct PresentationContextAc {
    std::uint8_t id = 1;
    ContextResult result = ContextResult::acceptance;
    std::string transfer_syntax;  // may be empty when result is not acceptance
    bool operator==(const PresentationContextAc&) const = default;
};

struct RoleSelection {  // 0x54
    std::string sop_class_uid;
    std::uint8_t scu_role = 0;
    std::uint8_t scp_role = 0;
    bool operator==(const RoleSelection&) const = default;
};

struct AsyncOperationsWindow {  // 0x53
    std::uint16_t max_invoked = 1;
    std::uint16_t max_performed = 1;
    bool operator==(const AsyncOperationsWindow&) const = default;
};

struct SopClassExtendedNegotiation {  // 0x56
    std::string sop_class_uid;
    Buffer application_info;  // service-class specific, forwarded as is
    bool operator==(const SopClassExtendedNegotiation&) const = default;
};

struct CommonExtendedNegotiation {  // 0x57
    std::string sop_class_uid;
    std::string service_class_uid;
    std::vector<std::string> related_general_sop_classes;
    bool operator==(const CommonExtendedNegotiation&) const = default;
};

struct UserIdentityRq {  // 0x58; the fields hold credentials: never log them
    std::uint8_t type = 1;
    std::uint8_t positive_response_requested = 0;
    Buffer primary;
    Buffer secondary;
    bool operator==(const UserIdentityRq&) const = default;
};

struct UserIdentityAc {  // 0x59
    Buffer server_response;
    bool operator==(const UserIdentityAc&) const = default;
};

// A user-information sub-item of a type this codec does not interpret (0x5a..0xff): kept
// verbatim so it can be forwarded.
struct RawItem {
    std::uint8_t type = 0;
    Buffer value;
    bool operator==(const RawItem&) const = default;
};

// Item 0x50. Encoded in sub-item type order, unknown sub-items last.
struct UserInfo {
    std::optional<std::uint32_t> max_length;              // 0x51; 0 = unlimited
    std::string implementation_class_uid;                 // 0x52; empty = absent
    std::optional<AsyncOperationsWindow> async_window;    // 0x53
    std::vector<RoleSelection> roles;                     // 0x54
    std::string implementation_version_name;              // 0x55; empty = absent
    std::vector<SopClassExtendedNegotiation> sop_class_extended;  // 0x56
    std::vector<CommonExtendedNegotiation> common_extended;       // 0x57, RQ only
    std::optional<UserIdentityRq> identity_rq;            // 0x58, RQ only
    std::optional<UserIdentityAc> identity_ac;            // 0x59, AC only
    std::vector<RawItem> unknown;
    bool operator==(const UserInfo&) const = default;
};

// AE titles are held trimmed of the space padding; encode() pads them back to 16 bytes.
struct AssociateRq {
    std::uint16_t protocol_version = 1;
    std::string called_ae;
    std::string calling_ae;
    std::string application_context{dicom_application_context};
    std::vector<PresentationContextRq> contexts;
    UserInfo user_info;
    bool operator==(const AssociateRq&) const = default;
};

struct AssociateAc {
    std::uint16_t protocol_version = 1;
    std::string called_ae;   // echoed from the RQ; not tested on receipt (PS3.8 9.3.3)
    std::string calling_ae;
    std::string application_context{dicom_application_context};
    std::vector<PresentationContextAc> contexts;
    UserInfo user_info;
    bool operator==(const AssociateAc&) const = default;
};

// A-ASSOCIATE-RJ values (PS3.8 9.3.4).
namespace reject {
inline constexpr std::uint8_t permanent = 1;
inline constexpr std::uint8_t transient = 2;
inline constexpr std::uint8_t source_user = 1;          // reasons 1, 2, 3, 7
inline constexpr std::uint8_t source_acse = 2;          // reasons 1, 2
inline constexpr std::uint8_t source_presentation = 3;  // reasons 1, 2
inline constexpr std::uint8_t no_reason = 1;
inline constexpr std::uint8_t application_context_not_supported = 2;
inline constexpr std::uint8_t calling_ae_not_recognized = 3;
inline constexpr std::uint8_t called_ae_not_recognized = 7;
inline constexpr std::uint8_t protocol_version_not_supported = 2;  // source 2
inline constexpr std::uint8_t local_limit_exceeded = 2;            // source 3
}  // namespace reject

struct AssociateRj {
    std::uint8_t result = reject::permanent;
    std::uint8_t source = reject::source_user;
    std::uint8_t reason = reject::no_reason;
    bool operator==(const AssociateRj&) const = default;
};

struct ReleaseRq {
    bool operator==(const ReleaseRq&) const = default;
};
struct ReleaseRp {
    bool operator==(const ReleaseRp&) const = default;
};

struct Abort {
    std::uint8_t source = 2;  // 0 service user, 2 service provider
    std::uint8_t reason = 0;  // meaningful for source 2 only (AbortReason)
    bool operator==(const Abort&) const = default;
};

// One presentation data value: a command or dataset fragment. `data` points into the PDU.
struct Pdv {
    std::uint8_t context_id = 1;
    bool command = false;
    bool last = false;
    Bytes data;
    bool operator==(const Pdv& o) const {
        return context_id == o.context_id && command == o.command && last == o.last &&
               std::equal(data.begin(), data.end(), o.data.begin(), o.data.end());
    }
};

struct PData {
    std::vector<Pdv> pdvs;
    bool operator==(const PData&) const = default;
};

using Pdu = std::variant<AssociateRq, AssociateAc, AssociateRj, PData, ReleaseRq, ReleaseRp, Abort>;

}  // namespace modgate::dicom
