// A policy with two on-demand windows and no schedules (nothing opens by itself whatever the
// clock says): acme-remote by network and name, with an inbound port; acme-lan by address.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "policy/load.hpp"

namespace windows_test {

inline constexpr const char* kernel_policy_text = R"(
[gateway]
modality_port = "gs0"
network_port = "gh0"

[gateway.management]
interface = "mg0"
address = "10.99.0.5/24"
router = "10.99.0.1"
dns = ["10.99.0.53"]

[[modality]]
name = "pet-ct-1"
ip = "10.20.30.40/24"
mac = "00:16:3e:12:34:56"
router = "10.20.30.1"

[[vendor]]
name = "acme-remote"
hosts = ["remote.acme.example", "198.51.100.0/28"]
ports = [443, 8443]

[[vendor]]
name = "acme-lan"
hosts = ["10.20.30.77"]
ports = [22]

[[maintenance]]
modality = "pet-ct-1"
vendor = "acme-remote"
max_duration = "4h"
inbound_ports = [5900]

[[maintenance]]
modality = "pet-ct-1"
vendor = "acme-lan"
max_duration = "2h"
)";

inline modgate::policy::Policy kernel_policy() {
    auto r = modgate::policy::load_string(kernel_policy_text, "kernel_policy.toml");
    INFO(r.report());
    REQUIRE(r.policy.has_value());
    return *r.policy;
}

}  // namespace windows_test
