#include "kernel_registry.h"

#include "ir/graph.h"

namespace ew::rt {

// Factories are declared from the list itself: adding a kernel is one file defining its factory
// and one line in kernels.def, with nothing to self-register (static libraries drop that).
#define EW_KERNEL(op, domain, since, last, factory) std::unique_ptr<Kernel> factory();
#include "kernels.def"
#undef EW_KERNEL

namespace {
constexpr KernelEntry kKernels[] = {
#define EW_KERNEL(op, domain, since, last, factory) {op, domain, since, last, &factory},
#include "kernels.def"
#undef EW_KERNEL
};
} // namespace

std::span<const KernelEntry> cpuKernels() { return kKernels; }

const KernelEntry* findCpuKernel(std::string_view domain, std::string_view op, int64_t opset) {
    std::string_view d = ir::canonicalDomain(domain);
    for (const KernelEntry& e : kKernels)
        if (e.op == op && e.domain == d && opset >= e.sinceVersion && opset <= e.lastVersion) return &e;
    return nullptr;
}

} // namespace ew::rt
