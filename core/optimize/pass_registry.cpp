#include "pass.h"

namespace ew::opt {

// Pass functions, declared from the one list.
#define EW_PASS(fn, name, kind, desc) VoidResult fn(ir::Graph&, PassContext&);
#include "passes.def"
#undef EW_PASS

namespace {
constexpr PassInfo kPasses[] = {
#define EW_PASS(fn, name, kind, desc) PassInfo{name, desc, PassKind::kind, &fn},
#include "passes.def"
#undef EW_PASS
};
} // namespace

std::span<const PassInfo> allPasses() { return kPasses; }

const PassInfo* findPass(std::string_view name) {
    for (const PassInfo& p : kPasses)
        if (p.name == name) return &p;
    return nullptr;
}

std::string_view nodeChangeKindName(NodeChange::Kind k) {
    switch (k) {
    case NodeChange::Kind::Removed: return "removed";
    case NodeChange::Kind::Fused: return "fused";
    case NodeChange::Kind::Added: return "added";
    case NodeChange::Kind::Rewritten: return "rewritten";
    }
    return "?";
}

} // namespace ew::opt
