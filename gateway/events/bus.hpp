// The bus every event goes through: observers (the metrics registry) see each record first and
// synchronously, then the ring of recent events and followers, then every sink's bounded
// queue. Nothing here blocks the caller: a sink that falls behind drops and counts.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/events/events.hpp"

namespace modgate::events {

class Sink;

class Bus {
public:
    using Observer = std::function<void(const Record&)>;
    using RecordPtr = std::shared_ptr<const Record>;

    // The process's bus.
    static Bus& get();

    void emit(Record r);
    // A record another process emitted and counted (modgated's proxy): the ring, followers and
    // sinks get it, the observers do not. One that breaks the catalogue is refused and counted.
    void forward(Record r);
    // In a child process right after fork: a fresh bus, with no sinks, observers or ring.
    static void replace_after_fork();

    // Called synchronously for every record, before anything that can drop it.
    void observe(Observer o);
    // Replaces the sinks (on start and reload). The old ones drain and stop.
    void set_sinks(std::vector<std::shared_ptr<Sink>> sinks);
    std::vector<std::shared_ptr<Sink>> sinks() const;
    // Waits until every sink has written what it has queued, at most `limit` in all (a stalled
    // sink must not hold up a shutdown); false when one had not finished.
    bool flush(std::chrono::milliseconds limit = std::chrono::seconds(2));

    // The most recent records, oldest first, with seq greater than `after`.
    std::vector<RecordPtr> recent(std::uint64_t after = 0) const;
    void set_ring_capacity(std::size_t n);
    // Followers get each record after the ring has it; return false to unsubscribe.
    std::uint64_t follow(std::function<bool(const RecordPtr&)> f);
    void unfollow(std::uint64_t id);

    // Records whose keys or value types do not match the catalogue (a programming error:
    // emitted anyway, reported on stderr).
    std::uint64_t schema_violations() const;

    // For unit tests: forget sinks, observers, followers and the ring.
    void reset();

private:
    void publish(Record r, bool observe);
    mutable std::mutex mu_;
    std::uint64_t seq_ = 0;
    std::vector<Observer> observers_;
    std::vector<std::shared_ptr<Sink>> sinks_;
    std::deque<RecordPtr> ring_;
    std::size_t ring_capacity_ = 2000;
    std::map<std::uint64_t, std::function<bool(const RecordPtr&)>> followers_;
    std::uint64_t next_follower_ = 0;
    std::uint64_t violations_ = 0;
};

}  // namespace modgate::events
