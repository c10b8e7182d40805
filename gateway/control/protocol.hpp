// The control protocol between modgatectl and modgated over a Unix stream socket: one request
// line in logfmt (`cmd=window-open modality=pet-ct-1 vendor=acme for=7200 reason="CHG-1"`), one
// reply: a status line (`ok` or `error CODE MESSAGE`) followed by the body, then the server
// closes. Codes are modgatectl's exit codes (1 refused, 3 runtime, 4 not authorised).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace modgate::control {

using Fields = std::map<std::string, std::string, std::less<>>;

std::string encode_request(const Fields& f);
// nullopt on a malformed line; `error` says why.
std::optional<Fields> decode_request(std::string_view line, std::string& error);

struct Reply {
    int code = 0;         // 0 ok
    std::string message;  // error text when code != 0
    std::string body;
};

std::string encode_reply(const Reply& r);
std::optional<Reply> decode_reply(std::string_view text);

}  // namespace modgate::control
