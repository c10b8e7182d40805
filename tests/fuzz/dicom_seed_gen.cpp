// Writes the encoder-made seeds of the dicom_decoder fuzz target: whole associations (echo,
// store, find with cancel, get with sub-operations, move, refusals, release collision,
// abort, reject) in the dicom_fuzz_input.hpp format, split at awkward places.
// Usage: dicom_seed_gen OUTPUT_DIR
#include <cstdio>
#include <string>
#include <vector>

#include "dicom/codec.hpp"
#include "dicom/command.hpp"
#include "dicom/pdata.hpp"
#include "dicom_fuzz_input.hpp"

namespace {

using namespace modgate::dicom;

const std::string verification = "1.2.840.10008.1.1", ct = "1.2.840.10008.5.1.4.1.1.2",
                  pet = "1.2.840.10008.5.1.4.1.1.128", mr = "1.2.840.10008.5.1.4.1.1.4",
                  find_model = "1.2.840.10008.5.1.4.1.2.2.1", move_model = "1.2.840.10008.5.1.4.1.2.2.2",
                  get_model = "1.2.840.10008.5.1.4.1.2.2.3", commitment = "1.2.840.10008.1.20.1",
                  implicit_le = "1.2.840.10008.1.2", explicit_le = "1.2.840.10008.1.2.1";

struct Seed {
    std::string name;
    std::uint8_t flags;
    std::vector<std::uint8_t> bytes;

    Seed(std::string n, std::uint8_t f) : name(std::move(n)), flags(f) { bytes.push_back(f); }
    // One PDU from `side`, cut into records of `split` bytes (0 = whole).
    Seed& send(int side, const Buffer& pdu, std::size_t split = 0) {
        if (split == 0) split = pdu.size();
        for (std::size_t at = 0; at < pdu.size(); at += split)
            dicom_fuzz::add_record(bytes, side, pdu.data() + at, std::min(split, pdu.size() - at));
        return *this;
    }
};

template <class T>
Buffer pdu(const T& value) {
    Buffer out;
    encode(value, out);
    return out;
}

AssociateRq request(std::vector<PresentationContextRq> contexts, std::uint32_t max_length = 16384) {
    AssociateRq rq;
    rq.called_ae = "PACS_MAIN";
    rq.calling_ae = "PETCT1";
    rq.contexts = std::move(contexts);
    rq.user_info.max_length = max_length;
    rq.user_info.implementation_class_uid = "1.2.276.0.7230010.3.0.3.6.7";
    rq.user_info.implementation_version_name = "OFFIS_DCMTK_367";
    return rq;
}

AssociateAc accept(const AssociateRq& rq, std::uint32_t max_length = 16384) {
    AssociateAc ac;
    ac.called_ae = rq.called_ae;
    ac.calling_ae = rq.calling_ae;
    for (const auto& pc : rq.contexts) ac.contexts.push_back({pc.id, ContextResult::acceptance, pc.transfer_syntaxes.front()});
    ac.user_info.max_length = max_length;
    ac.user_info.implementation_class_uid = "1.2.826.0.1.3680043.2.135.1066.101";
    return ac;
}

Buffer cmd(const Command& c) {
    Buffer out;
    encode_command(c, out);
    return out;
}

// A message as P-DATA-TF PDUs no longer than `max` (command and dataset in separate PDUs).
Buffer message(std::uint8_t ctx, const Command& c, std::size_t data_set = 0, std::uint32_t max = 16384) {
    Buffer out;
    {
        PDataWriter w(out, max);
        w.add(ctx, true, true, cmd(c));
    }
    if (c.has_data_set()) {
        PDataWriter w(out, max);
        Buffer ds(data_set, 0x20);
        for (std::size_t i = 0; i < ds.size(); ++i) ds[i] = static_cast<std::uint8_t>(i * 7);
        w.add(ctx, false, true, ds);
    }
    return out;
}

Command request_cmd(std::uint16_t field, std::uint16_t id, const std::string& sop, bool data) {
    Command c;
    c.field = field;
    c.message_id = id;
    c.data_set_type = data ? 0x0000 : command::no_data_set;
    if (field == command::n_action || field == command::n_set || field == command::n_get || field == command::n_delete)
        c.requested_sop_class = sop;
    else
        c.affected_sop_class = sop;
    if (field == command::c_store) c.affected_sop_instance = "1.2.3.4.5.6.7.8";
    if (field == command::n_action) c.requested_sop_instance = "1.2.840.10008.1.20.1.1";
    if (field == command::c_store || field == command::c_find || field == command::c_move || field == command::c_get)
        c.priority = 0;
    return c;
}

Command rsp(const Command& rq, std::uint16_t status_value = 0) { return make_response(rq, status_value); }

std::vector<Seed> seeds() {
    std::vector<Seed> out;
    const std::uint8_t policy = dicom_fuzz::flag_policy, small = dicom_fuzz::flag_small_pdu;
    const auto rq_echo = request({{1, verification, {implicit_le}}});
    for (std::uint8_t flags : {std::uint8_t{0}, policy}) {
        Seed s(flags ? "echo-policy" : "echo", flags);
        const Command e = request_cmd(command::c_echo, 1, verification, false);
        s.send(0, pdu(rq_echo)).send(1, pdu(accept(rq_echo))).send(0, message(1, e)).send(1, message(1, rsp(e)));
        s.send(0, pdu(ReleaseRq{})).send(1, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("store-split", policy);
        const auto rq = request({{1, verification, {implicit_le}}, {3, ct, {explicit_le, implicit_le}}, {5, pet, {implicit_le}}});
        const Command st = request_cmd(command::c_store, 1, ct, true);
        const Command st2 = request_cmd(command::c_store, 2, pet, true);
        s.send(0, pdu(rq), 37).send(1, pdu(accept(rq, 4096)), 11);
        s.send(0, message(3, st, 10000, 4096), 1000).send(1, message(3, rsp(st)));
        s.send(0, message(5, st2, 300, 4096), 5).send(1, message(5, rsp(st2, 0xb000)));
        s.send(0, pdu(ReleaseRq{})).send(1, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("store-small-pdu", policy | small);
        const auto rq = request({{3, ct, {implicit_le}}}, 0);
        const Command st = request_cmd(command::c_store, 7, ct, true);
        s.send(0, pdu(rq)).send(1, pdu(accept(rq, 0)));
        s.send(0, message(3, st, 500, 128)).send(1, message(3, rsp(st), 0, 128));
        s.send(1, pdu(ReleaseRq{})).send(0, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("find-cancel", policy);
        const auto rq = request({{1, find_model, {implicit_le}}});
        const Command f = request_cmd(command::c_find, 3, find_model, true);
        Command cancel;
        cancel.field = command::c_cancel;
        cancel.responded_to = 3;
        s.send(0, pdu(rq)).send(1, pdu(accept(rq))).send(0, message(1, f, 80));
        s.send(1, message(1, rsp(f, status::pending), 120)).send(1, message(1, rsp(f, status::pending_warning), 60));
        s.send(0, message(1, cancel)).send(1, message(1, rsp(f, 0xfe00))).send(0, message(1, cancel));
        s.send(0, pdu(ReleaseRq{})).send(1, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("get-suboperations", policy);
        auto rq = request({{1, get_model, {implicit_le}}, {3, ct, {implicit_le}}});
        rq.user_info.roles = {{ct, 0, 1}};
        auto ac = accept(rq);
        ac.user_info.roles = {{ct, 0, 1}};
        const Command g = request_cmd(command::c_get, 1, get_model, true);
        const Command sub = request_cmd(command::c_store, 100, ct, true);
        const Command sub_mr = request_cmd(command::c_store, 101, ct, true);
        s.send(0, pdu(rq)).send(1, pdu(ac)).send(0, message(1, g, 40));
        s.send(1, message(3, sub, 700)).send(0, message(3, rsp(sub))).send(1, message(1, rsp(g, status::pending)));
        s.send(1, message(3, sub_mr, 50)).send(0, message(3, rsp(sub_mr))).send(1, message(1, rsp(g)));
        s.send(1, message(3, request_cmd(command::c_store, 102, ct, true), 20));  // after the C-GET: refused
        s.send(0, pdu(ReleaseRq{})).send(1, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("move-and-refusals", policy);
        const auto rq = request({{1, move_model, {implicit_le}}, {3, mr, {implicit_le}}, {5, commitment, {implicit_le}}});
        Command m = request_cmd(command::c_move, 1, move_model, true);
        m.move_destination = "PACS_MAIN";
        Command bad = m;
        bad.message_id = 2;
        bad.move_destination = "ELSEWHERE";
        const Command action = request_cmd(command::n_action, 3, commitment, true);
        const Command create = request_cmd(command::n_create, 4, commitment, true);
        auto ac = accept(rq);
        ac.contexts.erase(ac.contexts.begin() + 1);  // MR never reaches the acceptor
        s.send(0, pdu(rq)).send(1, pdu(ac)).send(0, message(1, m, 60)).send(1, message(1, rsp(m)));
        s.send(0, message(1, bad, 60)).send(0, message(5, action, 90)).send(0, message(5, create, 30));
        s.send(1, message(5, rsp(action))).send(1, pdu(Abort{0, 0}));
        out.push_back(s);
    }
    {
        Seed s("release-collision", 0);
        s.send(0, pdu(rq_echo)).send(1, pdu(accept(rq_echo))).send(0, pdu(ReleaseRq{})).send(1, pdu(ReleaseRq{}));
        s.send(0, pdu(ReleaseRp{})).send(1, pdu(ReleaseRp{}));
        out.push_back(s);
    }
    {
        Seed s("reject-calling-ae", policy);
        auto rq = rq_echo;
        rq.calling_ae = "INTRUDER";
        s.send(0, pdu(rq));
        out.push_back(s);
        Seed t("reject-by-acceptor", 0);
        t.send(0, pdu(rq_echo)).send(1, pdu(AssociateRj{1, 1, 7}));
        out.push_back(t);
    }
    {
        Seed s("all-items", 0);
        auto rq = request({{1, verification, {implicit_le, explicit_le}}, {3, find_model, {implicit_le}}});
        rq.user_info.async_window = AsyncOperationsWindow{3, 3};
        rq.user_info.roles = {{ct, 1, 1}};
        rq.user_info.sop_class_extended = {{find_model, {1, 1, 1}}};
        rq.user_info.common_extended = {{ct, "1.2.840.10008.4.2", {"1.2.840.10008.5.1.4.1.1.2.1"}}};
        rq.user_info.identity_rq = UserIdentityRq{2, 1, {'u'}, {'p'}};
        rq.user_info.unknown = {{0x5a, {1, 2, 3}}};
        auto ac = accept(rq);
        ac.contexts[1].result = ContextResult::abstract_syntax_not_supported;
        ac.user_info.async_window = AsyncOperationsWindow{1, 1};
        ac.user_info.identity_ac = UserIdentityAc{{'o', 'k'}};
        s.send(0, pdu(rq), 100).send(1, pdu(ac), 3).send(0, pdu(Abort{0, 0}));
        out.push_back(s);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    for (const Seed& s : seeds()) {
        const std::string path = std::string(argv[1]) + "/gen-" + s.name;
        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (f == nullptr || std::fwrite(s.bytes.data(), 1, s.bytes.size(), f) != s.bytes.size()) {
            std::perror(path.c_str());
            return 1;
        }
        std::fclose(f);
    }
    return 0;
}
