// Builders shared by the dicom unit tests: sample PDUs, command sets, P-DATA-TF from PDV
// specs, and a driver that feeds whole PDUs to an Association.
#pragma once
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "dicom/association.hpp"
#include "dicom/codec.hpp"
#include "dicom/command.hpp"
#include "dicom/framer.hpp"
#include "dicom/pdata.hpp"
#include "dicom/syntax.hpp"

namespace dicom_test {

using namespace modgate::dicom;

inline const std::string verification = "1.2.840.10008.1.1";
inline const std::string ct = "1.2.840.10008.5.1.4.1.1.2";
inline const std::string pet = "1.2.840.10008.5.1.4.1.1.128";
inline const std::string mr = "1.2.840.10008.5.1.4.1.1.4";
inline const std::string study_root_find = "1.2.840.10008.5.1.4.1.2.2.1";
inline const std::string study_root_move = "1.2.840.10008.5.1.4.1.2.2.2";
inline const std::string study_root_get = "1.2.840.10008.5.1.4.1.2.2.3";
inline const std::string storage_commitment = "1.2.840.10008.1.20.1";
inline const std::string implicit_le = "1.2.840.10008.1.2";
inline const std::string explicit_le = "1.2.840.10008.1.2.1";
inline const std::string deflated = "1.2.840.10008.1.2.1.99";
inline const std::string impl_uid = "1.2.276.0.7230010.3.0.3.6.7";

inline Buffer hex(std::string_view text) {
    Buffer out;
    int hi = -1;
    for (char c : text) {
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
            hi = -1;
        }
    }
    return out;
}

inline Bytes span_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

inline AssociateRq sample_rq() {
    AssociateRq rq;
    rq.called_ae = "PACS_MAIN";
    rq.calling_ae = "PETCT1";
    rq.contexts = {
        {1, verification, {implicit_le}},
        {3, ct, {explicit_le, implicit_le}},
        {5, pet, {implicit_le}},
    };
    rq.user_info.max_length = 16384;
    rq.user_info.implementation_class_uid = impl_uid;
    rq.user_info.implementation_version_name = "OFFIS_DCMTK_367";
    return rq;
}

// Accepts every proposed context with its first transfer syntax.
inline AssociateAc sample_ac(const AssociateRq& rq) {
    AssociateAc ac;
    ac.called_ae = rq.called_ae;
    ac.calling_ae = rq.calling_ae;
    for (const auto& pc : rq.contexts)
        ac.contexts.push_back({pc.id, ContextResult::acceptance, pc.transfer_syntaxes.front()});
    ac.user_info.max_length = 32768;
    ac.user_info.implementation_class_uid = impl_uid;
    return ac;
}

template <class T>
Buffer encoded(const T& pdu) {
    Buffer out;
    REQUIRE(encode(pdu, out).ok());
    return out;
}

inline Frame frame_of(const Buffer& bytes) {
    FrameLimits big{max_associate_length, 0xffffffffu};
    FrameResult r = frame_pdu(bytes, big);
    REQUIRE(r.status == FrameStatus::complete);
    REQUIRE(r.frame.bytes.size() == bytes.size());
    return r.frame;
}

template <class T>
T decoded(const Buffer& bytes) {
    T out;
    Status s = decode(frame_of(bytes), out);
    INFO("error " << describe(s.error) << " at " << s.offset);
    REQUIRE(s.ok());
    return out;
}

template <class T>
Status decode_error(const Buffer& bytes) {
    T out;
    return decode(frame_of(bytes), out);
}

inline Buffer command_bytes(const Command& c) {
    Buffer out;
    encode_command(c, out);
    return out;
}

struct PdvSpec {
    std::uint8_t context_id;
    bool command;
    bool last;
    Buffer data;
};

// One P-DATA-TF holding the given PDVs verbatim.
inline Buffer pdata(std::initializer_list<PdvSpec> pdvs) {
    PData p;
    for (const auto& s : pdvs) p.pdvs.push_back(Pdv{s.context_id, s.command, s.last, s.data});
    return encoded(p);
}

// A whole message (command, then dataset if any) in one P-DATA-TF.
inline Buffer message(std::uint8_t ctx, const Command& c, const Buffer& data_set = {}) {
    if (!c.has_data_set()) return pdata({{ctx, true, true, command_bytes(c)}});
    return pdata({{ctx, true, true, command_bytes(c)}, {ctx, false, true, data_set}});
}

inline Command echo_rq(std::uint16_t id) {
    Command c;
    c.field = command::c_echo;
    c.message_id = id;
    c.affected_sop_class = verification;
    return c;
}

inline Command store_rq(std::uint16_t id, const std::string& sop = ct) {
    Command c;
    c.field = command::c_store;
    c.message_id = id;
    c.priority = 0;
    c.data_set_type = 0x0000;
    c.affected_sop_class = sop;
    c.affected_sop_instance = "1.2.3.4.5.6";
    return c;
}

inline Command find_rq(std::uint16_t id) {
    Command c;
    c.field = command::c_find;
    c.message_id = id;
    c.priority = 0;
    c.data_set_type = 0x0000;
    c.affected_sop_class = study_root_find;
    return c;
}

inline Command move_rq(std::uint16_t id, const std::string& dest) {
    Command c = find_rq(id);
    c.field = command::c_move;
    c.affected_sop_class = study_root_move;
    c.move_destination = dest;
    return c;
}

inline Command get_rq(std::uint16_t id) {
    Command c = find_rq(id);
    c.field = command::c_get;
    c.affected_sop_class = study_root_get;
    return c;
}

inline Command n_action_rq(std::uint16_t id) {
    Command c;
    c.field = command::n_action;
    c.message_id = id;
    c.data_set_type = 0x0000;
    c.requested_sop_class = storage_commitment;
    c.requested_sop_instance = "1.2.840.10008.1.20.1.1";
    return c;
}

inline Command n_event_report_rq(std::uint16_t id) {
    Command c;
    c.field = command::n_event_report;
    c.message_id = id;
    c.data_set_type = 0x0000;
    c.affected_sop_class = storage_commitment;
    c.affected_sop_instance = "1.2.840.10008.1.20.1.1";
    return c;
}

inline Command cancel_rq(std::uint16_t id) {
    Command c;
    c.field = command::c_cancel;
    c.responded_to = id;
    return c;
}

inline Command response(const Command& rq, std::uint16_t status_value = status::success) {
    return make_response(rq, status_value);
}

inline Buffer data_set(std::size_t n = 64, std::uint8_t fill = 0x5a) { return Buffer(n, fill); }

// Feeds one whole PDU and expects it to be judged in one step.
inline Verdict send(Association& a, Side from, const Buffer& pdu) {
    Step s = a.feed(from, pdu);
    REQUIRE(s.ready);
    if (s.verdict.action != Action::abort) REQUIRE(s.consumed == pdu.size());
    return s.verdict;
}

// RQ and AC through `a`; returns the verdict for the AC.
inline Verdict establish(Association& a, const AssociateRq& rq = sample_rq(), std::optional<AssociateAc> ac = {}) {
    Verdict v = send(a, Side::initiator, encoded(rq));
    REQUIRE(v.action == Action::forward_rewritten);
    if (!ac) ac = sample_ac(a.request());
    Verdict w = send(a, Side::acceptor, encoded(*ac));
    REQUIRE(w.action == Action::forward_rewritten);
    REQUIRE(a.state() == AssociationState::established);
    return w;
}

// The commands inside a buffer of P-DATA-TF PDUs, reassembled.
inline std::vector<Command> commands_in(const Buffer& pdus) {
    std::vector<Command> out;
    PduReassembler r;
    r.append(pdus);
    Buffer cmd;
    std::vector<Pdv> pdvs;
    for (;;) {
        FrameResult f = r.next(FrameLimits{max_associate_length, 0xffffffffu});
        if (f.status != FrameStatus::complete) break;
        REQUIRE(decode_pdvs(f.frame, pdvs).ok());
        for (const Pdv& p : pdvs) {
            if (!p.command) continue;
            cmd.insert(cmd.end(), p.data.begin(), p.data.end());
            if (p.last) {
                Command c;
                REQUIRE(parse_command(cmd, c).ok());
                out.push_back(c);
                cmd.clear();
            }
        }
        r.consume(f.frame.bytes.size());
    }
    REQUIRE(r.pending().empty());
    return out;
}

}  // namespace dicom_test
