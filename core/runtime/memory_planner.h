#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ew::rt {

/// A buffer the planner places: its size and the inclusive range of execution steps during
/// which it must hold its contents.
struct BufferRequest {
    std::size_t bytes = 0;
    int first = 0; ///< step that writes it
    int last = 0;  ///< last step that reads it
};

struct ArenaPlan {
    std::vector<std::size_t> offsets; ///< per request, multiples of kAlignment
    std::size_t totalBytes = 0;
};

/// Greedy-by-size offset assignment (as in TFLite's arena planner): buffers are placed largest
/// first, each at the lowest aligned offset that does not overlap a placed buffer whose lifetime
/// intersects its own. Two buffers with intersecting lifetimes never overlap in memory.
/// Deterministic: ties in size break by first step, then request index.
ArenaPlan planArena(std::span<const BufferRequest> requests, std::size_t alignment);

} // namespace ew::rt
