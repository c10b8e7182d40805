// libFuzzer target for the policy loader: any bytes are either a located diagnostic or a valid
// policy that compiles and renders; nothing crashes, nothing is accepted with errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/compile.hpp"
#include "policy/load.hpp"
#include "policy/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = modgate::policy::load_string(text, "fuzz.toml");
    if (r.policy) {
        if (r.diagnostics.errors() != 0) std::abort();
        auto rs = modgate::policy::compile(*r.policy);
        auto out = modgate::ruleset::render_file(rs);
        if (out.empty()) std::abort();
    } else if (r.diagnostics.errors() == 0) {
        std::abort();  // refused without saying why
    }
    (void)r.report();  // formatting must cope with any position the diagnostics carry
    return 0;
}
