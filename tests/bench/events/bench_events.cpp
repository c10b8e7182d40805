// What emitting an event costs the event loop: with only the registry observing (the baseline),
// with a sink that keeps up, with a sink whose writer is stalled (its queue full, every event
// dropped and counted), and as the proxy process emits them: counted, then encoded and written
// to the parent over a socketpair (a thread reads and decodes the other end, as the parent
// does). Prints ns per event and the ratios; the longest single emit is the stall the event
// loop would see. A DICOM association emits three events: what privilege separation adds per
// association on the proxy's loop is three times the last case's difference to the baseline.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include "gateway/events/bus.hpp"
#include "gateway/events/sink.hpp"
#include "gateway/metrics/registry.hpp"
#include "gateway/privsep/channel.hpp"

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

// `tick` runs between events (the proxy's loop, flushing the channel).
Figures run(std::vector<std::shared_ptr<NullSink>> sinks, int n, const events::Bus::Observer& also = nullptr,
            const std::function<void()>& tick = nullptr) {
    auto& bus = events::Bus::get();
    bus.reset();
    metrics::Registry reg;
    bus.observe([&reg](const events::Record& r) { reg.observe(r); });
    if (also) bus.observe(also);
    bus.set_sinks({sinks.begin(), sinks.end()});
    double max_us = 0;
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        if (tick && i % 64 == 0) tick();
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

// The proxy's side of the channel, with a reader thread decoding what arrives.
Figures forwarded(int n) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return {0, 0};
    std::size_t decoded = 0;
    std::thread parent([fd = sv[0], &decoded] {
        privsep::FrameReader reader(privsep::From::proxy);
        std::uint8_t buf[64 * 1024];
        for (ssize_t got; (got = ::read(fd, buf, sizeof buf)) > 0;) {
            reader.feed(std::span(buf, static_cast<std::size_t>(got)));
            while (reader.next()) ++decoded;
        }
        ::close(fd);
    });
    asio::io_context io;
    auto ch = std::make_shared<privsep::Channel>(io, sv[1], privsep::From::parent, 8 * 1024 * 1024);
    ch->start([](privsep::Message) {}, [](const std::string&) {});
    std::size_t refused = 0;
    auto f = run({}, n, [&](const events::Record& r) { refused += !ch->send(privsep::EventMsg{r}); }, [&io] { io.poll(); });
    while (ch->queued() > 0) io.run_one_for(std::chrono::milliseconds(10));
    ch->close("done");
    parent.join();
    if (decoded + refused != static_cast<std::size_t>(n)) std::printf("forwarded: %zu decoded, %zu refused of %d\n", decoded, refused, n);
    return f;
}

}  // namespace

int main() {
    constexpr int n = 200000;
    auto base = run({}, n);
    auto healthy = run({std::make_shared<NullSink>(false)}, n);
    auto stalled = run({std::make_shared<NullSink>(false), std::make_shared<NullSink>(true)}, n);
    auto proxy = forwarded(n);
    std::printf("events emitted: %d each run\n", n);
    std::printf("registry only (baseline):      %7.0f ns/event, longest emit %6.1f us\n", base.ns_per_event, base.max_us);
    std::printf("one sink keeping up:           %7.0f ns/event, longest emit %6.1f us, ratio %.2f\n",
                healthy.ns_per_event, healthy.max_us, healthy.ns_per_event / base.ns_per_event);
    std::printf("plus one stalled sink:         %7.0f ns/event, longest emit %6.1f us, ratio %.2f\n",
                stalled.ns_per_event, stalled.max_us, stalled.ns_per_event / base.ns_per_event);
    std::printf("proxy process, to the parent:  %7.0f ns/event, longest emit %6.1f us, ratio %.2f\n",
                proxy.ns_per_event, proxy.max_us, proxy.ns_per_event / base.ns_per_event);
    std::printf("added per association on the proxy's loop by privilege separation (3 events): %.1f us "
                "(target < 500 us)\n", 3 * (proxy.ns_per_event - base.ns_per_event) / 1000);
}
