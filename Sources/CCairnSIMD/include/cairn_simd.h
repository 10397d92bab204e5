#ifndef CAIRN_SIMD_H
#define CAIRN_SIMD_H

// What Swift cannot express, header-only and static inline so that Swift inlines it: byte
// classification for the JSON scanner, sixteen bytes at a time (the SSE2 compare and
// movemask; without SSE2, a plain loop), and cache prefetch hints for the state lookups.

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit i set when byte i of the sixteen at `p` ends a run of plain string bytes: a quote,
/// a backslash, a control character (below 0x20) or a byte of a multi-byte UTF-8 sequence
/// (0x80 and above).
///
/// Safety: sixteen bytes must be readable at `p` (no alignment needed).
static inline uint32_t cairn_string_specials16(const uint8_t *p) {
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x22));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C));
    // As signed bytes, 0x80...0xFF are negative: one compare finds them and 0x00...0x1F.
    __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low));
#else
    uint32_t mask = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t c = p[i];
        if (c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80) mask |= (uint32_t)1 << i;
    }
    return mask;
#endif
}

/// Asks the cache for the line holding `p`, to be read soon (a hint: never faults).
static inline void cairn_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// Asks the cache for the line holding `p`, to be written soon (a hint: never faults).
static inline void cairn_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

#endif
