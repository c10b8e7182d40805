// Element transactions: NEWSETELEM/DELSETELEM only, encoded like apply's, sent as their own batch.
// Cost does not depend on how many elements the set already holds.
#include "gateway/nft/elements.hpp"

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <fmt/format.h>

#include "gateway/nft/kernel_state.hpp"
#include "gateway/nft/netlink.hpp"
#include "gateway/nft/set_codec.hpp"

namespace modgate::nft {

using namespace ruleset;

Result<ElementWriter> ElementWriter::open() {
    auto s = Socket::open();
    if (!s) return std::unexpected(s.error());
    ElementWriter w;
    w.sock_ = std::make_unique<Socket>(std::move(*s));
    return w;
}

ElementWriter::ElementWriter(ElementWriter&&) noexcept = default;
ElementWriter& ElementWriter::operator=(ElementWriter&&) noexcept = default;
ElementWriter::~ElementWriter() = default;

// Appends the messages for `elems` (one kind) to `batch`, each mapped back to its element.
Result<void> ElementWriter::append(Batch& batch, std::uint16_t type, const TableId& table, const Set& set,
                                   const std::vector<Element>& elems) {
    if (elems.empty()) return {};
    // No zero segment: the set exists, and nft adds it only when a set is created with elements.
    auto wire = encode_elements(set, elems, false);
    if (!wire) return std::unexpected(wire.error());
    const std::string tname = fmt::format("{} {}", to_string(table.family), table.name);
    for (std::size_t i = 0; i < wire->size();) {
        auto* nlh = batch.begin(type, nfproto(table.family), type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, {}, 68000);
        std::vector<std::uint32_t> offsets;
        const std::size_t next = put_elements(nlh, table.name, set.name, *wire, i, 60000, offsets);
        auto& o = batch.last_origin();
        o.object = fmt::format("elements of set {} {}", tname, set.name);
        for (std::size_t k = 0; k < offsets.size(); ++k) {
            const int src = (*wire)[i + k].source;
            MessageOrigin::Elem e;
            e.offset = offsets[k];
            if (src >= 0) {
                const auto& el = elems[static_cast<std::size_t>(src)];
                e.object = fmt::format("element {} of set {} {}", element_text(set, el), tname, set.name);
                e.origin = el.origin;
            }
            o.elems.push_back(std::move(e));
        }
        i = next;
    }
    return {};
}

Result<void> ElementWriter::replace(const TableId& table, const Set& set, const std::vector<Element>& remove_elems,
                                    const std::vector<Element>& add_elems) {
    if (remove_elems.empty() && add_elems.empty()) return {};
    Batch batch(sock_->next_seq(), 0);
    if (auto r = append(batch, NFT_MSG_DELSETELEM, table, set, remove_elems); !r) return r;
    if (auto r = append(batch, NFT_MSG_NEWSETELEM, table, set, add_elems); !r) return r;
    batch.finish(true);
    for (std::size_t i = 0; i <= batch.messages() + 1; ++i) sock_->next_seq();
    return batch.send(*sock_);
}

Result<void> ElementWriter::add(const TableId& table, const Set& set, const std::vector<Element>& elems) {
    return replace(table, set, {}, elems);
}

Result<void> ElementWriter::remove(const TableId& table, const Set& set, const std::vector<Element>& elems) {
    return replace(table, set, elems, {});
}

Result<Set> ElementWriter::definition(const TableId& table, const std::string& set) {
    auto k = read_structure(*sock_, table.family, table.name);
    if (!k) return std::unexpected(k.error());
    for (const auto& ks : k->sets) {
        if (ks.name != set) continue;
        auto d = decode_set(ks.name, ks.wire);
        if (!d) return std::unexpected(Error{EOPNOTSUPP, fmt::format("set {}: key type unknown to modgate", set), {}});
        return d->set;
    }
    return std::unexpected(Error{ENOENT, fmt::format("no set {} in table {} {}", set, to_string(table.family), table.name), {}});
}

Result<void> add_elements(const TableId& table, const Set& set, const std::vector<Element>& elems) {
    auto w = ElementWriter::open();
    if (!w) return std::unexpected(w.error());
    return w->add(table, set, elems);
}

Result<void> delete_elements(const TableId& table, const Set& set, const std::vector<Element>& elems) {
    auto w = ElementWriter::open();
    if (!w) return std::unexpected(w.error());
    return w->remove(table, set, elems);
}

}  // namespace modgate::nft
