// The proxy's flow lookup: direction, ports, most specific peer.
#include <catch2/catch.hpp>

#include "policy/flows.hpp"
#include "policy/load.hpp"

using namespace modgate::policy;

TEST_CASE("flows match their allow in either direction, most specific peer first") {
    auto r = load_string(R"([gateway]
modality_port = "gs0"
network_port = "gh0"

[[modality]]
name = "m"
ip = "10.0.0.10/24"
mac = "00:16:3e:00:00:10"
router = "10.0.0.1"
dicom = { ae_title = "M", port = 11112 }

[[peer]]
name = "pacs"
ip = "10.1.0.5"
dicom = { ae_title = "PACS", port = 104 }

[[peer]]
name = "servers"
ip = "10.1.0.0/24"

[[allow]]
modality = "m"
to = "servers"
service = "tcp"
ports = [8080]

[[allow]]
modality = "m"
to = "pacs"
service = "tls"
ports = [8443]
tls_sni = ["pacs.example"]

[[allow]]
modality = "m"
to = "pacs"
service = "dicom"
dimse = ["C-STORE"]
sop_classes = ["CT"]

[[allow]]
modality = "m"
from = "pacs"
service = "dicom"
dimse = ["N-EVENT-REPORT"]
sop_classes = ["StorageCommitment"]

[[allow]]
modality = "m"
to = "servers"
service = "dns"
)",
                         "t.toml");
    INFO(r.report());
    REQUIRE(r.policy);
    FlowIndex idx(*r.policy);
    auto m = *Ipv4::parse("10.0.0.10"), pacs = *Ipv4::parse("10.1.0.5"), other = *Ipv4::parse("10.1.0.9");
    auto out = idx.match(m, pacs, Proto::tcp, 104);
    REQUIRE(out);
    CHECK(out->allow->service == Service::dicom);
    CHECK(out->direction == Direction::outbound);
    CHECK(out->peer->name == "pacs");
    auto in = idx.match(pacs, m, Proto::tcp, 11112);
    REQUIRE(in);
    CHECK(in->direction == Direction::inbound);
    CHECK(in->allow->dimse == std::vector<Dimse>{Dimse::n_event_report});
    CHECK(idx.match(m, other, Proto::tcp, 8080)->peer->name == "servers");
    CHECK(idx.match(m, pacs, Proto::tcp, 8080)->peer->name == "servers");   // pacs lies in servers
    CHECK(idx.match(m, pacs, Proto::tcp, 8443)->allow->service == Service::tls);
    CHECK(idx.match(m, other, Proto::udp, 53)->allow->service == Service::dns);
    CHECK_FALSE(idx.match(m, other, Proto::tcp, 104));       // dicom only to the PACS itself
    CHECK_FALSE(idx.match(other, m, Proto::tcp, 11112));     // only the PACS may call back
    CHECK_FALSE(idx.match(m, pacs, Proto::udp, 104));        // wrong protocol
    CHECK_FALSE(idx.match(pacs, m, Proto::tcp, 104));        // not the modality's port
    CHECK(idx.modality_at(m)->name == "m");
    CHECK_FALSE(idx.modality_at(pacs));
}
