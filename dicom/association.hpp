// The association as the proxy in the middle sees it: PS3.8 state machine, presentation
// context table, DIMSE message reassembly and request/response bookkeeping, and for every PDU a
// Verdict saying what to do with it. Policy decisions come from a Gate (filter.hpp implements
// one from the policy); without a gate everything well-formed passes.
//
// How the proxy uses it, one Association per proxied connection pair:
//
//     Association assoc(&gate);
//     // bytes from the modality's leg were appended to in_buf (the initiator, for an outbound
//     // association); then, until need_more:
//     Step step = assoc.feed(Side::initiator, in_buf);
//     if (!step.ready) { read more (never more than assoc.limits(side) allows); }
//     switch (step.verdict.action) {
//       forward:           write in_buf[0, step.consumed) to the other leg
//       forward_rewritten: write step.verdict.rewritten to the other leg
//       drop:              write nothing onward
//       abort:             write step.verdict.answer (an A-ABORT) to both legs, close both
//     }
//     if (!step.verdict.answer.empty() && action != abort) write it back to the sender
//     if (step.verdict.close) close both legs once the writes are done
//     erase step.consumed bytes from in_buf
//
// Writes to one leg must go out in the order the verdicts were produced: an answer to a
// sender is withheld while the other side is in the middle of a message to that sender, and
// released inside a later verdict, so the proxy's own PDUs never split a peer's message.
//
// The proxy holds one whole PDU before forwarding a byte of it: feed() refuses a header whose
// type is unknown or unexpected, or whose length is over the limit, as soon as the six header
// bytes are in, and the negotiated maximum keeps that buffer bounded. Bulk data is never
// copied: a P-DATA-TF that passes unchanged is forwarded from the caller's buffer
// (Action::forward). Every other PDU is forwarded re-encoded from what was decoded
// (Action::forward_rewritten): A-ASSOCIATE-RQ/AC with the policy's changes and our maximum
// length in item 0x51, the four-byte PDUs with reserved bytes zeroed, so nothing that was not
// checked passes through.
//
// The data plane throws nothing (allocation failure aside) and includes no <expected>: this
// file is built by clang 14 into the fuzz target.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dicom/bytes.hpp"
#include "dicom/command.hpp"
#include "dicom/error.hpp"
#include "dicom/framer.hpp"
#include "dicom/pdu.hpp"

namespace modgate::dicom {

// Who sent a PDU: the side that opened the association (sent the A-ASSOCIATE-RQ) or the other.
enum class Side : std::uint8_t { initiator = 0, acceptor = 1 };
constexpr Side other(Side s) { return s == Side::initiator ? Side::acceptor : Side::initiator; }
const char* to_string(Side);

enum class AssociationState : std::uint8_t {
    awaiting_rq,  // transport open, nothing received (PS3.8 Sta2)
    awaiting_ac,  // RQ forwarded, waiting for the acceptor's AC or RJ (Sta5)
    established,  // P-DATA in both directions (Sta6)
    releasing,    // an A-RELEASE-RQ is out, waiting for the RP (Sta7..Sta12)
    closed,       // released, rejected or aborted: nothing more is accepted
};
const char* to_string(AssociationState);

// An accepted presentation context.
struct Context {
    std::uint8_t id = 0;
    std::string abstract_syntax;
    std::string transfer_syntax;
};

// ---- policy hooks --------------------------------------------------------------------------

// The gate's answer for one proposed presentation context.
struct ContextDecision {
    std::uint8_t id = 0;
    ContextResult result = ContextResult::acceptance;  // 3 or 4: rejected by policy
    std::vector<std::string> transfer_syntaxes;        // acceptance: the allowed ones, in proposal order
    std::string reason;                                // rejection: for the audit event
};

struct AssociateDecision {
    bool reject = false;      // answer with `rj` and close; nothing reaches the acceptor
    AssociateRj rj;
    std::vector<ContextDecision> contexts;  // one per proposed context, in proposal order
    std::uint32_t max_pdu = 0;  // bound on P-DATA-TF length in both directions; 0 = options.max_pdu
    std::string reason;         // audit text (AE titles, counts, UIDs only)
};

struct RequestInfo {
    Side from;
    const Context& context;
    const Command& command;
    bool c_get_outstanding;  // the other side has a C-GET outstanding (C-STORE sub-operations)
};

struct DimseDecision {
    enum class Kind : std::uint8_t {
        forward,  // pass the request on
        refuse,   // answer the sender with a response carrying `status`; forward nothing
        abort,    // A-ABORT both sides
    };
    Kind kind = Kind::forward;
    std::uint16_t status = status::not_authorized;
    std::string reason;
};

class Gate {
public:
    virtual ~Gate() = default;
    // Called once with the decoded A-ASSOCIATE-RQ after its protocol version and application
    // context were found acceptable.
    virtual AssociateDecision on_associate_rq(const AssociateRq& rq) = 0;
    // Called for every complete request command (C-CANCEL included, responses never) after it
    // was checked against its context. Not called for requests that fail those checks.
    virtual DimseDecision on_request(const RequestInfo& request) = 0;
};

// ---- results -------------------------------------------------------------------------------

enum class Action : std::uint8_t {
    forward,            // send the PDU's own bytes onward (P-DATA-TF only)
    forward_rewritten,  // send Verdict::rewritten onward instead
    drop,               // send nothing onward
    abort,              // send Verdict::answer (A-ABORT, source 2) to both sides and close both
};
const char* to_string(Action);

struct Verdict {
    Action action = Action::forward;
    Buffer rewritten;  // forward_rewritten: one or more whole PDUs
    Buffer answer;     // to the sender (RJ, a refusal response); for abort: the A-ABORT for both
    bool close = false;  // the association has ended: close both legs after these writes
    Status error;        // abort for a protocol violation: what, and where in the PDU
    std::string reason;  // audit text for anything but routine traffic; no patient data
};

struct Step {
    bool ready = false;         // false: need more bytes from this side
    std::size_t consumed = 0;   // bytes of the buffer this PDU occupied (0 for a header abort)
    Verdict verdict;
};

struct DimseCounters {
    std::uint32_t forwarded = 0;
    std::uint32_t refused = 0;
};

// Counters for the association's audit event.
struct Stats {
    std::uint32_t contexts_proposed = 0;
    std::uint32_t contexts_rejected_by_policy = 0;
    std::uint32_t contexts_accepted = 0;
    std::uint32_t contexts_rejected_by_acceptor = 0;
    std::array<DimseCounters, dimse_kinds> requests{};  // by dimse_index()
    std::uint32_t responses = 0;
    std::uint32_t cancels_dropped = 0;  // C-CANCEL for an operation already finished
    std::array<std::uint64_t, 2> pdus{};   // by Side
    std::array<std::uint64_t, 2> bytes{};  // by Side
};

struct AssociationOptions {
    std::uint32_t max_pdu = 65536;        // P-DATA-TF bound when the gate gives none
    std::uint32_t max_command = 65536;    // a command set's size budget
    std::uint32_t max_outstanding = 256;  // requests awaiting a response, per side
    std::uint32_t max_pending_answers = 16;
};

class Association {
public:
    explicit Association(Gate* gate = nullptr, AssociationOptions options = {});

    // Frames and judges the next PDU at the front of `buffered` (bytes from `from`).
    Step feed(Side from, Bytes buffered);
    // Judges one complete PDU (framed by the caller with limits(from)).
    Verdict on_frame(Side from, const Frame& frame);

    // Framing limits for bytes from `from`: A-ASSOCIATE 64 KiB; P-DATA-TF the maximum length
    // negotiated on the other leg, capped by the gate's max_pdu.
    FrameLimits limits(Side from) const;

    AssociationState state() const { return state_; }
    const Stats& stats() const { return stats_; }
    const AssociateRq& request() const { return forwarded_rq_; }     // as forwarded, after policy
    const AssociateDecision& decision() const { return decision_; }  // the gate's RQ decision
    const std::vector<Context>& accepted_contexts() const { return contexts_; }
    const Context* context(std::uint8_t id) const;

private:
    struct Outstanding {
        std::uint16_t message_id;
        std::uint16_t field;
        std::uint8_t context_id;
    };
    enum class Phase : std::uint8_t { idle, command, data_set };
    // One direction's message in progress.
    struct Stream {
        Phase phase = Phase::idle;
        std::uint8_t context_id = 0;
        Buffer command;              // fragments so far (bounded by max_command)
        bool spans_pdus = false;     // the command started in an earlier PDU
        bool dropping = false;       // the message was refused: its dataset goes nowhere
        std::optional<Buffer> answer;  // refusal response command, sent when the message ends
    };
    struct Answer {
        std::uint8_t context_id;
        Buffer command;
    };
    // A PDV of the onward P-DATA-TF: from the frame, or from scratch_ (reassembled/injected).
    struct OutPdv {
        std::uint8_t context_id;
        bool command;
        bool last;
        Bytes frame_data;
        std::size_t scratch_offset;
        std::size_t scratch_size;
        bool from_scratch;
    };

    bool expected(Side from, PduType type) const;
    Verdict abort(Status error, std::string reason = {});
    Verdict on_associate_rq(const Frame& f);
    Verdict on_associate_ac(const Frame& f);
    Verdict on_associate_rj(const Frame& f);
    Verdict on_release(Side from, const Frame& f);
    Verdict on_abort(const Frame& f);
    Verdict on_pdata(Side from, const Frame& f);

    // association_pdata.cpp
    Status on_pdv(Side from, const Pdv& pdv, std::size_t index, std::string& reason);
    Status on_command(Side from, const Context& ctx, const Command& cmd, Stream& s, std::string& reason,
                      bool& forward);
    Status on_response(Side from, const Context& ctx, const Command& cmd);
    void emit(const Pdv& pdv);
    void emit_scratch(std::uint8_t context_id, bool command, Bytes data);
    Status message_done(Side from, Stream& s);
    Status deliver(Side to, std::uint8_t context_id, Buffer command);
    std::size_t offset_of(const Pdv& pdv) const;
    bool has_outstanding(Side sender, std::uint16_t field) const;

    Gate* gate_;
    AssociationOptions options_;
    AssociationState state_ = AssociationState::awaiting_rq;
    AssociateRq forwarded_rq_;
    AssociateDecision decision_;
    std::vector<PresentationContextAc> policy_rejected_;
    std::vector<Context> contexts_;
    std::array<std::int16_t, 256> context_index_{};  // id -> index in contexts_, -1 if none
    std::uint32_t max_pdu_ = 0;
    std::array<std::uint32_t, 2> limit_from_{};  // P-DATA-TF bound for PDUs from each side
    std::array<bool, 2> release_rq_{};           // that side sent A-RELEASE-RQ
    std::array<bool, 2> release_rp_{};           // that side sent A-RELEASE-RP
    std::array<Stream, 2> streams_;
    std::array<std::vector<Outstanding>, 2> outstanding_;  // requests sent by each side
    std::array<std::vector<Answer>, 2> pending_;           // answers waiting for each side
    Stats stats_;

    // Per-PDU scratch, kept to reuse capacity.
    std::vector<Pdv> pdvs_;
    std::vector<OutPdv> out_;
    Buffer scratch_;
    std::vector<Answer> answers_now_;  // answers for the sender of the current PDU
    bool changed_ = false;             // the onward PDU differs from the received one
    std::size_t held_ = 0;             // PDVs of the current PDU held in an unfinished command
    std::size_t command_first_ = 0;    // index of the first of those PDVs
    const std::uint8_t* frame_base_ = nullptr;  // the current PDU, for error offsets
};

}  // namespace modgate::dicom
