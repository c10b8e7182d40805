// Benchmark: host set-up (sysctls, bridge link, policy routing) of a 1,000-modality policy from
// an empty namespace, again unchanged (a reload), and shrunk to 10 modalities (stale removal),
// beside a 10-modality set-up as the baseline. Run inside a fresh namespace by bench_host.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gateway/host/host.hpp"
#include "policy/load.hpp"
#include "tests/lib/policy_gen.hpp"

using namespace modgate;
using Clock = std::chrono::steady_clock;

namespace {

policy::Policy make(std::size_t modalities) {
    auto r = policy::load_string(testing::generate_policy(modalities, modalities), "bench.toml");
    if (!r.policy) {
        std::fprintf(stderr, "generated policy is invalid:\n%s", r.report().substr(0, 4000).c_str());
        std::exit(1);
    }
    return *r.policy;
}

double timed_prepare(const policy::Policy& p, const char* what) {
    auto t0 = Clock::now();
    auto s = host::prepare(p);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!s) {
        std::fprintf(stderr, "%s: %s\n", what, s.error().c_str());
        std::exit(1);
    }
    return ms;
}

}  // namespace

int main(int argc, char** argv) {
    // "small" first: the 10-modality baseline in a namespace that has nothing of ours yet.
    bool small_only = argc > 1 && std::string(argv[1]) == "small";
    auto small = make(10);
    if (small_only) {
        std::printf("host set-up, 10 modalities, from empty:    %9.1f ms\n", timed_prepare(small, "small"));
        return 0;
    }
    auto large = make(1000);
    double first = timed_prepare(large, "large from empty");
    double again = timed_prepare(large, "large unchanged");
    double shrink = timed_prepare(small, "large -> small");
    std::printf("host set-up, 1000 modalities, from empty:  %9.1f ms\n", first);
    std::printf("host set-up, 1000 modalities, unchanged:   %9.1f ms\n", again);
    std::printf("host set-up, 1000 -> 10 modalities:        %9.1f ms\n", shrink);
    return 0;
}
