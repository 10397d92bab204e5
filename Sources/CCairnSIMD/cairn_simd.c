// The functions are static inline in include/cairn_simd.h; SwiftPM wants a source file.
#include "cairn_simd.h"
