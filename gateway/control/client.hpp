// modgatectl's side of the control socket: one request, one reply.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "gateway/control/protocol.hpp"

namespace modgate::control {

// Sends one request; returns the reply, or nullopt with `error` saying why (daemon unreachable).
std::optional<Reply> call(const std::string& path, const Fields& request, std::string& error);

// Sends one request whose reply streams: `out` gets the body as it arrives, until the daemon
// closes or the process is interrupted. Returns an exit code (0, or the daemon's refusal code,
// or 3 when unreachable) with `error` saying why.
int stream(const std::string& path, const Fields& request, const std::function<void(std::string_view)>& out,
           std::string& error);

}  // namespace modgate::control
