// The input format of the dicom_decoder fuzz target, and the driver that replays such an
// input through an Association; shared by the fuzz target, its seed generator and the unit
// test that replays the seed corpus.
//
//   byte 0        bit 0: run with the policy filter (else no gate)
//                 bit 1: a small maximum PDU (128), to force fragmentation and rewriting
//                 bit 2: with bit 0, the permissive policy (see FuzzGate)
//   records       [side][length lo][length hi][length bytes]
//                 side bit 0: 0 initiator, 1 acceptor; a length past the end takes the rest
//
// Record boundaries are the splits the proxy's reads would make; each record is appended to
// that side's buffer, then every complete PDU in it is judged. The policy: PETCT1 (modality
// pet-ct-1) calls PACS_MAIN (peer pacs), outbound.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dicom/association.hpp"
#include "dicom/filter.hpp"
#include "policy/model.hpp"

namespace dicom_fuzz {

inline constexpr std::uint8_t flag_policy = 0x01;
inline constexpr std::uint8_t flag_small_pdu = 0x02;
inline constexpr std::uint8_t flag_permissive = 0x04;

inline void add_record(std::vector<std::uint8_t>& out, int side, const std::uint8_t* data, std::size_t n) {
    while (n > 0) {
        const std::size_t chunk = n > 0xffff ? 0xffff : n;
        out.push_back(static_cast<std::uint8_t>(side & 1));
        out.push_back(static_cast<std::uint8_t>(chunk & 0xff));
        out.push_back(static_cast<std::uint8_t>(chunk >> 8));
        out.insert(out.end(), data, data + chunk);
        data += chunk;
        n -= chunk;
    }
}

// C-ECHO, C-STORE, C-FIND, C-GET, C-MOVE, N-ACTION on CT, PET, storage commitment and the
// query/retrieve models.
inline modgate::policy::Policy make_policy() {
    namespace policy = modgate::policy;
    using D = policy::Dimse;
    policy::Policy pol;
    policy::Modality m;
    m.name = "pet-ct-1";
    m.dicom = policy::DicomEndpoint{"PETCT1", 104, {}};
    pol.modalities.push_back(m);
    policy::Peer pacs;
    pacs.name = "pacs";
    pacs.dicom = policy::DicomEndpoint{"PACS_MAIN", 104, {}};
    pol.peers.push_back(pacs);
    policy::Allow a;
    a.name = "fuzz";
    a.modality = "pet-ct-1";
    a.peer = "pacs";
    a.service = policy::Service::dicom;
    a.dimse = {D::c_echo, D::c_store, D::c_find, D::c_get, D::c_move, D::n_action};
    for (const char* uid : {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.1.20.1",
                            "1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2",
                            "1.2.840.10008.5.1.4.1.2.2.3", "1.2.840.10008.5.1.4.1.2.1.1",
                            "1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.1.3"})
        a.sop_classes.push_back({uid, ""});
    pol.allows.push_back(a);
    return pol;
}

// The filter over make_policy(); the permissive variant also allows every DIMSE and every
// abstract syntax the A-ASSOCIATE-RQ proposes, so captured real traffic passes the filter.
class FuzzGate final : public modgate::dicom::Gate {
public:
    FuzzGate(bool permissive, std::uint32_t max_pdu) : permissive_(permissive), max_pdu_(max_pdu) {
        rules_ = rules(make_policy());
    }
    modgate::dicom::AssociateDecision on_associate_rq(const modgate::dicom::AssociateRq& rq) override {
        if (permissive_) {
            using D = modgate::policy::Dimse;
            modgate::policy::Policy pol = make_policy();
            auto& a = pol.allows.front();
            a.dimse.insert(a.dimse.end(), {D::n_event_report, D::n_get, D::n_set, D::n_create, D::n_delete});
            for (const auto& pc : rq.contexts) a.sop_classes.push_back({pc.abstract_syntax, ""});
            rules_ = rules(pol);
        }
        return modgate::dicom::decide_associate(rules_, rq, {});
    }
    modgate::dicom::DimseDecision on_request(const modgate::dicom::RequestInfo& r) override {
        return modgate::dicom::decide_request(rules_, r);
    }

private:
    modgate::dicom::AssociationRules rules(const modgate::policy::Policy& pol) const {
        return modgate::dicom::select_rules(
            pol, modgate::dicom::Endpoints{"pet-ct-1", "pacs", modgate::policy::Direction::outbound, 0},
            modgate::dicom::FilterOptions{max_pdu_, 16});
    }

    bool permissive_;
    std::uint32_t max_pdu_;
    modgate::dicom::AssociationRules rules_;
};

// Replays one input. `on_step(side, step, buffered)` sees every judged PDU with the bytes
// buffered for that side; it returns false to stop. Replay stops after an abort or a close.
// `bytewise` delivers each record one byte at a time.
class Replay {
public:
    Replay(const std::uint8_t* data, std::size_t size)
        : data_(data), size_(size), flags_(size > 0 ? data[0] : 0),
          gate_((flags_ & flag_permissive) != 0, max_pdu()),
          assoc_((flags_ & flag_policy) ? &gate_ : nullptr, modgate::dicom::AssociationOptions{max_pdu()}) {}

    const modgate::dicom::Association& association() const { return assoc_; }

    template <class OnStep>
    void run(bool bytewise, OnStep on_step) {
        using namespace modgate::dicom;
        std::size_t at = 1;
        while (at + 3 <= size_) {
            const Side side = (data_[at] & 1) ? Side::acceptor : Side::initiator;
            std::size_t n = data_[at + 1] | (std::size_t{data_[at + 2]} << 8);
            at += 3;
            n = std::min(n, size_ - at);
            const std::size_t piece = bytewise || n == 0 ? 1 : n;
            for (std::size_t i = 0; i < n; i += piece) {
                auto& buf = buffers_[static_cast<int>(side)];
                buf.insert(buf.end(), data_ + at + i, data_ + at + i + std::min(piece, n - i));
                for (;;) {
                    const Step step = assoc_.feed(side, buf);
                    if (!step.ready) break;
                    if (!on_step(side, step, Bytes(buf))) return;
                    if (step.verdict.action == Action::abort || step.verdict.close) return;
                    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(step.consumed));
                }
            }
            at += n;
        }
    }

private:
    std::uint32_t max_pdu() const { return (flags_ & flag_small_pdu) ? 128u : 65536u; }

    const std::uint8_t* data_;
    std::size_t size_;
    std::uint8_t flags_;
    FuzzGate gate_;
    modgate::dicom::Association assoc_;
    std::vector<std::uint8_t> buffers_[2];
};

}  // namespace dicom_fuzz
