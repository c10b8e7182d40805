// DNS A queries over UDP (TCP when truncated) from the management address, one name at a time
// per server, with timeouts; answers and failures are events.
#include "gateway/daemon/vendor_resolver.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "gateway/events/events.hpp"
#include "gateway/vendors/dns_message.hpp"
#include "gateway/windows/atomic_file.hpp"

namespace modgate::daemon {

using events::Event;
using events::Key;
using events::Kind;
using events::Level;

struct VendorResolver::Name {
    explicit Name(asio::io_context& io) : timer(io), query_timer(io) {}
    std::string fqdn;
    std::vector<policy::Ipv4> last_good;
    bool have_answer = false;
    asio::steady_timer timer;        // next resolution
    asio::steady_timer query_timer;  // the query in flight
    std::shared_ptr<udp::socket> udp_sock;
    std::shared_ptr<tcp::socket> tcp_sock;
    std::uint16_t id = 0;
    std::vector<std::uint8_t> buf;
    std::string last_error;
    bool stopped = false;
};

VendorResolver::VendorResolver(asio::io_context& io, std::string state_dir, Update update)
    : io_(io), state_dir_(std::move(state_dir)), update_(std::move(update)) {
    load();
}

VendorResolver::~VendorResolver() {
    for (auto& [k, n] : names_) n->stopped = true;
}

void VendorResolver::load() {
    std::ifstream in(state_dir_ + "/vendors.state");
    for (std::string line; std::getline(in, line);) {
        // "remote.vendor.example 203.0.113.10,203.0.113.11"
        std::istringstream words(line);
        std::string name, list;
        if (!(words >> name >> list) || name.starts_with("#")) continue;
        std::vector<policy::Ipv4> addrs;
        std::istringstream items(list);
        for (std::string a; std::getline(items, a, ',');)
            if (auto ip = policy::Ipv4::parse(a)) addrs.push_back(*ip);
        if (!addrs.empty()) persisted_[name] = std::move(addrs);
    }
}

void VendorResolver::persist() {
    std::string text = "# modgate: last good addresses of vendor host names (written by modgated)\n";
    for (const auto& [name, n] : names_) {
        if (n->last_good.empty()) continue;
        std::string list;
        for (auto a : n->last_good) list += (list.empty() ? "" : ",") + a.str();
        text += name + " " + list + "\n";
    }
    const auto path = state_dir_ + "/vendors.state";
    if (auto error = windows::write_file_atomically(path, text); !error.empty())
        Event(Kind::state_file_write_failed, Level::error).kv(Key::file, path).kv(Key::error, error);
}

void VendorResolver::set_policy(const policy::Policy& p) {
    servers_ = p.gateway.management ? p.gateway.management->dns : std::vector<policy::Ipv4>{};
    source_ = p.gateway.management ? std::optional(p.gateway.management->address.addr) : std::nullopt;
    vendor_names_.clear();
    std::map<std::string, std::shared_ptr<Name>> keep;
    for (const auto& v : p.vendors)
        for (const auto& h : v.hosts) {
            if (h.fqdn.empty()) continue;
            vendor_names_[v.name].push_back(h.fqdn);
            if (keep.contains(h.fqdn)) continue;
            auto it = names_.find(h.fqdn);
            if (it != names_.end()) {
                keep[h.fqdn] = it->second;
                continue;
            }
            auto n = std::make_shared<Name>(io_);
            n->fqdn = h.fqdn;
            if (auto pit = persisted_.find(h.fqdn); pit != persisted_.end()) {
                n->last_good = pit->second;
                n->have_answer = true;
            }
            keep[h.fqdn] = n;
        }
    for (auto& [k, n] : names_)
        if (!keep.contains(k)) {
            n->stopped = true;
            n->timer.cancel();
        }
    names_ = std::move(keep);
    for (const auto& [vendor, names] : vendor_names_) announce(vendor);
    for (auto& [k, n] : names_) resolve(n);
}

void VendorResolver::announce(const std::string& vendor) {
    std::vector<policy::Ipv4> all;
    for (const auto& name : vendor_names_[vendor])
        if (auto it = names_.find(name); it != names_.end())
            all.insert(all.end(), it->second->last_good.begin(), it->second->last_good.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    update_(vendor, std::move(all));
}

void VendorResolver::resolve(const std::shared_ptr<Name>& n) {
    if (n->stopped) return;
    if (servers_.empty()) return done(n, false, {}, 0, "no DNS servers in [gateway.management]");
    static std::mt19937 rng{std::random_device{}()};
    n->id = static_cast<std::uint16_t>(rng());
    ask(n, 0, false);
}

void VendorResolver::ask(const std::shared_ptr<Name>& n, std::size_t server, bool use_tcp) {
    if (n->stopped) return;
    if (server >= servers_.size()) return done(n, false, {}, 0, n->last_error);
    auto q = vendors::encode_a_query(n->id, n->fqdn);
    if (!q.ok) return done(n, false, {}, 0, q.error);
    Next next = [this, n, server](std::string why) {
        n->last_error = fmt::format("{}: {}", servers_[server].str(), why);
        ask(n, server + 1, false);
    };
    Handler handle = answer_handler(n, server, next);
    arm_query_timeout(n, next);
    if (use_tcp)
        send_tcp(n, servers_[server], q.bytes, std::move(handle), std::move(next));
    else
        send_udp(n, servers_[server], q.bytes, std::move(handle), std::move(next));
}

// What to do with a message that may answer the query to `server`: ignore it (a mismatch, UDP
// keeps waiting), retry over TCP when truncated, move on to the next server, or finish.
VendorResolver::Handler VendorResolver::answer_handler(const std::shared_ptr<Name>& n, std::size_t server,
                                                       Next next) {
    return [this, n, server, next](std::span<const std::uint8_t> msg, bool was_tcp) {
        auto a = vendors::decode_a_response(msg, n->id, n->fqdn);
        if (a.status == vendors::DnsStatus::mismatch) return false;  // keep waiting (UDP)
        n->query_timer.cancel();
        if (a.status == vendors::DnsStatus::malformed) {
            next("malformed answer: " + a.error);
        } else if (a.truncated && !was_tcp) {
            ask(n, server, true);
        } else if (a.rcode != vendors::Rcode::noerror || a.addresses.empty()) {
            next(a.rcode != vendors::Rcode::noerror ? vendors::to_string(a.rcode) : "no A records");
        } else {
            std::vector<policy::Ipv4> addrs;
            for (const auto& x : a.addresses) addrs.push_back(policy::Ipv4{x.address});
            done(n, true, std::move(addrs), a.min_ttl, {});
        }
        return true;
    };
}

// No answer in time: close the query's sockets (ending their reads) and ask the next server.
void VendorResolver::arm_query_timeout(const std::shared_ptr<Name>& n, Next next) {
    n->query_timer.expires_after(timeout);
    n->query_timer.async_wait([n, next](const error_code& ec) {
        if (ec || n->stopped) return;
        error_code ignored;
        if (n->udp_sock) n->udp_sock->close(ignored);
        if (n->tcp_sock) n->tcp_sock->close(ignored);
        next("no answer within 2s");
    });
}

asio::ip::address_v4 VendorResolver::query_source() const {
    return source_ ? asio::ip::address_v4(source_->value) : asio::ip::address_v4::any();
}

void VendorResolver::send_udp(const std::shared_ptr<Name>& n, policy::Ipv4 server,
                              const std::vector<std::uint8_t>& query, Handler handle, Next next) {
    error_code ec;
    auto s = std::make_shared<udp::socket>(io_);
    n->udp_sock = s;
    s->open(udp::v4(), ec);
    if (!ec) s->bind(udp::endpoint(query_source(), 0), ec);
    if (!ec) s->connect(udp::endpoint(asio::ip::address_v4(server.value), 53), ec);
    if (!ec) s->send(asio::buffer(query), 0, ec);
    if (ec) {
        n->query_timer.cancel();
        return next(ec.message());
    }
    n->buf.resize(4096);
    receive_udp(n, s, std::move(handle));
}

void VendorResolver::send_tcp(const std::shared_ptr<Name>& n, policy::Ipv4 server,
                              const std::vector<std::uint8_t>& query, Handler handle, Next next) {
    error_code ec;
    auto s = std::make_shared<tcp::socket>(io_);
    n->tcp_sock = s;
    s->open(tcp::v4(), ec);
    if (!ec) s->bind(tcp::endpoint(query_source(), 0), ec);
    if (ec) {
        n->query_timer.cancel();
        return next(ec.message());
    }
    auto out = std::make_shared<std::vector<std::uint8_t>>();
    vendors::append_tcp_frame(query, *out);
    s->async_connect(tcp::endpoint(asio::ip::address_v4(server.value), 53), [this, n, s, out, handle, next](const error_code& e) {
        if (n->stopped) return;
        if (e) return next("tcp: " + e.message());
        asio::async_write(*s, asio::buffer(*out), [this, n, s, handle, next](const error_code& we, std::size_t) {
            if (we || n->stopped) return next("tcp write failed");
            n->buf.assign(65537, 0);
            read_tcp(n, s, 0, handle, next);
        });
    });
}

// Datagrams until one answers our question (others, e.g. late answers to an earlier id, are
// skipped). A member function rather than a self-referencing closure, which would never be freed.
void VendorResolver::receive_udp(const std::shared_ptr<Name>& n, const std::shared_ptr<udp::socket>& s, Handler handle) {
    s->async_receive(asio::buffer(n->buf), [this, n, s, handle](const error_code& e, std::size_t len) {
        if (e || n->stopped) return;
        if (!handle(std::span<const std::uint8_t>(n->buf.data(), len), false)) receive_udp(n, s, handle);
    });
}

void VendorResolver::read_tcp(const std::shared_ptr<Name>& n, const std::shared_ptr<tcp::socket>& s, std::size_t got,
                              Handler handle, Next next) {
    s->async_read_some(asio::buffer(n->buf.data() + got, n->buf.size() - got),
                       [this, n, s, got, handle, next](const error_code& e, std::size_t len) {
                           if (n->stopped) return;
                           if (e) return next("tcp read failed");
                           auto f = vendors::next_tcp_frame(std::span<const std::uint8_t>(n->buf.data(), got + len));
                           if (f.status == vendors::FrameStatus::need_more) return read_tcp(n, s, got + len, handle, next);
                           if (f.status == vendors::FrameStatus::malformed) return next("bad tcp framing");
                           handle(f.message, true);
                       });
}

void VendorResolver::done(const std::shared_ptr<Name>& n, bool ok, std::vector<policy::Ipv4> addrs, std::uint32_t ttl,
                          const std::string& error) {
    if (n->stopped) return;
    error_code ignored;
    if (n->udp_sock) n->udp_sock->close(ignored);
    if (n->tcp_sock) n->tcp_sock->close(ignored);
    std::chrono::seconds again = retry;
    if (ok) {
        std::sort(addrs.begin(), addrs.end());
        addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
        again = std::clamp<std::chrono::seconds>(std::chrono::seconds(ttl), min_refresh, max_refresh);
        bool changed = addrs != n->last_good;
        std::string list;
        for (auto a : addrs) list += (list.empty() ? "" : ",") + a.str();
        if (changed || !n->have_answer)
            Event(Kind::vendor_resolved).kv(Key::name, n->fqdn).kv(Key::addresses, list).kv(Key::ttl, static_cast<std::uint64_t>(ttl));
        n->last_good = std::move(addrs);
        n->have_answer = true;
        if (changed) {
            persist();
            for (const auto& [vendor, names] : vendor_names_)
                if (std::find(names.begin(), names.end(), n->fqdn) != names.end()) announce(vendor);
        }
    } else {
        std::string kept;
        for (auto a : n->last_good) kept += (kept.empty() ? "" : ",") + a.str();
        Event(Kind::vendor_resolve_failed, Level::warning)
            .kv(Key::name, n->fqdn).kv(Key::error, error).kv(Key::kept, kept.empty() ? "none" : kept);
    }
    n->timer.expires_after(again);
    std::weak_ptr<Name> w = n;
    n->timer.async_wait([this, w](const error_code& ec) {
        if (auto s = w.lock(); s && !ec) resolve(s);
    });
}

}  // namespace modgate::daemon
