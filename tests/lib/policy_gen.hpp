// Generates large synthetic policies (TOML text) for the compiler's scale test and benchmark.
#pragma once
#include <cstddef>
#include <string>

namespace modgate::testing {

// `modalities` modalities on 10.x.y.z/24 subnets with routers, `allows` allows spread over them
// (DICOM to PACS peers, commitment back, NTP, DNS, tcp to web peers), 100 shared peers.
std::string generate_policy(std::size_t modalities, std::size_t allows);

}  // namespace modgate::testing
