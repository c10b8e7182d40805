// Vendor host names resolved in the proxy process (see dns_resolver.hpp): the query machinery;
// the parent keeps the answers.
#include "gateway/proxy/dns_resolver.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "gateway/vendors/dns_message.hpp"

namespace modgate::proxy {

namespace {

DnsResult failure(std::string error) { return DnsResult{{}, false, {}, 0, std::move(error)}; }

}  // namespace

struct DnsResolver::Name {
    explicit Name(asio::io_context& io) : timer(io), query_timer(io) {}
    std::string fqdn;
    asio::steady_timer timer;        // next resolution
    asio::steady_timer query_timer;  // the query in flight
    std::shared_ptr<udp::socket> udp_sock;
    std::shared_ptr<tcp::socket> tcp_sock;
    std::uint16_t id = 0;
    std::vector<std::uint8_t> buf;
    std::string last_error;
    bool stopped = false;
};

DnsResolver::DnsResolver(asio::io_context& io, Report report) : io_(io), report_(std::move(report)) {}

DnsResolver::~DnsResolver() {
    for (auto& [k, n] : names_) n->stopped = true;
}

void DnsResolver::set_policy(const policy::Policy& p) {
    servers_ = p.gateway.management ? p.gateway.management->dns : std::vector<policy::Ipv4>{};
    source_ = p.gateway.management ? std::optional(p.gateway.management->address.addr) : std::nullopt;
    std::map<std::string, std::shared_ptr<Name>> keep;
    for (const auto& v : p.vendors)
        for (const auto& h : v.hosts) {
            if (h.fqdn.empty() || keep.contains(h.fqdn)) continue;
            if (auto it = names_.find(h.fqdn); it != names_.end()) {
                keep[h.fqdn] = it->second;
                continue;
            }
            auto n = std::make_shared<Name>(io_);
            n->fqdn = h.fqdn;
            keep[h.fqdn] = n;
        }
    for (auto& [k, n] : names_)
        if (!keep.contains(k)) {
            n->stopped = true;
            n->timer.cancel();
        }
    names_ = std::move(keep);
    for (auto& [k, n] : names_) resolve(n);  // the servers may have changed too
}

void DnsResolver::resolve(const std::shared_ptr<Name>& n) {
    if (n->stopped) return;
    if (servers_.empty()) return done(n, failure("no DNS servers in [gateway.management]"));
    static std::mt19937 rng{std::random_device{}()};
    n->id = static_cast<std::uint16_t>(rng());
    ask(n, 0, false);
}

void DnsResolver::ask(const std::shared_ptr<Name>& n, std::size_t server, bool use_tcp) {
    if (n->stopped) return;
    if (server >= servers_.size()) return done(n, failure(n->last_error));
    auto q = vendors::encode_a_query(n->id, n->fqdn);
    if (!q.ok) return done(n, failure(q.error));
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
DnsResolver::Handler DnsResolver::answer_handler(const std::shared_ptr<Name>& n, std::size_t server,
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
            done(n, DnsResult{{}, true, std::move(addrs), a.min_ttl, {}});
        }
        return true;
    };
}

// No answer in time: close the query's sockets (ending their reads) and ask the next server.
void DnsResolver::arm_query_timeout(const std::shared_ptr<Name>& n, Next next) {
    n->query_timer.expires_after(timeout);
    n->query_timer.async_wait([n, next](const error_code& ec) {
        if (ec || n->stopped) return;
        error_code ignored;
        if (n->udp_sock) n->udp_sock->close(ignored);
        if (n->tcp_sock) n->tcp_sock->close(ignored);
        next("no answer within 2s");
    });
}

asio::ip::address_v4 DnsResolver::query_source() const {
    return source_ ? asio::ip::address_v4(source_->value) : asio::ip::address_v4::any();
}

void DnsResolver::send_udp(const std::shared_ptr<Name>& n, policy::Ipv4 server,
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

void DnsResolver::send_tcp(const std::shared_ptr<Name>& n, policy::Ipv4 server,
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
void DnsResolver::receive_udp(const std::shared_ptr<Name>& n, const std::shared_ptr<udp::socket>& s, Handler handle) {
    s->async_receive(asio::buffer(n->buf), [this, n, s, handle](const error_code& e, std::size_t len) {
        if (e || n->stopped) return;
        if (!handle(std::span<const std::uint8_t>(n->buf.data(), len), false)) receive_udp(n, s, handle);
    });
}

void DnsResolver::read_tcp(const std::shared_ptr<Name>& n, const std::shared_ptr<tcp::socket>& s, std::size_t got,
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

void DnsResolver::done(const std::shared_ptr<Name>& n, DnsResult r) {
    if (n->stopped) return;
    error_code ignored;
    if (n->udp_sock) n->udp_sock->close(ignored);
    if (n->tcp_sock) n->tcp_sock->close(ignored);
    std::chrono::seconds again = retry;
    if (r.ok) {
        std::sort(r.addresses.begin(), r.addresses.end());
        r.addresses.erase(std::unique(r.addresses.begin(), r.addresses.end()), r.addresses.end());
        again = std::clamp<std::chrono::seconds>(std::chrono::seconds(r.ttl), min_refresh, max_refresh);
    }
    r.name = n->fqdn;
    report_(std::move(r));
    n->timer.expires_after(again);
    std::weak_ptr<Name> w = n;
    n->timer.async_wait([this, w](const error_code& ec) {
        if (auto s = w.lock(); s && !ec) resolve(s);
    });
}

}  // namespace modgate::proxy
