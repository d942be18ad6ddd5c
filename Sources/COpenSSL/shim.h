#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

/// `EVP_PKEY_X25519` is a macro naming another macro (`NID_X25519`); a
/// function gives Swift one typed value.
static inline int pgcellar_evp_pkey_x25519(void) { return EVP_PKEY_X25519; }

/// `EVP_PKEY_HKDF` likewise aliases `NID_hkdf`.
static inline int pgcellar_evp_pkey_hkdf(void) { return EVP_PKEY_HKDF; }
#endif
