#pragma once
#include <cstdio>
#include <cstdlib>

/// Invariants that verified input guarantees. A failure is a bug in Edgewise, not bad input,
/// so it stops the process with the location rather than limping on with corrupt state.
#define EW_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) [[unlikely]] {                                                                \
            std::fprintf(stderr, "edgewise: internal invariant failed: %s (%s:%d)\n", #cond,       \
                         __FILE__, __LINE__);                                                      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)
