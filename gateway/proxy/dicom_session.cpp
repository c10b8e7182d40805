// DICOM sessions: the two legs, the per-side pumps (frame, judge, write, consume), timers and the
// association's audit event.
#include "gateway/proxy/dicom_session.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "dicom/codec.hpp"
#include "gateway/events/events.hpp"
#include "gateway/proxy/upstream.hpp"

namespace modgate::proxy {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;
namespace d = modgate::dicom;

namespace {
constexpr std::size_t read_slack = 64 * 1024;  // beyond one whole PDU, so reads stay large

d::Buffer encode_abort() {
    d::Buffer b;
    d::encode(d::Abort{2, 0}, b);
    return b;
}

std::string side_name(d::Side s) { return s == d::Side::initiator ? "initiator" : "acceptor"; }
}  // namespace

DicomSession::DicomSession(asio::io_context& io, tcp::socket client, FlowInfo flow, Runtime& rt, DicomCounts& counts)
    : io_(io), flow_(std::move(flow)), rt_(rt), counts_(counts), artim_(io), idle_(io), lifetime_(io) {
    legs_[0] = std::make_unique<Leg>(io);
    legs_[1] = std::make_unique<Leg>(io);
    legs_[0]->sock = std::move(client);
    legs_[0]->connected = true;
}

DicomSession::~DicomSession() = default;

void DicomSession::start() {
    const auto& p = flow_.state->policy;
    const auto& m = flow_.match;
    set_nodelay(leg(Side::initiator).sock.native_handle());
    d::Endpoints ep{m.modality->name, m.peer->name, m.direction, flow_.server.port};
    auto rules = d::select_rules(p, ep);
    rule_key_ = fmt::format("{}|{}|{}", m.modality->name, m.peer->name, policy::to_string(m.direction));
    d::Counts c{counts_.modality[m.modality->name], counts_.peer[m.peer->name], counts_.rule[rule_key_]};
    gate_ = std::make_unique<d::PolicyGate>(std::move(rules), c);
    assoc_ = std::make_unique<d::Association>(gate_.get());
    arm_artim();
    arm_idle();
    lifetime_.expires_after(p.gateway.dicom.max_association);
    auto self = weak_from_this();
    lifetime_.async_wait([self](const error_code& ec) {
        if (auto s = self.lock(); s && !ec) s->abort_both("maximum association lifetime reached");
    });
    read(Side::initiator);
}

void DicomSession::arm_artim() {
    artim_.expires_after(flow_.state->policy.gateway.dicom.artim);
    auto self = weak_from_this();
    artim_.async_wait([self](const error_code& ec) {
        auto s = self.lock();
        if (!s || ec || s->done_) return;
        auto st = s->assoc_->state();
        if (st == d::AssociationState::awaiting_rq) s->finish("timeout", "no A-ASSOCIATE-RQ within ARTIM");
        else if (st == d::AssociationState::awaiting_ac) s->abort_both("no A-ASSOCIATE-AC/RJ within ARTIM");
        else if (st == d::AssociationState::closed) s->finish("released", "transport not closed after release");
    });
}

void DicomSession::arm_idle() {
    idle_.expires_after(flow_.state->policy.gateway.dicom.idle);
    auto self = weak_from_this();
    idle_.async_wait([self](const error_code& ec) {
        if (auto s = self.lock(); s && !ec) s->abort_both("idle timeout");
    });
}

void DicomSession::read(Side s) {
    auto& l = leg(s);
    if (l.reading || done_ || !l.connected) return;
    auto lim = assoc_->limits(s);
    std::size_t want = std::max<std::size_t>(lim.max_associate, lim.max_pdata) + d::pdu_header_length + read_slack;
    if (l.in.size() < want) l.in.resize(want);
    set_quickack(l.sock.native_handle());
    l.reading = true;
    auto self = shared_from_this();
    l.sock.async_read_some(asio::buffer(l.in.data() + l.filled, l.in.size() - l.filled),
                           [self, s](const error_code& ec, std::size_t n) {
                               auto& lg = self->leg(s);
                               lg.reading = false;
                               if (self->done_) return;
                               if (ec) {
                                   // Already closing (after an abort, a rejection or a release):
                                   // the peer went first; the event keeps how it ended.
                                   if (self->closing()) return self->maybe_close();
                                   if (self->assoc_->state() == d::AssociationState::closed)
                                       return self->finish("released", {});
                                   if (self->assoc_->state() == d::AssociationState::awaiting_rq && lg.filled == 0)
                                       return self->finish("closed", "closed before A-ASSOCIATE-RQ");
                                   return self->abort_both(fmt::format("{} closed the connection{}", side_name(s),
                                                                       ec == asio::error::eof ? "" : ": " + ec.message()));
                               }
                               lg.filled += n;
                               self->arm_idle();
                               self->pump(s);
                           });
}

void DicomSession::pump(Side s) {
    auto& l = leg(s);
    const int si = static_cast<int>(s);
    while (!done_ && pending_[si] == 0) {
        // After an abort, a rejection or a release nothing more is judged or forwarded (PS3.8
        // Sta13): a late PDU from the other side must not draw a second A-ABORT.
        if (closing()) return;
        std::size_t batch = 0;
        d::Step step = judge_unchanged_run(s, batch);
        if (batch > 0) enqueue(d::other(s), Out{{}, l.in.data(), batch, si}, si);
        if (!step.ready) {
            if (batch == 0) {
                read(s);
                return;
            }
            consumed_[si] = batch;
        } else {
            consumed_[si] = batch + step.consumed;
            if (!act_on(s, batch, step)) return;
        }
        after_verdict();
        if (pending_[si] == 0) step_done(s);
    }
}

// Consecutive P-DATA-TF PDUs that pass unchanged lie back to back in the read buffer: they go
// onward as one write (one step). Per PDU that saves a system call, a write completion and, on
// the way out, a trip of its own through the bridge and netfilter. The first PDU with any other
// verdict ends the batch and is handled after it, so writes still leave in verdict order.
// Returns that PDU's step (not ready when the buffer ends first); `batch` is the run's length.
d::Step DicomSession::judge_unchanged_run(Side s, std::size_t& batch) {
    auto& l = leg(s);
    for (;;) {
        d::Step step = assoc_->feed(s, d::Bytes(l.in.data() + batch, l.filled - batch));
        if (!step.ready || !forwards_unchanged(step.verdict)) return step;
        batch += step.consumed;
    }
}

// The verdict on one PDU of side `s`, lying at `offset` in its read buffer (after the unchanged
// run before it). False when it aborted the association: nothing more is judged.
bool DicomSession::act_on(Side s, std::size_t offset, d::Step& step) {
    const int si = static_cast<int>(s);
    auto& v = step.verdict;
    if (!v.reason.empty() && (v.action == d::Action::abort || !v.answer.empty()))
        Event(v.action == d::Action::abort ? Kind::association_aborted : Kind::dicom_refused, Level::warning)
            .kv(Key::id, flow_.id).kv(Key::allow, flow_.match.allow->name).kv(Key::from, side_name(s)).kv(Key::reason, v.reason);
    if (v.action == d::Action::abort) {
        abort_on_violation(s, v);
        return false;
    }
    if (v.action == d::Action::forward)
        enqueue(d::other(s), Out{{}, leg(s).in.data() + offset, step.consumed, si}, si);
    else if (v.action == d::Action::forward_rewritten)
        forward_rewritten(s, std::move(v.rewritten));
    if (!v.answer.empty()) enqueue(s, Out{std::move(v.answer), nullptr, 0, si}, si);
    if (v.close) {
        close_after_ = {true, true};
        // Without an accepted context the association never carried anything: a rejection
        // (by the policy here, or by the acceptor); otherwise it was released.
        if (end_how_.empty()) end_how_ = assoc_->stats().contexts_accepted ? "released" : "rejected";
        if (!v.reason.empty()) end_reason_ = v.reason;
    }
    return true;
}

// The offending PDU goes nowhere (the batch before it was judged and goes first); both sides get
// an A-ABORT.
void DicomSession::abort_on_violation(Side s, const d::Verdict& v) {
    end_reason_ = v.reason.empty()
                      ? fmt::format("protocol violation: {} at offset {}", d::describe(v.error.error), v.error.offset)
                      : v.reason;
    for (auto side : {Side::initiator, Side::acceptor})
        enqueue(side, Out{v.answer.empty() ? encode_abort() : v.answer, nullptr, 0, -1}, -1);
    close_after_ = {true, true};
    end_how_ = "aborted";
    consumed_[static_cast<int>(s)] = 0;
    maybe_close();
}

// A rewritten PDU goes to the other side; the A-ASSOCIATE-RQ that passed the policy is the one
// that opens the acceptor's leg (counted against the caps only now).
void DicomSession::forward_rewritten(Side s, d::Buffer rewritten) {
    const int si = static_cast<int>(s);
    if (s == Side::initiator && !leg(Side::acceptor).connected) {
        counted_ = true;
        ++counts_.modality[flow_.match.modality->name];
        ++counts_.peer[flow_.match.peer->name];
        ++counts_.rule[rule_key_];
        connect_upstream(std::move(rewritten));
    } else {
        enqueue(d::other(s), Out{std::move(rewritten), nullptr, 0, si}, si);
    }
}

bool DicomSession::forwards_unchanged(const d::Verdict& v) {
    return v.action == d::Action::forward && v.answer.empty() && !v.close;
}

// Timers that follow the association's state after a verdict.
void DicomSession::after_verdict() {
    auto st = assoc_->state();
    if (st == d::AssociationState::established) artim_.cancel();
    if (st == d::AssociationState::awaiting_ac && leg(Side::acceptor).connected) arm_artim();
    if (st == d::AssociationState::closed) arm_artim();
}

void DicomSession::enqueue(Side to, Out o, int step) {
    auto& l = leg(to);
    if (!l.connected || done_) return;  // e.g. an answer for a leg that was never opened
    if (!o.data) {
        o.data = o.owned.data();
        o.size = o.owned.size();
    }
    o.step = step;
    if (step >= 0) ++pending_[step];
    l.out.push_back(std::move(o));
    write_next(to);
}

void DicomSession::write_next(Side to) {
    auto& l = leg(to);
    if (l.writing || l.out.empty() || done_) return;
    l.writing = true;
    l.write_timer.expires_after(flow_.state->policy.gateway.dicom.write);
    auto self = shared_from_this();
    l.write_timer.async_wait([self, to](const error_code& ec) {
        if (ec || self->done_) return;
        self->end_reason_ = fmt::format("{} stopped reading (write timeout)", side_name(to));
        self->finish("timeout", self->end_reason_);
    });
    const auto& o = l.out.front();
    asio::async_write(l.sock, asio::buffer(o.data, o.size), [self, to](const error_code& ec, std::size_t) {
        auto& lg = self->leg(to);
        lg.writing = false;
        lg.write_timer.cancel();
        if (self->done_) return;
        if (ec) return self->finish("error", fmt::format("write to {} failed: {}", side_name(to), ec.message()));
        int step = lg.out.front().step;
        lg.out.pop_front();
        self->arm_idle();
        if (step >= 0 && --self->pending_[step] == 0) self->step_done(static_cast<Side>(step));
        self->write_next(to);
        self->maybe_close();
    });
}

// Every write of a side's PDU has gone out: drop its bytes from the read buffer, judge the next.
void DicomSession::step_done(Side s) {
    auto& l = leg(s);
    const int si = static_cast<int>(s);
    std::size_t n = consumed_[si];
    consumed_[si] = 0;
    if (n) {
        std::memmove(l.in.data(), l.in.data() + n, l.filled - n);
        l.filled -= n;
    }
    if (closing()) return maybe_close();
    pump(s);
}

void DicomSession::maybe_close() {
    if (done_ || !closing()) return;
    for (auto side : {Side::initiator, Side::acceptor}) {
        auto& l = leg(side);
        if (l.connected && (l.writing || !l.out.empty())) return;  // let the answers go out first
    }
    finish(end_how_.empty() ? "closed" : end_how_, end_reason_);
}

void DicomSession::connect_upstream(d::Buffer first) {
    ++pending_[0];  // the initiator's RQ step waits for the connect and the write
    auto self = shared_from_this();
    proxy::connect_upstream(io_, flow_, flow_.state->policy.gateway.dicom.connect,
                            [self, first = std::move(first)](const error_code& ec, tcp::socket up) mutable {
                                --self->pending_[0];
                                if (self->done_) return;
                                if (ec) {
                                    self->end_reason_ = "acceptor unreachable: " + ec.message();
                                    self->rt_.upstream_failed(self->flow_, ec.message());
                                    // Tell the caller as the service provider would: rejected, transient.
                                    d::Buffer rj;
                                    d::encode(d::AssociateRj{2, 3, 1}, rj);
                                    self->enqueue(Side::initiator, Out{std::move(rj), nullptr, 0, -1}, -1);
                                    self->close_after_ = {true, true};
                                    self->end_how_ = "rejected";
                                    self->consumed_[0] = 0;
                                    return self->maybe_close();
                                }
                                auto& acc = self->leg(Side::acceptor);
                                acc.sock = std::move(up);
                                acc.connected = true;
                                self->enqueue(Side::acceptor, Out{std::move(first), nullptr, 0, 0}, 0);
                                self->arm_artim();
                                self->read(Side::acceptor);
                            });
}

void DicomSession::abort_both(std::string_view reason) {
    if (done_) return;
    end_reason_ = std::string(reason);
    end_how_ = "aborted";
    Event(Kind::association_aborted, Level::warning)
        .kv(Key::id, flow_.id).kv(Key::allow, flow_.match.allow->name).kv(Key::reason, reason);
    for (auto side : {Side::initiator, Side::acceptor})
        if (assoc_->state() != d::AssociationState::awaiting_rq || side == Side::initiator)
            enqueue(side, Out{encode_abort(), nullptr, 0, -1}, -1);
    close_after_ = {true, true};
    maybe_close();
    // A leg that does not drain its queue is cut by the write timeout.
}

void DicomSession::close(std::string_view reason) { abort_both(reason); }

void DicomSession::finish(std::string_view how, std::string_view reason) {
    if (done_) return;
    done_ = true;
    end_how_ = std::string(how);
    end_reason_ = std::string(reason);
    error_code ignored;
    for (auto* t : {&artim_, &idle_, &lifetime_}) t->cancel();
    for (auto& l : legs_) {
        l->write_timer.cancel();
        l->sock.close(ignored);
    }
    if (counted_) {
        --counts_.modality[flow_.match.modality->name];
        --counts_.peer[flow_.match.peer->name];
        --counts_.rule[rule_key_];
    }
    audit();
    const auto& st = assoc_->stats();
    rt_.closed(flow_, {st.bytes[0], st.bytes[1]}, flow_end(end_how_), end_reason_.empty() ? end_how_ : end_reason_);
}

// The association's end ("released", "aborted", ...) as the flow lifecycle's end.
FlowEnd DicomSession::flow_end(std::string_view how) {
    if (how == "aborted") return FlowEnd::aborted;
    if (how == "rejected") return FlowEnd::refused;
    if (how == "timeout") return FlowEnd::timeout;
    if (how == "error") return FlowEnd::io_error;
    return FlowEnd::closed;
}

// One event per association: who called whom, what was negotiated and done, how it ended.
void DicomSession::audit() {
    const auto& st = assoc_->stats();
    const auto& rq = assoc_->request();
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - flow_.started).count();
    Event e(Kind::association, end_how_ == "aborted" ? Level::warning : Level::info);
    e.kv(Key::id, flow_.id).kv(Key::allow, flow_.match.allow->name).kv(Key::dir, policy::to_string(flow_.match.direction))
        .kv(Key::src, flow_.client.str()).kv(Key::dst, flow_.server.str());
    if (!rq.calling_ae.empty() || !rq.called_ae.empty()) e.kv(Key::calling_ae, rq.calling_ae).kv(Key::called_ae, rq.called_ae);
    e.kv(Key::contexts_proposed, st.contexts_proposed).kv(Key::contexts_accepted, st.contexts_accepted)
        .kv(Key::contexts_rejected_policy, st.contexts_rejected_by_policy)
        .kv(Key::contexts_rejected_acceptor, st.contexts_rejected_by_acceptor);
    events::Counts dimse;
    for (int i = 0; i < d::dimse_kinds; ++i) {
        const auto& c = st.requests[static_cast<std::size_t>(i)];
        if (!c.forwarded && !c.refused) continue;
        std::string name = d::dimse_name(i);
        for (auto& ch : name) ch = ch == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        dimse.emplace_back(name, c.forwarded);
        if (c.refused) dimse.emplace_back(name + "_refused", c.refused);
    }
    if (!dimse.empty()) e.kv(Key::dimse_counts, std::move(dimse));
    e.kv(Key::bytes_from_initiator, st.bytes[0]).kv(Key::bytes_from_acceptor, st.bytes[1]).kv(Key::duration, secs)
        .kv(Key::end, end_how_.empty() ? "closed" : end_how_);
    if (!end_reason_.empty()) e.kv(Key::reason, end_reason_);
}

}  // namespace modgate::proxy
