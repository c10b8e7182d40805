// Names of policy enums as they appear in the policy file, and look-ups by name.
#include "policy/model.hpp"

namespace modgate::policy {

const char* to_string(Mode m) {
    switch (m) {
        case Mode::enforce: return "enforce";
        case Mode::learn: return "learn";
        case Mode::island: return "island";
    }
    return "?";
}

const char* to_string(Proto p) { return p == Proto::tcp ? "tcp" : "udp"; }

const char* to_string(Service s) {
    switch (s) {
        case Service::dicom: return "dicom";
        case Service::tcp: return "tcp";
        case Service::udp: return "udp";
        case Service::tls: return "tls";
        case Service::ntp: return "ntp";
        case Service::dns: return "dns";
    }
    return "?";
}

const char* to_string(Direction d) { return d == Direction::outbound ? "out" : "in"; }

std::optional<Direction> direction_from_string(std::string_view s) {
    for (auto d : {Direction::outbound, Direction::inbound})
        if (s == to_string(d)) return d;
    return std::nullopt;
}

const char* to_string(Dimse d) {
    switch (d) {
        case Dimse::c_store: return "C-STORE";
        case Dimse::c_get: return "C-GET";
        case Dimse::c_find: return "C-FIND";
        case Dimse::c_move: return "C-MOVE";
        case Dimse::c_echo: return "C-ECHO";
        case Dimse::n_event_report: return "N-EVENT-REPORT";
        case Dimse::n_get: return "N-GET";
        case Dimse::n_set: return "N-SET";
        case Dimse::n_action: return "N-ACTION";
        case Dimse::n_create: return "N-CREATE";
        case Dimse::n_delete: return "N-DELETE";
    }
    return "?";
}

namespace {
template <class T>
const T* find_named(const std::vector<T>& v, std::string_view name) {
    for (const auto& x : v)
        if (x.name == name) return &x;
    return nullptr;
}
}  // namespace

const Modality* Policy::find_modality(std::string_view name) const { return find_named(modalities, name); }
const Peer* Policy::find_peer(std::string_view name) const { return find_named(peers, name); }
const Vendor* Policy::find_vendor(std::string_view name) const { return find_named(vendors, name); }

}  // namespace modgate::policy
