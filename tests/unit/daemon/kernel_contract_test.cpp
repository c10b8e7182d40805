// The kernel contract against the real kernel (netlink), run inside a fresh network namespace.
#include <cstdlib>

#include "gateway/daemon/kernel.hpp"
#include "tests/unit/daemon/kernel_contract.hpp"

using namespace modgate;

namespace {

struct RealDriver : daemon::testing::KernelDriver {
    std::unique_ptr<daemon::Kernel> k;
    explicit RealDriver(const ruleset::Ruleset& rs) {
        auto opened = daemon::open_kernel(rs, 7);
        REQUIRE(opened);
        k = std::move(*opened);
    }
    daemon::Kernel& kernel() override { return *k; }
    void foreign_delete_inet_table() override { REQUIRE(std::system("nft delete table inet modgate") == 0); }
};

}  // namespace

TEST_CASE("the netlink kernel keeps the kernel contract") {
    REQUIRE(std::getenv("MODGATE_NS_SELF"));  // only inside run_in_netns.sh's namespace
    auto rs = daemon::testing::contract_ruleset(MODGATE_SOURCE_DIR);
    // Leftovers of an earlier run, if any: a table that is not there is no failure.
    [[maybe_unused]] int rc = std::system("nft delete table inet modgate 2>/dev/null; nft delete table bridge "
                                          "modgate 2>/dev/null; nft delete table arp modgate 2>/dev/null");
    RealDriver d(rs);
    daemon::testing::kernel_contract(d, rs);
    rc = std::system("nft flush ruleset");
}
