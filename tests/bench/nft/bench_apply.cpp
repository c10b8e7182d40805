// Benchmark of the netlink engine against nft in the same run, as root in a scratch namespace
// (bench_nft.sh makes it): (1) applying a 1,000-modality policy (~10k set elements) into an empty
// namespace and over itself (reload), engine vs `nft -f` of the renderer's text; (2) adding one
// element to a set of 10,000, engine vs `nft add element`. Medians over several runs; ratio
// engine/nft (below 1.0: the engine is faster).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gateway/nft/apply.hpp"
#include "gateway/nft/elements.hpp"
#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"
#include "tests/lib/policy_gen.hpp"

using namespace modgate;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void sh(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "bench: `%s` failed\n", cmd.c_str());
        std::exit(1);
    }
}

void must_apply(const ruleset::Ruleset& rs) {
    auto r = nft::apply(rs);
    if (!r) {
        std::fprintf(stderr, "bench: apply failed: %s\n", r.error().message.c_str());
        std::exit(1);
    }
}

double time_ms(const std::function<void()>& f) {
    auto t0 = Clock::now();
    f();
    return ms_since(t0);
}

void report(const char* what, const std::vector<double>& ours, const std::vector<double>& theirs) {
    const double a = median(ours), b = median(theirs);
    std::printf("%-44s engine %9.3f ms   nft %9.3f ms   ratio %.3f %s\n", what, a, b, a / b, a / b <= 1.0 ? "(ok, target <= 1.0)" : "(OVER target 1.0)");
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 7;
    const auto text = testing::generate_policy(1000, 10000);
    auto loaded = policy::load_string(text, "bench.toml");
    if (!loaded.policy) {
        std::fprintf(stderr, "bench: generated policy invalid\n");
        return 1;
    }
    const auto rs = policy::compile(*loaded.policy);
    std::size_t rules = 0, elements = 0;
    for (const auto& t : rs.tables) {
        for (const auto& c : t.chains) rules += c.rules.size();
        for (const auto& s : t.sets) elements += s.elements.size();
    }
    const std::string file = fmt::format("/tmp/modgate-bench-{}.nft", getpid());
    {
        std::ofstream f(file);
        f << ruleset::render_file(rs);
    }
    std::printf("model: %zu tables, %zu rules, %zu set elements; %d runs each, medians\n", rs.tables.size(), rules, elements, runs);

    std::vector<double> ours_fresh, nft_fresh, ours_reload, nft_reload;
    for (int i = 0; i < runs; ++i) {  // interleaved, so drift hits both sides alike
        sh("nft flush ruleset");
        ours_fresh.push_back(time_ms([&] { must_apply(rs); }));
        ours_reload.push_back(time_ms([&] { must_apply(rs); }));
        sh("nft flush ruleset");
        nft_fresh.push_back(time_ms([&] { sh("nft -f " + file); }));
        nft_reload.push_back(time_ms([&] { sh("nft -f " + file); }));
    }
    report("apply 1,000 modalities into an empty ruleset", ours_fresh, nft_fresh);
    report("re-apply over the loaded tables", ours_reload, nft_reload);

    // One element into a set already holding 10,000.
    ruleset::Ruleset big;
    ruleset::Table t;
    t.family = ruleset::Family::inet;
    t.name = "bench";
    ruleset::Set s;
    s.name = "flows";
    s.key = {ruleset::KeyType::ipv4_addr, ruleset::KeyType::ipv4_addr, ruleset::KeyType::inet_service};
    s.interval = true;
    for (std::uint32_t i = 0; i < 10000; ++i) {
        ruleset::Element e;
        e.key = {ruleset::Value{ruleset::Ipv4{0x0a000000u + i}}, ruleset::Value{ruleset::Ipv4{0xc0a80105u}}, ruleset::Value{std::uint64_t{104}}};
        s.elements.push_back(std::move(e));
    }
    t.sets.push_back(s);
    big.tables.push_back(t);
    sh("nft flush ruleset");
    must_apply(big);
    auto writer = nft::ElementWriter::open();
    if (!writer) return 1;
    const nft::TableId id{ruleset::Family::inet, "bench"};
    std::vector<double> ours_add, nft_add;
    for (int i = 0; i < std::max(runs, 15); ++i) {
        ruleset::Element e;
        e.key = {ruleset::Value{ruleset::Ipv4{0xac100000u + static_cast<std::uint32_t>(i)}}, ruleset::Value{ruleset::Ipv4{0xc0a80105u}},
                 ruleset::Value{std::uint64_t{443}}};
        ours_add.push_back(time_ms([&] {
            if (!writer->add(id, s, {e})) std::exit(1);
        }));
        nft_add.push_back(time_ms([&] { sh(fmt::format("nft add element inet bench flows '{{ 172.17.0.{} . 192.168.1.5 . 443 }}'", i)); }));
    }
    report("add one element to a 10,000-element set", ours_add, nft_add);
    std::remove(file.c_str());
    sh("nft flush ruleset");
    return 0;
}
