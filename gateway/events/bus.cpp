// The event bus: observers, ring, followers and sinks, in that order, under one lock that is
// never held while anything slow happens (sinks only queue).
#include "gateway/events/bus.hpp"

#include <cstdio>

#include "gateway/events/sink.hpp"

namespace modgate::events {

namespace {

Bus*& instance() {
    // Never destroyed: at exit, a sink whose destination stalled must not hold the process in
    // a join of its writer thread.
    static Bus* bus = new Bus;
    return bus;
}

}  // namespace

Bus& Bus::get() { return *instance(); }

// The old bus is left as it is: a sink thread that no longer exists may have held its lock.
void Bus::replace_after_fork() { instance() = new Bus; }

void Bus::forward(Record r) {
    if (!check(r).empty()) {
        std::lock_guard lock(mu_);
        ++violations_;
        return;
    }
    publish(std::move(r), false);
}

void Bus::emit(Record r) {
    auto problem = check(r);
    if (!problem.empty()) {
        std::lock_guard lock(mu_);
        ++violations_;
    }
    publish(std::move(r), true);
    if (!problem.empty()) std::fprintf(stderr, "modgated: event schema violation: %s\n", problem.c_str());
}

void Bus::publish(Record r, bool observe) {
    std::vector<std::shared_ptr<Sink>> sinks;
    std::vector<std::uint64_t> gone;
    RecordPtr p;
    {
        std::lock_guard lock(mu_);
        r.seq = ++seq_;
        if (observe)
            for (const auto& o : observers_) o(r);
        p = std::make_shared<const Record>(std::move(r));
        ring_.push_back(p);
        while (ring_.size() > ring_capacity_) ring_.pop_front();
        for (auto& [id, f] : followers_)
            if (!f(p)) gone.push_back(id);
        for (auto id : gone) followers_.erase(id);
        sinks = sinks_;
    }
    for (auto& s : sinks) s->offer(p);
}

void Bus::observe(Observer o) {
    std::lock_guard lock(mu_);
    observers_.push_back(std::move(o));
}

void Bus::set_sinks(std::vector<std::shared_ptr<Sink>> sinks) {
    std::vector<std::shared_ptr<Sink>> old;
    {
        std::lock_guard lock(mu_);
        old.swap(sinks_);
        sinks_ = std::move(sinks);
    }
    for (auto& s : old) s->stop();
}

std::vector<std::shared_ptr<Sink>> Bus::sinks() const {
    std::lock_guard lock(mu_);
    return sinks_;
}

bool Bus::flush(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    bool all = true;
    for (auto& s : sinks()) all = s->flush(deadline) && all;
    return all;
}

std::vector<Bus::RecordPtr> Bus::recent(std::uint64_t after) const {
    std::lock_guard lock(mu_);
    std::vector<RecordPtr> out;
    for (const auto& r : ring_)
        if (r->seq > after) out.push_back(r);
    return out;
}

void Bus::set_ring_capacity(std::size_t n) {
    std::lock_guard lock(mu_);
    ring_capacity_ = n;
    while (ring_.size() > ring_capacity_) ring_.pop_front();
}

std::uint64_t Bus::follow(std::function<bool(const RecordPtr&)> f) {
    std::lock_guard lock(mu_);
    followers_[++next_follower_] = std::move(f);
    return next_follower_;
}

void Bus::unfollow(std::uint64_t id) {
    std::lock_guard lock(mu_);
    followers_.erase(id);
}

std::uint64_t Bus::schema_violations() const {
    std::lock_guard lock(mu_);
    return violations_;
}

void Bus::reset() {
    std::vector<std::shared_ptr<Sink>> old;
    {
        std::lock_guard lock(mu_);
        old.swap(sinks_);
        observers_.clear();
        followers_.clear();
        ring_.clear();
    }
    for (auto& s : old) s->stop();
}

}  // namespace modgate::events
