#pragma once

// Internal to core/formats/torch: the parts of PyTorch's resolver (torchglobals.cpp) that live
// in files of their own. NumPy's pickled arrays, dtypes and scalars (numpyglobals.cpp) are
// rebuilt from their bytes without running NumPy; PyTorch 2.x's records (torch2globals.cpp)
// are the tensor rebuilds newer writers name.

#include "formats/pickle/resolver.h"

#include <string>
#include <string_view>

namespace paramscope::pickle::torchglobals {

// ---- NumPy (numpy.core.* of NumPy 1.x, numpy._core.* of NumPy 2.x) ----

/// numpy.dtype(code, align, copy): an object that BUILD gives its state (byte order, fields).
Value* numpyDtype(Machine& m, Value* args);
/// numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills
/// with (version, shape, dtype, is_fortran, rawdata).
Value* numpyReconstruct(Machine& m, Value* args);
/// numpy.core.multiarray.scalar(dtype, bytes): a NumPy scalar, as a plain value.
Value* numpyScalar(Machine& m, Value* args);
/// numpy.core.numeric._frombuffer(buffer, dtype, shape, order) (pickle protocol 5).
Value* numpyFromBuffer(Machine& m, Value* args);
/// BUILD of an array made by numpyReconstruct: turns `obj` into a tensor value (isArray) with
/// an inline storage. False when `obj` is not such an array.
bool numpyBuild(Machine& m, Value* obj, Value* state);

// ---- PyTorch 2.x ----

/// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, ...) and
/// _rebuild_qtensor (torchglobals.cpp); nothing is checked against the storage here.
Value* rebuildTensor(Machine& m, const Value* args, bool quantized);
/// Why a tensor whose rebuild metadata sets the lazy conj or neg bit is not read, or empty.
std::string lazyBitsError(const Value* metadata);

/// torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype):
/// a tensor of `dtype` over an untyped (byte) storage.
Value* rebuildTensorV3(Machine& m, Value* args);
/// torch._utils._rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad).
Value* rebuildMetaTensor(Machine& m, Value* args);
/// torch._utils._rebuild_sparse_tensor(layout, data) and _rebuild_sparse_csr_tensor: a dict of
/// the tensors the sparse tensor is made of (COO: indices, values; compressed layouts:
/// crow_indices / ccol_indices, col_indices / row_indices, values).
Value* rebuildSparseTensor(Machine& m, Value* args);
/// torch.serialization._get_layout(name): the layout, as a Global value named `name`.
Value* getLayout(Machine& m, Value* args);

}  // namespace paramscope::pickle::torchglobals
