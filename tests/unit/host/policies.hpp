// Small policies shared by the unit tests and the kernel tests of host set-up.
#pragma once
#include <string>
#include <vector>

#include "policy/model.hpp"

namespace modgate::host::testing {

inline policy::Cidr cidr(const char* text) { return *policy::Cidr::parse(text); }
inline policy::Ipv4 ipv4(const char* text) { return *policy::Ipv4::parse(text); }

inline policy::Modality modality(const char* name, const char* ip, const char* router) {
    policy::Modality m;
    m.name = name;
    m.ip = *policy::IfAddr::parse(ip);
    if (router) m.router = ipv4(router);
    return m;
}

// pet-ct-1 with a router, xray-1 without, cr-1 with a router.
inline policy::Policy policy_of(std::size_t modalities) {
    policy::Policy p;
    p.gateway.bridge = "br0";
    p.gateway.modality_port = "gs0";
    p.gateway.network_port = "gh0";
    p.gateway.management = policy::Management{};
    p.gateway.management->interface = "mg0";
    std::vector<policy::Modality> all{modality("pet-ct-1", "10.20.30.40/24", "10.20.30.1"),
                                      modality("xray-1", "10.20.31.7/24", nullptr),
                                      modality("cr-1", "10.20.32.9/24", "10.20.32.1")};
    p.modalities.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(modalities));
    return p;
}

}  // namespace modgate::host::testing
