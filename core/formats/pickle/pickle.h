#pragma once
// A restricted unpickler for the pickles inside PyTorch archives (data.pkl): the value tree
// it builds and its limits. It never calls anything named by the file: a generic interpreter
// (pickle.cpp) runs the opcodes and asks a Resolver (resolver.h) what names mean; with
// PyTorch's resolver, GLOBALs on a short allow-list are interpreted (tensor rebuilds,
// OrderedDict, ...) and every other callable becomes an opaque object named by its GLOBAL
// and is reported.

#include "base/dims.h"
#include "base/dtype.h"
#include "base/result.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paramscope::pickle {

struct Value;

/// Why a tensor's rebuild arguments could not be understood: empty for almost every tensor,
/// so one pointer in each TensorRef instead of a std::string (8 bytes, not 32: a
/// checkpoint has a TensorRef per tensor, all alive while it is indexed).
class ErrorText {
public:
    ErrorText() = default;
    ErrorText(const ErrorText& o) : m_text(o.m_text ? std::make_unique<std::string>(*o.m_text) : nullptr) {}
    ErrorText(ErrorText&&) noexcept = default;
    ErrorText& operator=(const ErrorText& o)
    {
        if (this != &o)
            m_text = o.m_text ? std::make_unique<std::string>(*o.m_text) : nullptr;
        return *this;
    }
    ErrorText& operator=(ErrorText&&) noexcept = default;
    ErrorText& operator=(std::string text)
    {
        if (text.empty())
            m_text.reset();
        else
            m_text = std::make_unique<std::string>(std::move(text));
        return *this;
    }
    bool empty() const { return !m_text; }
    std::string_view view() const { return m_text ? std::string_view(*m_text) : std::string_view(); }
    operator std::string_view() const { return view(); }
    const char* c_str() const { return m_text ? m_text->c_str() : ""; }

private:
    std::unique_ptr<std::string> m_text;
};

/// A tensor as described by torch._utils._rebuild_tensor_v2 / _rebuild_parameter /
/// _rebuild_qtensor (nothing is checked here; the archive reader validates it).
struct TensorRef {
    int storage = -1;  // index into Document::storages
    std::int64_t offset = 0;
    Dims shape, strides;
    bool requiresGrad = false;
    bool isParameter = false;  // wrapped by _rebuild_parameter
    bool isArray = false;      // a NumPy array (kind "array"), its data in an inline storage
    /// A tensor on the "meta" device (torch._utils._rebuild_meta_tensor_no_storage): shape,
    /// strides and `dtype` only, no storage and no data.
    bool isMeta = false;
    std::optional<DType> dtype;  // meta tensors: the tensor's dtype (others take their storage's)
    /// _rebuild_qtensor's quantization (null for every other tensor: kept apart, a
    /// checkpoint has a TensorRef per tensor).
    struct Quantization {
        double scale = 1.0;
        std::int64_t zeroPoint = 0;
        // torch.per_channel_affine: the scales and zero points are tensors of their own.
        const TensorRef* scales = nullptr;
        const TensorRef* zeroPoints = nullptr;
        std::int64_t axis = -1;
    };
    std::shared_ptr<const Quantization> quant;
    ErrorText error;  // why the rebuild arguments could not be understood
};

/// A storage named by a persistent id ('storage', <type>, key, location, numel), or in a
/// legacy torch.save file ('storage', <type>, root key, location, root numel, view): a view
/// (view key, offset, size) is this storage with the Storage value's offset.
/// Its text is owned by the Document (one storage per tensor is common).
struct StorageRef {
    std::string_view key;
    std::string_view typeName;  // "torch.FloatStorage"
    std::optional<DType> dtype;
    /// The bytes are inside the pickle itself (a NumPy array's data): Document::inlineData
    /// [inlineIndex], owned by the Document; key is then a name made up by the resolver.
    /// (Here, not below: it fills padding, and a checkpoint has a storage per tensor.)
    bool isInline = false;
    std::uint32_t inlineIndex = 0;
    std::int64_t numel = 0;
    std::string_view location;
    /// torch.UntypedStorage (PyTorch 2.x, _rebuild_tensor_v3): numel counts bytes until the
    /// first tensor rebuilt on it gives it that tensor's dtype (`retyped`).
    bool untyped = false;
    bool retyped = false;
};

/// The items of a tuple, list, set or dict: a read-only view of pointers kept in the
/// Document's arena (16 bytes, no allocation of its own).
class Items {
public:
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    Value* operator[](std::size_t i) const { return m_data[i]; }
    Value* const* begin() const { return m_data; }
    Value* const* end() const { return m_data + m_size; }

private:
    friend class Document;
    Value** m_data = nullptr;
    std::uint32_t m_size = 0;
    std::uint32_t m_capacity = 0;
};

struct Value {
    enum class Type : std::uint8_t {
        None,
        Bool,
        Int,
        Float,
        String,
        Bytes,
        Tuple,
        List,
        Dict,
        Set,
        Global,
        Object,
        Storage,
        Tensor
    };
    // Laid out without padding, in 56 bytes: a 100k-tensor checkpoint makes about a million
    // values (10 a tensor; the Document's values are most of the peak of opening one).
    Type type = Type::None;
    bool boolean = false;
    bool bigInt = false;           // an integer beyond 64 bits (value not kept)
    bool opaque = false;           // Object: made from a callable that was not called
    int storage = -1;              // Storage: index into Document::storages
    union {                        // which one is meant follows from `type` (every reader checks it)
        std::int64_t integer = 0;  // Int; Storage: the element offset of a storage view in its storage
        double real;               // Float
        Value* args;               // Object: constructor arguments (null: none)
    };
    std::string_view text;       // String/Bytes payload; Global and Object: "module.name" (owned by the Document)
    Items items;                 // Tuple, List, Set; Dict: key, value, key, value... in insertion order
    union {                      // which one is meant follows from `type`
        Value* state = nullptr;  // Object: BUILD state (attribute dict for modules)
        TensorRef* tensor;       // Tensor (owned by the Document)
    };

    std::size_t dictSize() const { return items.size() / 2; }
    const Value* key(std::size_t i) const { return items[2 * i]; }
    const Value* value(std::size_t i) const { return items[2 * i + 1]; }
    /// The dict value for a string key, or null.
    const Value* get(std::string_view key) const;
};

static_assert(sizeof(Value) <= 56, "a pickle Value grew: the peak of opening a checkpoint grows with it");

struct Limits {
    // A value is 56 bytes: 20M values are 1.12 GB for one open. A torch.save state_dict
    // makes 10 values and 9 memo slots per tensor (tst_limits measures it), so a 1M-tensor
    // checkpoint fits twice over. A memo slot is 8-16 bytes; Python's pickler memoizes each
    // object once, so real pickles have fewer slots than values.
    std::size_t maxValues = 20'000'000;  // objects created in total
    std::size_t maxMemo = 20'000'000;    // memo slots
    // Container items in total: 8-byte pointers, and the arena keeps the blocks a growing
    // container leaves behind, so at most 4 x 8 x 40M = 1.28 GB (1.1 GB measured for one
    // list of 40M). A torch.save state_dict has 18 per tensor (tst_limits measures it).
    std::size_t maxItems = 40'000'000;
    // Tensors rebuilt (a Parameter rebuilds two): each is a TensorRef of about 200 bytes
    // here, then an index entry; one memoized argument tuple can rebuild any number of them.
    // A checkpoint of 1M Parameters fits twice over.
    std::size_t maxTensors = 4'000'000;
    std::size_t maxStack = 10'000'000;  // stack entries, marks included
    std::size_t maxMarks = 100'000;     // open MARKs (nesting while building)
};

/// The result of unpickling: every value is owned here (so cyclic or very deep graphs
/// free without recursion), `root` is what STOP returned.
class Document {
public:
    Document() = default;
    Document(Document&&) = default;
    Document& operator=(Document&&) = default;

    Value* root = nullptr;
    std::deque<StorageRef> storages;           // a deque: no reallocation peak with one storage per tensor
    std::vector<std::string_view> inlineData;  // the bytes of inline storages (StorageRef::inlineIndex)
    /// Callables that were not on the allow-list and therefore not called, as
    /// "module.name" (each once), and other things worth telling the user.
    std::vector<std::string> warnings;

    Value* make(Value::Type t);
    TensorRef* makeTensor();
    /// Appends `n` pointers to v->items (amortised growth in the arena); false when the
    /// count would pass the 32-bit item limit.
    bool append(Value* v, Value* const* p, std::size_t n);
    /// A copy of `s` that lives as long as the Document (for Value::text).
    std::string_view store(std::string_view s);
    std::size_t valueCount() const { return m_count; }
    std::size_t tensorCount() const { return m_tensors.size(); }

private:
    // Values in blocks: stable addresses, few allocations, freed without recursion.
    static constexpr std::size_t kBlock = 4096;
    std::vector<std::unique_ptr<Value[]>> m_values;
    std::size_t m_used = 0;
    std::size_t m_count = 0;
    std::deque<TensorRef> m_tensors;
    // Text in chunks: no allocation (and no 32-byte std::string) per string value.
    static constexpr std::size_t kTextChunk = 64 * 1024;
    std::vector<std::unique_ptr<char[]>> m_text;
    std::size_t m_textUsed = kTextChunk;
    // Item pointers in chunks likewise; large arrays get chunks of their own.
    static constexpr std::size_t kItemChunk = 16 * 1024;
    std::vector<std::unique_ptr<Value*[]>> m_items;
    std::size_t m_itemsUsed = kItemChunk;
    std::vector<std::unique_ptr<Value*[]>> m_bigItems;
    Value** allocItems(std::size_t n);
};

class Resolver;
class Machine;

/// Unpickles `data`, asking `resolver` what its names mean (resolver.h). Errors describe the
/// problem and the byte offset (without the file name, which the caller adds). `consumed`,
/// when given, is set to the bytes up to and including STOP (pickles written back to back).
Result<Document> unpickle(const std::uint8_t* data, std::size_t size, Resolver& resolver, const Limits& limits = {},
                          std::size_t* consumed = nullptr);
/// The same with PyTorch's semantics (torch/torchglobals.cpp): the allow-list of callables,
/// tensor rebuilds and storages.
Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const Limits& limits = {});

/// How a container reads one of its PyTorch pickles when it needs more than unpickle().
struct TorchPickleOptions {
    Limits limits;
    /// Persistent ids the container answers itself (the tar format's tensor keys), asked
    /// first; null leaves `pid` to PyTorch's rules.
    std::function<Value*(Machine& m, Value* pid)> persistent;
    std::size_t* consumed = nullptr;  // as for unpickle() with a Resolver
};
/// unpickle() with PyTorch's semantics and `options`.
Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const TorchPickleOptions& options);

/// The dtype of a PyTorch storage class named by a pickle ("torch.FloatStorage", and
/// "torch.cuda.FloatStorage" as files saved from a GPU name it), or nullopt.
std::optional<DType> storageDType(std::string_view typeName);

/// Short description of a value for messages ("dict", "tuple of 3", "torch.nn.Foo object").
std::string describe(const Value* v);

}  // namespace paramscope::pickle
