// Benchmark: load + validate + compile a 1,000-modality, 10,000-allow policy beside a
// 10-modality one in the same process; prints times, rule counts and the ratio.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"
#include "tests/lib/policy_gen.hpp"

using namespace modgate;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
    double load_ms, compile_ms, render_ms;
    std::size_t rules, elements;
};

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Result run(const std::string& text) {
    auto t0 = Clock::now();
    auto r = policy::load_string(text, "bench.toml");
    auto t1 = Clock::now();
    if (!r.policy) {
        std::fprintf(stderr, "generated policy is invalid:\n%s", r.report().substr(0, 4000).c_str());
        std::exit(1);
    }
    auto rs = policy::compile(*r.policy);
    auto t2 = Clock::now();
    auto text_out = ruleset::render_file(rs);
    auto t3 = Clock::now();
    Result out{ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), 0, 0};
    for (const auto& t : rs.tables) {
        for (const auto& c : t.chains) out.rules += c.rules.size();
        for (const auto& s : t.sets) out.elements += s.elements.size();
    }
    return out;
}

Result median(const std::string& text, int runs) {
    std::vector<Result> all;
    for (int i = 0; i < runs; ++i) all.push_back(run(text));
    auto pick = [&](auto field) {
        std::vector<double> v;
        for (auto& r : all) v.push_back(r.*field);
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    return {pick(&Result::load_ms), pick(&Result::compile_ms), pick(&Result::render_ms), all[0].rules, all[0].elements};
}

}  // namespace

int main() {
    const int runs = 7;
    auto small = median(testing::generate_policy(10, 100), runs);
    auto large = median(testing::generate_policy(1000, 10000), runs);
    std::printf("policy compile benchmark (median of %d runs)\n", runs);
    std::printf("%-28s %10s %10s %10s %7s %9s\n", "policy", "load ms", "compile ms", "render ms", "rules", "elements");
    std::printf("%-28s %10.2f %10.2f %10.2f %7zu %9zu\n", "10 modalities, 100 allows", small.load_ms,
                small.compile_ms, small.render_ms, small.rules, small.elements);
    std::printf("%-28s %10.2f %10.2f %10.2f %7zu %9zu\n", "1000 modalities, 10000 allows", large.load_ms,
                large.compile_ms, large.render_ms, large.rules, large.elements);
    std::printf("ratio large/small: compile %.1fx, load+compile %.1fx; rules %s\n",
                large.compile_ms / small.compile_ms,
                (large.load_ms + large.compile_ms) / (small.load_ms + small.compile_ms),
                large.rules == small.rules ? "equal" : "DIFFER");
    std::printf("target: compile of the large policy well under 1000 ms: %s (%.1f ms)\n",
                large.compile_ms < 1000 ? "met" : "NOT met", large.compile_ms);
    return 0;
}
