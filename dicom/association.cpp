// Association control (ACSE) for the proxy: the PS3.8 state table as far as a relay needs it,
// presentation context negotiation through the gate, and the max-length rewrite on both legs.
#include "dicom/association.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dicom/codec.hpp"

namespace modgate::dicom {
namespace {

constexpr std::size_t idx(Side s) { return static_cast<std::size_t>(s); }

// Smallest max length that still carries one byte of PDV data.
constexpr std::uint32_t min_max_length = 7;

std::uint32_t bounded(std::uint32_t advertised, std::uint32_t ours) {
    return advertised == 0 ? ours : std::min(advertised, ours);
}

bool valid_rj(const AssociateRj& rj) {
    if (rj.result != reject::permanent && rj.result != reject::transient) return false;
    switch (rj.source) {
    case reject::source_user:
        return rj.reason == 1 || rj.reason == 2 || rj.reason == 3 || rj.reason == 7;
    case reject::source_acse:
    case reject::source_presentation:
        return rj.reason == 1 || rj.reason == 2;
    default:
        return false;
    }
}

// The short PDUs are forwarded re-encoded from their decoded fields, so reserved bytes and
// insignificant values that were not tested on receipt (PS3.8 9.3.1) never pass through.
template <class T>
Verdict canonical(const T& pdu) {
    Verdict v;
    v.action = Action::forward_rewritten;
    encode(pdu, v.rewritten);
    return v;
}

}  // namespace

const char* to_string(Side s) { return s == Side::initiator ? "initiator" : "acceptor"; }

const char* to_string(AssociationState s) {
    switch (s) {
    case AssociationState::awaiting_rq: return "awaiting-rq";
    case AssociationState::awaiting_ac: return "awaiting-ac";
    case AssociationState::established: return "established";
    case AssociationState::releasing: return "releasing";
    case AssociationState::closed: return "closed";
    }
    return "unknown";
}

const char* to_string(Action a) {
    switch (a) {
    case Action::forward: return "forward";
    case Action::forward_rewritten: return "forward-rewritten";
    case Action::drop: return "drop";
    case Action::abort: return "abort";
    }
    return "unknown";
}

Association::Association(Gate* gate, AssociationOptions options)
    : gate_(gate), options_(options), max_pdu_(std::max(options.max_pdu, min_max_length)) {
    context_index_.fill(-1);
    limit_from_ = {max_pdu_, max_pdu_};
}

FrameLimits Association::limits(Side from) const {
    return FrameLimits{max_associate_length, limit_from_[idx(from)]};
}

const Context* Association::context(std::uint8_t id) const {
    const std::int16_t i = context_index_[id];
    return i < 0 ? nullptr : &contexts_[static_cast<std::size_t>(i)];
}

bool Association::expected(Side from, PduType type) const {
    if (state_ == AssociationState::closed) return false;
    if (type == PduType::abort) return true;
    switch (state_) {
    case AssociationState::awaiting_rq:
        return from == Side::initiator && type == PduType::associate_rq;
    case AssociationState::awaiting_ac:
        return from == Side::acceptor && (type == PduType::associate_ac || type == PduType::associate_rj);
    case AssociationState::established:
    case AssociationState::releasing:
        switch (type) {
        case PduType::p_data_tf: return !release_rq_[idx(from)] && !release_rp_[idx(from)];
        case PduType::release_rq: return !release_rq_[idx(from)] && !release_rp_[idx(from)];
        case PduType::release_rp: return release_rq_[idx(other(from))] && !release_rp_[idx(from)];
        default: return false;
        }
    case AssociationState::closed:
        return false;
    }
    return false;
}

Verdict Association::abort(Status error, std::string reason) {
    Verdict v;
    v.action = Action::abort;
    v.error = error;
    v.close = true;
    v.reason = std::move(reason);
    encode(Abort{2, static_cast<std::uint8_t>(abort_reason(error.error))}, v.answer);
    state_ = AssociationState::closed;
    return v;
}

Step Association::feed(Side from, Bytes buffered) {
    Step step;
    step.verdict.action = Action::drop;  // a caller that ignores `ready` forwards nothing
    if (buffered.empty()) return step;
    // Judge the type byte alone first: an unexpected PDU is refused before its body is read.
    const std::uint8_t type = buffered[0];
    if (type >= 0x01 && type <= 0x07 && !expected(from, static_cast<PduType>(type))) {
        step.ready = true;
        step.verdict = abort(Status::at(Error::unexpected_pdu, 0),
                             fmt::format("{} from {} not allowed in state {}",
                                         to_string(static_cast<PduType>(type)), to_string(from),
                                         to_string(state_)));
        return step;
    }
    const FrameResult fr = frame_pdu(buffered, limits(from));
    if (fr.status == FrameStatus::need_more) return step;
    step.ready = true;
    if (fr.status == FrameStatus::error) {
        step.verdict = abort(fr.error, fmt::format("PDU header from {}: {}", to_string(from), describe(fr.error.error)));
        return step;
    }
    step.consumed = fr.frame.bytes.size();
    step.verdict = on_frame(from, fr.frame);
    return step;
}

Verdict Association::on_frame(Side from, const Frame& f) {
    stats_.pdus[idx(from)] += 1;
    stats_.bytes[idx(from)] += f.bytes.size();
    if (!expected(from, f.type))
        return abort(Status::at(Error::unexpected_pdu, 0),
                     fmt::format("{} from {} not allowed in state {}", to_string(f.type), to_string(from),
                                 to_string(state_)));
    if (f.bytes.size() < pdu_header_length || load_be32(f.bytes.data() + 2) != f.length())
        return abort(Status::at(Error::bad_pdu_length, 2), "PDU length field disagrees with the frame");
    if (Status s = check_header(static_cast<std::uint8_t>(f.type), f.length(), limits(from)); !s)
        return abort(s, fmt::format("{} from {}: {}", to_string(f.type), to_string(from), describe(s.error)));
    switch (f.type) {
    case PduType::associate_rq: return on_associate_rq(f);
    case PduType::associate_ac: return on_associate_ac(f);
    case PduType::associate_rj: return on_associate_rj(f);
    case PduType::p_data_tf: return on_pdata(from, f);
    case PduType::release_rq:
    case PduType::release_rp: return on_release(from, f);
    case PduType::abort: return on_abort(f);
    }
    return abort(Status::at(Error::unrecognized_pdu_type, 0), "unrecognized PDU type");
}

Verdict Association::on_associate_rq(const Frame& f) {
    AssociateRq rq;
    if (Status s = decode(f, rq); !s)
        return abort(s, fmt::format("A-ASSOCIATE-RQ: {} at byte {}", describe(s.error), s.offset));
    stats_.contexts_proposed = static_cast<std::uint32_t>(rq.contexts.size());
    forwarded_rq_ = rq;

    auto refuse_association = [&](AssociateRj rj, std::string reason) {
        decision_.reject = true;
        decision_.rj = rj;
        decision_.reason = reason;
        Verdict v;
        v.action = Action::drop;
        encode(rj, v.answer);
        v.close = true;
        v.reason = std::move(reason);
        state_ = AssociationState::closed;
        return v;
    };
    if ((rq.protocol_version & 1) == 0)
        return refuse_association({reject::permanent, reject::source_acse, reject::protocol_version_not_supported},
                                  fmt::format("protocol version {:#06x} not supported", rq.protocol_version));
    if (rq.application_context != dicom_application_context)
        return refuse_association({reject::permanent, reject::source_user, reject::application_context_not_supported},
                                  fmt::format("application context {} not supported", rq.application_context));
    const std::uint32_t initiator_max = rq.user_info.max_length.value_or(0);
    if (initiator_max != 0 && initiator_max < min_max_length)
        return abort(Status::at(Error::bad_max_length, 0),
                     fmt::format("A-ASSOCIATE-RQ: maximum length {} too small", initiator_max));

    if (gate_) {
        decision_ = gate_->on_associate_rq(rq);
    } else {
        decision_ = AssociateDecision{};
        for (const auto& pc : rq.contexts)
            decision_.contexts.push_back({pc.id, ContextResult::acceptance, pc.transfer_syntaxes, {}});
    }
    if (decision_.reject) return refuse_association(decision_.rj, decision_.reason);

    forwarded_rq_.contexts.clear();
    policy_rejected_.clear();
    std::string rejected;
    for (const auto& pc : rq.contexts) {
        auto d = std::find_if(decision_.contexts.begin(), decision_.contexts.end(),
                              [&](const ContextDecision& c) { return c.id == pc.id; });
        ContextResult result = ContextResult::no_reason;  // the gate forgot it: fail closed
        std::string why = "no policy decision";
        if (d != decision_.contexts.end()) {
            result = d->result;
            why = d->reason;
            if (result == ContextResult::acceptance) {
                PresentationContextRq kept{pc.id, pc.abstract_syntax, {}};
                for (const auto& ts : pc.transfer_syntaxes)
                    if (std::find(d->transfer_syntaxes.begin(), d->transfer_syntaxes.end(), ts) !=
                        d->transfer_syntaxes.end())
                        kept.transfer_syntaxes.push_back(ts);
                if (!kept.transfer_syntaxes.empty()) {
                    forwarded_rq_.contexts.push_back(std::move(kept));
                    continue;
                }
                result = ContextResult::transfer_syntaxes_not_supported;
                if (why.empty()) why = "no allowed transfer syntax";
            }
        }
        policy_rejected_.push_back({pc.id, result, pc.transfer_syntaxes.front()});
        stats_.contexts_rejected_by_policy += 1;
        rejected += fmt::format("{}context {} {} rejected ({}): {}", rejected.empty() ? "" : "; ", pc.id,
                                pc.abstract_syntax, static_cast<int>(result), why);
    }
    if (forwarded_rq_.contexts.empty())
        return refuse_association({reject::permanent, reject::source_user, reject::no_reason},
                                  fmt::format("no presentation context allowed: {}", rejected));

    max_pdu_ = std::max(decision_.max_pdu != 0 ? decision_.max_pdu : options_.max_pdu, min_max_length);
    // PDUs from the acceptor go to the initiator unchanged: they must fit both its maximum
    // and our buffer. The acceptor's own maximum arrives with the AC.
    limit_from_[idx(Side::acceptor)] = bounded(initiator_max, max_pdu_);
    limit_from_[idx(Side::initiator)] = max_pdu_;
    forwarded_rq_.user_info.max_length = limit_from_[idx(Side::acceptor)];

    Verdict v;
    v.action = Action::forward_rewritten;
    if (Status s = encode(forwarded_rq_, v.rewritten); !s)
        return abort(s, "A-ASSOCIATE-RQ: rewritten request does not fit");
    v.reason = decision_.reason;
    if (!rejected.empty()) v.reason += (v.reason.empty() ? "" : "; ") + rejected;
    state_ = AssociationState::awaiting_ac;
    return v;
}

Verdict Association::on_associate_ac(const Frame& f) {
    AssociateAc ac;
    if (Status s = decode(f, ac); !s)
        return abort(s, fmt::format("A-ASSOCIATE-AC: {} at byte {}", describe(s.error), s.offset));
    if ((ac.protocol_version & 1) == 0)
        return abort(Status::at(Error::bad_protocol_version, 6), "A-ASSOCIATE-AC: protocol version not supported");
    if (ac.application_context != dicom_application_context)
        return abort(Status::at(Error::bad_application_context, 74),
                     fmt::format("A-ASSOCIATE-AC: application context {} not supported", ac.application_context));
    const std::uint32_t acceptor_max = ac.user_info.max_length.value_or(0);
    if (acceptor_max != 0 && acceptor_max < min_max_length)
        return abort(Status::at(Error::bad_max_length, 0),
                     fmt::format("A-ASSOCIATE-AC: maximum length {} too small", acceptor_max));

    std::vector<PresentationContextAc> all;
    for (const auto& pc : ac.contexts) {
        auto rq = std::find_if(forwarded_rq_.contexts.begin(), forwarded_rq_.contexts.end(),
                               [&](const PresentationContextRq& c) { return c.id == pc.id; });
        if (rq == forwarded_rq_.contexts.end())
            return abort(Status::at(Error::unknown_context_id, 0),
                         fmt::format("A-ASSOCIATE-AC: context {} was not proposed", pc.id));
        if (pc.result == ContextResult::acceptance) {
            if (std::find(rq->transfer_syntaxes.begin(), rq->transfer_syntaxes.end(), pc.transfer_syntax) ==
                rq->transfer_syntaxes.end())
                return abort(Status::at(Error::bad_context_result, 0),
                             fmt::format("A-ASSOCIATE-AC: context {} accepted with transfer syntax {} not proposed",
                                         pc.id, pc.transfer_syntax));
            context_index_[pc.id] = static_cast<std::int16_t>(contexts_.size());
            contexts_.push_back({pc.id, rq->abstract_syntax, pc.transfer_syntax});
            stats_.contexts_accepted += 1;
        } else {
            stats_.contexts_rejected_by_acceptor += 1;
        }
        all.push_back(pc);
    }
    all.insert(all.end(), policy_rejected_.begin(), policy_rejected_.end());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });

    // PDUs from the initiator go to the acceptor unchanged: its maximum and our buffer bound them.
    limit_from_[idx(Side::initiator)] = bounded(acceptor_max, max_pdu_);
    AssociateAc out = std::move(ac);
    out.called_ae = forwarded_rq_.called_ae;  // the initiator gets back what it sent
    out.calling_ae = forwarded_rq_.calling_ae;
    out.contexts = std::move(all);
    out.user_info.max_length = limit_from_[idx(Side::initiator)];

    Verdict v;
    v.action = Action::forward_rewritten;
    if (Status s = encode(out, v.rewritten); !s) return abort(s, "A-ASSOCIATE-AC: rewritten answer does not fit");
    state_ = AssociationState::established;
    return v;
}

Verdict Association::on_associate_rj(const Frame& f) {
    AssociateRj rj;
    if (Status s = decode(f, rj); !s) return abort(s, "A-ASSOCIATE-RJ: invalid");
    if (!valid_rj(rj))
        return abort(Status::at(Error::bad_field_value, 7),
                     fmt::format("A-ASSOCIATE-RJ: invalid result {} source {} reason {}", rj.result, rj.source, rj.reason));
    Verdict v = canonical(rj);
    v.close = true;
    v.reason = fmt::format("rejected by the acceptor: result {} source {} reason {}", rj.result, rj.source, rj.reason);
    state_ = AssociationState::closed;
    return v;
}

Verdict Association::on_release(Side from, const Frame& f) {
    if (streams_[idx(from)].phase != Phase::idle)
        return abort(Status::at(Error::unexpected_pdu, 0),
                     fmt::format("{} from {} in the middle of a message", to_string(f.type), to_string(from)));
    if (f.type == PduType::release_rq) {
        release_rq_[idx(from)] = true;
        state_ = AssociationState::releasing;
        return canonical(ReleaseRq{});
    }
    Verdict v = canonical(ReleaseRp{});
    release_rp_[idx(from)] = true;
    const bool initiator_done = !release_rq_[idx(Side::initiator)] || release_rp_[idx(Side::acceptor)];
    const bool acceptor_done = !release_rq_[idx(Side::acceptor)] || release_rp_[idx(Side::initiator)];
    if (initiator_done && acceptor_done) {
        state_ = AssociationState::closed;
        v.close = true;
    }
    return v;
}

Verdict Association::on_abort(const Frame& f) {
    Abort a;
    if (Status s = decode(f, a); !s) return abort(s, "A-ABORT: invalid");
    if (a.source != 0 && a.source != 2)
        return abort(Status::at(Error::bad_field_value, 8), fmt::format("A-ABORT: invalid source {}", a.source));
    // The reason is significant only for the service provider (source 2).
    const bool known = a.source == 2 && a.reason <= 6 && a.reason != 3;
    Verdict v = canonical(Abort{a.source, known ? a.reason : std::uint8_t{0}});
    v.close = true;
    v.reason = fmt::format("aborted by a peer: source {} reason {}", a.source, a.reason);
    state_ = AssociationState::closed;
    return v;
}

}  // namespace modgate::dicom
