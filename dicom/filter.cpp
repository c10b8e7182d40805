// Policy decisions for DICOM associations and DIMSE requests (see filter.hpp for the rules).
#include "dicom/filter.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dicom/syntax.hpp"

namespace modgate::dicom {
namespace {

using policy::Direction;

std::uint32_t bit(std::uint16_t field) {
    const int i = dimse_index(field);
    return i < 0 ? 0u : 1u << i;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string trimmed(const std::string& ae) { return std::string(trim_ae_title(ae)); }

// The loader already adds Verification to an allow with C-ECHO; implying it here too keeps a
// hand-built policy from needing to know that.
bool permits_sop(const DicomRule& r, std::string_view sop_class) {
    return contains(r.sop_classes, sop_class) ||
           (sop_class == verification_sop_class && (r.dimse & bit(command::c_echo)) != 0);
}

bool permits_dimse(const DicomRule& r, std::uint16_t field) {
    if (field == command::c_cancel)
        return (r.dimse & (bit(command::c_find) | bit(command::c_get) | bit(command::c_move))) != 0;
    return (r.dimse & bit(field)) != 0;
}

bool port_matches(const policy::Allow& a, std::uint16_t port) {
    if (port == 0 || a.ports.empty()) return true;
    return std::any_of(a.ports.begin(), a.ports.end(),
                       [&](const policy::PortSpec& p) { return p.proto == policy::Proto::tcp && p.port == port; });
}

std::uint32_t min_nonzero(std::uint32_t a, std::uint32_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    return std::min(a, b);
}

AssociateDecision rejection(std::uint8_t result, std::uint8_t source, std::uint8_t reason, std::string why) {
    AssociateDecision d;
    d.reject = true;
    d.rj = AssociateRj{result, source, reason};
    d.reason = std::move(why);
    return d;
}

const char* direction_name(Direction d) { return d == Direction::outbound ? "outbound" : "inbound"; }

}  // namespace

AssociationRules select_rules(const policy::Policy& policy, const Endpoints& endpoints, const FilterOptions& options) {
    AssociationRules out;
    out.endpoints = endpoints;
    out.max_pdu = options.default_max_pdu;
    const auto modality = std::find_if(policy.modalities.begin(), policy.modalities.end(),
                                       [&](const policy::Modality& m) { return m.name == endpoints.modality; });
    const auto peer = std::find_if(policy.peers.begin(), policy.peers.end(),
                                   [&](const policy::Peer& p) { return p.name == endpoints.peer; });
    if (modality == policy.modalities.end() || peer == policy.peers.end()) return out;
    out.endpoints_known = true;

    // Both ends need an AE title (the validator insists for dicom allows); one without can
    // match nothing, so its associations are rejected rather than let through unchecked.
    std::optional<std::string> modality_ae, peer_ae;
    if (modality->dicom && !trimmed(modality->dicom->ae_title).empty()) modality_ae = trimmed(modality->dicom->ae_title);
    if (peer->dicom && !trimmed(peer->dicom->ae_title).empty()) peer_ae = trimmed(peer->dicom->ae_title);
    const bool outbound = endpoints.direction == Direction::outbound;
    out.calling_ae = outbound ? modality_ae : peer_ae;
    out.called_ae = outbound ? peer_ae : modality_ae;

    if (modality_ae) out.move_destinations.push_back(*modality_ae);
    for (const auto& p : policy.peers)
        if (p.dicom && !trimmed(p.dicom->ae_title).empty() && !contains(out.move_destinations, trimmed(p.dicom->ae_title)))
            out.move_destinations.push_back(trimmed(p.dicom->ae_title));

    out.max_modality = modality->limits.max_associations != 0 ? modality->limits.max_associations
                                                              : options.default_max_associations;
    out.max_peer = peer->limits.max_associations != 0 ? peer->limits.max_associations
                                                      : options.default_max_associations;
    std::uint32_t max_pdu = 0;
    for (const auto& a : policy.allows) {
        if (a.service != policy::Service::dicom || a.modality != endpoints.modality || a.peer != endpoints.peer ||
            a.direction != endpoints.direction || !port_matches(a, endpoints.port))
            continue;
        DicomRule r;
        r.allow_index = a.index;
        r.name = a.name;
        for (policy::Dimse d : a.dimse) r.dimse |= bit(static_cast<std::uint16_t>(d));
        for (const auto& s : a.sop_classes) r.sop_classes.push_back(std::string(strip_uid_padding(s.uid)));
        r.transfer_syntaxes = a.transfer_syntaxes;
        out.rules.push_back(std::move(r));
        max_pdu = min_nonzero(max_pdu, a.max_pdu);
        out.max_rule = min_nonzero(out.max_rule, a.max_associations);
    }
    if (max_pdu != 0) out.max_pdu = max_pdu;
    return out;
}

AssociateDecision decide_associate(const AssociationRules& r, const AssociateRq& rq, const Counts& counts) {
    const auto& ep = r.endpoints;
    if (!r.endpoints_known || r.rules.empty())
        return rejection(reject::permanent, reject::source_user, reject::no_reason,
                         fmt::format("no dicom allow for {} {} {}", ep.modality, direction_name(ep.direction), ep.peer));
    if (!r.calling_ae || rq.calling_ae != *r.calling_ae)
        return rejection(reject::permanent, reject::source_user, reject::calling_ae_not_recognized,
                         fmt::format("calling AE title \"{}\" not recognized", rq.calling_ae));
    if (!r.called_ae || rq.called_ae != *r.called_ae)
        return rejection(reject::permanent, reject::source_user, reject::called_ae_not_recognized,
                         fmt::format("called AE title \"{}\" not recognized", rq.called_ae));
    struct Cap {
        const char* what;
        std::uint32_t open;
        std::uint32_t cap;  // 0 = none
    };
    for (const Cap& c : {Cap{"modality", counts.modality, r.max_modality}, Cap{"peer", counts.peer, r.max_peer},
                         Cap{"rule", counts.rule, r.max_rule}})
        if (c.cap != 0 && c.open >= c.cap)
            return rejection(reject::transient, reject::source_presentation, reject::local_limit_exceeded,
                             fmt::format("{} association limit {} reached ({} open)", c.what, c.cap, c.open));

    AssociateDecision d;
    d.max_pdu = r.max_pdu;
    for (const auto& pc : rq.contexts) {
        ContextDecision c;
        c.id = pc.id;
        bool any_ts = false;
        std::vector<const DicomRule*> permitting;
        for (const auto& rule : r.rules)
            if (permits_sop(rule, pc.abstract_syntax)) {
                permitting.push_back(&rule);
                any_ts = any_ts || rule.transfer_syntaxes.empty();
            }
        if (permitting.empty()) {
            c.result = ContextResult::abstract_syntax_not_supported;
            c.reason = fmt::format("abstract syntax {} not allowed", pc.abstract_syntax);
        } else {
            for (const auto& ts : pc.transfer_syntaxes)
                if (any_ts || std::any_of(permitting.begin(), permitting.end(),
                                          [&](const DicomRule* rule) { return contains(rule->transfer_syntaxes, ts); }))
                    c.transfer_syntaxes.push_back(ts);
            if (c.transfer_syntaxes.empty()) {
                c.result = ContextResult::transfer_syntaxes_not_supported;
                c.reason = fmt::format("no proposed transfer syntax allowed for {}", pc.abstract_syntax);
            }
        }
        d.contexts.push_back(std::move(c));
    }
    return d;
}

DimseDecision decide_request(const AssociationRules& r, const RequestInfo& q) {
    const Command& cmd = q.command;
    const std::string& sop = q.context.abstract_syntax;
    DimseDecision d;
    auto refuse = [&](std::uint16_t status, std::string why) {
        d.kind = cmd.field == command::c_cancel ? DimseDecision::Kind::abort : DimseDecision::Kind::refuse;
        d.status = status;
        d.reason = fmt::format("{} from {} refused (context {}, SOP class {}, message id {}): {}",
                               command_name(cmd.field), to_string(q.from), q.context.id, sop,
                               cmd.message_id.value_or(cmd.responded_to.value_or(0)), why);
        return d;
    };
    if (q.from == Side::acceptor) {
        // The acceptor answers; its only requests are C-STORE sub-operations of a C-GET.
        const bool sub_operation =
            cmd.field == command::c_store && q.c_get_outstanding &&
            std::any_of(r.rules.begin(), r.rules.end(), [&](const DicomRule& rule) {
                return (rule.dimse & bit(command::c_get)) != 0 && permits_sop(rule, sop);
            });
        if (!sub_operation) return refuse(status::not_authorized, "the acceptor may only send C-STORE sub-operations of an allowed C-GET");
        return d;
    }
    const bool allowed = std::any_of(r.rules.begin(), r.rules.end(), [&](const DicomRule& rule) {
        return permits_sop(rule, sop) && permits_dimse(rule, cmd.field);
    });
    if (!allowed) return refuse(status::not_authorized, "not allowed by policy");
    if (cmd.field == command::c_move && !contains(r.move_destinations, cmd.move_destination))
        return refuse(status::move_destination_unknown,
                      fmt::format("move destination \"{}\" not named by the policy", cmd.move_destination));
    return d;
}

}  // namespace modgate::dicom
