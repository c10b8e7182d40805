// The netlink engine against the real kernel and nft as the oracle. Runs as root inside the
// namespaces run_in_netns.sh makes: the engine works in this process's namespace (A), `nft -f`
// of the renderer's text loads into the oracle namespace (B).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "gateway/nft/apply.hpp"
#include "gateway/nft/diff.hpp"
#include "gateway/nft/elements.hpp"
#include "gateway/nft/events.hpp"
#include "gateway/nft/nflog.hpp"
#include "gateway/nft/readback.hpp"
#include "policy/render.hpp"
#include "tests/integration/nft/harness.hpp"

using namespace modgate;
using namespace modgate::ruleset;
using namespace modgate::nfttest;

namespace {

void apply_ok(const Ruleset& rs, nft::ApplyOptions o = {}) {
    auto r = nft::apply(rs, o);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.has_value());
}

// The listing of each table equals the renderer's text, the bytecode equals what nft -f loaded
// into the oracle, and the byte-exact dumps agree.
void require_same_as_nft(const Ruleset& rs) {
    for (const auto& problem : compare_with_nft(rs)) {
        INFO(problem);
        CHECK(false);
    }
}

Rule rule(std::vector<Stmt> s, std::string what = {}) {
    Rule r;
    r.stmts = std::move(s);
    r.origin.what = std::move(what);
    return r;
}

Table& table(Ruleset& rs, Family f, const std::string& name) {
    for (auto& t : rs.tables)
        if (t.family == f && t.name == name) return t;
    throw std::runtime_error("no table");
}

Chain& chain(Table& t, const std::string& name) {
    for (auto& c : t.chains)
        if (c.name == name) return c;
    throw std::runtime_error("no chain");
}

Set& set(Table& t, const std::string& name) {
    for (auto& s : t.sets)
        if (s.name == name) return s;
    throw std::runtime_error("no set");
}

Element element(std::vector<Value> key, std::uint64_t timeout_ms = 0) {
    Element e;
    e.key = std::move(key);
    e.timeout_ms = timeout_ms;
    return e;
}

Value ip(const char* s) { return Value{*Ipv4::parse(s)}; }

// A veth pair between this namespace (10.77.0.1, `va`) and the oracle namespace (10.77.0.2, `vb`).
void link_to_oracle() {
    must("ip link add va type veth peer name vb");
    must(fmt::format("ip link set vb netns {}", oracle_ns()));
    must("ip addr add 10.77.0.1/24 dev va");
    must("ip link set va up");
    must(in_oracle("ip addr add 10.77.0.2/24 dev vb"));
    must(in_oracle("ip link set vb up"));
}

}  // namespace

TEST_CASE("apply loads what nft -f loads, and re-applies", "[shapes]") {
    const auto rs = proto_ruleset();
    apply_ok(rs);
    require_same_as_nft(rs);
    SECTION("a second apply over the existing tables changes nothing") {
        apply_ok(rs);
        require_same_as_nft(rs);
    }
    SECTION("re-applying a changed model leaves exactly the new one") {
        Ruleset changed = rs;
        Table& inet = table(changed, Family::inet, "modgate");
        auto& out_tcp = set(inet, "out_tcp").elements;
        out_tcp.erase(out_tcp.begin());
        out_tcp.push_back(element({ip("10.20.30.42"), Value{*Cidr::parse("10.21.0.0/16")}, Value{std::uint64_t{2762}}}));
        set(table(changed, Family::bridge, "modgate_extra"), "nets").elements.pop_back();
        set(table(changed, Family::bridge, "modgate_extra"), "nets").elements.push_back(element({Value{*Cidr::parse("172.16.0.0/12")}}));
        Element commented = element({ip("10.20.30.40")});
        commented.comment = "pet-ct-1";
        set(table(changed, Family::bridge, "modgate"), "modalities").elements.front() = commented;
        auto& from_bridge = chain(inet, "from_bridge").rules;
        from_bridge.erase(from_bridge.begin() + 1);
        Table& bridge = table(changed, Family::bridge, "modgate");
        std::erase_if(bridge.chains, [](const Chain& c) { return c.name == "drop_spoof_in"; });  // and its users:
        for (auto& r : chain(bridge, "from_network").rules)
            if (std::holds_alternative<Verdict>(r.stmts.back()) && std::get<Verdict>(r.stmts.back()).chain == "drop_spoof_in")
                std::get<Verdict>(r.stmts.back()) = Verdict{Verdict::Kind::drop, {}};
        Set extra;
        extra.name = "late";
        extra.key = {KeyType::inet_service};
        extra.elements = {element({Value{std::uint64_t{22}}})};
        inet.sets.push_back(extra);
        chain(table(changed, Family::arp, "modgate"), "input").base->policy_drop = true;
        apply_ok(changed);
        require_same_as_nft(changed);
        auto snap = nft::read_tables(nft::ids_of(changed));
        REQUIRE(snap.has_value());
        CHECK(nft::diff(changed, *snap).empty());
        auto back = nft::diff(rs, *snap);  // and the way back is what apply would undo
        INFO(back.text());
        CHECK_FALSE(back.empty());
        apply_ok(rs);
        require_same_as_nft(rs);
    }
    SECTION("read-back gives the model back, and diff finds nothing") {
        auto snap = nft::read_tables(nft::ids_of(rs));
        REQUIRE(snap.has_value());
        REQUIRE(snap->tables.size() == rs.tables.size());
        for (std::size_t ti = 0; ti < rs.tables.size(); ++ti) {
            const auto& want = rs.tables[ti];
            const auto& got = snap->tables[ti];
            CHECK(got.notes.empty());
            REQUIRE(got.table.chains.size() == want.chains.size());
            for (std::size_t ci = 0; ci < want.chains.size(); ++ci) {
                const auto& wc = want.chains[ci];
                const auto& gc = got.table.chains[ci];
                CHECK(gc.name == wc.name);
                CHECK(gc.base == wc.base);
                REQUIRE(gc.rules.size() == wc.rules.size());
                for (std::size_t ri = 0; ri < wc.rules.size(); ++ri) {
                    INFO(wc.name << " rule " << ri + 1 << ": " << render_rule(want.family, wc.rules[ri]) << " <-> "
                                 << render_rule(want.family, gc.rules[ri]));
                    CHECK(got.rules[ci][ri].exact);
                    CHECK(gc.rules[ri] == wc.rules[ri]);
                }
            }
            for (const auto& ws : want.sets) {
                const Set* gs = got.table.find_set(ws.name);
                REQUIRE(gs != nullptr);
                CHECK(gs->key == ws.key);
                CHECK(gs->interval == ws.interval);
                CHECK(gs->timeout == ws.timeout);
                auto want_elems = ws.elements;  // read-back sorts like the compiler does
                std::sort(want_elems.begin(), want_elems.end(), [](const Element& a, const Element& b) { return a.key < b.key; });
                CHECK(gs->elements == want_elems);
            }
        }
        auto d = nft::diff(rs, *snap);
        INFO(d.text());
        CHECK(d.empty());
    }
}

TEST_CASE("foreign tables and chains stay untouched", "[foreign]") {
    must("nft add table inet foreign");
    must("nft add chain inet foreign c '{ type filter hook input priority 10; policy accept; }'");
    must("nft add rule inet foreign c tcp dport 22 counter accept");
    must("nft add set inet foreign s '{ type ipv4_addr; elements = { 192.0.2.1 } }'");
    must("nft add table ip modgate");  // our table's name in a family we do not use
    must("nft add chain ip modgate keep");
    const auto before = must("nft list table inet foreign") + must("nft list table ip modgate");
    auto rs = proto_ruleset();
    apply_ok(rs);
    apply_ok(rs);
    auto snap = nft::read_tables(nft::ids_of(rs));
    REQUIRE(snap.has_value());
    CHECK(nft::diff(rs, *snap).empty());
    nft::ApplyOptions check;
    check.check = true;
    apply_ok(rs, check);
    const auto after = must("nft list table inet foreign") + must("nft list table ip modgate");
    INFO(show_diff(before, after));
    CHECK(after == before);
}

TEST_CASE("check mode validates and changes nothing", "[check]") {
    nft::ApplyOptions check;
    check.check = true;
    auto rs = proto_ruleset();
    SECTION("on an empty ruleset") {
        const auto before = must("nft list ruleset");
        auto r = nft::apply(rs, check);
        INFO((r ? std::string() : r.error().message));
        CHECK(r.has_value());
        CHECK(must("nft list ruleset") == before);
        CHECK(before.empty());
    }
    SECTION("over an applied ruleset, with a different valid one") {
        apply_ok(rs);
        const auto before = must("nft list ruleset");
        Ruleset other = rs;
        table(other, Family::inet, "modgate").sets[0].elements.pop_back();
        chain(table(other, Family::bridge, "modgate"), "forward").rules.pop_back();
        auto r = nft::apply(other, check);
        CHECK(r.has_value());
        CHECK(must("nft list ruleset") == before);
    }
    SECTION("a batch the kernel refuses is reported, still nothing changes") {
        apply_ok(rs);
        const auto before = must("nft list ruleset");
        Ruleset bad = rs;
        chain(table(bad, Family::inet, "modgate"), "from_bridge")
            .rules.insert(chain(table(bad, Family::inet, "modgate"), "from_bridge").rules.begin() + 2,
                          rule({Verdict{Verdict::Kind::jump, "no_such_chain"}}, "a typo"));
        auto r = nft::apply(bad, check);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ENOENT);
        REQUIRE_FALSE(r.error().kernel.empty());
        CHECK(r.error().kernel[0].object == "rule 3 of chain inet modgate from_bridge");
        CHECK(must("nft list ruleset") == before);
    }
}

TEST_CASE("a rejected batch leaves the previous ruleset in place and names the object", "[reject]") {
    auto rs = proto_ruleset();
    apply_ok(rs);
    const auto before = must("nft list ruleset");
    const auto raw_before = raw_dump(table_names(rs));
    SECTION("a jump to a missing chain") {
        Ruleset bad = rs;
        auto& rules = chain(table(bad, Family::inet, "modgate"), "from_bridge").rules;
        Rule r = rule({Verdict{Verdict::Kind::jump, "no_such_chain"}}, "modgate:flow:out");
        r.origin.line = 12;
        r.origin.col = 5;
        rules.insert(rules.begin() + 2, r);
        table(bad, Family::inet, "modgate").sets[0].elements.clear();  // and other changes in the same batch
        auto res = nft::apply(bad);
        REQUIRE_FALSE(res.has_value());
        INFO(res.error().message);
        CHECK(res.error().code == ENOENT);
        REQUIRE(res.error().kernel.size() == 1);
        CHECK(res.error().kernel[0].object == "rule 3 of chain inet modgate from_bridge");
        CHECK(res.error().kernel[0].str() ==
              "rule 3 of chain inet modgate from_bridge (\"modgate:flow:out\", policy line 12:5): No such file or directory");
    }
    SECTION("a ct expression in the bridge family (the kernel lacks bridge conntrack)") {
        Ruleset bad = rs;
        chain(table(bad, Family::bridge, "modgate"), "from_network")
            .rules.push_back(rule({Match{Field::ct_state, Op::any_bit, Value{std::uint64_t{value::ct_new}}, {}}, Verdict{}}, "ct in a bridge"));
        auto res = nft::apply(bad);
        REQUIRE_FALSE(res.has_value());
        INFO(res.error().message);
        REQUIRE_FALSE(res.error().kernel.empty());
        CHECK(res.error().kernel[0].object == "rule 5 of chain bridge modgate from_network");
        CHECK(res.error().kernel[0].origin.what == "ct in a bridge");
    }
    SECTION("an element the set cannot take") {
        Ruleset bad = rs;
        auto& s = set(table(bad, Family::bridge, "modgate"), "arp_pairs");
        Element e = element({ip("10.20.30.41"), Value{*Cidr::parse("10.20.31.0/25")}});  // overlaps 10.20.31.0/24
        e.origin = Origin{"allow 'pet-ct-2 -> lab'", 40, 1};
        s.elements.push_back(e);
        auto res = nft::apply(bad);
        REQUIRE_FALSE(res.has_value());
        INFO(res.error().message);
        REQUIRE_FALSE(res.error().kernel.empty());
        CHECK(res.error().kernel[0].object.starts_with("element 3 (10.20.30.41 . 10.20.31.0/25) of set bridge modgate arp_pairs"));
        CHECK(res.error().kernel[0].origin.line == 40);
    }
    CHECK(must("nft list ruleset") == before);
    CHECK(raw_dump(table_names(rs)) == raw_before);
}

TEST_CASE("window elements survive a re-apply, removed compiler elements disappear", "[dynamic]") {
    auto rs = proto_ruleset();
    apply_ok(rs);
    const nft::TableId inet{Family::inet, "modgate"};
    Table& t = table(rs, Family::inet, "modgate");
    auto writer = nft::ElementWriter::open();
    REQUIRE(writer.has_value());
    const std::vector<Element> windows = {element({ip("10.20.30.40"), ip("203.0.113.10"), Value{std::uint64_t{443}}}, 3600000),
                                          element({ip("10.20.30.41"), ip("203.0.113.11"), Value{std::uint64_t{443}}}, 60000)};
    auto added = writer->add(inet, set(t, "window_tcp"), windows);
    INFO((added ? std::string() : added.error().message));
    REQUIRE(added.has_value());
    auto& out_tcp = set(t, "out_tcp");
    const Element removed = out_tcp.elements.back();
    out_tcp.elements.pop_back();
    auto r = nft::apply(rs);
    REQUIRE(r.has_value());
    CHECK(r->kept_dynamic_sets == 2);
    auto snap = nft::read_tables({inet});
    REQUIRE(snap.has_value());
    const auto& live = snap->tables.at(0).table;
    const Set* w = live.find_set("window_tcp");
    REQUIRE(w != nullptr);
    REQUIRE(w->elements.size() == 2);
    CHECK(w->elements[0].key == windows[0].key);
    CHECK(w->elements[0].timeout_ms == 3600000);
    CHECK(w->elements[0].expires_ms > 3500000);
    CHECK(w->elements[0].expires_ms <= 3600000);
    CHECK(w->elements[1].timeout_ms == 60000);
    const Set* o = live.find_set("out_tcp");
    REQUIRE(o != nullptr);
    CHECK(o->elements == out_tcp.elements);
    CHECK(std::find(o->elements.begin(), o->elements.end(), removed) == o->elements.end());
    // The listing still equals the renderer's text for everything but the windows.
    Ruleset with_windows = rs;
    set(table(with_windows, Family::inet, "modgate"), "window_tcp").elements = windows;
    const auto listed = canonical_listing(must("nft list table inet modgate"));
    const auto rendered = canonical_listing(render_table(table(with_windows, Family::inet, "modgate")));
    INFO(show_diff(rendered, listed));
    CHECK(listed == rendered);
    // A window removed by hand goes; the diff never proposes removing runtime elements.
    REQUIRE(writer->remove(inet, set(t, "window_tcp"), {windows[1]}).has_value());
    auto snap2 = nft::read_tables({inet});
    REQUIRE(snap2.has_value());
    CHECK(snap2->tables.at(0).table.find_set("window_tcp")->elements.size() == 1);
    Ruleset only_inet;
    only_inet.tables = {table(rs, Family::inet, "modgate")};
    auto d = nft::diff(only_inet, *snap2);
    INFO(d.text());
    CHECK(d.empty());
    CHECK(d.kept_runtime_elements == 1);
}

TEST_CASE("counters read back match the traffic", "[counters]") {
    link_to_oracle();
    Ruleset rs;
    Table t;
    t.family = Family::inet;
    t.name = "modgate";
    Chain out;
    out.name = "output";
    out.base = BaseChain{Hook::output, 0, false};
    out.rules = {rule({Match{Field::ip_daddr, Op::eq, ip("10.77.0.2"), {}}, Counter{}, Verdict{}}, "to the peer"),
                 rule({Match{Field::ip_daddr, Op::eq, ip("10.77.0.3"), {}}, Counter{}, Verdict{}}, "to nobody")};
    t.chains = {out};
    rs.tables = {t};
    apply_ok(rs);
    send_pings("10.77.0.2", 5);
    auto snap = nft::read_tables(nft::ids_of(rs));
    REQUIRE(snap.has_value());
    const auto& rules = snap->tables.at(0).table.chains.at(0).rules;
    REQUIRE(rules.size() == 2);
    const auto& c = std::get<Counter>(rules[0].stmts.at(1));
    CHECK(c.packets == 5);
    CHECK(c.bytes == 5 * 84);  // 20 IP + 8 ICMP + 56 data
    CHECK(std::get<Counter>(rules[1].stmts.at(1)).packets == 0);
    CHECK(nft::render_snapshot(*snap).find("counter packets 5 bytes 420") != std::string::npos);
}

TEST_CASE("change events report foreign changes within a second", "[events]") {
    auto rs = proto_ruleset();
    auto mon = nft::ChangeMonitor::open(nft::ids_of(rs));
    REQUIRE(mon.has_value());
    apply_ok(rs);
    auto own = mon->wait(1000);
    REQUIRE(own.has_value());
    REQUIRE_FALSE(own->empty());
    for (const auto& c : *own) {
        INFO(nft::describe(c));
        CHECK(c.ours);
    }
    auto expect_foreign = [&](const std::string& cmd, nft::TableChange::Kind kind, Family fam) {
        while (!mon->wait(100)->empty()) {
        }
        const auto t0 = std::chrono::steady_clock::now();
        must(cmd);
        bool seen = false;
        while (!seen && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1)) {
            auto got = mon->wait(200);
            REQUIRE(got.has_value());
            for (const auto& c : *got) {
                INFO(nft::describe(c));
                CHECK_FALSE(c.ours);
                if (c.kind == kind && c.table.family == fam && c.table.name == "modgate") seen = true;
            }
        }
        INFO(cmd);
        CHECK(seen);
    };
    expect_foreign("nft flush ruleset", nft::TableChange::Kind::table_removed, Family::bridge);
    apply_ok(rs);
    expect_foreign("nft delete table inet modgate", nft::TableChange::Kind::table_removed, Family::inet);
    apply_ok(rs);
    expect_foreign("nft add rule bridge modgate forward accept", nft::TableChange::Kind::rule_added, Family::bridge);
    expect_foreign("nft add element inet modgate out_tcp '{ 1.2.3.4 . 5.6.7.8 . 9 }'", nft::TableChange::Kind::elements_added, Family::inet);
    // Someone else's table is not reported.
    must("nft add table inet other");
    CHECK(mon->wait(300)->empty());
}

TEST_CASE("diff shows what someone else changed", "[diff]") {
    auto rs = proto_ruleset();
    apply_ok(rs);
    must("nft add rule inet modgate from_bridge counter");
    must("nft add element inet modgate out_tcp '{ 1.2.3.4 . 5.6.7.8 . 9 }'");
    must("nft delete chain bridge modgate drop_bridge_in 2>/dev/null || nft flush chain bridge modgate drop_ipv6_in");
    auto snap = nft::read_tables(nft::ids_of(rs));
    REQUIRE(snap.has_value());
    const auto text = nft::diff(rs, *snap).text();
    INFO(text);
    CHECK(text.find("- rule 11 of chain from_bridge: counter") != std::string::npos);
    CHECK(text.find("- set out_tcp element: 1.2.3.4 . 5.6.7.8 . 9") != std::string::npos);
    CHECK(text.find("+ rule 1 of chain drop_ipv6_in: counter packets 0 bytes 0 limit rate 10/second burst 20 packets log prefix \"modgate:ipv6:in\" group 1") !=
          std::string::npos);
    apply_ok(rs);
    auto again = nft::read_tables(nft::ids_of(rs));
    REQUIRE(again.has_value());
    CHECK(nft::diff(rs, *again).empty());
}

TEST_CASE("set elements: add and delete without touching rules, fast at 10k", "[elements]") {
    Ruleset rs;
    Table t = proto_inet();
    auto& s = set(t, "out_tcp");
    s.elements.clear();
    for (std::uint32_t i = 0; i < 10000; ++i)
        s.elements.push_back(element({Value{Ipv4{0x0a000000u + i}}, ip("10.20.1.5"), Value{std::uint64_t{104}}}));
    rs.tables = {t};
    apply_ok(rs);
    const auto rules_before = must("nft --debug=netlink list chain inet modgate from_bridge");
    const nft::TableId id{Family::inet, "modgate"};
    auto writer = nft::ElementWriter::open();
    REQUIRE(writer.has_value());
    const Element extra = element({ip("192.0.2.7"), ip("192.0.2.8"), Value{std::uint64_t{4242}}});
    const auto t0 = std::chrono::steady_clock::now();
    auto r = writer->add(id, s, {extra});
    const auto took = std::chrono::steady_clock::now() - t0;
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r.has_value());
    // A timeout on a set without `flags timeout` is refused by the kernel, naming the element.
    auto refused = writer->add(id, s, {element({ip("192.0.2.9"), ip("192.0.2.8"), Value{std::uint64_t{1}}}, 30000)});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kernel.at(0).object == "element 192.0.2.9 . 192.0.2.8 . 1 of set inet modgate out_tcp");
    CHECK(took < std::chrono::milliseconds(50));
    CHECK(run("nft get element inet modgate out_tcp '{ 192.0.2.7 . 192.0.2.8 . 4242 }'").status == 0);
    REQUIRE(writer->remove(id, s, {extra}).has_value());
    CHECK(run("nft get element inet modgate out_tcp '{ 192.0.2.7 . 192.0.2.8 . 4242 }' 2>/dev/null").status != 0);
    auto gone = writer->remove(id, s, {extra});
    REQUIRE_FALSE(gone.has_value());
    CHECK(gone.error().code == ENOENT);
    CHECK(gone.error().kernel.at(0).object == "element 192.0.2.7 . 192.0.2.8 . 4242 of set inet modgate out_tcp");
    CHECK(must("nft --debug=netlink list chain inet modgate from_bridge") == rules_before);
    auto def = writer->definition(id, "out_tcp");
    REQUIRE(def.has_value());
    CHECK(def->key == s.key);
    CHECK(def->interval);
}

TEST_CASE("NFLOG records of logged pings", "[nflog]") {
    link_to_oracle();
    Ruleset rs;
    Table t;
    t.family = Family::inet;
    t.name = "modgate";
    Chain in;
    in.name = "input";
    in.base = BaseChain{Hook::input, 0, false};
    in.rules = {rule({Match{Field::ip_saddr, Op::eq, ip("10.77.0.2"), {}}, Counter{}, Log{"modgate:test:in", 5}}, "log pings")};
    t.chains = {in};
    rs.tables = {t};
    apply_ok(rs);
    auto reader = nft::NflogReader::open(5);
    INFO((reader ? std::string() : reader.error().message));
    REQUIRE(reader.has_value());
    must(in_oracle(self_exe() + " --ping 10.77.0.1 3"));
    std::vector<nft::LogRecord> got;
    for (int i = 0; i < 20 && got.size() < 3; ++i) {
        auto r = reader->process_readable();
        REQUIRE(r.has_value());
        got.insert(got.end(), r->begin(), r->end());
        if (got.size() < 3) usleep(50000);
    }
    REQUIRE(got.size() >= 3);
    for (const auto& rec : got) {
        INFO(nft::describe(rec));
        CHECK(rec.prefix == "modgate:test:in");
        CHECK(rec.group == 5);
        CHECK(rec.in_name == "va");
        CHECK(rec.l3_proto == 0x0800);
        CHECK(rec.src == "10.77.0.2");
        CHECK(rec.dst == "10.77.0.1");
        CHECK(rec.l4_proto == 1);
        CHECK(rec.length == 84);
    }
}

TEST_CASE("NFLOG in the bridge family reports the physical in-port", "[nflog-bridge]") {
    link_to_oracle();
    auto reader = nft::NflogReader::open(5);
    REQUIRE(reader.has_value());
    {
        must("ip link add br0 type bridge");
        must("ip addr del 10.77.0.1/24 dev va");
        must("ip link set va master br0");
        must("ip addr add 10.77.0.1/24 dev br0");
        must("ip link set br0 up");
        Ruleset brs;
        Table bt;
        bt.family = Family::bridge;
        bt.name = "modgate";
        Chain pre;
        pre.name = "prerouting";
        pre.base = BaseChain{Hook::prerouting, -200, false};
        pre.rules = {rule({Match{Field::meta_iifname, Op::eq, Value{std::string("va")}, {}}, Match{Field::ip_saddr, Op::eq, ip("10.77.0.2"), {}},
                           Log{"modgate:bridge:in", 5}},
                          "log")};
        bt.chains = {pre};
        brs.tables = {bt};
        apply_ok(brs);
        must(in_oracle(self_exe() + " --ping 10.77.0.1 2"));
        std::vector<nft::LogRecord> br;
        for (int i = 0; i < 20 && br.size() < 2; ++i) {
            auto r = reader->process_readable();
            REQUIRE(r.has_value());
            for (auto& x : *r)
                if (x.prefix == "modgate:bridge:in") br.push_back(x);
            if (br.size() < 2) usleep(50000);
        }
        REQUIRE(br.size() >= 2);
        INFO(nft::describe(br[0]));
        CHECK(br[0].phys_in_name == "va");
        CHECK(br[0].in_name == "br0");
        CHECK(br[0].src == "10.77.0.2");
    }
}

int main(int argc, char** argv) {
    if (int rc = run_helper(argc, argv); rc >= 0) return rc;
    return Catch::Session().run(argc, argv);
}
