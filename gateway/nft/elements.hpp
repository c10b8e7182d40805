// Set elements on their own: add or delete a few elements (maintenance windows, with kernel
// timeouts) in one small transaction, without reading the set and without touching any rule.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "gateway/nft/error.hpp"
#include "gateway/nft/readback.hpp"
#include "policy/ruleset.hpp"

namespace modgate::nft {

class Socket;
class Batch;

class ElementWriter {
public:
    static Result<ElementWriter> open();
    ElementWriter(ElementWriter&&) noexcept;
    ElementWriter& operator=(ElementWriter&&) noexcept;
    ~ElementWriter();

    // `set` is the set's definition (name, key, flags); its own elements are ignored. Adding an
    // element that exists refreshes nothing and is no error; deleting a missing one is ENOENT.
    Result<void> add(const TableId& table, const ruleset::Set& set, const std::vector<ruleset::Element>& elems);
    Result<void> remove(const TableId& table, const ruleset::Set& set, const std::vector<ruleset::Element>& elems);

    // Deletes then adds, in one transaction: how a window's element gets a new timeout without a
    // moment in which it is absent. A missing element to delete fails the whole batch (ENOENT).
    Result<void> replace(const TableId& table, const ruleset::Set& set, const std::vector<ruleset::Element>& remove,
                         const std::vector<ruleset::Element>& add);

    // The definition of a set in the kernel (no elements), when the caller has no model at hand.
    Result<ruleset::Set> definition(const TableId& table, const std::string& set);

private:
    ElementWriter() = default;
    Result<void> append(Batch& batch, std::uint16_t type, const TableId& table, const ruleset::Set& set,
                        const std::vector<ruleset::Element>& elems);
    std::unique_ptr<Socket> sock_;
};

// One-shot helpers (open a socket for a single call).
Result<void> add_elements(const TableId& table, const ruleset::Set& set, const std::vector<ruleset::Element>& elems);
Result<void> delete_elements(const TableId& table, const ruleset::Set& set, const std::vector<ruleset::Element>& elems);

}  // namespace modgate::nft
