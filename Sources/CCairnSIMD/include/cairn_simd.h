#ifndef CAIRN_SIMD_H
#define CAIRN_SIMD_H

// Byte classification for the JSON scanner, sixteen bytes at a time: the SSE2 compare and
// movemask that Swift's SIMD types cannot express. Header-only and static inline, so that
// Swift inlines it into the scanner's string loop; without SSE2, a plain loop.

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

#endif
