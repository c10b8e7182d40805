// The DICOM handler of the proxy: one Association (dicom/) between the two legs. It holds
// whole PDUs, judges each, then forwards it (from the read buffer when unchanged; consecutive
// unchanged P-DATA-TF go out in one write) or answers the sender; the upstream leg is opened
// only after the A-ASSOCIATE-RQ passed the policy, so a refused caller never reaches the PACS.
// ARTIM, idle, lifetime and write timeouts; TCP_NODELAY and TCP_QUICKACK on both legs; one
// audit event per association.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "dicom/association.hpp"
#include "dicom/filter.hpp"
#include "gateway/proxy/asio.hpp"
#include "gateway/proxy/runtime.hpp"

namespace modgate::proxy {

// Open associations by modality, peer and rule, for the filter's caps (shared by all sessions).
struct DicomCounts {
    std::map<std::string, std::uint32_t> modality, peer, rule;
};

class DicomSession : public Session, public std::enable_shared_from_this<DicomSession> {
public:
    DicomSession(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt, DicomCounts& counts);
    ~DicomSession() override;
    void start() override;
    void close(std::string_view reason) override;
    const FlowInfo& flow() const override { return flow_; }

private:
    using Side = dicom::Side;
    struct Out {
        dicom::Buffer owned;                 // our own bytes (rewritten PDUs, answers)
        const std::uint8_t* data = nullptr;  // or a span of the sending leg's read buffer
        std::size_t size = 0;
        int step = -1;                       // the side whose PDU this write belongs to
    };
    struct Leg {
        explicit Leg(asio::io_context& io) : sock(io), write_timer(io) {}
        tcp::socket sock;
        std::vector<std::uint8_t> in;  // read buffer: [0, filled) holds unjudged bytes
        std::size_t filled = 0;
        std::deque<Out> out;           // writes to this leg, in verdict order
        bool writing = false;
        bool reading = false;
        bool connected = false;
        asio::steady_timer write_timer;
    };

    Leg& leg(Side s) { return s == Side::initiator ? *legs_[0] : *legs_[1]; }
    void read(Side s);
    void pump(Side s);
    dicom::Step judge_unchanged_run(Side s, std::size_t& batch);
    bool act_on(Side s, std::size_t offset, dicom::Step& step);
    void abort_on_violation(Side s, const dicom::Verdict& v);
    void forward_rewritten(Side s, dicom::Buffer rewritten);
    static bool forwards_unchanged(const dicom::Verdict& v);
    void after_verdict();
    void enqueue(Side to, Out o, int step);
    void write_next(Side to);
    void step_done(Side from);
    void maybe_close();
    bool closing() const { return close_after_[0] || close_after_[1]; }
    void connect_upstream(dicom::Buffer first);
    void audit();
    void arm_artim();
    void arm_idle();
    void finish(std::string_view how, std::string_view reason);
    static FlowEnd flow_end(std::string_view how);
    void abort_both(std::string_view reason);

    asio::io_context& io_;
    FlowInfo flow_;
    Runtime& rt_;
    DicomCounts& counts_;
    std::array<std::unique_ptr<Leg>, 2> legs_;  // [0] the initiator (client), [1] the acceptor
    std::unique_ptr<dicom::PolicyGate> gate_;
    std::unique_ptr<dicom::Association> assoc_;
    asio::steady_timer artim_, idle_, lifetime_;
    std::array<std::size_t, 2> pending_{};   // writes of the current step of each side
    std::array<std::size_t, 2> consumed_{};  // bytes of that step to drop from the read buffer
    std::array<bool, 2> close_after_{};
    bool counted_ = false;
    bool done_ = false;
    std::string end_how_, end_reason_;
    std::string rule_key_;
};

}  // namespace modgate::proxy
