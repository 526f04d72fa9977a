// Ed25519 signatures over outside index bytes (libsodium), for index.cc.
#pragma once

#include <string>
#include <string_view>

namespace atlas {

// The detached signature (64 bytes) of `message` with `secret_key`
// (kOutsideSecretKeySize raw bytes).
std::string SignBytes(std::string_view message, std::string_view secret_key);
// Whether `signature` is `public_key`'s signature of `message`. False for
// keys or signatures of the wrong size.
bool VerifyBytes(std::string_view message, std::string_view signature, std::string_view public_key);

}  // namespace atlas
