#ifndef DRCTL_BLAKE3_H
#define DRCTL_BLAKE3_H
// BLAKE3 (hash mode, 32-byte output), written from the BLAKE3 specification.
// Fixed-size state, no heap allocation. Not thread-safe per hasher; separate hashers
// may be used from separate threads.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRCTL_BLAKE3_OUT_LEN 32
#define DRCTL_BLAKE3_CHUNK_LEN 1024
/// 2^54 chunks of 1 KiB cover 2^64 bytes: at most 54 pending subtree roots.
#define DRCTL_BLAKE3_MAX_DEPTH 54

typedef struct {
    /// Chaining values of completed subtrees, largest first (the binary digits of
    /// `chunks`, most significant first).
    uint8_t stack[DRCTL_BLAKE3_MAX_DEPTH][32];
    /// The input's last chunk, not compressed until more input shows it is not the last.
    uint8_t chunk[DRCTL_BLAKE3_CHUNK_LEN];
    /// Chunks whose chaining values are in `stack` (merged or not).
    uint64_t chunks;
    uint32_t chunk_len;
    uint8_t stack_len;
    /// Which compression code `update` uses (0 portable, others SIMD).
    uint8_t impl;
} drctl_blake3_hasher;

/// Starts a hash with the fastest implementation this CPU supports.
void drctl_blake3_init(drctl_blake3_hasher *h);
/// Starts a hash with the portable scalar code only (for tests and comparisons).
void drctl_blake3_init_portable(drctl_blake3_hasher *h);
/// Adds `len` bytes. Any split of the input into calls gives the same hash.
void drctl_blake3_update(drctl_blake3_hasher *h, const void *data, size_t len);
/// Writes the 32-byte hash of everything added so far. Leaves the state unchanged, so
/// it may be called repeatedly and `update` may continue afterwards.
void drctl_blake3_finalize(const drctl_blake3_hasher *h, uint8_t out[DRCTL_BLAKE3_OUT_LEN]);
/// Starts a hash with the named implementation ("portable", "avx2", "avx512"). Returns 0,
/// leaving `h` untouched, when this build or CPU lacks it (for tests and comparisons).
int drctl_blake3_init_named(drctl_blake3_hasher *h, const char *name);
/// The name of the code `drctl_blake3_init` picks on this CPU: "avx512", "avx2" or "portable".
const char *drctl_blake3_implementation(void);

#ifdef __cplusplus
}
#endif

#endif
