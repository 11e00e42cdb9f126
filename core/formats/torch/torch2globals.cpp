// The tensor rebuilds of PyTorch 2.x pickles (globals_p.h): tensors of the dtypes that have no
// typed storage (float8, uint16/32/64) over untyped byte storages, meta tensors without data,
// and sparse tensors as the dense tensors they are made of. PyTorch 1.13 writes the sparse
// ones too (_rebuild_sparse_tensor, _rebuild_sparse_csr_tensor).

#include "formats/torch/globals_p.h"

#include <string>

namespace paramscope::pickle::torchglobals {

namespace {

using T = Value::Type;
constexpr std::size_t kMaxDims = 64;  // as the archive reader allows

std::optional<DType> dtypeOf(const Value* v)
{
    if (!v || v->type != T::Global || v->text.substr(0, 6) != "torch.")
        return std::nullopt;
    return dtypeFromName(v->text);
}

}  // namespace

Value* rebuildTensorV3(Machine& m, Value* args)
{
    Value* t = rebuildTensor(m, args, false);
    TensorRef& r = *t->tensor;
    // (Item 6, v2's metadata, is the dtype here: not a dict, so rebuildTensor found no bits.)
    if (r.error.empty())
        r.error = lazyBitsError(Machine::item(args, 7));
    if (!r.error.empty())
        return t;
    const Value* d = Machine::item(args, 6);
    const auto dtype = dtypeOf(d);
    if (!dtype || dtypeIsQuantized(*dtype)) {
        r.error = "its dtype is " + (d && d->type == T::Global ? std::string(d->text) : describe(d)) +
                  ", which ParamScope does not read";
        return t;
    }
    StorageRef& s = m.document().storages[std::size_t(r.storage)];
    if (s.untyped && !s.retyped) {
        // The storage counts bytes: from now on it holds elements of this tensor's dtype.
        const int item = dtypeItemSize(*dtype);
        if (s.numel % item != 0) {
            r.error = "its untyped storage holds " + std::to_string(s.numel) + " bytes, not a whole number of " +
                      std::string(dtypeName(*dtype)) + " elements";
            return t;
        }
        s.numel /= item;
        s.dtype = dtype;
        s.retyped = true;
    } else if (s.dtype != dtype) {
        r.error = "it is rebuilt as " + std::string(dtypeName(*dtype)) + " over a storage of " +
                  (s.dtype ? std::string(dtypeName(*s.dtype)) : std::string(s.typeName)) +
                  " (one storage viewed as two dtypes)";
    }
    return t;
}

Value* rebuildMetaTensor(Machine& m, Value* args)
{
    Value* t = m.make(T::Tensor);
    t->tensor = m.newTensor();
    TensorRef& r = *t->tensor;
    r.isMeta = true;
    const Value* d = Machine::item(args, 0);
    r.dtype = dtypeOf(d);
    for (const Value* dims : {Machine::item(args, 1), Machine::item(args, 2)})
        if (dims && dims->items.size() > kMaxDims) {
            r.error = "it has " + std::to_string(dims->items.size()) + " dimensions (more than " +
                      std::to_string(kMaxDims) + ")";
            return t;
        }
    if (!r.dtype)
        r.error = "its dtype is " + (d && d->type == T::Global ? std::string(d->text) : describe(d)) +
                  ", which ParamScope does not read";
    else if (!Machine::toInts(Machine::item(args, 1), r.shape))
        r.error = "its size is not a tuple of integers";
    else if (!Machine::toInts(Machine::item(args, 2), r.strides))
        r.error = "its stride is not a tuple of integers";
    if (const Value* rg = Machine::item(args, 3); rg && rg->type == T::Bool)
        r.requiresGrad = rg->boolean;
    return t;
}

Value* rebuildSparseTensor(Machine& m, Value* args)
{
    const Value* layout = Machine::item(args, 0);
    Value* data = const_cast<Value*>(Machine::item(args, 1));
    const std::string_view name = layout && layout->type == T::Global ? layout->text : std::string_view();
    // The parts, in the order of `data`, by the names PyTorch's accessors give them.
    std::vector<std::string_view> parts;
    if (name == "torch.sparse_coo")
        parts = {"indices", "values", "size"};  // (indices, values, size[, is_coalesced])
    else if (name == "torch.sparse_csr" || name == "torch.sparse_bsr")
        parts = {"crow_indices", "col_indices", "values", "size"};
    else if (name == "torch.sparse_csc" || name == "torch.sparse_bsc")
        parts = {"ccol_indices", "row_indices", "values", "size"};
    if (parts.empty() || !data || data->type != T::Tuple || data->items.size() < parts.size()) {
        // A tensor that says what it is, so the walk skips it by name.
        Value* t = m.make(T::Tensor);
        t->tensor = m.newTensor();
        t->tensor->error = parts.empty() ? "it is a sparse tensor of layout " +
                                               (name.empty() ? describe(layout) : std::string(name)) +
                                               ", which ParamScope does not read"
                                         : "its sparse " + std::string(name) + " parts are a " + describe(data) +
                                               ", not a tuple of " + std::to_string(parts.size());
        return t;
    }
    Value* d = m.make(T::Dict);
    std::vector<Value*> kv;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        Value* k = m.make(T::String);
        k->text = parts[i];
        kv.push_back(k);
        kv.push_back(data->items[i]);
    }
    m.setItems(d, kv.data(), kv.size(), "a sparse tensor");
    return d;
}

Value* getLayout(Machine& m, Value* args)
{
    const Value* a = Machine::item(args, 0);
    Value* g = m.make(T::Global);
    g->text = a && a->type == T::String ? a->text : std::string_view("torch.<layout>");
    return g;
}

}  // namespace paramscope::pickle::torchglobals
