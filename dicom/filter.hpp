// The DICOM policy filter: pure functions from the policy model and one association's
// endpoints to decisions on its A-ASSOCIATE-RQ and on each DIMSE request, plus PolicyGate,
// which plugs them into an Association. No sockets, no clock, no logging: every decision is
// plain data with a reason for the audit event (AE titles, UIDs, ids and counts only).
//
// Semantics (DESIGN.md "Policy"):
// - The allows that apply are those with service dicom between the modality and the peer in
//   the association's direction (and on its port, when one is given).
// - Calling AE: outbound, the modality's dicom.ae_title; inbound, the peer's. Called AE:
//   the other one. Compared exactly, without leading/trailing spaces; an end without an AE
//   title matches nothing. Unknown calling AE -> RJ 1/1/3, unknown called AE -> RJ 1/1/7.
// - Concurrency: modality and peer Limits.max_associations (0 = options default), the
//   smallest non-zero Allow::max_associations; at or over a cap -> RJ 2/3/2.
// - A presentation context is allowed when some applicable allow lists its abstract syntax in
//   sop_classes (an empty list allows none; Verification is implied by C-ECHO, as the loader
//   does), else it is rejected with result 3. Its transfer syntaxes are cut to those the
//   allows list (empty list = any well-formed); none left -> result 4. Other contexts proceed.
// - `dimse` lists the requests the initiator may send. C-CANCEL is allowed with C-FIND, C-GET
//   or C-MOVE. The acceptor sends responses, and C-STORE only as a sub-operation of an
//   outstanding C-GET whose allow covers that SOP class. A C-MOVE destination must be an AE
//   title the policy names (the modality's own or a peer's), else status 0xA801. A request
//   that is not allowed is answered with status 0x0124; one that cannot be answered (C-CANCEL)
//   aborts the association.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dicom/association.hpp"
#include "policy/model.hpp"

namespace modgate::dicom {

inline constexpr std::string_view verification_sop_class = "1.2.840.10008.1.1";

struct Endpoints {
    std::string modality;  // policy::Modality::name
    std::string peer;      // policy::Peer::name
    policy::Direction direction = policy::Direction::outbound;
    std::uint16_t port = 0;  // TCP port the initiator connected to; 0 = do not match ports
};

// Associations open now, not counting the one being decided (the caller keeps these).
struct Counts {
    std::uint32_t modality = 0;  // of this modality, any peer, any direction
    std::uint32_t peer = 0;      // of this peer, any modality, any direction
    std::uint32_t rule = 0;      // between this modality and peer in this direction
};

struct FilterOptions {
    std::uint32_t default_max_pdu = 65536;        // for Allow::max_pdu == 0
    std::uint32_t default_max_associations = 16;  // for Limits::max_associations == 0
};

// One applicable allow, reduced to what the filter checks.
struct DicomRule {
    std::size_t allow_index = 0;
    std::string name;
    std::uint32_t dimse = 0;  // bit dimse_index() for each request the initiator may send
    std::vector<std::string> sop_classes;        // empty = none
    std::vector<std::string> transfer_syntaxes;  // empty = any well-formed
};

// What one association may do, copied out of the policy so that a reload cannot pull it from
// under a live association.
struct AssociationRules {
    Endpoints endpoints;
    bool endpoints_known = false;          // the modality and the peer exist in the policy
    std::optional<std::string> calling_ae;  // nullopt: no calling AE title can match
    std::optional<std::string> called_ae;   // nullopt: none can match
    std::vector<std::string> move_destinations;
    std::vector<DicomRule> rules;
    std::uint32_t max_pdu = 0;
    std::uint32_t max_modality = 0;
    std::uint32_t max_peer = 0;
    std::uint32_t max_rule = 0;  // 0 = no rule-specific cap
};

AssociationRules select_rules(const policy::Policy& policy, const Endpoints& endpoints,
                              const FilterOptions& options = {});

AssociateDecision decide_associate(const AssociationRules& rules, const AssociateRq& rq, const Counts& counts);

DimseDecision decide_request(const AssociationRules& rules, const RequestInfo& request);

class PolicyGate final : public Gate {
public:
    PolicyGate(AssociationRules rules, Counts counts) : rules_(std::move(rules)), counts_(counts) {}
    AssociateDecision on_associate_rq(const AssociateRq& rq) override {
        return decide_associate(rules_, rq, counts_);
    }
    DimseDecision on_request(const RequestInfo& request) override { return decide_request(rules_, request); }
    const AssociationRules& rules() const { return rules_; }

private:
    AssociationRules rules_;
    Counts counts_;
};

}  // namespace modgate::dicom
