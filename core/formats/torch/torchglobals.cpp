// PyTorch's semantics for the restricted unpickler: the Resolver (pickle/resolver.h) behind
// pickle::unpickle. Callables on the allow-list are interpreted by a table name -> handler
// (tensor rebuilds, Parameters, OrderedDict, sets, TorchScript's typed lists, torch.device,
// torch.Size, protocol 2's bytes); every other callable becomes an opaque object named by its
// GLOBAL and is reported. NEWOBJ builds TorchScript objects (__torch__.*) and OrderedDicts;
// persistent ids name storages ('storage', torch.*Storage, key, location, numel; legacy files
// add a storage view) and, in legacy files, module classes.

#include "formats/pickle/resolver.h"
#include "formats/torch/globals_p.h"

#include <functional>
#include <string>
#include <unordered_map>

namespace paramscope::pickle {

namespace {

using T = Value::Type;
constexpr std::size_t kMaxDims = 64;  // as the archive reader allows

const Value* item(const Value* args, std::size_t i)
{
    return Machine::item(args, i);
}
bool toInt(const Value* v, std::int64_t& out)
{
    return Machine::toInt(v, out);
}

/// The items of a list or tuple argument, copied into a new container of type `type`.
Value* containerOf(Machine& m, T type, const Value* from)
{
    Value* c = m.make(type);
    if (from && (from->type == T::List || from->type == T::Tuple))
        m.addItems(c, from->items);
    return c;
}

/// The quantization arguments of _rebuild_qtensor (args[4]) into `r`.
void readQuantization(const Value* q, TensorRef& r)
{
    TensorRef::Quantization qr;
    const Value* scheme = item(q, 0);
    const bool global = scheme && scheme->type == T::Global;
    if (global && scheme->text == "torch.per_channel_affine") {
        // (scheme, scales tensor, zero points tensor, axis)
        const Value* scales = item(q, 1);
        const Value* zeros = item(q, 2);
        if (!scales || scales->type != T::Tensor || !zeros || zeros->type != T::Tensor)
            r.error = "its per-channel scales or zero points are not tensors";
        else if (!toInt(item(q, 3), qr.axis))
            r.error = "its per-channel quantization axis is not an integer";
        qr.scales = scales && scales->type == T::Tensor ? scales->tensor : nullptr;
        qr.zeroPoints = zeros && zeros->type == T::Tensor ? zeros->tensor : nullptr;
    } else if (!global || scheme->text != "torch.per_tensor_affine") {
        r.error = "it uses a quantization scheme ParamScope does not know (" + describe(scheme) + ")";
    } else {
        const Value* scale = item(q, 1);
        if (scale && scale->type == T::Float)
            qr.scale = scale->real;
        else if (std::int64_t i = 0; toInt(scale, i))
            qr.scale = double(i);
        if (!toInt(item(q, 2), qr.zeroPoint))
            r.error = "its quantization zero point is not an integer";
    }
    r.quant = std::make_shared<const TensorRef::Quantization>(qr);
}

}  // namespace

namespace torchglobals {

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)
Value* rebuildTensor(Machine& m, const Value* args, bool quantized)
{
    Value* t = m.make(T::Tensor);
    t->tensor = m.newTensor();
    auto& r = *t->tensor;
    // The size and stride are copied per tensor: a memoized tuple of 1M dimensions
    // would cost 16 MB for every tensor rebuilt from it. No tensor has more than 64.
    for (const Value* dims : {item(args, 2), item(args, 3)})
        if (dims && dims->items.size() > kMaxDims) {
            r.error = "it has " + std::to_string(dims->items.size()) + " dimensions (more than " +
                      std::to_string(kMaxDims) + ")";
            return t;
        }
    const Value* s = item(args, 0);
    if (!s || s->type != T::Storage) {
        r.error = "its data is a " + describe(s) + ", not a storage";
        return t;
    }
    r.storage = s->storage;
    if (!toInt(item(args, 1), r.offset))
        r.error = "its storage offset is not an integer";
    else if (s->integer != 0 && (r.offset < 0 || __builtin_add_overflow(r.offset, s->integer, &r.offset)))
        r.error = "its storage offset does not fit in its storage view";
    else if (!Machine::toInts(item(args, 2), r.shape))
        r.error = "its size is not a tuple of integers";
    else if (!Machine::toInts(item(args, 3), r.strides))
        r.error = "its stride is not a tuple of integers";
    std::size_t next = 4;
    if (quantized) {
        readQuantization(item(args, 4), r);
        next = 5;
    }
    if (const Value* rg = item(args, next); rg && rg->type == T::Bool)
        r.requiresGrad = rg->boolean;
    if (!quantized && r.error.empty())
        r.error = lazyBitsError(item(args, 6));  // _rebuild_tensor_v2's metadata
    return t;
}

std::string lazyBitsError(const Value* metadata)
{
    // PyTorch 2.x writes {'conj': True} / {'neg': True} for a lazily conjugated or negated
    // view: the stored values are not the tensor's.
    if (!metadata || metadata->type != T::Dict)
        return {};
    for (const char* bit : {"conj", "neg"})
        if (const Value* v = metadata->get(bit); v && v->type == T::Bool && v->boolean)
            return std::string("its stored values are to be read ") + (bit[0] == 'c' ? "conjugated" : "negated") +
                   " (PyTorch's lazy '" + bit + "' bit), which ParamScope does not apply";
    return {};
}

}  // namespace torchglobals

namespace {

using torchglobals::rebuildTensor;

class TorchResolver;
/// One allow-listed callable: `f` is its name, `args` its argument tuple (or list).
using Handler = Value* (*)(TorchResolver& self, Machine& m, std::string_view f, Value* args);

class TorchResolver final : public Resolver {
public:
    TorchResolver() = default;
    explicit TorchResolver(std::function<Value*(Machine&, Value*)> hook) : m_hook(std::move(hook)) {}
    Value* reduce(Machine& m, Value* callable, Value* args) override;
    Value* newObject(Machine& m, Value* cls, Value* args) override;
    Value* persistentLoad(Machine& m, Value* pid) override;
    void build(Machine& m, Value* obj, Value* state) override;

private:
    std::function<Value*(Machine&, Value*)> m_hook;            // TorchPickleOptions::persistent
    std::unordered_map<std::string_view, int> m_storageByKey;  // views of the Document's storage keys
};

Value* rebuildPlain(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return rebuildTensor(m, args, false);
}
Value* rebuildQuantized(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return rebuildTensor(m, args, true);
}

Value* rebuildParameter(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    const Value* data = item(args, 0);
    Value* t = m.make(T::Tensor);
    t->tensor = m.newTensor();
    if (data && data->type == T::Tensor)
        *t->tensor = *data->tensor;
    else
        t->tensor->error = "the data of a Parameter is a " + describe(data) + ", not a tensor";
    t->tensor->isParameter = true;
    if (const Value* rg = item(args, 1); rg && rg->type == T::Bool)
        t->tensor->requiresGrad = rg->boolean;
    return t;
}

Value* rebuildFromType(TorchResolver& self, Machine& m, std::string_view f, Value* args)
{
    // (func, new_type, args, state): a tensor subclass; the tensor comes from func(*args).
    Value* inner = const_cast<Value*>(item(args, 0));
    Value* innerArgs = const_cast<Value*>(item(args, 2));
    if (inner && inner->type == T::Global && innerArgs && innerArgs->type == T::Tuple && inner->text != f)
        return self.reduce(m, inner, innerArgs);
    return m.opaque(f, args);
}

Value* orderedDict(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    Value* d = m.make(T::Dict);
    if (const Value* pairs = item(args, 0); pairs && pairs->type == T::List) {
        std::vector<Value*> kv;
        for (Value* p : pairs->items) {
            if (!p || p->type != T::Tuple || p->items.size() != 2)
                m.fail("OrderedDict built from something other than (key, value) pairs");
            kv.push_back(p->items[0]);
            kv.push_back(p->items[1]);
        }
        m.setItems(d, kv.data(), kv.size(), "OrderedDict");
    }
    return d;
}

Value* makeSet(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return containerOf(m, T::Set, item(args, 0));
}

// TorchScript's typed lists (build_intlist, build_tensorlist, ...): the list itself.
Value* typedList(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return containerOf(m, T::List, item(args, 0));
}

Value* restoreTypeTag(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    // (value, type string): only annotates a dict or list with its static type.
    if (Value* v = const_cast<Value*>(item(args, 0)))
        return v;
    return m.make(T::None);
}

Value* device(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    Value* s = m.make(T::String);
    std::string text;
    if (const Value* a = item(args, 0); a && a->type == T::String)
        text = a->text;
    if (std::int64_t i = 0; toInt(item(args, 1), i))
        text += ":" + std::to_string(i);
    s->text = m.store(text);
    return s;
}

Value* size(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return containerOf(m, T::Tuple, item(args, 0));
}

Value* codecsEncode(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    // Protocol 2 pickles Python 3 bytes as _codecs.encode(latin-1 text, 'latin1').
    Value* b = m.make(T::Bytes);
    if (const Value* a = item(args, 0); a && a->type == T::String) {
        const std::string_view s = a->text;
        std::string bytes;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto c = std::uint8_t(s[i]);
            if (c < 0x80) {
                bytes.push_back(char(c));
            } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
                bytes.push_back(char(((c & 0x1f) << 6) | (std::uint8_t(s[i + 1]) & 0x3f)));
                ++i;
            }
        }
        b->text = m.store(bytes);
    }
    return b;
}

Value* bytesOf(TorchResolver&, Machine& m, std::string_view f, Value* args)
{
    // Protocol 2 pickles b'' as __builtin__.bytes() (and bytes(b) as bytes of its argument).
    const Value* a = item(args, 0);
    if (args->items.empty() || (a && a->type == T::Bytes)) {
        Value* b = m.make(T::Bytes);
        if (a)
            b->text = a->text;
        return b;
    }
    return m.opaque(f, args);
}

/// A handler of globals_p.h, which needs no resolver and no name.
template <Value* (*F)(Machine&, Value*)>
Value* plain(TorchResolver&, Machine& m, std::string_view, Value* args)
{
    return F(m, args);
}

/// The allow-list: the callables a PyTorch pickle may name, and what each builds.
const std::unordered_map<std::string_view, Handler>& handlers()
{
    static const std::unordered_map<std::string_view, Handler> kHandlers = {
        {"torch._utils._rebuild_tensor_v2", rebuildPlain},
        {"torch._utils._rebuild_tensor", rebuildPlain},
        {"torch._utils._rebuild_qtensor", rebuildQuantized},
        {"torch._utils._rebuild_parameter", rebuildParameter},
        {"torch._utils._rebuild_parameter_with_state", rebuildParameter},
        {"torch._tensor._rebuild_from_type_v2", rebuildFromType},
        {"torch._tensor._rebuild_from_type", rebuildFromType},
        {"collections.OrderedDict", orderedDict},
        {"builtins.set", makeSet},
        {"builtins.frozenset", makeSet},
        {"__builtin__.set", makeSet},
        {"__builtin__.frozenset", makeSet},
        {"torch.jit._pickle.restore_type_tag", restoreTypeTag},
        {"torch.device", device},
        {"torch.Size", size},
        {"_codecs.encode", codecsEncode},
        {"__builtin__.bytes", bytesOf},
        {"builtins.bytes", bytesOf},
        // PyTorch 2.x (1.13 writes the sparse ones and _get_layout too).
        {"torch._utils._rebuild_tensor_v3", plain<torchglobals::rebuildTensorV3>},
        {"torch._utils._rebuild_meta_tensor_no_storage", plain<torchglobals::rebuildMetaTensor>},
        {"torch._utils._rebuild_sparse_tensor", plain<torchglobals::rebuildSparseTensor>},
        {"torch._utils._rebuild_sparse_csr_tensor", plain<torchglobals::rebuildSparseTensor>},
        {"torch.serialization._get_layout", plain<torchglobals::getLayout>},
        // NumPy 1.x and 2.x: rebuilt from their bytes, NumPy never runs.
        {"numpy.dtype", plain<torchglobals::numpyDtype>},
        {"numpy.core.multiarray._reconstruct", plain<torchglobals::numpyReconstruct>},
        {"numpy._core.multiarray._reconstruct", plain<torchglobals::numpyReconstruct>},
        {"numpy.core.multiarray.scalar", plain<torchglobals::numpyScalar>},
        {"numpy._core.multiarray.scalar", plain<torchglobals::numpyScalar>},
        {"numpy.core.numeric._frombuffer", plain<torchglobals::numpyFromBuffer>},
        {"numpy._core.numeric._frombuffer", plain<torchglobals::numpyFromBuffer>},
    };
    return kHandlers;
}
/// Callables allowed by prefix: TorchScript's torch.jit._pickle.build_intlist, build_tensorlist, ...
constexpr std::string_view kTypedListPrefix = "torch.jit._pickle.build_";

Value* TorchResolver::reduce(Machine& m, Value* callable, Value* args)
{
    if (!callable || callable->type != T::Global)
        return m.opaque("call of " + describe(callable), args);
    const std::string_view f = callable->text;
    if (!args || (args->type != T::Tuple && args->type != T::List))
        m.fail("the arguments of " + std::string(f) + " are a " + describe(args) + ", not a tuple");
    const auto& table = handlers();
    if (auto it = table.find(f); it != table.end())
        return it->second(*this, m, f, args);
    if (f.substr(0, kTypedListPrefix.size()) == kTypedListPrefix)
        return typedList(*this, m, f, args);
    return m.opaque(f, args);
}

Value* TorchResolver::newObject(Machine& m, Value* cls, Value* args)
{
    if (cls && cls->type == T::Global && cls->text.substr(0, 10) == "__torch__.") {
        // A TorchScript module or class: a plain object filled by BUILD; no code runs.
        Value* o = m.make(T::Object);
        o->text = cls->text;
        o->args = args;
        return o;
    }
    if (cls && cls->type == T::Global && cls->text == "collections.OrderedDict")
        return m.make(T::Dict);
    return m.opaque(cls && cls->type == T::Global ? std::string(cls->text) : "instance of " + describe(cls), args);
}

void TorchResolver::build(Machine& m, Value* obj, Value* state)
{
    if (!torchglobals::numpyBuild(m, obj, state))
        Resolver::build(m, obj, state);
}

}  // namespace

std::optional<DType> storageDType(std::string_view typeName)
{
    // Storages saved from a GPU before PyTorch 1.13 are torch.cuda.FloatStorage and so on;
    // torch.load maps every torch storage class to its dtype by the class name alone.
    if (typeName.substr(0, 6) != "torch.")
        return std::nullopt;
    const auto dot = typeName.rfind('.');
    const std::string_view module = typeName.substr(0, dot);
    if (module != "torch" && module != "torch.cuda")
        return std::nullopt;
    return dtypeFromStorageName(typeName.substr(dot + 1));
}

namespace {

Value* TorchResolver::persistentLoad(Machine& m, Value* pid)
{
    if (m_hook)
        if (Value* v = m_hook(m, pid))
            return v;
    // A legacy torch.save file names each nn.Module class it pickled whole:
    // ('module', class, source file, source). The class is what the pickle goes on with.
    if (pid && pid->type == T::Tuple && pid->items.size() == 4 && pid->items[0]->type == T::String &&
        pid->items[0]->text == "module") {
        if (pid->items[1]->type != T::Global)
            m.fail("module persistent id names a " + describe(pid->items[1]) + ", not a class");
        return pid->items[1];
    }
    // ('storage', storage_type, key, location, numel), and in legacy torch.save files a sixth
    // item: None, or the view (view key, offset, size) of the storage named by `key`.
    if (!pid || pid->type != T::Tuple || pid->items.size() < 5 || pid->items[0]->type != T::String ||
        pid->items[0]->text != "storage")
        m.fail("persistent id is a " + describe(pid) + ", not ('storage', type, key, location, numel)");
    const Value* type = pid->items[1];
    const Value* key = pid->items[2];
    const Value* loc = pid->items[3];
    std::int64_t numel = 0;
    if (!key || (key->type != T::String && key->type != T::Int))
        m.fail("storage key is a " + describe(key) + ", not a string");
    if (!toInt(pid->items[4], numel) || numel < 0)
        m.fail("storage size is not a non-negative integer");
    std::int64_t viewOffset = 0;
    if (pid->items.size() > 5 && pid->items[5]->type != T::None) {
        const Value* view = pid->items[5];
        std::int64_t viewSize = 0;
        if (view->type != T::Tuple || view->items.size() != 3 || !toInt(view->items[1], viewOffset) ||
            !toInt(view->items[2], viewSize))
            m.fail("storage view is a " + describe(view) + ", not (view key, offset, size)");
        if (viewOffset < 0 || viewSize < 0 || viewOffset > numel || viewSize > numel - viewOffset)
            m.fail("storage view of " + std::to_string(viewSize) + " elements at offset " + std::to_string(viewOffset) +
                   " lies outside its storage of " + std::to_string(numel) + " elements");
    }
    std::string number;
    if (key->type != T::String)
        number = std::to_string(key->integer);
    const std::string_view k = key->type == T::String ? key->text : std::string_view(number);
    Document& doc = m.document();
    auto it = m_storageByKey.find(k);
    int index = 0;
    if (it == m_storageByKey.end()) {
        StorageRef s;
        s.key = key->type == T::String ? key->text : m.store(number);
        s.numel = numel;
        if (loc && loc->type == T::String)
            s.location = loc->text;
        if (type && type->type == T::Global) {
            s.typeName = type->text;  // torch.FloatStorage, torch.BFloat16Storage, ...
            if (s.typeName == "torch.UntypedStorage") {
                // PyTorch 2.x: bytes, until a _rebuild_tensor_v3 gives them its dtype.
                s.dtype = DType::UInt8;
                s.untyped = true;
            } else {
                s.dtype = storageDType(s.typeName);
            }
        } else {
            s.typeName = m.store(describe(type));
        }
        index = int(doc.storages.size());
        doc.storages.push_back(std::move(s));
        m_storageByKey.emplace(doc.storages.back().key, index);  // a view into the Document
    } else {
        index = it->second;
    }
    Value* v = m.make(T::Storage);
    v->storage = index;
    v->integer = viewOffset;
    return v;
}

}  // namespace

Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const Limits& limits)
{
    TorchResolver torch;
    return unpickle(data, size, torch, limits);
}

Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const TorchPickleOptions& options)
{
    TorchResolver torch(options.persistent);
    return unpickle(data, size, torch, options.limits, options.consumed);
}

}  // namespace paramscope::pickle
