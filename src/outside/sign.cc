// The array's outside-index signing key: generation, text form, storage in
// the manifest (atlas/outside.h).
//
// Why Ed25519 (libsodium): a compute host must tell an index Atlas wrote
// from one a household user built and dropped on a data disk. A checksum
// or an HMAC cannot: the first anyone can recompute, the second needs the
// compute host to hold the secret. A public-key signature needs only the
// public key on the compute host, which may leak without harm. libsodium is
// a Debian package with a small, stable API.
//
// Why the key lives in the manifest: the manifest is root-only (0700) and
// copied to the data disks after every run (root-only too), so losing the
// system disk and running restore-manifest brings back the same key, and
// compute hosts configured with it keep working. Rejected: a key file
// beside the manifest (lost with the system disk unless the admin backs it
// up; one more thing to back up).
#include "outside/sign.h"

#include <fmt/format.h>
#include <sodium.h>

#include "atlas/outside.h"

namespace atlas {
namespace {

constexpr std::string_view kKeyPrefix = "ed25519:";
constexpr std::string_view kSecretMeta = "outside_signing_key";

// libsodium must be initialised once before use; it is thread-safe and
// idempotent, and fails only without a source of randomness.
void InitSodium() {
  static const int once = sodium_init();
  (void)once;
}

std::string Base64(std::string_view raw) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> Unbase64(std::string_view text, std::size_t want) {
  std::string out(want + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || len != want) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

std::string SignBytes(std::string_view message, std::string_view secret_key) {
  InitSodium();
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  return sig;
}

bool VerifyBytes(std::string_view message, std::string_view signature,
                 std::string_view public_key) {
  InitSodium();
  if (signature.size() != crypto_sign_BYTES || public_key.size() != crypto_sign_PUBLICKEYBYTES)
    return false;
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

OutsideKeyPair GenerateOutsideKeyPair() {
  InitSodium();
  OutsideKeyPair k;
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  k.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                      reinterpret_cast<unsigned char*>(k.secret_key.data()));
  return k;
}

std::string FormatOutsideKey(std::string_view public_key) {
  InitSodium();
  return std::string(kKeyPrefix) + Base64(public_key);
}

Result<std::string> ParseOutsideKey(std::string_view text) {
  InitSodium();
  std::optional<std::string> raw;
  if (text.starts_with(kKeyPrefix))
    raw = Unbase64(text.substr(kKeyPrefix.size()), kOutsidePublicKeySize);
  if (!raw) {
    return Status::InvalidArgument(fmt::format(
        "\"{}\" is not an outside index key; expected \"ed25519:\" and 44 base64 characters, as "
        "`atlas-scrub outside --print-key` prints it on Atlas",
        text));
  }
  return *raw;
}

Result<std::optional<OutsideKeyPair>> OutsideSigningKey(Manifest* manifest, bool create) {
  InitSodium();
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> stored, manifest->GetMeta(kSecretMeta));
  if (stored) {
    std::optional<std::string> secret = Unbase64(*stored, kOutsideSecretKeySize);
    if (!secret)
      return Status::Corruption("manifest meta outside_signing_key is malformed");
    OutsideKeyPair k;
    k.secret_key = std::move(*secret);
    k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
    crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(k.public_key.data()),
                                 reinterpret_cast<const unsigned char*>(k.secret_key.data()));
    return std::optional<OutsideKeyPair>(std::move(k));
  }
  if (!create)
    return std::optional<OutsideKeyPair>();
  OutsideKeyPair k = GenerateOutsideKeyPair();
  std::unique_ptr<ManifestBatch> batch = manifest->NewBatch();
  batch->PutMeta(kSecretMeta, Base64(k.secret_key));
  // Invariant: the key is durable in the manifest before any index signed
  // with it is written, and the next run copies the manifest with it, so a
  // restored manifest signs with the key the compute hosts were given.
  batch->PutMeta("copies_pending", "1");
  ATLAS_RETURN_IF_ERROR(manifest->Commit(*batch, /*durable=*/true));
  return std::optional<OutsideKeyPair>(std::move(k));
}

}  // namespace atlas
