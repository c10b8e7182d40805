// status and window list survive the trip through JSON, and render as text.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "gateway/control/status.hpp"

using namespace modgate;

TEST_CASE("status goes through JSON and back unchanged") {
    control::Status s;
    s.uptime_s = 12;
    s.policy_path = "/etc/modgate/policy.toml";
    s.hash = "abc";
    s.mode = "island";
    s.policy_mode = "enforce";
    s.modalities = {{"pet-ct-1", "10.20.30.40", "00:16:3e:12:34:56", 3}};
    s.proxy = {5, 1, 0, 4, 1, 1000, 20};
    s.drops_available = true;
    s.drops = {{"flow:out", 7}};
    s.drops_logged = {{"flow:out", 2}};
    s.dimse_forwarded = {{"c_store", 6}};
    s.sinks = {{"stderr", {10, 0}}};
    control::WindowStatus w;
    w.modality = "pet-ct-1";
    w.vendor = "acme";
    w.open = true;
    w.remaining_s = 3600;
    w.user = "root";
    w.reason = "CHG-1";
    s.windows = {w};
    auto text = control::to_json(s).dump();
    auto back = control::status_from_json(nlohmann::json::parse(text));
    CHECK(control::to_json(back).dump() == text);
    CHECK(back.windows[0].reason == "CHG-1");
    CHECK(text.find("\"name\":\"pet-ct-1\"") != std::string::npos);
    auto shown = control::render_text(back);
    CHECK(shown.find("mode island (policy says enforce)") != std::string::npos);
    CHECK(shown.find("pet-ct-1/acme") != std::string::npos);
    CHECK_THROWS_AS(control::status_from_json(nlohmann::json::parse("{\"uptime_s\":1}")), nlohmann::json::exception);
}
