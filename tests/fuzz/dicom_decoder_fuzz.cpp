// libFuzzer target: the incremental PDU framer, the codec, the association state machine and
// the policy filter, fed both sides of an association in arbitrary splits (input format:
// dicom_fuzz_input.hpp). Besides "no crash, no sanitizer report" it checks properties that
// must hold for any input:
//   - a verdict consumes at least one byte and no more than is buffered;
//   - whatever modgate sends (rewritten PDUs, answers, aborts) frames and decodes cleanly
//     within the limits of its receiver, and a rewritten A-ASSOCIATE-RQ decodes to what the
//     association says it forwarded;
//   - a PDU forwarded as is decodes;
//   - the verdicts do not depend on how the bytes were split (inputs up to 4 KiB are replayed
//     with every record delivered one byte at a time).
// A violated property calls __builtin_trap(), so libFuzzer keeps the input as a crash.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dicom/codec.hpp"
#include "dicom/pdata.hpp"
#include "dicom_fuzz_input.hpp"

namespace {

using namespace modgate::dicom;

void require(bool condition) {
    if (!condition) __builtin_trap();
}

// Every byte of `bytes` must be whole PDUs that decode and respect `max_pdata`.
void check_pdus(Bytes bytes, std::uint32_t max_pdata) {
    PduReassembler r;
    r.append(bytes);
    const FrameLimits limits{max_associate_length, max_pdata};
    for (;;) {
        const FrameResult f = r.next(limits);
        require(f.status != FrameStatus::error);
        if (f.status == FrameStatus::need_more) break;
        Pdu pdu;
        require(decode(f.frame, pdu).ok());
        r.consume(f.frame.bytes.size());
    }
    require(r.pending().empty());
}

struct Outcome {
    Action action;
    std::size_t consumed;
    bool close;
    Buffer rewritten;
    Buffer answer;
    bool operator==(const Outcome&) const = default;
};

std::vector<Outcome> run(const std::uint8_t* data, std::size_t size, bool bytewise) {
    std::vector<Outcome> outcomes;
    dicom_fuzz::Replay replay(data, size);
    const Association& assoc = replay.association();
    replay.run(bytewise, [&](Side side, const Step& step, Bytes buffered) {
        const Verdict& v = step.verdict;
        outcomes.push_back({v.action, step.consumed, v.close, v.rewritten, v.answer});
        if (v.action == Action::abort) {
            require(v.close && v.answer.size() == 10 && v.answer[0] == 0x07);
            return true;
        }
        require(step.consumed > 0 && step.consumed <= buffered.size());
        if (v.action == Action::forward_rewritten) {
            require(!v.rewritten.empty());
            const std::uint8_t type = v.rewritten[0];
            check_pdus(v.rewritten, type == 0x04 ? assoc.limits(side).max_pdata : 0xffffffffu);
            if (type == 0x01) {
                AssociateRq rq;
                const FrameResult f = frame_pdu(v.rewritten, FrameLimits{});
                require(f.status == FrameStatus::complete && decode(f.frame, rq).ok() && rq == assoc.request());
            }
        } else if (v.action == Action::forward) {
            check_pdus(buffered.first(step.consumed), 0xffffffffu);
        }
        if (!v.answer.empty()) check_pdus(v.answer, assoc.limits(other(side)).max_pdata);
        return true;
    });
    return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<Outcome> whole = run(data, size, false);
    if (size <= 4096) require(run(data, size, true) == whole);
    return 0;
}
