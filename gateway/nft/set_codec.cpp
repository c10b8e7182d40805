// Set definitions and elements as nft 1.0.6 sends them (mnl.c mnl_nft_set_add, netlink.c
// alloc_nftnl_setelem, intervals.c set_to_intervals), and their decoding for read-back.
#include "gateway/nft/set_codec.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "gateway/nft/fields.hpp"
#include "policy/render.hpp"

namespace modgate::nft {

using namespace ruleset;

namespace {

constexpr std::uint32_t type_bits = 6;        // nft's TYPE_BITS for concatenated key types
constexpr std::uint8_t expr_concat = 13;      // nft's EXPR_CONCAT, recorded as the key's typeof
constexpr std::uint8_t udata_elem_comment = 0, udata_elem_flags = 1, elem_interval_open = 1;

void put_u32_tlv(Bytes& out, std::uint8_t type, std::uint32_t v) {
    out.push_back(type);
    out.push_back(4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));  // host order (x86)
}

void put_str_tlv(Bytes& out, std::uint8_t type, const std::string& s) {
    const std::size_t n = std::min<std::size_t>(s.size(), 253);
    out.push_back(type);
    out.push_back(static_cast<std::uint8_t>(n + 1));
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(s[i]));
    out.push_back(0);
}

Bytes elem_userdata(const Element& e, bool open) {
    Bytes u;
    if (!e.comment.empty()) put_str_tlv(u, udata_elem_comment, e.comment);
    if (open) put_u32_tlv(u, udata_elem_flags, elem_interval_open);
    return u;
}

std::string comment_of(const Bytes& u) {
    for (std::size_t i = 0; i + 2 <= u.size() && i + 2 + u[i + 1] <= u.size(); i += 2 + u[i + 1]) {
        if (u[i] == udata_elem_comment && u[i + 1] > 0) {
            std::string s(u.begin() + static_cast<std::ptrdiff_t>(i) + 2, u.begin() + static_cast<std::ptrdiff_t>(i) + 2 + u[i + 1]);
            if (auto z = s.find('\0'); z != std::string::npos) s.resize(z);
            return s;
        }
    }
    return {};
}

// A key component as an inclusive range of unpadded wire values (big endian for intervals).
struct Span {
    Bytes lo, hi;
};

Result<Span> span(KeyType k, const Value& v, bool big_endian) {
    if (const auto* c = std::get_if<Cidr>(&v)) {
        if (k != KeyType::ipv4_addr) return std::unexpected(model_error(fmt::format("a prefix cannot be a {} key", to_string(k))));
        auto lo = encode_key(k, Value{c->addr}, true);
        auto hi = encode_key(k, Value{c->last()}, true);
        return Span{*lo, *hi};
    }
    auto b = encode_key(k, v, big_endian);
    if (!b) return std::unexpected(b.error());
    return Span{*b, *b};
}

void append_padded(Bytes& out, const Bytes& b) {
    out.insert(out.end(), b.begin(), b.end());
    out.resize(out.size() + (padded(static_cast<std::uint32_t>(b.size())) - b.size()), 0);
}

bool all_ff(const Bytes& b) { return std::all_of(b.begin(), b.end(), [](auto c) { return c == 0xff; }); }
bool all_zero(const Bytes& b) { return std::all_of(b.begin(), b.end(), [](auto c) { return c == 0; }); }

Bytes plus_one(Bytes b) {
    for (std::size_t i = b.size(); i-- > 0;)
        if (++b[i] != 0) break;
    return b;
}
Bytes minus_one(Bytes b) {
    for (std::size_t i = b.size(); i-- > 0;)
        if (b[i]-- != 0) break;
    return b;
}

}  // namespace

Result<SetWire> set_wire(const Set& s) {
    if (s.key.empty()) return std::unexpected(model_error(fmt::format("set {} has no key", s.name)));
    if (s.key.size() > 1 && s.key.size() * 6 > 32 + 6)
        return std::unexpected(model_error(fmt::format("set {}: too many key fields", s.name)));
    SetWire w;
    const bool concat = s.key.size() > 1;
    for (KeyType k : s.key) {
        const auto& ki = key_info(k);
        w.key_type = (w.key_type << type_bits) | ki.type_id;
        w.key_len += concat ? padded(ki.len) : ki.len;
        if (concat && s.interval) w.field_len.push_back(static_cast<std::uint8_t>(ki.len));
    }
    if (s.interval) w.flags |= NFT_SET_INTERVAL;
    if (s.interval && concat) w.flags |= NFT_SET_CONCAT;
    if (s.timeout) w.flags |= NFT_SET_TIMEOUT;
    put_u32_tlv(w.userdata, 0 /* NFTNL_UDATA_SET_KEYBYTEORDER */, concat ? 0 : key_info(s.key[0]).byteorder);
    if (concat) {
        // nft 1.0.6 starts a "typeof" record for `type a . b` keys and leaves its data empty:
        // KEY_TYPEOF { TYPEOF_EXPR = EXPR_CONCAT, TYPEOF_DATA {} }.
        const Bytes typeof_rec{3, 8, 0, 4, expr_concat, 0, 0, 0, 1, 0};
        w.userdata.insert(w.userdata.end(), typeof_rec.begin(), typeof_rec.end());
    }
    return w;
}

Result<std::vector<ElemWire>> encode_elements(const Set& s, const std::vector<Element>& elems, bool first_segment) {
    std::vector<ElemWire> out;
    const bool concat = s.key.size() > 1;
    if (!s.interval || concat) {
        for (std::size_t i = 0; i < elems.size(); ++i) {
            const Element& e = elems[i];
            if (e.key.size() != s.key.size())
                return std::unexpected(model_error(fmt::format("element {} of set {} has {} key fields, the set {}", i + 1, s.name,
                                                               e.key.size(), s.key.size())));
            ElemWire w;
            for (std::size_t k = 0; k < s.key.size(); ++k) {
                auto sp = span(s.key[k], e.key[k], s.interval);
                if (!sp) return std::unexpected(sp.error());
                if (!s.interval && sp->lo != sp->hi)
                    return std::unexpected(model_error(fmt::format("set {} needs flags interval for {}", s.name, describe(e.key[k]))));
                append_padded(w.key, sp->lo);
                if (s.interval) append_padded(w.key_end, sp->hi);
            }
            if (!concat) w.key.resize(key_info(s.key[0]).len);  // a single key is not padded
            w.timeout_ms = e.timeout_ms;
            w.userdata = elem_userdata(e, false);
            w.source = static_cast<int>(i);
            out.push_back(std::move(w));
        }
        return out;
    }
    // A single-field interval set holds each range as a start and an end (one past the last)
    // element, sorted, plus an end at zero when nothing starts there.
    struct R {
        Span sp;
        std::size_t idx;
    };
    std::vector<R> ranges;
    for (std::size_t i = 0; i < elems.size(); ++i) {
        if (elems[i].key.size() != 1) return std::unexpected(model_error(fmt::format("element {} of set {} needs one key field", i + 1, s.name)));
        auto sp = span(s.key[0], elems[i].key[0], true);
        if (!sp) return std::unexpected(sp.error());
        ranges.push_back(R{*sp, i});
    }
    std::stable_sort(ranges.begin(), ranges.end(), [](const R& a, const R& b) { return a.sp.lo < b.sp.lo; });
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        const auto& r = ranges[i];
        if (i == 0 && first_segment && !all_zero(r.sp.lo)) {
            ElemWire z;
            z.key = Bytes(r.sp.lo.size(), 0);
            z.flags = NFT_SET_ELEM_INTERVAL_END;
            out.push_back(std::move(z));
        }
        if (i > 0 && !(ranges[i - 1].sp.hi < r.sp.lo))
            return std::unexpected(model_error(fmt::format("set {}: element {} overlaps element {}", s.name, r.idx + 1, ranges[i - 1].idx + 1)));
        const bool open = all_ff(r.sp.hi);
        ElemWire start;
        start.key = r.sp.lo;
        start.timeout_ms = elems[r.idx].timeout_ms;
        start.userdata = elem_userdata(elems[r.idx], open);
        start.source = static_cast<int>(r.idx);
        out.push_back(std::move(start));
        if (!open) {
            ElemWire end;
            end.key = plus_one(r.sp.hi);
            end.flags = NFT_SET_ELEM_INTERVAL_END;
            end.source = static_cast<int>(r.idx);
            out.push_back(std::move(end));
        }
    }
    return out;
}

std::size_t put_elements(nlmsghdr* nlh, const std::string& table, const std::string& set, const std::vector<ElemWire>& elems,
                         std::size_t begin, std::size_t limit, std::vector<std::uint32_t>& offsets) {
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    auto* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    const auto list_start = reinterpret_cast<char*>(list);
    std::size_t i = begin;
    for (; i < elems.size(); ++i) {
        const auto& e = elems[i];
        // Stay well inside the nest's 16-bit length.
        const std::size_t need = 64 + e.key.size() + e.key_end.size() + e.userdata.size();
        if (i > begin && static_cast<std::size_t>(reinterpret_cast<char*>(mnl_nlmsg_get_payload_tail(nlh)) - list_start) + need > limit)
            break;
        auto* el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        offsets.push_back(static_cast<std::uint32_t>(reinterpret_cast<char*>(el) - reinterpret_cast<char*>(nlh)));
        if (e.flags) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(e.flags));
        if (e.timeout_ms) mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(e.timeout_ms));
        auto* k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, e.key.size(), e.key.data());
        mnl_attr_nest_end(nlh, k);
        if (!e.key_end.empty()) {
            auto* ke = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
            mnl_attr_put(nlh, NFTA_DATA_VALUE, e.key_end.size(), e.key_end.data());
            mnl_attr_nest_end(nlh, ke);
        }
        if (!e.userdata.empty()) mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, e.userdata.size(), e.userdata.data());
        mnl_attr_nest_end(nlh, el);
    }
    mnl_attr_nest_end(nlh, list);
    return i;
}

std::optional<DecodedSet> decode_set(const std::string& name, const SetWire& w) {
    DecodedSet d;
    d.set.name = name;
    d.set.interval = (w.flags & NFT_SET_INTERVAL) != 0;
    d.set.timeout = (w.flags & NFT_SET_TIMEOUT) != 0;
    std::vector<KeyType> rev;
    for (std::uint32_t t = w.key_type; t != 0; t >>= type_bits) {
        auto k = key_type_from_id(t & ((1u << type_bits) - 1));
        if (!k) return std::nullopt;
        rev.push_back(*k);
    }
    d.set.key.assign(rev.rbegin(), rev.rend());
    if (d.set.key.empty()) return std::nullopt;
    auto again = set_wire(d.set);
    d.exact = again && *again == w;
    return d;
}

namespace {

// A component range back to a model value: one value, or an address prefix.
std::optional<Value> value_of(KeyType k, const Bytes& lo, const Bytes& hi, bool big_endian) {
    if (lo == hi) return decode_key(k, lo, big_endian);
    if (k != KeyType::ipv4_addr) return std::nullopt;
    auto a = std::get<Ipv4>(*decode_key(k, lo, true)).value, b = std::get<Ipv4>(*decode_key(k, hi, true)).value;
    const std::uint32_t span = b - a;
    if (a > b || (span & (span + 1)) != 0 || (a & span) != 0) return std::nullopt;
    const int host_bits = std::popcount(span);
    return Value{Cidr{Ipv4{a}, static_cast<std::uint8_t>(32 - host_bits)}};
}

}  // namespace

bool decode_elements(Set& s, const std::vector<ElemWire>& elems, const std::vector<std::uint64_t>& expires) {
    bool exact = true;
    const bool concat = s.key.size() > 1;
    auto finish = [&](Element& e, const ElemWire& w, std::size_t i) {
        e.timeout_ms = w.timeout_ms;
        e.expires_ms = i < expires.size() ? expires[i] : 0;
        e.comment = comment_of(w.userdata);
        s.elements.push_back(std::move(e));
    };
    if (!s.interval || concat) {
        for (std::size_t i = 0; i < elems.size(); ++i) {
            const auto& w = elems[i];
            Element e;
            std::size_t off = 0;
            for (KeyType k : s.key) {
                const std::size_t n = key_info(k).len, step = concat ? padded(key_info(k).len) : n;
                if (off + n > w.key.size() || (s.interval && off + n > w.key_end.size())) return false;
                Bytes lo(w.key.begin() + static_cast<std::ptrdiff_t>(off), w.key.begin() + static_cast<std::ptrdiff_t>(off + n));
                Bytes hi = s.interval ? Bytes(w.key_end.begin() + static_cast<std::ptrdiff_t>(off),
                                              w.key_end.begin() + static_cast<std::ptrdiff_t>(off + n))
                                      : lo;
                auto v = value_of(k, lo, hi, s.interval);
                if (!v) {
                    exact = false;
                    v = decode_key(k, lo, s.interval);
                }
                e.key.push_back(*v);
                off += step;
            }
            finish(e, w, i);
        }
    } else {
        // Pair each start with the end element above it; an end with no start is the zero segment.
        std::vector<std::size_t> order(elems.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            if (elems[a].key != elems[b].key) return elems[a].key < elems[b].key;
            return (elems[a].flags & NFT_SET_ELEM_INTERVAL_END) > (elems[b].flags & NFT_SET_ELEM_INTERVAL_END);
        });
        for (std::size_t j = 0; j < order.size(); ++j) {
            const auto& w = elems[order[j]];
            if (w.flags & NFT_SET_ELEM_INTERVAL_END) continue;
            Bytes hi(w.key.size(), 0xff);
            if (j + 1 < order.size() && (elems[order[j + 1]].flags & NFT_SET_ELEM_INTERVAL_END)) hi = minus_one(elems[order[j + 1]].key);
            Element e;
            auto v = value_of(s.key[0], w.key, hi, true);
            if (!v) {
                exact = false;
                v = decode_key(s.key[0], w.key, true);
            }
            if (!v) return false;
            e.key.push_back(*v);
            finish(e, w, order[j]);
        }
    }
    std::sort(s.elements.begin(), s.elements.end(), [](const Element& a, const Element& b) { return a.key < b.key; });
    return exact;
}

std::string element_text(const Set& s, const Element& e) {
    std::string out;
    for (std::size_t i = 0; i < e.key.size() && i < s.key.size(); ++i) {
        if (i) out += " . ";
        out += render_key_value(s.key[i], e.key[i]);
    }
    return out;
}

}  // namespace modgate::nft
