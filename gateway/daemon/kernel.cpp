// The daemon's adapter over the netlink door: apply, presence check, change events, NFLOG.
#include "gateway/daemon/kernel.hpp"

#include <cerrno>
#include <netinet/in.h>

#include <fmt/format.h>

#include "gateway/nft/apply.hpp"
#include "gateway/nft/events.hpp"
#include "gateway/nft/nflog.hpp"
#include "gateway/nft/readback.hpp"

namespace modgate::daemon {
namespace {

std::string l4_name(std::uint8_t p) {
    switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_ICMP: return "icmp";
        case IPPROTO_ICMPV6: return "icmpv6";
        case IPPROTO_IGMP: return "igmp";
        default: return std::to_string(p);
    }
}

class NetlinkKernel final : public Kernel {
public:
    NetlinkKernel(std::vector<nft::TableId> ids, nft::ChangeMonitor mon, nft::NflogReader log)
        : ids_(std::move(ids)), monitor_(std::move(mon)), nflog_(std::move(log)) {}

    std::expected<void, ApplyError> apply(const ruleset::Ruleset& rs) override {
        auto r = nft::apply(rs);
        if (!r) {
            ApplyError e{r.error().message, {}};
            for (const auto& k : r.error().kernel)
                if (k.origin.line) {
                    e.origin = k.origin;
                    break;
                }
            return std::unexpected(std::move(e));
        }
        return {};
    }

    bool tables_present(const ruleset::Ruleset& rs) override {
        auto snap = nft::read_tables(nft::ids_of(rs));
        return snap && snap->tables.size() == rs.tables.size();
    }

    int monitor_fd() override { return monitor_.fd(); }

    MonitorRead process_monitor() override {
        MonitorRead out;
        auto changes = monitor_.process_readable();
        if (!changes) {
            out.error = changes.error().message;
            return out;
        }
        for (const auto& c : *changes) {
            if (c.ours) continue;
            if (!out.foreign.empty()) out.foreign += "; ";
            out.foreign += nft::describe(c);
        }
        return out;
    }

    // Only the drop chains' rules are read (one dump each), not the tables with their sets.
    std::map<std::string, std::uint64_t> drop_counters(const ruleset::Ruleset& rs) override {
        std::vector<std::pair<nft::TableId, std::string>> chains;
        for (const auto& t : rs.tables)
            for (const auto& c : t.chains)
                for (auto reason : policy::all_drop_reasons)
                    for (auto dir : {policy::Direction::outbound, policy::Direction::inbound})
                        if (c.name == policy::drop_chain_name(reason, dir)) chains.emplace_back(nft::id_of(t), c.name);
        std::map<std::string, std::uint64_t> out;
        auto counted = nft::read_log_counters(chains);
        if (!counted) return out;
        for (const auto& [prefix, packets] : *counted)
            if (auto p = policy::parse_drop_prefix(prefix))
                out[fmt::format("{}:{}", policy::to_string(p->reason), policy::to_string(p->dir))] += packets;
        return out;
    }

    int nflog_fd() override { return nflog_.fd(); }

    std::string process_nflog(const std::function<void(const DropRecord&)>& on_record, std::uint64_t& lost) override {
        auto before = nflog_.dropped();
        auto recs = nflog_.process_readable();
        lost = nflog_.dropped() - before;
        if (!recs) return recs.error().message;
        for (const auto& r : *recs) {
            DropRecord d;
            d.prefix = policy::parse_drop_prefix(r.prefix);
            d.in = !r.phys_in_name.empty() ? r.phys_in_name : r.in_name;
            d.out = !r.phys_out_name.empty() ? r.phys_out_name : r.out_name;
            switch (r.l3_proto) {
                case 0x0800: d.proto = r.l4_proto ? l4_name(r.l4_proto) : "ip"; break;
                case 0x0806: d.proto = "arp"; break;
                case 0x86dd: d.proto = r.l4_proto ? "ipv6-" + l4_name(r.l4_proto) : "ipv6"; break;
                default: d.proto = fmt::format("0x{:04x}", r.l3_proto);
            }
            d.src = r.src;
            d.dst = r.dst;
            d.sport = r.sport;
            d.dport = r.dport;
            on_record(d);
        }
        return lost ? fmt::format("the kernel dropped {} NFLOG records (socket buffer full)", lost) : std::string{};
    }

private:
    std::vector<nft::TableId> ids_;
    nft::ChangeMonitor monitor_;
    nft::NflogReader nflog_;
};

}  // namespace

std::expected<std::unique_ptr<Kernel>, std::string> open_kernel(const ruleset::Ruleset& rs, std::uint16_t nflog_group) {
    auto ids = nft::ids_of(rs);
    auto mon = nft::ChangeMonitor::open(ids);
    if (!mon) return std::unexpected("nftables change monitor: " + mon.error().message);
    auto log = nft::NflogReader::open(nflog_group);
    if (!log)
        return std::unexpected(fmt::format("NFLOG group {}: {}{}", nflog_group, log.error().message,
                                           log.error().code == EPERM ? " (another process holds the group: is a second "
                                                                       "modgated running in this network namespace?)"
                                                                     : ""));
    return std::make_unique<NetlinkKernel>(std::move(ids), std::move(*mon), std::move(*log));
}

}  // namespace modgate::daemon
