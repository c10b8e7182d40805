// Synthetic policy generator: deterministic, valid, and shaped like a large hospital.
#include "tests/lib/policy_gen.hpp"

#include <fmt/format.h>

namespace modgate::testing {

std::string generate_policy(std::size_t modalities, std::size_t allows) {
    std::string t =
        "[gateway]\nmodality_port = \"gs0\"\nnetwork_port = \"gh0\"\n\n"
        "[gateway.management]\ninterface = \"mg0\"\naddress = \"172.16.0.5/24\"\nrouter = \"172.16.0.1\"\n\n";
    const std::size_t peers = 100;
    for (std::size_t p = 0; p < peers; ++p)
        t += fmt::format("[[peer]]\nname = \"pacs-{}\"\nip = \"192.168.{}.{}\"\ndicom = {{ ae_title = \"PACS{}\", port = 104 }}\n\n",
                         p, p / 250, p % 250 + 1, p);
    for (std::size_t m = 0; m < modalities; ++m) {
        auto b = (m / 250) % 250, c = m % 250;
        t += fmt::format(
            "[[modality]]\nname = \"mod-{}\"\nip = \"10.{}.{}.10/24\"\nmac = \"02:00:00:{:02x}:{:02x}:{:02x}\"\n"
            "router = \"10.{}.{}.1\"\ndicom = {{ ae_title = \"MOD{}\", port = 104 }}\n\n",
            m, b, c, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff, b, c, m);
    }
    // Each (modality, peer) pair is used once; kinds rotate so all set shapes are exercised.
    static constexpr const char* kinds[] = {
        "service = \"dicom\"\ndimse = [\"C-ECHO\", \"C-STORE\", \"N-ACTION\"]\nsop_classes = [\"CT\", \"PET\", \"StorageCommitment\"]\n",
        "service = \"tcp\"\nports = [8080]\n",
        "service = \"ntp\"\n",
        "service = \"dns\"\n",
    };
    for (std::size_t a = 0; a < allows; ++a) {
        auto m = a % modalities;
        auto round = a / modalities;  // distinct peer per round for the same modality
        auto p = (m + round * 7) % peers;
        bool inbound = round % 5 == 4;
        t += fmt::format("[[allow]]\nmodality = \"mod-{}\"\n{} = \"pacs-{}\"\n{}\n", m, inbound ? "from" : "to", p,
                         inbound ? kinds[0] : kinds[(round + m) % 4]);
    }
    return t;
}

}  // namespace modgate::testing
