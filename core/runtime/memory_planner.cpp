#include "memory_planner.h"

#include <algorithm>
#include <numeric>

namespace ew::rt {

ArenaPlan planArena(std::span<const BufferRequest> req, std::size_t alignment) {
    ArenaPlan plan;
    plan.offsets.assign(req.size(), 0);
    std::vector<std::size_t> order(req.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (req[a].bytes != req[b].bytes) return req[a].bytes > req[b].bytes;
        return req[a].first < req[b].first;
    });
    auto alignUp = [&](std::size_t v) { return (v + alignment - 1) / alignment * alignment; };

    struct Placed {
        std::size_t offset, end;
        int first, last;
    };
    std::vector<Placed> placed;
    std::vector<Placed> conflicts;
    for (std::size_t idx : order) {
        const BufferRequest& r = req[idx];
        if (r.bytes == 0) continue;
        conflicts.clear();
        for (const Placed& p : placed)
            if (p.first <= r.last && r.first <= p.last) conflicts.push_back(p);
        std::sort(conflicts.begin(), conflicts.end(),
                  [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
        std::size_t offset = 0;
        for (const Placed& p : conflicts) {
            if (offset + r.bytes <= p.offset) break; // fits in the gap before p
            offset = std::max(offset, alignUp(p.end));
        }
        plan.offsets[idx] = offset;
        placed.push_back({offset, offset + r.bytes, r.first, r.last});
        plan.totalBytes = std::max(plan.totalBytes, alignUp(offset + r.bytes));
    }
    return plan;
}

} // namespace ew::rt
