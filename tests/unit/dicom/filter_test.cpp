// The policy filter: association decisions (AE titles, limits, contexts) and DIMSE decisions,
// alone and wired into an Association through PolicyGate.
#include "dicom/filter.hpp"
#include "test_support.hpp"

using namespace dicom_test;
namespace policy = modgate::policy;

namespace {

policy::Allow dicom_allow(std::size_t index, std::string modality, std::string peer, policy::Direction dir,
                          std::vector<policy::Dimse> dimse, std::vector<std::string> sops) {
    policy::Allow a;
    a.index = index;
    a.name = modality + (dir == policy::Direction::outbound ? " -> " : " <- ") + peer + " dicom";
    a.modality = std::move(modality);
    a.peer = std::move(peer);
    a.direction = dir;
    a.service = policy::Service::dicom;
    a.ports = {{policy::Proto::tcp, 104}};
    a.dimse = std::move(dimse);
    for (auto& s : sops) a.sop_classes.push_back({std::move(s), ""});
    return a;
}

policy::Peer peer(std::string name, std::optional<std::string> ae, std::uint32_t max_assoc = 0) {
    policy::Peer p;
    p.name = std::move(name);
    if (ae) p.dicom = policy::DicomEndpoint{*ae, 104, {}};
    p.limits.max_associations = max_assoc;
    return p;
}

const policy::Policy& test_policy() {
    static const policy::Policy p = [] {
        using D = policy::Dimse;
        policy::Policy pol;
        policy::Modality m;
        m.name = "pet-ct-1";
        m.dicom = policy::DicomEndpoint{"PETCT1", 104, {}};
        pol.modalities.push_back(m);
        pol.peers = {peer("pacs", "PACS_MAIN", 2), peer("ris", "RIS"), peer("archive", ""), peer("viewer", std::nullopt)};
        pol.allows.push_back(dicom_allow(0, "pet-ct-1", "pacs", policy::Direction::outbound,
                                         {D::c_echo, D::c_store, D::n_action}, {pet, ct, storage_commitment}));
        auto ris = dicom_allow(1, "pet-ct-1", "ris", policy::Direction::outbound, {D::c_find, D::c_move, D::c_get},
                               {study_root_find, study_root_move, study_root_get, ct});
        ris.transfer_syntaxes = {implicit_le, explicit_le};
        ris.max_pdu = 32768;
        ris.max_associations = 1;
        pol.allows.push_back(ris);
        pol.allows.push_back(dicom_allow(2, "pet-ct-1", "pacs", policy::Direction::inbound,
                                         {D::n_event_report, D::c_store}, {storage_commitment, ct}));
        pol.allows.push_back(dicom_allow(5, "pet-ct-1", "ris", policy::Direction::inbound, {D::c_store}, {}));
        pol.allows.push_back(dicom_allow(3, "pet-ct-1", "archive", policy::Direction::outbound, {D::c_store}, {ct}));
        policy::Allow tcp;
        tcp.index = 4;
        tcp.modality = "pet-ct-1";
        tcp.peer = "pacs";
        tcp.service = policy::Service::tcp;
        tcp.dimse = {D::c_find};
        pol.allows.push_back(tcp);
        return pol;
    }();
    return p;
}

AssociationRules rules_for(std::string peer_name, policy::Direction dir = policy::Direction::outbound,
                           std::uint16_t port = 104) {
    return select_rules(test_policy(), Endpoints{"pet-ct-1", std::move(peer_name), dir, port});
}

AssociateRq rq_to(std::string called, std::string calling = "PETCT1") {
    AssociateRq rq = sample_rq();
    rq.called_ae = std::move(called);
    rq.calling_ae = std::move(calling);
    return rq;
}

void check_rj(const AssociateDecision& d, std::uint8_t result, std::uint8_t source, std::uint8_t reason) {
    INFO(d.reason);
    CHECK(d.reject);
    CHECK(d.rj == AssociateRj{result, source, reason});
}

const ContextDecision& ctx(const AssociateDecision& d, std::uint8_t id) {
    for (const auto& c : d.contexts)
        if (c.id == id) return c;
    FAIL("no decision for context " << int(id));
    return d.contexts.front();
}

DimseDecision request(const AssociationRules& r, Side from, const std::string& abstract, const Command& cmd,
                      bool c_get_outstanding = false) {
    const Context c{3, abstract, implicit_le};
    return decide_request(r, RequestInfo{from, c, cmd, c_get_outstanding});
}

}  // namespace

TEST_CASE("select_rules picks the dicom allows of these endpoints and their AE titles", "[dicom][filter]") {
    const AssociationRules r = rules_for("pacs");
    CHECK(r.endpoints_known);
    REQUIRE(r.rules.size() == 1);  // the tcp allow and the inbound allow do not apply
    CHECK(r.rules[0].allow_index == 0);
    CHECK(r.calling_ae == std::optional<std::string>("PETCT1"));
    CHECK(r.called_ae == std::optional<std::string>("PACS_MAIN"));
    CHECK(r.move_destinations == std::vector<std::string>{"PETCT1", "PACS_MAIN", "RIS"});
    CHECK(r.max_pdu == 65536);
    CHECK(r.max_modality == 16);
    CHECK(r.max_peer == 2);
    CHECK(r.max_rule == 0);
    const AssociationRules in = rules_for("pacs", policy::Direction::inbound);
    REQUIRE(in.rules.size() == 1);
    CHECK(in.rules[0].allow_index == 2);
    CHECK(in.calling_ae == std::optional<std::string>("PACS_MAIN"));
    CHECK(in.called_ae == std::optional<std::string>("PETCT1"));
    CHECK(rules_for("ris").max_pdu == 32768);
    CHECK(rules_for("ris").max_rule == 1);
}

TEST_CASE("no dicom allow for the endpoints: RJ 1/1/1", "[dicom][filter]") {
    check_rj(decide_associate(rules_for("pacs", policy::Direction::outbound, 11112), rq_to("PACS_MAIN"), {}), 1, 1, 1);
    check_rj(decide_associate(rules_for("viewer"), rq_to("X"), {}), 1, 1, 1);
    check_rj(decide_associate(select_rules(test_policy(), {"no-such", "pacs"}), rq_to("PACS_MAIN"), {}), 1, 1, 1);
}

TEST_CASE("unknown calling AE: RJ 1/1/3; unknown called AE: RJ 1/1/7", "[dicom][filter]") {
    const AssociationRules r = rules_for("pacs");
    AssociateDecision d = decide_associate(r, rq_to("PACS_MAIN", "INTRUDER"), {});
    check_rj(d, 1, 1, 3);
    CHECK(d.reason == "calling AE title \"INTRUDER\" not recognized");
    d = decide_associate(r, rq_to("PACS_OTHER"), {});
    check_rj(d, 1, 1, 7);
    CHECK(d.reason == "called AE title \"PACS_OTHER\" not recognized");
    CHECK_FALSE(decide_associate(r, rq_to("PACS_MAIN"), {}).reject);
    // AE titles are case-sensitive.
    check_rj(decide_associate(r, rq_to("pacs_main"), {}), 1, 1, 7);
    SECTION("inbound: the peer calls the modality") {
        const AssociationRules in = rules_for("pacs", policy::Direction::inbound);
        CHECK_FALSE(decide_associate(in, rq_to("PETCT1", "PACS_MAIN"), {}).reject);
        check_rj(decide_associate(in, rq_to("PETCT1", "PETCT1"), {}), 1, 1, 3);
        check_rj(decide_associate(in, rq_to("OTHER", "PACS_MAIN"), {}), 1, 1, 7);
    }
    SECTION("a peer without an AE title matches no AE title") {
        CHECK(rules_for("archive").called_ae == std::nullopt);
        check_rj(decide_associate(rules_for("archive"), rq_to("ANYTHING"), {}), 1, 1, 7);
        check_rj(decide_associate(rules_for("archive"), rq_to(""), {}), 1, 1, 7);
    }
}

TEST_CASE("concurrency caps: RJ 2/3/2", "[dicom][filter]") {
    const AssociationRules pacs = rules_for("pacs");
    CHECK_FALSE(decide_associate(pacs, rq_to("PACS_MAIN"), Counts{15, 1, 0}).reject);
    AssociateDecision d = decide_associate(pacs, rq_to("PACS_MAIN"), Counts{16, 0, 0});
    check_rj(d, 2, 3, 2);
    CHECK(d.reason == "modality association limit 16 reached (16 open)");
    d = decide_associate(pacs, rq_to("PACS_MAIN"), Counts{0, 2, 0});
    check_rj(d, 2, 3, 2);
    CHECK(d.reason == "peer association limit 2 reached (2 open)");
    const AssociationRules ris = rules_for("ris");
    check_rj(decide_associate(ris, rq_to("RIS"), Counts{0, 0, 1}), 2, 3, 2);
    CHECK_FALSE(decide_associate(ris, rq_to("RIS"), Counts{0, 0, 0}).reject);
    CHECK_FALSE(decide_associate(pacs, rq_to("PACS_MAIN"), Counts{0, 0, 100}).reject);  // no rule cap
}

TEST_CASE("presentation contexts: abstract syntax result 3, transfer syntaxes result 4, others proceed",
          "[dicom][filter]") {
    SECTION("to the PACS") {
        AssociateRq rq = rq_to("PACS_MAIN");
        rq.contexts.push_back({7, mr, {implicit_le}});
        const AssociateDecision d = decide_associate(rules_for("pacs"), rq, {});
        REQUIRE_FALSE(d.reject);
        CHECK(ctx(d, 1).result == ContextResult::acceptance);  // Verification, implied by C-ECHO
        CHECK(ctx(d, 3).result == ContextResult::acceptance);
        CHECK(ctx(d, 3).transfer_syntaxes == std::vector<std::string>{explicit_le, implicit_le});  // any
        CHECK(ctx(d, 5).result == ContextResult::acceptance);
        CHECK(ctx(d, 7).result == ContextResult::abstract_syntax_not_supported);
        CHECK(ctx(d, 7).reason == "abstract syntax " + mr + " not allowed");
        CHECK(d.max_pdu == 65536);
    }
    SECTION("to the RIS, which lists transfer syntaxes") {
        AssociateRq rq = rq_to("RIS");
        rq.contexts = {{1, study_root_find, {deflated, implicit_le}}, {3, ct, {deflated}}, {5, verification, {implicit_le}}};
        const AssociateDecision d = decide_associate(rules_for("ris"), rq, {});
        CHECK(ctx(d, 1).result == ContextResult::acceptance);
        CHECK(ctx(d, 1).transfer_syntaxes == std::vector<std::string>{implicit_le});
        CHECK(ctx(d, 3).result == ContextResult::transfer_syntaxes_not_supported);
        CHECK(ctx(d, 5).result == ContextResult::abstract_syntax_not_supported);  // no C-ECHO in that allow
        CHECK(d.max_pdu == 32768);
    }
}

TEST_CASE("an allow with an empty sop_classes list allows no SOP class", "[dicom][filter]") {
    const AssociationRules in = rules_for("ris", policy::Direction::inbound);
    REQUIRE(in.rules.size() == 1);
    AssociateRq rq = rq_to("PETCT1", "RIS");
    const AssociateDecision d = decide_associate(in, rq, {});
    REQUIRE_FALSE(d.reject);
    for (const auto& c : d.contexts) CHECK(c.result == ContextResult::abstract_syntax_not_supported);
    CHECK(request(in, Side::initiator, ct, store_rq(1)).kind == DimseDecision::Kind::refuse);
}

TEST_CASE("PolicyGate in an association: rejected contexts never reach the acceptor and come back in the AC",
          "[dicom][filter]") {
    PolicyGate gate(rules_for("ris"), {});
    Association a(&gate);
    AssociateRq rq = rq_to("RIS");
    rq.contexts = {{1, study_root_find, {deflated, implicit_le}}, {3, ct, {deflated}}, {5, mr, {implicit_le}},
                   {7, study_root_move, {explicit_le}}};
    Verdict v = send(a, Side::initiator, encoded(rq));
    REQUIRE(v.action == Action::forward_rewritten);
    const auto fwd = decoded<AssociateRq>(v.rewritten);
    CHECK(fwd.contexts == std::vector<PresentationContextRq>{{1, study_root_find, {implicit_le}}, {7, study_root_move, {explicit_le}}});
    CHECK(fwd.user_info.max_length == std::optional<std::uint32_t>(16384));
    CHECK(v.reason.find("context 3 " + ct + " rejected (4)") != std::string::npos);
    CHECK(v.reason.find("context 5 " + mr + " rejected (3)") != std::string::npos);
    CHECK(a.stats().contexts_rejected_by_policy == 2);
    CHECK(a.stats().contexts_proposed == 4);

    AssociateAc ac = sample_ac(fwd);
    ac.user_info.max_length = 65536;
    v = send(a, Side::acceptor, encoded(ac));
    REQUIRE(v.action == Action::forward_rewritten);
    const auto back = decoded<AssociateAc>(v.rewritten);
    CHECK(back.contexts == std::vector<PresentationContextAc>{
                               {1, ContextResult::acceptance, implicit_le},
                               {3, ContextResult::transfer_syntaxes_not_supported, deflated},
                               {5, ContextResult::abstract_syntax_not_supported, implicit_le},
                               {7, ContextResult::acceptance, explicit_le}});
    CHECK(back.user_info.max_length == std::optional<std::uint32_t>(32768));  // the allow's max_pdu
    CHECK(a.limits(Side::initiator).max_pdata == 32768);
    // A PDV on a context the policy rejected is a violation like any unaccepted context.
    const Verdict bad = send(a, Side::initiator, message(5, store_rq(1, mr), data_set()));
    CHECK(bad.action == Action::abort);
    CHECK(bad.error.error == Error::pdv_unaccepted_context);
}

TEST_CASE("PolicyGate rejects with the exact A-ASSOCIATE-RJ bytes", "[dicom][filter]") {
    struct Case {
        AssociateRq rq;
        Counts counts;
        Buffer rj;
    };
    AssociateRq only_mr = rq_to("PACS_MAIN");
    only_mr.contexts = {{1, mr, {implicit_le}}};
    for (const Case& c : {Case{rq_to("PACS_MAIN", "EVIL"), {}, hex("03 00 00000004 00 01 01 03")},
                          Case{rq_to("NOT_PACS"), {}, hex("03 00 00000004 00 01 01 07")},
                          Case{rq_to("PACS_MAIN"), Counts{0, 2, 0}, hex("03 00 00000004 00 02 03 02")},
                          Case{only_mr, {}, hex("03 00 00000004 00 01 01 01")}}) {
        PolicyGate gate(rules_for("pacs"), c.counts);
        Association a(&gate);
        const Verdict v = send(a, Side::initiator, encoded(c.rq));
        INFO(v.reason);
        CHECK(v.action == Action::drop);
        CHECK(v.rewritten.empty());
        CHECK(v.answer == c.rj);
        CHECK(v.close);
        CHECK(a.decision().reject);
        CHECK(a.state() == AssociationState::closed);
    }
}

TEST_CASE("DIMSE: the initiator sends what `dimse` lists", "[dicom][filter]") {
    const AssociationRules pacs = rules_for("pacs");
    using K = DimseDecision::Kind;
    CHECK(request(pacs, Side::initiator, ct, store_rq(1)).kind == K::forward);
    CHECK(request(pacs, Side::initiator, verification, echo_rq(1)).kind == K::forward);
    CHECK(request(pacs, Side::initiator, storage_commitment, n_action_rq(1)).kind == K::forward);
    Command find = find_rq(2);
    find.affected_sop_class = ct;
    const DimseDecision d = request(pacs, Side::initiator, ct, find);
    CHECK(d.kind == K::refuse);
    CHECK(d.status == 0x0124);
    CHECK(d.reason == "C-FIND-RQ from initiator refused (context 3, SOP class " + ct + ", message id 2): not allowed by policy");
    // A SOP class the allow does not list (as if a context had slipped through).
    CHECK(request(pacs, Side::initiator, mr, store_rq(1, mr)).kind == K::refuse);
    // Storage commitment reports come from the peer on an inbound association, not back here.
    CHECK(request(pacs, Side::acceptor, storage_commitment, n_event_report_rq(1)).kind == K::refuse);
    CHECK(request(pacs, Side::initiator, storage_commitment, n_event_report_rq(1)).kind == K::refuse);
}

TEST_CASE("DIMSE: C-CANCEL with C-FIND/C-GET/C-MOVE, otherwise abort", "[dicom][filter]") {
    using K = DimseDecision::Kind;
    CHECK(request(rules_for("ris"), Side::initiator, study_root_find, cancel_rq(1)).kind == K::forward);
    CHECK(request(rules_for("pacs"), Side::initiator, ct, cancel_rq(1)).kind == K::abort);
    CHECK(request(rules_for("ris"), Side::acceptor, study_root_find, cancel_rq(1)).kind == K::abort);
}

TEST_CASE("DIMSE: a C-MOVE destination must be named by the policy", "[dicom][filter]") {
    using K = DimseDecision::Kind;
    const AssociationRules ris = rules_for("ris");
    CHECK(request(ris, Side::initiator, study_root_move, move_rq(1, "PACS_MAIN")).kind == K::forward);
    CHECK(request(ris, Side::initiator, study_root_move, move_rq(1, "PETCT1")).kind == K::forward);
    const DimseDecision d = request(ris, Side::initiator, study_root_move, move_rq(1, "ELSEWHERE"));
    CHECK(d.kind == K::refuse);
    CHECK(d.status == 0xa801);
    CHECK(d.reason.find("move destination \"ELSEWHERE\" not named by the policy") != std::string::npos);
}

TEST_CASE("DIMSE: C-GET brings C-STORE sub-operations from the acceptor for the allowed classes", "[dicom][filter]") {
    using K = DimseDecision::Kind;
    const AssociationRules ris = rules_for("ris");
    CHECK(request(ris, Side::initiator, study_root_get, get_rq(1)).kind == K::forward);
    CHECK(request(ris, Side::acceptor, ct, store_rq(10), true).kind == K::forward);
    CHECK(request(ris, Side::acceptor, ct, store_rq(10), false).kind == K::refuse);  // no C-GET outstanding
    CHECK(request(ris, Side::acceptor, pet, store_rq(10, pet), true).kind == K::refuse);  // class not allowed
    CHECK(request(ris, Side::initiator, ct, store_rq(10)).kind == K::refuse);  // not for the initiator
    CHECK(request(rules_for("pacs"), Side::acceptor, ct, store_rq(10), true).kind == K::refuse);  // no C-GET there
}

TEST_CASE("DIMSE: inbound, the peer may send what its allow lists", "[dicom][filter]") {
    using K = DimseDecision::Kind;
    const AssociationRules in = rules_for("pacs", policy::Direction::inbound);
    CHECK(request(in, Side::initiator, storage_commitment, n_event_report_rq(1)).kind == K::forward);
    CHECK(request(in, Side::initiator, ct, store_rq(1)).kind == K::forward);
    CHECK(request(in, Side::initiator, mr, store_rq(1, mr)).kind == K::refuse);
    CHECK(request(in, Side::initiator, verification, echo_rq(1)).kind == K::refuse);
    CHECK(request(in, Side::acceptor, storage_commitment, n_event_report_rq(1)).kind == K::refuse);
}

TEST_CASE("a refused request is answered with the exact refusal bytes", "[dicom][filter]") {
    PolicyGate gate(rules_for("pacs"), {});
    Association a(&gate);
    establish(a, rq_to("PACS_MAIN"));
    Command find = find_rq(9);
    find.affected_sop_class = ct;
    const Verdict v = send(a, Side::initiator, message(3, find, data_set()));
    CHECK(v.action == Action::drop);
    CHECK(v.answer == pdata({{3, true, true, command_bytes(make_response(find, 0x0124))}}));
    CHECK(v.reason.find("C-FIND-RQ from initiator refused") != std::string::npos);
    CHECK(a.stats().requests[static_cast<std::size_t>(dimse_index(command::c_find))].refused == 1);
    // The association goes on.
    CHECK(send(a, Side::initiator, message(3, store_rq(10), data_set())).action == Action::forward);
    const Verdict move = [&] {
        PolicyGate g(rules_for("ris"), {});
        Association b(&g);
        AssociateRq rq = rq_to("RIS");
        rq.contexts = {{1, study_root_move, {implicit_le}}};
        establish(b, rq);
        return send(b, Side::initiator, message(1, move_rq(4, "ELSEWHERE"), data_set()));
    }();
    CHECK(move.action == Action::drop);
    CHECK(move.answer == pdata({{1, true, true, command_bytes(make_response(move_rq(4, "ELSEWHERE"), 0xa801))}}));
}

TEST_CASE("audit reasons carry no SOP instance UIDs", "[dicom][filter]") {
    PolicyGate gate(rules_for("ris"), {});
    AssociateRq rq = rq_to("RIS");
    rq.contexts = {{1, study_root_get, {implicit_le}}, {3, pet, {implicit_le}}};
    AssociateDecision d = decide_associate(gate.rules(), rq, {});
    CHECK(ctx(d, 3).result == ContextResult::abstract_syntax_not_supported);
    const DimseDecision s = request(gate.rules(), Side::acceptor, pet, store_rq(10, pet), true);
    CHECK(s.reason.find("1.2.3.4.5.6") == std::string::npos);
    CHECK(s.reason.find(pet) != std::string::npos);
}
