// P-DATA-TF for the proxy: PDVs only on accepted contexts, messages never interleaved, command
// fragments reassembled (bounded) and judged before any of them is forwarded, dataset fragments
// streamed; requests through the gate, responses matched to outstanding requests.
#include <algorithm>

#include <fmt/format.h>

#include "dicom/association.hpp"
#include "dicom/pdata.hpp"

namespace modgate::dicom {
namespace {

constexpr std::size_t idx(Side s) { return static_cast<std::size_t>(s); }

void append_reason(std::string& reason, const std::string& more) {
    if (more.empty()) return;
    if (!reason.empty()) reason += "; ";
    reason += more;
}

}  // namespace

std::size_t Association::offset_of(const Pdv& pdv) const {
    // The PDV header sits six bytes before its data.
    return static_cast<std::size_t>(pdv.data.data() - frame_base_) - pdv_header_length;
}

Verdict Association::on_pdata(Side from, const Frame& f) {
    frame_base_ = f.bytes.data();
    if (Status s = decode_pdvs(f, pdvs_); !s)
        return abort(s, fmt::format("P-DATA-TF from {}: {} at byte {}", to_string(from), describe(s.error), s.offset));
    out_.clear();
    scratch_.clear();
    answers_now_.clear();
    changed_ = false;
    held_ = 0;
    std::string reason;
    for (std::size_t i = 0; i < pdvs_.size(); ++i) {
        if (Status s = on_pdv(from, pdvs_[i], i, reason); !s) {
            std::string why = fmt::format("P-DATA-TF from {}: {} at byte {}", to_string(from), describe(s.error), s.offset);
            append_reason(why, reason);
            return abort(s, std::move(why));
        }
    }
    Stream& s = streams_[idx(from)];
    if (s.phase == Phase::command && held_ > 0) {
        // The command continues in a later PDU: hold these fragments; they are forwarded
        // reassembled once the whole command has been judged.
        s.spans_pdus = true;
        changed_ = true;
    }

    Verdict v;
    v.reason = std::move(reason);
    if (changed_) {
        v.action = out_.empty() ? Action::drop : Action::forward_rewritten;
        PDataWriter w(v.rewritten, limit_from_[idx(from)]);
        for (const OutPdv& o : out_) {
            Bytes data = o.from_scratch ? Bytes(scratch_).subspan(o.scratch_offset, o.scratch_size) : o.frame_data;
            w.add(o.context_id, o.command, o.last, data);
        }
    }
    if (!answers_now_.empty()) {
        PDataWriter w(v.answer, limit_from_[idx(other(from))]);
        for (const Answer& a : answers_now_) w.add(a.context_id, true, true, a.command);
    }
    return v;
}

void Association::emit(const Pdv& pdv) {
    out_.push_back({pdv.context_id, pdv.command, pdv.last, pdv.data, 0, 0, false});
}

void Association::emit_scratch(std::uint8_t context_id, bool command, Bytes data) {
    out_.push_back({context_id, command, true, {}, scratch_.size(), data.size(), true});
    scratch_.insert(scratch_.end(), data.begin(), data.end());
    changed_ = true;
}

Status Association::on_pdv(Side from, const Pdv& pdv, std::size_t index, std::string& reason) {
    const std::size_t at = offset_of(pdv);
    const Context* ctx = context(pdv.context_id);
    if (ctx == nullptr) {
        reason = fmt::format("context {} not accepted", pdv.context_id);
        return Status::at(Error::pdv_unaccepted_context, at + 4);
    }
    Stream& s = streams_[idx(from)];
    switch (s.phase) {
    case Phase::idle:
        if (!pdv.command) return Status::at(Error::dataset_without_command, at + 5);
        s.phase = Phase::command;
        s.context_id = pdv.context_id;
        s.command.clear();
        s.spans_pdus = false;
        s.dropping = false;
        s.answer.reset();
        command_first_ = index;
        held_ = 0;
        [[fallthrough]];
    case Phase::command: {
        if (!pdv.command || pdv.context_id != s.context_id) return Status::at(Error::interleaved_fragments, at + 4);
        if (s.command.size() + pdv.data.size() > options_.max_command) return Status::at(Error::command_too_long, at);
        s.command.insert(s.command.end(), pdv.data.begin(), pdv.data.end());
        held_ += 1;
        if (!pdv.last) return {};
        Command cmd;
        if (Status st = parse_command(s.command, cmd); !st) {
            reason = fmt::format("command on context {}: {} at command byte {}", pdv.context_id,
                                 describe(st.error), st.offset);
            return Status::at(st.error, at);
        }
        bool forward = false;
        std::string why;
        if (Status st = on_command(from, *ctx, cmd, s, why, forward); !st) {
            reason = std::move(why);
            return Status::at(st.error, at);
        }
        append_reason(reason, why);
        if (!forward) {
            changed_ = true;
        } else if (!s.spans_pdus) {
            // Forward the command's own fragments, all of them in this PDU.
            for (std::size_t j = command_first_; j <= index; ++j) emit(pdvs_[j]);
        } else {
            emit_scratch(s.context_id, true, s.command);
        }
        held_ = 0;
        if (cmd.has_data_set()) {
            s.phase = Phase::data_set;
            return {};
        }
        return message_done(from, s);
    }
    case Phase::data_set:
        if (pdv.command) return Status::at(Error::command_dataset_mismatch, at + 5);
        if (pdv.context_id != s.context_id) return Status::at(Error::interleaved_fragments, at + 4);
        if (s.dropping)
            changed_ = true;
        else
            emit(pdv);
        if (pdv.last) return message_done(from, s);
        return {};
    }
    return {};
}

Status Association::on_command(Side from, const Context& ctx, const Command& cmd, Stream& s,
                               std::string& reason, bool& forward) {
    if (cmd.is_response()) {
        if (Status st = on_response(from, ctx, cmd); !st) {
            reason = fmt::format("{} for message id {} on context {}", command_name(cmd.field),
                                 cmd.responded_to.value_or(0), ctx.id);
            return st;
        }
        stats_.responses += 1;
        forward = true;
        return {};
    }
    const bool cancel = cmd.field == command::c_cancel;
    if (!cancel && cmd.sop_class() != ctx.abstract_syntax) {
        reason = fmt::format("{} names SOP class {} on context {} for {}", command_name(cmd.field), cmd.sop_class(),
                             ctx.id, ctx.abstract_syntax);
        return Status::at(Error::sop_class_mismatch, 0);
    }
    auto& mine = outstanding_[idx(from)];
    if (!cancel && std::any_of(mine.begin(), mine.end(), [&](const Outstanding& o) { return o.message_id == *cmd.message_id; })) {
        reason = fmt::format("{} message id {} already outstanding", command_name(cmd.field), *cmd.message_id);
        return Status::at(Error::duplicate_message_id, 0);
    }
    DimseDecision d;
    if (gate_) d = gate_->on_request(RequestInfo{from, ctx, cmd, has_outstanding(other(from), command::c_get)});
    auto& counters = stats_.requests[static_cast<std::size_t>(dimse_index(cmd.field))];
    switch (d.kind) {
    case DimseDecision::Kind::abort:
        reason = d.reason;
        return Status::at(Error::refused_unanswerable, 0);
    case DimseDecision::Kind::refuse:
        if (cancel) {  // C-CANCEL has no response to refuse it with
            reason = d.reason;
            return Status::at(Error::refused_unanswerable, 0);
        }
        counters.refused += 1;
        s.dropping = true;
        s.answer.emplace();
        encode_command(make_response(cmd, d.status), *s.answer);
        reason = d.reason;
        forward = false;
        return {};
    case DimseDecision::Kind::forward:
        break;
    }
    if (cancel) {
        auto target = std::find_if(mine.begin(), mine.end(), [&](const Outstanding& o) {
            return o.message_id == *cmd.responded_to &&
                   (o.field == command::c_find || o.field == command::c_get || o.field == command::c_move);
        });
        if (target == mine.end()) {
            // The operation already finished (its final response crossed the cancel): the
            // acceptor would ignore it; it is not forwarded.
            stats_.cancels_dropped += 1;
            forward = false;
            return {};
        }
        counters.forwarded += 1;
        forward = true;
        return {};
    }
    if (mine.size() >= options_.max_outstanding) {
        reason = fmt::format("more than {} requests outstanding", options_.max_outstanding);
        return Status::at(Error::too_many_outstanding, 0);
    }
    mine.push_back({*cmd.message_id, cmd.field, ctx.id});
    counters.forwarded += 1;
    forward = true;
    return {};
}

Status Association::on_response(Side from, const Context& ctx, const Command& cmd) {
    auto& theirs = outstanding_[idx(other(from))];
    auto o = std::find_if(theirs.begin(), theirs.end(),
                          [&](const Outstanding& x) { return x.message_id == *cmd.responded_to; });
    if (o == theirs.end() || o->field != cmd.request_field() || o->context_id != ctx.id)
        return Status::at(Error::unexpected_response, 0);
    if (!cmd.affected_sop_class.empty() && cmd.affected_sop_class != ctx.abstract_syntax)
        return Status::at(Error::sop_class_mismatch, 0);
    if (!is_pending(*cmd.status)) theirs.erase(o);
    return {};
}

bool Association::has_outstanding(Side sender, std::uint16_t field) const {
    const auto& list = outstanding_[idx(sender)];
    return std::any_of(list.begin(), list.end(), [&](const Outstanding& o) { return o.field == field; });
}

Status Association::message_done(Side from, Stream& s) {
    s.phase = Phase::idle;
    s.dropping = false;
    if (s.answer) {
        Buffer answer = std::move(*s.answer);
        s.answer.reset();
        if (Status st = deliver(from, s.context_id, std::move(answer)); !st) return st;
    }
    // This side is between messages again: answers held for the other side can go out now,
    // inside this PDU, before whatever message follows.
    auto& waiting = pending_[idx(other(from))];
    for (Answer& a : waiting) emit_scratch(a.context_id, true, a.command);
    waiting.clear();
    return {};
}

Status Association::deliver(Side to, std::uint8_t context_id, Buffer command) {
    // `to` is always the sender of the current PDU here (a refusal answers its own request).
    // The answer speaks for the other side, which may send no P-DATA after its own
    // A-RELEASE-RQ: then the request cannot be answered at all.
    if (release_rq_[idx(other(to))]) return Status::at(Error::refused_unanswerable, 0);
    // It may only receive our PDU while the other side is not half-way through a message to it.
    if (streams_[idx(other(to))].phase == Phase::idle && pending_[idx(to)].empty()) {
        answers_now_.push_back({context_id, std::move(command)});
        return {};
    }
    if (pending_[idx(to)].size() >= options_.max_pending_answers) return Status::at(Error::too_many_outstanding, 0);
    pending_[idx(to)].push_back({context_id, std::move(command)});
    return {};
}

}  // namespace modgate::dicom
