// The association state machine: PDU order, presentation contexts, message reassembly,
// request/response bookkeeping, release and abort, and the verdict for every PDU.
#include <functional>

#include "test_support.hpp"

using namespace dicom_test;

namespace {

// A gate whose answers the test scripts; by default it allows everything.
struct ScriptedGate : Gate {
    std::function<DimseDecision(const RequestInfo&)> request;
    std::uint32_t max_pdu = 0;
    std::vector<std::uint16_t> seen;
    std::vector<bool> c_get_outstanding;

    AssociateDecision on_associate_rq(const AssociateRq& rq) override {
        AssociateDecision d;
        d.max_pdu = max_pdu;
        for (const auto& pc : rq.contexts) d.contexts.push_back({pc.id, ContextResult::acceptance, pc.transfer_syntaxes, {}});
        return d;
    }
    DimseDecision on_request(const RequestInfo& r) override {
        seen.push_back(r.command.field);
        c_get_outstanding.push_back(r.c_get_outstanding);
        return request ? request(r) : DimseDecision{};
    }
};

DimseDecision refused() { return {DimseDecision::Kind::refuse, status::not_authorized, "refused by test"}; }
DimseDecision refuse_all(const RequestInfo&) { return refused(); }

void check_abort(const Verdict& v, Error e, AbortReason reason) {
    INFO("reason: " << v.reason << " error: " << describe(v.error.error));
    CHECK(v.action == Action::abort);
    CHECK(v.error.error == e);
    CHECK(v.close);
    CHECK(v.answer == Buffer{0x07, 0, 0, 0, 0, 4, 0, 0, 2, static_cast<std::uint8_t>(reason)});
}

}  // namespace

TEST_CASE("a C-ECHO association: RQ and AC rewritten, P-DATA forwarded as is, release closes",
          "[dicom][association]") {
    Association a;
    CHECK(a.state() == AssociationState::awaiting_rq);
    AssociateRq rq = sample_rq();
    rq.user_info.max_length = 16384;
    Verdict v = send(a, Side::initiator, encoded(rq));
    CHECK(v.action == Action::forward_rewritten);
    CHECK(a.state() == AssociationState::awaiting_ac);
    const auto fwd_rq = decoded<AssociateRq>(v.rewritten);
    CHECK(fwd_rq.contexts == rq.contexts);
    CHECK(fwd_rq.user_info.max_length == std::optional<std::uint32_t>(16384));  // min(ours 64K, theirs)
    CHECK(fwd_rq.user_info.implementation_class_uid == impl_uid);
    CHECK(a.limits(Side::acceptor).max_pdata == 16384);

    AssociateAc ac = sample_ac(rq);
    ac.called_ae = "SOMETHING_ELSE";
    ac.user_info.max_length = 0;  // unlimited: must not pass through
    v = send(a, Side::acceptor, encoded(ac));
    CHECK(v.action == Action::forward_rewritten);
    const auto fwd_ac = decoded<AssociateAc>(v.rewritten);
    CHECK(fwd_ac.user_info.max_length == std::optional<std::uint32_t>(65536));
    CHECK(fwd_ac.called_ae == rq.called_ae);  // the initiator gets back what it sent
    CHECK(fwd_ac.contexts == ac.contexts);
    CHECK(a.limits(Side::initiator).max_pdata == 65536);
    CHECK(a.accepted_contexts().size() == 3);
    REQUIRE(a.context(3) != nullptr);
    CHECK(a.context(3)->abstract_syntax == ct);
    CHECK(a.context(3)->transfer_syntax == explicit_le);

    v = send(a, Side::initiator, message(1, echo_rq(1)));
    CHECK(v.action == Action::forward);
    CHECK(v.answer.empty());
    v = send(a, Side::acceptor, message(1, response(echo_rq(1))));
    CHECK(v.action == Action::forward);
    v = send(a, Side::initiator, encoded(ReleaseRq{}));
    CHECK(v.action == Action::forward_rewritten);
    CHECK(v.rewritten == encoded(ReleaseRq{}));
    CHECK(a.state() == AssociationState::releasing);
    v = send(a, Side::acceptor, encoded(ReleaseRp{}));
    CHECK(v.action == Action::forward_rewritten);
    CHECK(v.rewritten == encoded(ReleaseRp{}));
    CHECK(v.close);
    CHECK(a.state() == AssociationState::closed);
    CHECK(a.stats().requests[static_cast<std::size_t>(dimse_index(command::c_echo))].forwarded == 1);
    CHECK(a.stats().responses == 1);
    CHECK(a.stats().contexts_accepted == 3);
    CHECK(a.stats().pdus[0] == 3);
}

TEST_CASE("PDUs the state does not allow abort with reason 2, judged on the type byte", "[dicom][association]") {
    SECTION("P-DATA before the AC, one byte buffered") {
        Association a;
        send(a, Side::initiator, encoded(sample_rq()));
        Step s = a.feed(Side::initiator, Buffer{0x04});
        REQUIRE(s.ready);
        CHECK(s.consumed == 0);
        check_abort(s.verdict, Error::unexpected_pdu, AbortReason::unexpected_pdu);
        CHECK(a.state() == AssociationState::closed);
    }
    SECTION("anything but an RQ first") {
        for (const Buffer& pdu : {encoded(sample_ac(sample_rq())), encoded(ReleaseRq{}), message(1, echo_rq(1))}) {
            Association a;
            check_abort(send(a, Side::initiator, pdu), Error::unexpected_pdu, AbortReason::unexpected_pdu);
        }
        Association a;
        check_abort(send(a, Side::acceptor, encoded(sample_rq())), Error::unexpected_pdu, AbortReason::unexpected_pdu);
    }
    SECTION("an AC from the initiator, a second RQ, an RP without RQ") {
        Association a;
        send(a, Side::initiator, encoded(sample_rq()));
        check_abort(send(a, Side::initiator, encoded(sample_ac(sample_rq()))), Error::unexpected_pdu,
                    AbortReason::unexpected_pdu);
        Association b;
        establish(b);
        check_abort(send(b, Side::initiator, encoded(sample_rq())), Error::unexpected_pdu, AbortReason::unexpected_pdu);
        Association c;
        establish(c);
        check_abort(send(c, Side::acceptor, encoded(ReleaseRp{})), Error::unexpected_pdu, AbortReason::unexpected_pdu);
    }
    SECTION("nothing after close") {
        Association a;
        establish(a);
        send(a, Side::initiator, encoded(Abort{0, 0}));
        CHECK(a.state() == AssociationState::closed);
        check_abort(send(a, Side::acceptor, message(1, response(echo_rq(1)))), Error::unexpected_pdu,
                    AbortReason::unexpected_pdu);
    }
}

TEST_CASE("headers over the limits abort before the body is read", "[dicom][association]") {
    SECTION("unrecognized PDU type: reason 1") {
        Association a;
        Step s = a.feed(Side::initiator, Buffer{0x09});
        REQUIRE(s.ready);
        check_abort(s.verdict, Error::unrecognized_pdu_type, AbortReason::unrecognized_pdu);
    }
    SECTION("P-DATA-TF longer than the negotiated maximum: reason 6") {
        Association a;
        establish(a);  // initiator -> acceptor bound: the AC's 32768
        Step s = a.feed(Side::initiator, hex("04 00 00008001"));
        REQUIRE(s.ready);
        check_abort(s.verdict, Error::pdu_too_long, AbortReason::invalid_parameter);
        Association b;
        establish(b);
        CHECK_FALSE(b.feed(Side::initiator, hex("04 00 00008000")).ready);  // exactly the maximum: wait for it
    }
    SECTION("A-ASSOCIATE-RQ over 64 KiB") {
        Association a;
        Step s = a.feed(Side::initiator, hex("01 00 00010001"));
        REQUIRE(s.ready);
        check_abort(s.verdict, Error::pdu_too_long, AbortReason::invalid_parameter);
    }
    SECTION("a release PDU whose length is not 4") {
        Association a;
        establish(a);
        check_abort(a.feed(Side::initiator, hex("05 00 00000005")).verdict, Error::bad_pdu_length,
                    AbortReason::invalid_parameter);
    }
}

TEST_CASE("a malformed A-ASSOCIATE-RQ aborts; protocol version and application context reject", "[dicom][association]") {
    SECTION("bad AE title: abort 6, nothing forwarded") {
        Buffer b = encoded(sample_rq());
        b[27] = '\n';
        Association a;
        const Verdict v = send(a, Side::initiator, b);
        check_abort(v, Error::bad_ae_title, AbortReason::invalid_parameter);
        CHECK(v.rewritten.empty());
    }
    SECTION("protocol version without bit 0: RJ 1/2/2") {
        AssociateRq rq = sample_rq();
        rq.protocol_version = 2;
        Association a;
        const Verdict v = send(a, Side::initiator, encoded(rq));
        CHECK(v.action == Action::drop);
        CHECK(v.answer == hex("03 00 00000004 00 01 02 02"));
        CHECK(v.close);
    }
    SECTION("another application context: RJ 1/1/2") {
        AssociateRq rq = sample_rq();
        rq.application_context = "1.2.3.4";
        Association a;
        const Verdict v = send(a, Side::initiator, encoded(rq));
        CHECK(v.action == Action::drop);
        CHECK(v.answer == hex("03 00 00000004 00 01 01 02"));
        CHECK(v.reason == "application context 1.2.3.4 not supported");
    }
    SECTION("a maximum length too small to carry data") {
        AssociateRq rq = sample_rq();
        rq.user_info.max_length = 6;
        Association a;
        check_abort(send(a, Side::initiator, encoded(rq)), Error::bad_max_length, AbortReason::invalid_parameter);
    }
}

TEST_CASE("the AC must answer what was proposed", "[dicom][association]") {
    auto ac_verdict = [](const AssociateAc& ac) {
        Association a;
        send(a, Side::initiator, encoded(sample_rq()));
        return send(a, Side::acceptor, encoded(ac));
    };
    AssociateAc ac = sample_ac(sample_rq());
    ac.contexts.push_back({7, ContextResult::acceptance, implicit_le});
    check_abort(ac_verdict(ac), Error::unknown_context_id, AbortReason::unexpected_parameter);
    ac = sample_ac(sample_rq());
    ac.contexts[2].transfer_syntax = explicit_le;  // PET was proposed with Implicit VR only
    check_abort(ac_verdict(ac), Error::bad_context_result, AbortReason::invalid_parameter);
    ac = sample_ac(sample_rq());
    ac.protocol_version = 0;
    check_abort(ac_verdict(ac), Error::bad_protocol_version, AbortReason::invalid_parameter);
    ac = sample_ac(sample_rq());
    ac.application_context = "1.2.3";
    check_abort(ac_verdict(ac), Error::bad_application_context, AbortReason::invalid_parameter);
}

TEST_CASE("an A-ASSOCIATE-RJ from the acceptor is forwarded and closes; a bad one aborts", "[dicom][association]") {
    Association a;
    send(a, Side::initiator, encoded(sample_rq()));
    Buffer rj = encoded(AssociateRj{1, 1, 7});
    rj[6] = 0xee;  // reserved: not tested on receipt, not forwarded either
    Verdict v = send(a, Side::acceptor, rj);
    CHECK(v.action == Action::forward_rewritten);
    CHECK(v.rewritten == hex("03 00 00000004 00 01 01 07"));
    CHECK(v.close);
    CHECK(a.state() == AssociationState::closed);
    Association b;
    send(b, Side::initiator, encoded(sample_rq()));
    check_abort(send(b, Side::acceptor, encoded(AssociateRj{1, 1, 5})), Error::bad_field_value,
                AbortReason::invalid_parameter);
}

TEST_CASE("PDVs only on contexts the acceptor accepted", "[dicom][association]") {
    Association a;
    AssociateAc ac = sample_ac(sample_rq());
    ac.contexts[1].result = ContextResult::abstract_syntax_not_supported;  // CT rejected
    establish(a, sample_rq(), ac);
    CHECK(a.context(3) == nullptr);
    CHECK(a.stats().contexts_rejected_by_acceptor == 1);
    Verdict v = send(a, Side::initiator, message(3, store_rq(1), data_set()));
    check_abort(v, Error::pdv_unaccepted_context, AbortReason::unexpected_parameter);
    CHECK(v.error.offset == 6 + 4);
    Association b;
    establish(b);
    check_abort(send(b, Side::initiator, message(7, echo_rq(1))), Error::pdv_unaccepted_context,
                AbortReason::unexpected_parameter);
}

TEST_CASE("fragments of different messages never interleave", "[dicom][association]") {
    const Buffer store_cmd = command_bytes(store_rq(1));
    const Buffer half(store_cmd.begin(), store_cmd.begin() + 20);
    const Buffer rest(store_cmd.begin() + 20, store_cmd.end());
    SECTION("a command on another context before the last command fragment") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{3, true, false, half}, {1, true, true, command_bytes(echo_rq(2))}})),
                    Error::interleaved_fragments, AbortReason::unexpected_parameter);
    }
    SECTION("a dataset fragment on another context") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{3, true, true, store_cmd}, {5, false, true, data_set()}})),
                    Error::interleaved_fragments, AbortReason::unexpected_parameter);
    }
    SECTION("a dataset fragment before the command's last fragment") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{3, true, false, half}, {3, false, true, data_set()}})),
                    Error::interleaved_fragments, AbortReason::unexpected_parameter);
    }
    SECTION("across PDUs too") {
        Association a;
        establish(a);
        CHECK(send(a, Side::initiator, pdata({{3, true, true, store_cmd}, {3, false, false, data_set()}})).action ==
              Action::forward);
        check_abort(send(a, Side::initiator, message(1, echo_rq(2))), Error::command_dataset_mismatch,
                    AbortReason::unexpected_parameter);
    }
    SECTION("the two directions are independent") {
        Association a;
        establish(a);
        CHECK(send(a, Side::initiator, message(1, echo_rq(9))).action == Action::forward);
        CHECK(send(a, Side::initiator, pdata({{3, true, true, store_cmd}, {3, false, false, data_set()}})).action ==
              Action::forward);
        CHECK(send(a, Side::acceptor, message(1, response(echo_rq(9)))).action == Action::forward);
        CHECK(send(a, Side::initiator, pdata({{3, false, true, data_set()}})).action == Action::forward);
    }
}

TEST_CASE("command and dataset presence follow CommandDataSetType", "[dicom][association]") {
    SECTION("a dataset where the command announced none") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{1, true, true, command_bytes(echo_rq(1))}, {1, false, true, data_set()}})),
                    Error::dataset_without_command, AbortReason::unexpected_parameter);
    }
    SECTION("a command where the announced dataset must follow") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{3, true, true, command_bytes(store_rq(1))}, {3, true, true, command_bytes(store_rq(2))}})),
                    Error::command_dataset_mismatch, AbortReason::unexpected_parameter);
    }
    SECTION("a dataset first") {
        Association a;
        establish(a);
        check_abort(send(a, Side::initiator, pdata({{3, false, true, data_set()}})), Error::dataset_without_command,
                    AbortReason::unexpected_parameter);
    }
}

TEST_CASE("a command split over PDUs is held, then forwarded whole", "[dicom][association]") {
    Association a;
    establish(a);
    const Buffer cmd = command_bytes(store_rq(1));
    const Buffer head(cmd.begin(), cmd.begin() + 30);
    const Buffer tail(cmd.begin() + 30, cmd.end());
    Verdict v = send(a, Side::initiator, pdata({{3, true, false, head}}));
    CHECK(v.action == Action::drop);
    v = send(a, Side::initiator, pdata({{3, true, true, tail}, {3, false, false, data_set(100)}}));
    REQUIRE(v.action == Action::forward_rewritten);
    const auto cmds = commands_in(v.rewritten);
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0] == store_rq(1));
    // The dataset fragment follows the command in the rewritten PDU.
    std::vector<Pdv> pdvs;
    REQUIRE(decode_pdvs(frame_of(v.rewritten), pdvs).ok());
    REQUIRE(pdvs.size() == 2);
    CHECK(Buffer(pdvs[0].data.begin(), pdvs[0].data.end()) == cmd);
    CHECK(pdvs[1].data.size() == 100);
    CHECK_FALSE(pdvs[1].last);
    // The rest of the dataset streams through untouched.
    v = send(a, Side::initiator, pdata({{3, false, true, data_set(50)}}));
    CHECK(v.action == Action::forward);
}

TEST_CASE("a command set larger than the budget aborts", "[dicom][association]") {
    AssociationOptions o;
    o.max_command = 100;
    Association a(nullptr, o);
    establish(a);
    const Buffer chunk(60, 0);
    CHECK(send(a, Side::initiator, pdata({{1, true, false, chunk}})).action == Action::drop);
    check_abort(send(a, Side::initiator, pdata({{1, true, false, chunk}})), Error::command_too_long,
                AbortReason::invalid_parameter);
}

TEST_CASE("a malformed command set aborts with reason 6", "[dicom][association]") {
    Association a;
    establish(a);
    Buffer cmd = command_bytes(echo_rq(1));
    cmd[12] = 0x08;  // the SOP class element moves to group 0008
    check_abort(send(a, Side::initiator, pdata({{1, true, true, cmd}})), Error::bad_command, AbortReason::invalid_parameter);
}

TEST_CASE("the SOP class a request names must be its context's abstract syntax", "[dicom][association]") {
    Association a;
    establish(a);
    const Verdict v = send(a, Side::initiator, message(5, store_rq(1, ct), data_set()));  // CT on the PET context
    check_abort(v, Error::sop_class_mismatch, AbortReason::invalid_parameter);
    CHECK(v.reason.find(ct) != std::string::npos);
    CHECK(v.reason.find("1.2.3.4.5.6") == std::string::npos);  // never the SOP instance
}

TEST_CASE("responses only for outstanding requests of that kind on that context", "[dicom][association]") {
    Association a;
    establish(a);
    REQUIRE(send(a, Side::initiator, message(1, echo_rq(5))).action == Action::forward);
    SECTION("unknown message id") {
        check_abort(send(a, Side::acceptor, message(1, response(echo_rq(6)))), Error::unexpected_response,
                    AbortReason::unexpected_parameter);
    }
    SECTION("wrong command") {
        Command rsp = response(echo_rq(5));
        rsp.field = 0x8020;
        rsp.affected_sop_class = verification;
        check_abort(send(a, Side::acceptor, message(1, rsp)), Error::unexpected_response, AbortReason::unexpected_parameter);
    }
    SECTION("a response from the side that sent the request") {
        check_abort(send(a, Side::initiator, message(1, response(echo_rq(5)))), Error::unexpected_response,
                    AbortReason::unexpected_parameter);
    }
    SECTION("a second response to a finished request") {
        CHECK(send(a, Side::acceptor, message(1, response(echo_rq(5)))).action == Action::forward);
        check_abort(send(a, Side::acceptor, message(1, response(echo_rq(5)))), Error::unexpected_response,
                    AbortReason::unexpected_parameter);
    }
    SECTION("a request reusing an outstanding message id") {
        check_abort(send(a, Side::initiator, message(1, echo_rq(5))), Error::duplicate_message_id,
                    AbortReason::invalid_parameter);
    }
}

TEST_CASE("pending responses keep a C-FIND outstanding; C-CANCEL follows it", "[dicom][association]") {
    AssociateRq rq = sample_rq();
    rq.contexts.push_back({7, study_root_find, {implicit_le}});
    Association a;
    establish(a, rq);
    REQUIRE(send(a, Side::initiator, message(7, find_rq(3), data_set())).action == Action::forward);
    CHECK(send(a, Side::acceptor, message(7, response(find_rq(3), status::pending), data_set())).action == Action::forward);
    CHECK(send(a, Side::acceptor, message(7, response(find_rq(3), status::pending_warning), data_set())).action ==
          Action::forward);
    CHECK(send(a, Side::initiator, message(7, cancel_rq(3))).action == Action::forward);
    CHECK(send(a, Side::acceptor, message(7, response(find_rq(3), 0xfe00))).action == Action::forward);
    // The cancel of a finished operation crossed its final response: dropped, not an error.
    const Verdict v = send(a, Side::initiator, message(7, cancel_rq(3)));
    CHECK(v.action == Action::drop);
    CHECK(v.answer.empty());
    CHECK(a.stats().cancels_dropped == 1);
    CHECK(a.state() == AssociationState::established);
}

TEST_CASE("release: the requester sends no more data, the other side may, collisions resolve", "[dicom][association]") {
    SECTION("P-DATA after one's own A-RELEASE-RQ") {
        Association a;
        establish(a);
        send(a, Side::initiator, encoded(ReleaseRq{}));
        check_abort(send(a, Side::initiator, message(1, echo_rq(1))), Error::unexpected_pdu, AbortReason::unexpected_pdu);
    }
    SECTION("the other side finishes its message, then answers") {
        Association a;
        establish(a);
        const Buffer cmd = command_bytes(response(echo_rq(1)));
        REQUIRE(send(a, Side::initiator, message(1, echo_rq(1))).action == Action::forward);
        send(a, Side::initiator, encoded(ReleaseRq{}));
        CHECK(send(a, Side::acceptor, message(1, response(echo_rq(1)))).action == Action::forward);
        const Verdict v = send(a, Side::acceptor, encoded(ReleaseRp{}));
        CHECK(v.close);
    }
    SECTION("a release request in the middle of a message") {
        Association a;
        establish(a);
        send(a, Side::initiator, pdata({{3, true, true, command_bytes(store_rq(1))}, {3, false, false, data_set()}}));
        check_abort(send(a, Side::initiator, encoded(ReleaseRq{})), Error::unexpected_pdu, AbortReason::unexpected_pdu);
    }
    SECTION("collision: both request, both answer") {
        Association a;
        establish(a);
        send(a, Side::initiator, encoded(ReleaseRq{}));
        CHECK(send(a, Side::acceptor, encoded(ReleaseRq{})).action == Action::forward_rewritten);
        CHECK_FALSE(send(a, Side::initiator, encoded(ReleaseRp{})).close);
        CHECK(send(a, Side::acceptor, encoded(ReleaseRp{})).close);
        CHECK(a.state() == AssociationState::closed);
    }
}

TEST_CASE("A-ABORT from a peer is forwarded and closes; an invalid source aborts", "[dicom][association]") {
    Association a;
    establish(a);
    Verdict v = send(a, Side::acceptor, encoded(Abort{2, 1}));
    CHECK(v.action == Action::forward_rewritten);
    CHECK(v.rewritten == hex("07 00 00000004 00 00 02 01"));
    CHECK(v.close);
    Association c;
    establish(c);
    v = send(c, Side::initiator, hex("07 00 00000004 ff ff 00 55"));  // service user: reason not significant
    CHECK(v.rewritten == hex("07 00 00000004 00 00 00 00"));
    Association b;
    send(b, Side::initiator, encoded(sample_rq()));
    check_abort(send(b, Side::initiator, encoded(Abort{1, 0})), Error::bad_field_value, AbortReason::invalid_parameter);
}

TEST_CASE("a refused request is answered, its dataset swallowed", "[dicom][association]") {
    ScriptedGate gate;
    gate.request = refuse_all;
    SECTION("command and dataset in one PDU") {
        Association a(&gate);
        establish(a);
        const Verdict v = send(a, Side::initiator, message(3, store_rq(4), data_set()));
        CHECK(v.action == Action::drop);
        CHECK(v.reason.find("refused by test") != std::string::npos);
        const auto answer = commands_in(v.answer);
        REQUIRE(answer.size() == 1);
        CHECK(answer[0] == make_response(store_rq(4), status::not_authorized));
        CHECK(a.stats().requests[0].refused == 1);
    }
    SECTION("the answer waits for the last dataset fragment") {
        Association a(&gate);
        establish(a);
        Verdict v = send(a, Side::initiator, pdata({{3, true, true, command_bytes(store_rq(4))}, {3, false, false, data_set()}}));
        CHECK(v.action == Action::drop);
        CHECK(v.answer.empty());
        v = send(a, Side::initiator, pdata({{3, false, false, data_set()}}));
        CHECK(v.action == Action::drop);
        CHECK(v.answer.empty());
        v = send(a, Side::initiator, pdata({{3, false, true, data_set()}}));
        CHECK(v.action == Action::drop);
        CHECK(commands_in(v.answer).size() == 1);
        // The refused message id is not outstanding: a response to it is a violation.
        check_abort(send(a, Side::acceptor, message(3, response(store_rq(4)))), Error::unexpected_response,
                    AbortReason::unexpected_parameter);
    }
    SECTION("messages around a refused one still pass, rewritten") {
        int n = 0;
        gate.request = [&](const RequestInfo&) {
            return ++n == 2 ? refused() : DimseDecision{};
        };
        Association a(&gate);
        establish(a);
        const Verdict v = send(a, Side::initiator,
                               pdata({{1, true, true, command_bytes(echo_rq(1))}, {1, true, true, command_bytes(echo_rq(2))},
                                      {1, true, true, command_bytes(echo_rq(3))}}));
        REQUIRE(v.action == Action::forward_rewritten);
        const auto onward = commands_in(v.rewritten);
        REQUIRE(onward.size() == 2);
        CHECK(onward[0].message_id == std::optional<std::uint16_t>(1));
        CHECK(onward[1].message_id == std::optional<std::uint16_t>(3));
        const auto answer = commands_in(v.answer);
        REQUIRE(answer.size() == 1);
        CHECK(answer[0].responded_to == std::optional<std::uint16_t>(2));
    }
    SECTION("after the other side's A-RELEASE-RQ a refusal cannot be answered: abort") {
        Association a(&gate);
        establish(a);
        send(a, Side::acceptor, encoded(ReleaseRq{}));
        check_abort(send(a, Side::initiator, message(1, echo_rq(1))), Error::refused_unanswerable,
                    AbortReason::not_specified);
    }
    SECTION("a refused C-CANCEL cannot be answered: abort") {
        Association a(&gate);
        establish(a);
        check_abort(send(a, Side::initiator, message(1, cancel_rq(1))), Error::refused_unanswerable,
                    AbortReason::not_specified);
    }
}

TEST_CASE("an answer never splits the other side's message", "[dicom][association]") {
    // The acceptor's C-STORE sub-operation is refused while the initiator is half-way through
    // a C-STORE of its own towards it: the refusal waits and rides behind that message.
    ScriptedGate gate;
    gate.request = [](const RequestInfo& r) {
        return r.from == Side::acceptor ? refused() : DimseDecision{};
    };
    Association a(&gate);
    establish(a);
    Verdict v = send(a, Side::initiator, pdata({{3, true, true, command_bytes(store_rq(1))}, {3, false, false, data_set()}}));
    CHECK(v.action == Action::forward);
    v = send(a, Side::acceptor, message(5, store_rq(77, pet), data_set()));
    CHECK(v.action == Action::drop);
    CHECK(v.answer.empty());  // held: the initiator's message to the acceptor is unfinished
    v = send(a, Side::initiator, pdata({{3, false, true, data_set()}, {1, true, true, command_bytes(echo_rq(2))}}));
    REQUIRE(v.action == Action::forward_rewritten);
    std::vector<Pdv> pdvs;
    REQUIRE(decode_pdvs(frame_of(v.rewritten), pdvs).ok());
    REQUIRE(pdvs.size() == 3);
    CHECK_FALSE(pdvs[0].command);  // the end of the initiator's dataset
    CHECK(pdvs[1].command);        // our refusal to the acceptor
    CHECK(pdvs[1].context_id == 5);
    CHECK(pdvs[2].context_id == 1);  // then the initiator's next message
    const auto cmds = commands_in(v.rewritten);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0] == make_response(store_rq(77, pet), status::not_authorized));
    CHECK(cmds[1] == echo_rq(2));
}

TEST_CASE("answers and rewritten PDUs respect the receiver's maximum length", "[dicom][association]") {
    ScriptedGate gate;
    gate.request = refuse_all;
    gate.max_pdu = 64;
    Association a(&gate);
    establish(a);
    CHECK(a.limits(Side::initiator).max_pdata == 64);
    CHECK(a.limits(Side::acceptor).max_pdata == 64);
    const Buffer cmd = command_bytes(echo_rq(1));
    // The command must come in fragments to fit 64 bytes.
    Buffer pdus;
    {
        PDataWriter w(pdus, 64);
        w.add(1, true, true, cmd);
    }
    PduReassembler r;
    r.append(pdus);
    Verdict last;
    for (;;) {
        Step s = a.feed(Side::initiator, r.pending());
        if (!s.ready) break;
        REQUIRE(s.verdict.action != Action::abort);
        last = s.verdict;
        r.consume(s.consumed);
    }
    REQUIRE_FALSE(last.answer.empty());
    PduReassembler answer;
    answer.append(last.answer);
    for (;;) {
        FrameResult f = answer.next(FrameLimits{max_associate_length, 64});
        REQUIRE(f.status != FrameStatus::error);
        if (f.status == FrameStatus::need_more) break;
        answer.consume(f.frame.bytes.size());
    }
    CHECK(answer.pending().empty());
    CHECK(commands_in(last.answer).size() == 1);
}

TEST_CASE("the gate sees whether a C-GET is outstanding", "[dicom][association]") {
    ScriptedGate gate;
    AssociateRq rq = sample_rq();
    rq.contexts.push_back({9, study_root_get, {implicit_le}});
    Association a(&gate);
    establish(a, rq);
    send(a, Side::initiator, message(9, get_rq(1), data_set()));
    send(a, Side::acceptor, message(3, store_rq(100), data_set()));
    send(a, Side::initiator, message(3, response(store_rq(100))));
    send(a, Side::acceptor, message(9, response(get_rq(1))));
    send(a, Side::acceptor, message(3, store_rq(101), data_set()));
    CHECK(gate.seen == std::vector<std::uint16_t>{command::c_get, command::c_store, command::c_store});
    CHECK(gate.c_get_outstanding == std::vector<bool>{false, true, false});
}

TEST_CASE("feed() consumes exactly one PDU at a time from a stream", "[dicom][association]") {
    {
        Association fresh;
        const Step partial = fresh.feed(Side::initiator, hex("01 00 00"));
        CHECK_FALSE(partial.ready);
        CHECK(partial.verdict.action == Action::drop);  // never "forward" by default
    }
    Association a;
    Buffer stream = encoded(sample_rq());
    const Buffer first = stream;
    stream.push_back(0x07);  // the start of the next PDU
    Step s = a.feed(Side::initiator, stream);
    REQUIRE(s.ready);
    CHECK(s.consumed == first.size());
    CHECK_FALSE(a.feed(Side::initiator, Bytes(stream).subspan(s.consumed)).ready);
}
