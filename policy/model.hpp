// The validated policy as plain data: what the compiler, the DICOM filter and the daemon read.
// Every object keeps the location of its table in the policy file, for messages that point back.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/net.hpp"
#include "policy/schedule.hpp"

namespace modgate::policy {

struct Loc {
    std::uint32_t line = 0;  // 1-based; 0 means unknown
    std::uint32_t col = 0;
    auto operator<=>(const Loc&) const = default;
};

enum class Mode { enforce, learn, island };
enum class Proto : std::uint8_t { tcp = 6, udp = 17 };
enum class Service { dicom, tcp, udp, tls, ntp, dns };
enum class Direction { outbound, inbound };  // outbound: the modality opens; inbound: the peer opens

const char* to_string(Mode);
const char* to_string(Proto);
const char* to_string(Service);
const char* to_string(Direction);  // "out" | "in"
std::optional<Direction> direction_from_string(std::string_view);  // the inverse of to_string

// DIMSE requests by command field value (PS3.7 E.1).
enum class Dimse : std::uint16_t {
    c_store = 0x0001, c_get = 0x0010, c_find = 0x0020, c_move = 0x0021, c_echo = 0x0030,
    n_event_report = 0x0100, n_get = 0x0110, n_set = 0x0120, n_action = 0x0130,
    n_create = 0x0140, n_delete = 0x0150,
};
const char* to_string(Dimse);  // "C-STORE"

using Seconds = std::chrono::seconds;

struct Management {
    std::string interface;
    IfAddr address;
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns;
    Loc loc;
};

struct DicomTimeouts {
    Seconds artim{30};                 // waiting for A-ASSOCIATE-RQ (and for the AC/RJ)
    Seconds idle{900};                 // no PDU in either direction
    Seconds max_association{8 * 3600}; // whole association lifetime
    Seconds write{30};                 // a peer that stops reading
    Seconds connect{10};               // upstream connect
};

struct DropLog {
    std::uint32_t rate = 10;   // log records per second, per drop rule; counters count everything
    std::uint32_t burst = 20;
    std::uint16_t group = 1;   // NFLOG group
};

struct Gateway {
    std::string bridge = "br0";
    std::string modality_port;
    std::string network_port;
    Mode mode = Mode::enforce;
    Mac bridge_mac{{0x02, 0x6d, 0x67, 0x00, 0x00, 0x01}};  // diverted frames are rewritten to it
    std::uint16_t proxy_port = 15001;                       // local tproxy listener (TCP and UDP)
    std::optional<Management> management;
    std::string admin_group;                                // may change state through the control socket
    DropLog drop_log;
    DicomTimeouts dicom;
    Loc loc;
};

struct DicomEndpoint {
    std::string ae_title;  // may be empty for a peer that only receives our associations' calls... never for a modality
    std::uint16_t port = 104;
    Loc loc;
};

struct Limits {
    std::uint32_t max_associations = 0;  // concurrent DICOM associations; 0 = the default
    std::uint32_t max_connections = 0;   // concurrent proxied connections; 0 = the default
};

struct Modality {
    std::string name;
    IfAddr ip;                      // address with the prefix length configured on the modality
    Mac mac;
    std::optional<Ipv4> router;     // its default router; peers off-subnet are reached through it
    std::optional<DicomEndpoint> dicom;  // its own SCP, for associations that come back
    Limits limits;
    Loc loc;
};

struct Peer {
    std::string name;
    Cidr address;
    std::optional<DicomEndpoint> dicom;
    Limits limits;
    Loc loc;
};

// A vendor host: a name resolved at run time, or a fixed address/network.
struct VendorHost {
    std::string fqdn;             // empty when address is set
    std::optional<Cidr> address;
    Loc loc;
};

struct Vendor {
    std::string name;
    std::vector<VendorHost> hosts;
    std::vector<std::uint16_t> ports;
    std::vector<std::string> tls_sni;  // "*.vendor.example" or exact names; empty = no SNI check
    Loc loc;
};

struct SopClass {
    std::string uid;
    std::string group;  // the friendly group it came from, empty for a raw UID
};

struct PortSpec {
    Proto proto;
    std::uint16_t port;
    auto operator<=>(const PortSpec&) const = default;
};

struct Allow {
    std::size_t index = 0;       // position in the file, 0-based
    std::string name;            // given name, or "<modality> <-|-> <peer> <service>"
    std::string modality;
    std::string peer;
    Direction direction = Direction::outbound;
    Service service = Service::tcp;
    std::vector<PortSpec> ports;  // resolved: the destination port(s) of the opening side
    // dicom only
    std::vector<Dimse> dimse;
    std::vector<SopClass> sop_classes;
    std::vector<std::string> transfer_syntaxes;  // UIDs; empty = any well-formed
    std::uint32_t max_pdu = 0;                   // 0 = the gateway default
    std::uint32_t max_associations = 0;          // 0 = no rule-specific cap
    // tls only
    std::vector<std::string> tls_sni;
    Loc loc;
};

struct Maintenance {
    std::string modality;
    std::string vendor;
    std::vector<WeeklySlot> schedule;
    std::string timezone = "UTC";
    Seconds max_duration{4 * 3600};
    bool on_demand = true;
    std::string group;            // who may open it on demand (besides root); empty = admin_group
    bool cut_sessions = true;     // close live sessions when the window ends
    std::vector<PortSpec> inbound;  // vendor-initiated sessions into the modality, during the window
    Loc loc;
};

enum class SinkType { stderr_, journald, syslog, file };
enum class SinkFormat { logfmt, json, cef, rfc5424 };

struct Sink {
    SinkType type = SinkType::stderr_;
    SinkFormat format = SinkFormat::logfmt;
    std::string target;  // file path, or host:port for syslog
    Proto transport = Proto::udp;
    Loc loc;
};

struct Logging {
    std::string level = "info";
    std::vector<Sink> sinks;
    Loc loc;
};

struct Policy {
    std::string source;  // file name as given
    Gateway gateway;
    Logging logging;
    std::vector<Modality> modalities;
    std::vector<Peer> peers;
    std::vector<Vendor> vendors;
    std::vector<Allow> allows;
    std::vector<Maintenance> maintenance;

    const Modality* find_modality(std::string_view name) const;
    const Peer* find_peer(std::string_view name) const;
    const Vendor* find_vendor(std::string_view name) const;
};

}  // namespace modgate::policy
