#pragma once
#include "common/status.h"
#include "tensor.h"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ew::ir {

/// NumPy .npy files (format versions 1.0, 2.0 and 3.0) as ir::Tensor, for `edgewise-cli run`
/// inputs and outputs. Supported dtypes: <f4 <f8 <f2 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 |b1, C order.
/// Big-endian files ('>f4', ...) are byte-swapped on read; fortran_order, structured and object
/// dtypes are rejected with an error naming the file.
/// Reading treats the file as hostile: the header length, the header's syntax, the rank, every
/// dimension, the element count and the data size are all checked before anything is allocated;
/// the data must end exactly at the end of the file. Bool bytes other than 0/1 become 1.
/// The returned tensor has an empty name; its bytes are little-endian, as Tensor requires.

/// True when `bytes` starts with the .npy magic ("\x93NUMPY").
bool isNpy(std::span<const std::byte> bytes);

/// Reads a .npy file. Data is used in place from a memory mapping when it needs no conversion and
/// starts 16-byte aligned (numpy aligns it to 64); otherwise it is copied.
Result<Tensor> readNpy(const std::string& path);

/// Parses .npy bytes held in memory (copied into the tensor). `source` names them in errors.
Result<Tensor> parseNpy(std::span<const std::byte> bytes, std::string_view source = "<memory>");

/// Encodes a tensor as .npy (version 1.0, or 2.0 if the header would not fit in 64 KiB), header
/// padded so the data starts 64-byte aligned, as numpy writes it. Fails (Unsupported) for dtypes
/// NumPy has no standard code for (bfloat16, float8, int4, string, ...).
Result<std::string> encodeNpy(const Tensor& t);

/// Writes a tensor as a .npy file atomically (temporary file, then rename).
VoidResult writeNpy(const std::string& path, const Tensor& t);

/// The NumPy dtype code ("<f4", "|b1", ...) for an element type, empty when there is none.
std::string_view npyDescr(DataType t);

} // namespace ew::ir
