// modgatectl's side of the control socket: one request, one reply.
#pragma once
#include <optional>
#include <string>

#include "gateway/control/protocol.hpp"

namespace modgate::control {

// Sends one request; returns the reply, or nullopt with `error` saying why (daemon unreachable).
std::optional<Reply> call(const std::string& path, const Fields& request, std::string& error);

}  // namespace modgate::control
