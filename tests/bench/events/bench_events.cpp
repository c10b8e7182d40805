// What emitting an event costs the event loop: with only the registry observing (the baseline),
// with a sink that keeps up, and with a sink whose writer is stalled (its queue full, every
// event dropped and counted). Prints ns per event and the ratios; the longest single emit is
// the stall the event loop would see.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "gateway/events/bus.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/metrics/registry.hpp"

using namespace modgate;
using Clock = std::chrono::steady_clock;

namespace {

class NullSink : public events::Sink {
public:
    void release() {
        {
            std::lock_guard lock(mu_);
            stall_ = false;
        }
        cv_.notify_all();
    }
    explicit NullSink(bool stall) : Sink(stall ? "stalled" : "null", events::Level::debug, events::default_sink_capacity), stall_(stall) {
        start();
    }
    ~NullSink() override {
        release();
        stop();
    }

private:
    void write(const events::Record&) override {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !stall_; });
    }
    std::mutex mu_;
    std::condition_variable cv_;
    bool stall_;
};

struct Figures {
    double ns_per_event;
    double max_us;
};

Figures run(std::vector<std::shared_ptr<NullSink>> sinks, int n) {
    auto& bus = events::Bus::get();
    bus.reset();
    metrics::Registry reg;
    bus.observe([&reg](const events::Record& r) { reg.observe(r); });
    bus.set_sinks({sinks.begin(), sinks.end()});
    double max_us = 0;
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        auto a = Clock::now();
        events::Event(events::Kind::flow_closed)
            .kv(events::Key::id, static_cast<std::int64_t>(i)).kv(events::Key::allow, "pet-ct-1->pacs:dicom")
            .kv(events::Key::src, "10.20.30.40:40000").kv(events::Key::dst, "10.20.1.5:104")
            .kv(events::Key::bytes_up, std::int64_t{1 << 20}).kv(events::Key::duration, 0.25)
            .kv(events::Key::reason, "closed");
        max_us = std::max(max_us, std::chrono::duration<double, std::micro>(Clock::now() - a).count());
    }
    auto ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
    for (auto& s : sinks) s->release();
    bus.reset();
    return {ns, max_us};
}

}  // namespace

int main() {
    constexpr int n = 200000;
    auto base = run({}, n);
    auto healthy = run({std::make_shared<NullSink>(false)}, n);
    auto stalled = run({std::make_shared<NullSink>(false), std::make_shared<NullSink>(true)}, n);
    std::printf("events emitted: %d each run\n", n);
    std::printf("registry only (baseline):      %7.0f ns/event, longest emit %6.1f us\n", base.ns_per_event, base.max_us);
    std::printf("one sink keeping up:           %7.0f ns/event, longest emit %6.1f us, ratio %.2f\n",
                healthy.ns_per_event, healthy.max_us, healthy.ns_per_event / base.ns_per_event);
    std::printf("plus one stalled sink:         %7.0f ns/event, longest emit %6.1f us, ratio %.2f\n",
                stalled.ns_per_event, stalled.max_us, stalled.ns_per_event / base.ns_per_event);
}
