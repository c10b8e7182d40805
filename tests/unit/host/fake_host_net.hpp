// An in-memory HostNet with the kernel's semantics that host set-up relies on: a replace takes
// over the route in its (table, destination) slot, a rule goes after the others of its
// priority, deletes match every field (protocol included). It can be told to fail after N
// changes, to leave a half-finished state behind. Also a wrapper that does the same to any
// HostNet (the integration test wraps rtnetlink with it).
#pragma once
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gateway/host/host_net.hpp"

namespace modgate::host::testing {

// Counts changes and refuses the ones after the first `allowed` (-1: never refuses).
struct FailAfter {
    int allowed = -1;
    int done = 0;
    Status next(const std::string& what) {
        if (allowed >= 0 && done >= allowed) return std::unexpected(what + ": Input/output error (injected failure)");
        ++done;
        return {};
    }
};

struct FakeLink {
    Link link;
    policy::Mac mac;
    bool multicast = true;
    bool mcast_snooping = true;
};

class FakeHostNet : public HostNet {
public:
    std::map<std::string, FakeLink> links;
    std::vector<Route> route_table;
    std::vector<Rule> rule_list;  // in the kernel's order (by priority, then age)
    std::map<std::string, std::string> sysctls;
    std::vector<std::string> log;  // every change, for "exactly these" checks
    FailAfter fail;

    // lo, a bridge br0 with ports gs0 and gh0, and a management link mg0.
    static FakeHostNet gateway() {
        FakeHostNet f;
        f.links["lo"] = {Link{"lo", "", false, true}, {}, false, false};
        f.links["br0"] = {Link{"br0", "", true, false}, {}, true, true};
        f.links["gs0"] = {Link{"gs0", "br0", false, false}, {}, true, false};
        f.links["gh0"] = {Link{"gh0", "br0", false, false}, {}, true, false};
        f.links["mg0"] = {Link{"mg0", "", false, true}, {}, true, false};
        return f;
    }

    Result<std::optional<Link>> link(const std::string& name) override {
        auto it = links.find(name);
        if (it == links.end()) return std::optional<Link>{};
        return std::optional<Link>{it->second.link};
    }
    Status set_link(const LinkChange& c) override {
        auto it = links.find(c.name);
        if (it == links.end()) return std::unexpected("link " + c.name + ": No such device");
        if (auto s = change("set link " + c.name); !s) return s;
        if (c.up) it->second.link.up = *c.up;
        if (c.mac) it->second.mac = *c.mac;
        if (c.multicast) it->second.multicast = *c.multicast;
        if (c.mcast_snooping) it->second.mcast_snooping = *c.mcast_snooping;
        return {};
    }
    Result<std::vector<Route>> routes() override { return route_table; }
    Status replace_route(const Route& r) override {
        if (!r.dev.empty() && !links.contains(r.dev)) return std::unexpected(r.str() + ": No such device");
        if (auto s = change("replace " + r.str()); !s) return s;
        auto it = std::find_if(route_table.begin(), route_table.end(), [&](const Route& o) { return o.same_slot(r); });
        if (it != route_table.end()) *it = r;
        else route_table.push_back(r);
        return {};
    }
    Status delete_route(const Route& r) override {
        auto it = std::find(route_table.begin(), route_table.end(), r);
        if (it == route_table.end()) return std::unexpected(r.str() + ": No such process");
        if (auto s = change("delete " + r.str()); !s) return s;
        route_table.erase(it);
        return {};
    }
    Result<std::vector<Rule>> rules() override { return rule_list; }
    Status add_rule(const Rule& r) override {
        if (auto s = change("add " + r.str()); !s) return s;
        auto after = std::find_if(rule_list.begin(), rule_list.end(), [&](const Rule& o) { return o.priority > r.priority; });
        rule_list.insert(after, r);
        return {};
    }
    Status delete_rule(const Rule& r) override {
        auto it = std::find(rule_list.begin(), rule_list.end(), r);
        if (it == rule_list.end()) return std::unexpected(r.str() + ": No such file or directory");
        if (auto s = change("delete " + r.str()); !s) return s;
        rule_list.erase(it);
        return {};
    }
    std::string read_sysctl(const std::string& path) override {
        auto it = sysctls.find(path);
        return it == sysctls.end() ? std::string{} : it->second;
    }
    Status write_sysctl(const std::string& path, const std::string& value) override {
        sysctls[path] = value;
        return {};
    }

private:
    Status change(const std::string& what) {
        if (auto s = fail.next(what); !s) return s;
        log.push_back(what);
        return {};
    }
};

// Any HostNet, failing after N changes of links, routes and rules.
class FailingHostNet : public HostNet {
public:
    FailingHostNet(HostNet& inner, int allowed) : inner_(inner) { fail_.allowed = allowed; }
    Result<std::optional<Link>> link(const std::string& n) override { return inner_.link(n); }
    Status set_link(const LinkChange& c) override { return gate("link " + c.name, [&] { return inner_.set_link(c); }); }
    Result<std::vector<Route>> routes() override { return inner_.routes(); }
    Status replace_route(const Route& r) override { return gate(r.str(), [&] { return inner_.replace_route(r); }); }
    Status delete_route(const Route& r) override { return gate(r.str(), [&] { return inner_.delete_route(r); }); }
    Result<std::vector<Rule>> rules() override { return inner_.rules(); }
    Status add_rule(const Rule& r) override { return gate(r.str(), [&] { return inner_.add_rule(r); }); }
    Status delete_rule(const Rule& r) override { return gate(r.str(), [&] { return inner_.delete_rule(r); }); }
    std::string read_sysctl(const std::string& p) override { return inner_.read_sysctl(p); }
    Status write_sysctl(const std::string& p, const std::string& v) override { return inner_.write_sysctl(p, v); }

private:
    template <class F>
    Status gate(const std::string& what, F f) {
        if (auto s = fail_.next(what); !s) return s;
        return f();
    }
    HostNet& inner_;
    FailAfter fail_;
};

template <class T>
std::vector<T> ours(const std::vector<T>& all, std::uint8_t protocol) {
    std::vector<T> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const T& x) { return x.protocol == protocol; });
    return out;
}

// Routes in a canonical order (a dump lists them by table and prefix, the fake by age).
inline std::vector<Route> sorted(std::vector<Route> v) {
    std::sort(v.begin(), v.end(), [](const Route& a, const Route& b) {
        return std::tie(a.table, a.dst, a.type, a.gateway, a.dev, a.onlink, a.protocol) <
               std::tie(b.table, b.dst, b.type, b.gateway, b.dev, b.onlink, b.protocol);
    });
    return v;
}

}  // namespace modgate::host::testing
