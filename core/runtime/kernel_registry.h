#pragma once
#include "kernel.h"

#include <span>
#include <string>
#include <string_view>

namespace ew::rt {

/// One line of kernels.def: an op in a domain over an inclusive opset range.
struct KernelEntry {
    std::string_view op;
    std::string_view domain; ///< "" = ai.onnx
    int64_t sinceVersion;
    int64_t lastVersion;
    KernelFactory factory;
};

/// Every CPU kernel, in kernels.def order.
std::span<const KernelEntry> cpuKernels();
/// The kernel for an op under an opset ("ai.onnx" == ""); nullptr when none.
const KernelEntry* findCpuKernel(std::string_view domain, std::string_view op, int64_t opset);

} // namespace ew::rt
