// libFuzzer target for the parent-proxy messages: any bytes, fed in pieces as a socket would
// deliver them, either decode or fail with a reason; nothing crashes, and whatever decodes
// encodes back to the very bytes it came from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "gateway/privsep/wire.hpp"

using namespace modgate::privsep;

namespace {

void run(std::span<const std::uint8_t> bytes, From from, std::size_t piece) {
    FrameReader r(from);
    std::size_t consumed = 0;  // bytes of the messages decoded so far
    for (std::size_t at = 0; at < bytes.size() && !r.failed(); at += piece) {
        r.feed(bytes.subspan(at, std::min(piece, bytes.size() - at)));
        while (auto m = r.next()) {
            auto again = encode(*m);
            if (consumed + again.size() > bytes.size() ||
                !std::equal(again.begin(), again.end(), bytes.begin() + static_cast<std::ptrdiff_t>(consumed)))
                std::abort();  // decoding lost or changed something
            consumed += again.size();
        }
    }
    if (r.failed() && r.error().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::span<const std::uint8_t> bytes(data + 1, size - 1);
    std::size_t piece = 1 + data[0] % 64;
    run(bytes, From::proxy, piece);
    run(bytes, From::parent, piece);
    return 0;
}
