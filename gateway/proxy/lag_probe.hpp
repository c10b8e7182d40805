// How late an event loop runs a timer: the longest delay is a status figure, and a delay of a
// second or more is an event. Each process of modgated runs one on its loop.
#pragma once
#include <chrono>

#include "gateway/metrics/registry.hpp"
#include "gateway/proxy/asio.hpp"

namespace modgate::proxy {

class LagProbe {
public:
    LagProbe(asio::io_context& io, metrics::Registry& registry) : timer_(io), registry_(registry) {}
    void start() { probe(std::chrono::steady_clock::now()); }

private:
    void probe(std::chrono::steady_clock::time_point due);
    asio::steady_timer timer_;
    metrics::Registry& registry_;
};

}  // namespace modgate::proxy
