// BLAKE3 in hash mode with 32-byte output, written from the BLAKE3 specification.
//
// Input is cut into 1024-byte chunks; each chunk is compressed block by block (64-byte
// blocks, CHUNK_START on the first, CHUNK_END on the last) into a chaining value (CV).
// CVs are combined pairwise into a left-balanced binary tree of PARENT nodes, and the
// root node (a chunk when the input is at most one chunk) is compressed with ROOT.
//
// The SIMD code compresses one block of several inputs at once, one input per vector
// lane: whole chunks (16 blocks each) or parent nodes (one block each). `update` keeps
// the input's last chunk raw in the state until more input shows it is not the last,
// hashes all other whole chunks in wide batches, then reduces their CVs level by level,
// again in wide batches, merging with the stack of pending subtree CVs.
#include "drctl_blake3.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define DRCTL_B3_X86 1
#else
#define DRCTL_B3_X86 0
#endif

enum { BLOCK_LEN = 64, CHUNK_LEN = DRCTL_BLAKE3_CHUNK_LEN, BLOCKS_PER_CHUNK = CHUNK_LEN / BLOCK_LEN };
enum { CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };
/// Chunks hashed and reduced together by one `bulk` call.
enum { BULK_MAX = 256 };
/// A SIMD batch with at least this many real lanes is run with the rest padded; fewer
/// lanes go through the portable code.
enum { PAD_MIN = 3 };
/// Without the next batch's inputs to prefetch, a kernel prefetches this many blocks
/// ahead in each lane.
enum { LOOKAHEAD = 4 };

// The initialization vector: the first 32 bits of the fractional parts of the square
// roots of the first 8 primes (the same as SHA-256's).
static const uint32_t IV[8] = {
    0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
    0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

// Message word order of each of the 7 rounds. Round 0 takes the words in order; each
// next row is the previous one reordered by the message permutation
// (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8): row[r+1][i] = row[r][P[i]].
static const uint8_t SCHEDULE[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

// One round: G on the four columns of the 4x4 state, then on the four diagonals.
#define B3_ROUND(G, v, m, r)                                                  \
    do {                                                                      \
        G(v[0], v[4], v[8], v[12], m[SCHEDULE[r][0]], m[SCHEDULE[r][1]]);     \
        G(v[1], v[5], v[9], v[13], m[SCHEDULE[r][2]], m[SCHEDULE[r][3]]);     \
        G(v[2], v[6], v[10], v[14], m[SCHEDULE[r][4]], m[SCHEDULE[r][5]]);    \
        G(v[3], v[7], v[11], v[15], m[SCHEDULE[r][6]], m[SCHEDULE[r][7]]);    \
        G(v[0], v[5], v[10], v[15], m[SCHEDULE[r][8]], m[SCHEDULE[r][9]]);    \
        G(v[1], v[6], v[11], v[12], m[SCHEDULE[r][10]], m[SCHEDULE[r][11]]);  \
        G(v[2], v[7], v[8], v[13], m[SCHEDULE[r][12]], m[SCHEDULE[r][13]]);   \
        G(v[3], v[4], v[9], v[14], m[SCHEDULE[r][14]], m[SCHEDULE[r][15]]);   \
    } while (0)

#define B3_ROUNDS(G, v, m)      \
    do {                        \
        B3_ROUND(G, v, m, 0);   \
        B3_ROUND(G, v, m, 1);   \
        B3_ROUND(G, v, m, 2);   \
        B3_ROUND(G, v, m, 3);   \
        B3_ROUND(G, v, m, 4);   \
        B3_ROUND(G, v, m, 5);   \
        B3_ROUND(G, v, m, 6);   \
    } while (0)

// MARK: portable

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void store_le32(uint8_t *p, uint32_t w) {
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

static inline uint32_t rotr32(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

#define G_SCALAR(a, b, c, d, mx, my)   \
    do {                               \
        a = a + b + (mx);              \
        d = rotr32(d ^ a, 16);         \
        c = c + d;                     \
        b = rotr32(b ^ c, 12);         \
        a = a + b + (my);              \
        d = rotr32(d ^ a, 8);          \
        c = c + d;                     \
        b = rotr32(b ^ c, 7);          \
    } while (0)

/// The compression function, truncated to the 8 words a CV or a 32-byte hash needs.
/// `out` may be `cv`.
static void compress(const uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint32_t block_len,
                     uint64_t counter, uint32_t flags, uint32_t out[8]) {
    uint32_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load_le32(block + 4 * i);
    for (int i = 0; i < 8; i++) v[i] = cv[i];
    v[8] = IV[0];
    v[9] = IV[1];
    v[10] = IV[2];
    v[11] = IV[3];
    v[12] = (uint32_t)counter;
    v[13] = (uint32_t)(counter >> 32);
    v[14] = block_len;
    v[15] = flags;
    B3_ROUNDS(G_SCALAR, v, m);
    for (int i = 0; i < 8; i++) out[i] = v[i] ^ v[i + 8];
}

static void words_to_bytes(const uint32_t w[8], uint8_t out[32]) {
    for (int i = 0; i < 8; i++) store_le32(out + 4 * i, w[i]);
}

/// The CV (or, with ROOT in `last_flags`, the hash) of one chunk of `len` bytes
/// (0...1024; 0 only for the empty input).
static void chunk_portable(const uint8_t *chunk, size_t len, uint64_t counter, uint32_t last_flags,
                           uint8_t out[32]) {
    uint32_t cv[8];
    memcpy(cv, IV, sizeof cv);
    size_t blocks = len == 0 ? 1 : (len + BLOCK_LEN - 1) / BLOCK_LEN;
    for (size_t b = 0; b < blocks; b++) {
        size_t offset = b * BLOCK_LEN;
        size_t block_len = len - offset < BLOCK_LEN ? len - offset : BLOCK_LEN;
        const uint8_t *block = chunk + offset;
        uint8_t padded[BLOCK_LEN];
        if (block_len < BLOCK_LEN) {
            memset(padded, 0, sizeof padded);
            if (block_len > 0) memcpy(padded, block, block_len);
            block = padded;
        }
        uint32_t flags = (b == 0 ? CHUNK_START : 0) | (b + 1 == blocks ? CHUNK_END | last_flags : 0);
        compress(cv, block, (uint32_t)block_len, counter, flags, cv);
    }
    words_to_bytes(cv, out);
}

/// The CV of a parent node whose 64-byte block is the children's CVs, left then right.
static void parent_portable(const uint8_t children[64], uint32_t extra_flags, uint8_t out[32]) {
    uint32_t cv[8];
    compress(IV, children, BLOCK_LEN, 0, PARENT | extra_flags, cv);
    words_to_bytes(cv, out);
}

/// CVs of `n` whole chunks at `in[i]` with counters `counter + i`.
typedef void (*chunks_fn)(const uint8_t *const *in, size_t n, uint64_t counter, uint8_t (*out)[32]);
/// CVs of `n` parents; parent i's block is the 64 bytes at `in + 64 * i`.
typedef void (*parents_fn)(const uint8_t *in, size_t n, uint8_t (*out)[32]);

static void chunks_portable(const uint8_t *const *in, size_t n, uint64_t counter, uint8_t (*out)[32]) {
    for (size_t i = 0; i < n; i++) chunk_portable(in[i], CHUNK_LEN, counter + i, 0, out[i]);
}

static void parents_portable(const uint8_t *in, size_t n, uint8_t (*out)[32]) {
    for (size_t i = 0; i < n; i++) parent_portable(in + 64 * i, 0, out[i]);
}

// MARK: x86 SIMD

#if DRCTL_B3_X86

#define AVX2_FN __attribute__((target("avx2"), always_inline)) static inline

AVX2_FN __m256i rot16_avx2(__m256i x) {
    const __m256i r = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                       2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return _mm256_shuffle_epi8(x, r);
}

AVX2_FN __m256i rot8_avx2(__m256i x) {
    const __m256i r = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                       1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
    return _mm256_shuffle_epi8(x, r);
}

AVX2_FN __m256i rot12_avx2(__m256i x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
AVX2_FN __m256i rot7_avx2(__m256i x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }

#define G_AVX2(a, b, c, d, mx, my)                                   \
    do {                                                             \
        a = _mm256_add_epi32(_mm256_add_epi32(a, b), (mx));          \
        d = rot16_avx2(_mm256_xor_si256(d, a));                      \
        c = _mm256_add_epi32(c, d);                                  \
        b = rot12_avx2(_mm256_xor_si256(b, c));                      \
        a = _mm256_add_epi32(_mm256_add_epi32(a, b), (my));          \
        d = rot8_avx2(_mm256_xor_si256(d, a));                       \
        c = _mm256_add_epi32(c, d);                                  \
        b = rot7_avx2(_mm256_xor_si256(b, c));                       \
    } while (0)

/// r[i] holds 8 words of lane i; afterwards r[j] holds word j of every lane.
AVX2_FN void transpose8_avx2(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int p = 0; p < 4; p++) {
        t[2 * p] = _mm256_unpacklo_epi32(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm256_unpackhi_epi32(r[2 * p], r[2 * p + 1]);
    }
    // u[4g + e]: word e (low 128 bits) and word 4 + e (high 128 bits) of lanes 4g...4g+3.
    for (int g = 0; g < 2; g++) {
        u[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g + 0], t[4 * g + 2]);
        u[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g + 0], t[4 * g + 2]);
        u[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        u[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int e = 0; e < 4; e++) {
        r[e] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x20);
        r[4 + e] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x31);
    }
}

/// Compresses `blocks` consecutive blocks of each of 8 inputs, one input per lane, from
/// the IV, and writes each lane's CV. Lane i's counter is `counter + i * step`; the first
/// block adds `start` to `flags` and the last adds `end`.
__attribute__((target("avx2"))) static void many_avx2(const uint8_t *const in[8], size_t blocks,
                                                     uint64_t counter, uint64_t step, uint32_t flags,
                                                     uint32_t start, uint32_t end, uint8_t (*out)[32],
                                                     size_t out_lanes, const uint8_t *const *ahead) {
    uint32_t lo[8], hi[8];
    for (int i = 0; i < 8; i++) {
        uint64_t c = counter + (uint64_t)i * step;
        lo[i] = (uint32_t)c;
        hi[i] = (uint32_t)(c >> 32);
    }
    const __m256i counter_lo = _mm256_loadu_si256((const __m256i *)lo);
    const __m256i counter_hi = _mm256_loadu_si256((const __m256i *)hi);
    if (!ahead)
        for (size_t b = 1; b < LOOKAHEAD && b < blocks; b++)
            for (int i = 0; i < 8; i++) _mm_prefetch((const char *)in[i] + b * BLOCK_LEN, _MM_HINT_T0);
    __m256i h[8];
    for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi32((int)IV[i]);
    for (size_t b = 0; b < blocks; b++) {
        __m256i m[16];
        size_t offset = b * BLOCK_LEN;
        if (ahead)
            for (int i = 0; i < 8; i++) _mm_prefetch((const char *)ahead[i] + offset, _MM_HINT_T0);
        else if (b + LOOKAHEAD < blocks)
            for (int i = 0; i < 8; i++) _mm_prefetch((const char *)in[i] + offset + LOOKAHEAD * BLOCK_LEN, _MM_HINT_T0);
        for (int i = 0; i < 8; i++) {
            m[i] = _mm256_loadu_si256((const __m256i *)(in[i] + offset));
            m[8 + i] = _mm256_loadu_si256((const __m256i *)(in[i] + offset + 32));
        }
        transpose8_avx2(m);
        transpose8_avx2(m + 8);
        uint32_t f = flags | (b == 0 ? start : 0) | (b + 1 == blocks ? end : 0);
        __m256i v[16] = {
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            _mm256_set1_epi32((int)IV[0]), _mm256_set1_epi32((int)IV[1]),
            _mm256_set1_epi32((int)IV[2]), _mm256_set1_epi32((int)IV[3]),
            counter_lo, counter_hi, _mm256_set1_epi32(BLOCK_LEN), _mm256_set1_epi32((int)f),
        };
        B3_ROUNDS(G_AVX2, v, m);
        for (int i = 0; i < 8; i++) h[i] = _mm256_xor_si256(v[i], v[i + 8]);
    }
    uint32_t words[8][8];
    for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)words[i], h[i]);
    for (size_t lane = 0; lane < out_lanes; lane++)
        for (int i = 0; i < 8; i++) store_le32(out[lane] + 4 * i, words[i][lane]);
}

#define AVX512_FN __attribute__((target("avx512f"), always_inline)) static inline

#define G_AVX512(a, b, c, d, mx, my)                                 \
    do {                                                             \
        a = _mm512_add_epi32(_mm512_add_epi32(a, b), (mx));          \
        d = _mm512_ror_epi32(_mm512_xor_si512(d, a), 16);            \
        c = _mm512_add_epi32(c, d);                                  \
        b = _mm512_ror_epi32(_mm512_xor_si512(b, c), 12);            \
        a = _mm512_add_epi32(_mm512_add_epi32(a, b), (my));          \
        d = _mm512_ror_epi32(_mm512_xor_si512(d, a), 8);             \
        c = _mm512_add_epi32(c, d);                                  \
        b = _mm512_ror_epi32(_mm512_xor_si512(b, c), 7);             \
    } while (0)

/// r[i] holds the 16 words of lane i; afterwards r[j] holds word j of every lane.
AVX512_FN void transpose16_avx512(__m512i r[16]) {
    __m512i lo[8], hi[8], x[4][4];
    for (int p = 0; p < 8; p++) {
        lo[p] = _mm512_unpacklo_epi32(r[2 * p], r[2 * p + 1]);
        hi[p] = _mm512_unpackhi_epi32(r[2 * p], r[2 * p + 1]);
    }
    // x[g][e]: in 128-bit lane q, word 4q + e of lanes 4g...4g+3.
    for (int g = 0; g < 4; g++) {
        x[g][0] = _mm512_unpacklo_epi64(lo[2 * g], lo[2 * g + 1]);
        x[g][1] = _mm512_unpackhi_epi64(lo[2 * g], lo[2 * g + 1]);
        x[g][2] = _mm512_unpacklo_epi64(hi[2 * g], hi[2 * g + 1]);
        x[g][3] = _mm512_unpackhi_epi64(hi[2 * g], hi[2 * g + 1]);
    }
    // A 4x4 transpose of 128-bit lanes for each e.
    for (int e = 0; e < 4; e++) {
        __m512i ab01 = _mm512_shuffle_i32x4(x[0][e], x[1][e], 0x44);
        __m512i ab23 = _mm512_shuffle_i32x4(x[0][e], x[1][e], 0xEE);
        __m512i cd01 = _mm512_shuffle_i32x4(x[2][e], x[3][e], 0x44);
        __m512i cd23 = _mm512_shuffle_i32x4(x[2][e], x[3][e], 0xEE);
        r[0 + e] = _mm512_shuffle_i32x4(ab01, cd01, 0x88);
        r[4 + e] = _mm512_shuffle_i32x4(ab01, cd01, 0xDD);
        r[8 + e] = _mm512_shuffle_i32x4(ab23, cd23, 0x88);
        r[12 + e] = _mm512_shuffle_i32x4(ab23, cd23, 0xDD);
    }
}

/// `many_avx2` with 16 lanes.
__attribute__((target("avx512f"))) static void many_avx512(const uint8_t *const in[16], size_t blocks,
                                                          uint64_t counter, uint64_t step, uint32_t flags,
                                                          uint32_t start, uint32_t end, uint8_t (*out)[32],
                                                          size_t out_lanes, const uint8_t *const *ahead) {
    uint32_t lo[16], hi[16];
    for (int i = 0; i < 16; i++) {
        uint64_t c = counter + (uint64_t)i * step;
        lo[i] = (uint32_t)c;
        hi[i] = (uint32_t)(c >> 32);
    }
    const __m512i counter_lo = _mm512_loadu_si512(lo);
    const __m512i counter_hi = _mm512_loadu_si512(hi);
    if (!ahead)
        for (size_t b = 1; b < LOOKAHEAD && b < blocks; b++)
            for (int i = 0; i < 16; i++) _mm_prefetch((const char *)in[i] + b * BLOCK_LEN, _MM_HINT_T0);
    __m512i h[8];
    for (int i = 0; i < 8; i++) h[i] = _mm512_set1_epi32((int)IV[i]);
    for (size_t b = 0; b < blocks; b++) {
        __m512i m[16];
        size_t offset = b * BLOCK_LEN;
        if (ahead)
            for (int i = 0; i < 16; i++) _mm_prefetch((const char *)ahead[i] + offset, _MM_HINT_T0);
        else if (b + LOOKAHEAD < blocks)
            for (int i = 0; i < 16; i++) _mm_prefetch((const char *)in[i] + offset + LOOKAHEAD * BLOCK_LEN, _MM_HINT_T0);
        for (int i = 0; i < 16; i++) m[i] = _mm512_loadu_si512(in[i] + offset);
        transpose16_avx512(m);
        uint32_t f = flags | (b == 0 ? start : 0) | (b + 1 == blocks ? end : 0);
        __m512i v[16] = {
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            _mm512_set1_epi32((int)IV[0]), _mm512_set1_epi32((int)IV[1]),
            _mm512_set1_epi32((int)IV[2]), _mm512_set1_epi32((int)IV[3]),
            counter_lo, counter_hi, _mm512_set1_epi32(BLOCK_LEN), _mm512_set1_epi32((int)f),
        };
        B3_ROUNDS(G_AVX512, v, m);
        for (int i = 0; i < 8; i++) h[i] = _mm512_xor_si512(v[i], v[i + 8]);
    }
    uint32_t words[8][16];
    for (int i = 0; i < 8; i++) _mm512_storeu_si512(words[i], h[i]);
    for (size_t lane = 0; lane < out_lanes; lane++)
        for (int i = 0; i < 8; i++) store_le32(out[lane] + 4 * i, words[i][lane]);
}

typedef void (*many_fn)(const uint8_t *const *in, size_t blocks, uint64_t counter, uint64_t step,
                        uint32_t flags, uint32_t start, uint32_t end, uint8_t (*out)[32], size_t out_lanes,
                        const uint8_t *const *ahead);

/// Runs `n` inputs through a `width`-lane kernel: full batches, then the rest padded
/// with copies of its first input (or portably when few remain).
static void chunks_simd(many_fn many, size_t width, const uint8_t *const *in, size_t n, uint64_t counter,
                        uint8_t (*out)[32]) {
    while (n >= width) {
        // Each block of this batch prefetches the same block of the next full batch.
        const uint8_t *const *ahead = n >= 2 * width ? in + width : 0;
        many(in, BLOCKS_PER_CHUNK, counter, 1, 0, CHUNK_START, CHUNK_END, out, width, ahead);
        in += width;
        out += width;
        counter += width;
        n -= width;
    }
    if (n == 0) return;
    if (n < PAD_MIN) {
        chunks_portable(in, n, counter, out);
        return;
    }
    const uint8_t *lanes[16];
    for (size_t i = 0; i < width; i++) lanes[i] = in[i < n ? i : 0];
    many(lanes, BLOCKS_PER_CHUNK, counter, 1, 0, CHUNK_START, CHUNK_END, out, n, 0);
}

static void parents_simd(many_fn many, size_t width, const uint8_t *in, size_t n, uint8_t (*out)[32]) {
    const uint8_t *lanes[16];
    while (n > 0) {
        if (n < PAD_MIN) {
            parents_portable(in, n, out);
            return;
        }
        size_t take = n < width ? n : width;
        for (size_t i = 0; i < width; i++) lanes[i] = in + 64 * (i < take ? i : 0);
        many(lanes, 1, 0, 0, PARENT, 0, 0, out, take, 0);
        in += 64 * take;
        out += take;
        n -= take;
    }
}

static void chunks_avx2(const uint8_t *const *in, size_t n, uint64_t counter, uint8_t (*out)[32]) {
    chunks_simd(many_avx2, 8, in, n, counter, out);
}
static void parents_avx2(const uint8_t *in, size_t n, uint8_t (*out)[32]) { parents_simd(many_avx2, 8, in, n, out); }
static void chunks_avx512(const uint8_t *const *in, size_t n, uint64_t counter, uint8_t (*out)[32]) {
    chunks_simd(many_avx512, 16, in, n, counter, out);
}
static void parents_avx512(const uint8_t *in, size_t n, uint8_t (*out)[32]) {
    parents_simd(many_avx512, 16, in, n, out);
}

#endif  // DRCTL_B3_X86

// MARK: implementations

enum { IMPL_PORTABLE = 0, IMPL_AVX2 = 1, IMPL_AVX512 = 2, IMPL_COUNT = 3 };

static const struct {
    const char *name;
    chunks_fn chunks;
    parents_fn parents;
} IMPLS[IMPL_COUNT] = {
    {"portable", chunks_portable, parents_portable},
#if DRCTL_B3_X86
    {"avx2", chunks_avx2, parents_avx2},
    {"avx512", chunks_avx512, parents_avx512},
#else
    {"avx2", 0, 0},
    {"avx512", 0, 0},
#endif
};

static int impl_available(int impl) {
    if (impl == IMPL_PORTABLE) return 1;
#if DRCTL_B3_X86
    __builtin_cpu_init();
    if (impl == IMPL_AVX2) return __builtin_cpu_supports("avx2");
    if (impl == IMPL_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

static int best_impl(void) {
    for (int impl = IMPL_COUNT - 1; impl > 0; impl--)
        if (impl_available(impl)) return impl;
    return IMPL_PORTABLE;
}

const char *drctl_blake3_implementation(void) { return IMPLS[best_impl()].name; }

static void init_with(drctl_blake3_hasher *h, int impl) {
    memset(h, 0, sizeof *h);
    h->impl = (uint8_t)impl;
}

void drctl_blake3_init(drctl_blake3_hasher *h) { init_with(h, best_impl()); }

void drctl_blake3_init_portable(drctl_blake3_hasher *h) { init_with(h, IMPL_PORTABLE); }

int drctl_blake3_init_named(drctl_blake3_hasher *h, const char *name) {
    for (int impl = 0; impl < IMPL_COUNT; impl++) {
        if (strcmp(IMPLS[impl].name, name) == 0 && impl_available(impl)) {
            init_with(h, impl);
            return 1;
        }
    }
    return 0;
}

// MARK: the tree

/// Hashes `n` whole chunks that are known not to end the input (chunk numbers
/// h->chunks ..< h->chunks + n) and merges their CVs into the stack.
///
/// The stack holds one CV per 1 bit of h->chunks: the roots of the complete subtrees
/// left of the next chunk, largest first. Level L (0 = chunks) of the new nodes starts
/// at node index h->chunks >> L. If that index is odd, its left sibling is the stack's
/// top and the two merge into the first node of level L+1; the remaining nodes pair up;
/// an unpaired last node waits on the stack for its right sibling.
static void bulk(drctl_blake3_hasher *h, const uint8_t *const *in, size_t n) {
    chunks_fn chunks = IMPLS[h->impl].chunks;
    parents_fn parents = IMPLS[h->impl].parents;
    uint8_t level_a[BULK_MAX + 1][32], level_b[BULK_MAX / 2 + 2][32];
    uint8_t waiting[DRCTL_BLAKE3_MAX_DEPTH][32];
    size_t waiting_count = 0;

    chunks(in, n, h->chunks, level_a);
    uint8_t (*nodes)[32] = level_a;
    uint8_t (*next)[32] = level_b;
    uint64_t start = h->chunks;
    size_t count = n;
    while (count > 0) {
        size_t first = 0, carried = 0;
        if (start & 1) {
            uint8_t block[64];
            h->stack_len--;
            memcpy(block, h->stack[h->stack_len], 32);
            memcpy(block + 32, nodes[0], 32);
            parent_portable(block, 0, next[0]);
            first = 1;
            carried = 1;
        }
        size_t pairs = (count - first) / 2;
        parents(nodes[first], pairs, next + carried);
        if ((count - first) & 1) memcpy(waiting[waiting_count++], nodes[count - 1], 32);
        count = carried + pairs;
        start >>= 1;
        uint8_t (*t)[32] = nodes;
        nodes = next;
        next = t;
    }
    while (waiting_count > 0) memcpy(h->stack[h->stack_len++], waiting[--waiting_count], 32);
    h->chunks += n;
}

void drctl_blake3_update(drctl_blake3_hasher *h, const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    if (len == 0) return;
    if (h->chunk_len > 0 && h->chunk_len < CHUNK_LEN) {
        size_t take = CHUNK_LEN - h->chunk_len;
        if (take > len) take = len;
        memcpy(h->chunk + h->chunk_len, p, take);
        h->chunk_len += (uint32_t)take;
        p += take;
        len -= take;
        if (len == 0) return;
    }
    // More input follows here, so a full buffered chunk is not the last one. Whole
    // chunks of the input are hashed in place, except that at least one byte stays for
    // the buffer.
    for (;;) {
        const uint8_t *in[BULK_MAX];
        size_t n = 0;
        if (h->chunk_len == CHUNK_LEN) in[n++] = h->chunk;
        size_t whole = (len - 1) / CHUNK_LEN;
        if (whole > BULK_MAX - n) whole = BULK_MAX - n;
        for (size_t i = 0; i < whole; i++) in[n++] = p + i * CHUNK_LEN;
        if (n == 0) break;
        bulk(h, in, n);
        h->chunk_len = 0;
        p += whole * CHUNK_LEN;
        len -= whole * CHUNK_LEN;
    }
    memcpy(h->chunk, p, len);
    h->chunk_len = (uint32_t)len;
}

void drctl_blake3_finalize(const drctl_blake3_hasher *h, uint8_t out[DRCTL_BLAKE3_OUT_LEN]) {
    if (h->stack_len == 0) {
        chunk_portable(h->chunk, h->chunk_len, h->chunks, ROOT, out);
        return;
    }
    uint8_t block[64];
    chunk_portable(h->chunk, h->chunk_len, h->chunks, 0, block + 32);
    for (size_t i = h->stack_len; i-- > 0;) {
        memcpy(block, h->stack[i], 32);
        parent_portable(block, i == 0 ? ROOT : 0, i == 0 ? out : block + 32);
    }
}
