#pragma once
// A restricted unpickler for the pickles inside PyTorch archives (data.pkl). It builds a
// value tree and never calls anything named by the file: GLOBALs on a short allow-list
// are interpreted (tensor rebuilds, OrderedDict, ...), every other callable becomes an
// opaque object named by its GLOBAL and is reported.

#include "dtype.h"
#include "result.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paramscope::pickle {

struct Value;

/// A tensor as described by torch._utils._rebuild_tensor_v2 / _rebuild_parameter /
/// _rebuild_qtensor (nothing is checked here; the archive reader validates it).
struct TensorRef {
    int storage = -1;  // index into Document::storages
    std::int64_t offset = 0;
    std::vector<std::int64_t> shape, strides;
    bool requiresGrad = false;
    bool isParameter = false;  // wrapped by _rebuild_parameter
    bool quantized = false;
    double qScale = 1.0;
    std::int64_t qZeroPoint = 0;
    std::string error;  // why the rebuild arguments could not be understood
};

/// A storage named by a persistent id ('storage', <type>, key, location, numel).
struct StorageRef {
    std::string key;
    std::string typeName;  // "torch.FloatStorage"
    std::optional<DType> dtype;
    std::int64_t numel = 0;
    std::string location;
};

struct Value {
    enum class Type : std::uint8_t { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Set, Global, Object, Storage, Tensor };
    Type type = Type::None;
    bool boolean = false;
    bool bigInt = false;  // an integer beyond 64 bits (value not kept)
    std::int64_t integer = 0;
    double real = 0;
    std::string text;            // String/Bytes payload; Global and Object: "module.name"
    std::vector<Value*> items;   // Tuple, List, Set; Dict: key, value, key, value... in insertion order
    Value* args = nullptr;       // Object: constructor arguments
    Value* state = nullptr;      // Object: BUILD state (attribute dict for modules)
    bool opaque = false;         // Object: made from a callable that was not called
    int storage = -1;            // Storage: index into Document::storages
    TensorRef* tensor = nullptr; // Tensor (owned by the Document)

    std::size_t dictSize() const { return items.size() / 2; }
    const Value* key(std::size_t i) const { return items[2 * i]; }
    const Value* value(std::size_t i) const { return items[2 * i + 1]; }
    /// The dict value for a string key, or null.
    const Value* get(std::string_view key) const;
};

struct Limits {
    std::size_t maxValues = 50'000'000;  // objects created in total
    std::size_t maxMemo = 10'000'000;    // memo slots
    std::size_t maxStack = 10'000'000;   // stack entries, marks included
    std::size_t maxMarks = 100'000;      // open MARKs (nesting while building)
};

/// The result of unpickling: every value is owned here (so cyclic or very deep graphs
/// free without recursion), `root` is what STOP returned.
class Document {
public:
    Document() = default;
    Document(Document&&) = default;
    Document& operator=(Document&&) = default;

    Value* root = nullptr;
    std::vector<StorageRef> storages;
    /// Callables that were not on the allow-list and therefore not called, as
    /// "module.name" (each once), and other things worth telling the user.
    std::vector<std::string> warnings;

    Value* make(Value::Type t);
    TensorRef* makeTensor();
    std::size_t valueCount() const { return m_count; }

private:
    // Values in blocks: stable addresses, few allocations, freed without recursion.
    static constexpr std::size_t kBlock = 4096;
    std::vector<std::unique_ptr<Value[]>> m_values;
    std::size_t m_used = 0;
    std::size_t m_count = 0;
    std::deque<TensorRef> m_tensors;
};

/// Unpickles `data`. Errors describe the problem and the byte offset (without the file
/// name, which the caller adds).
Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const Limits& limits = {});

/// Short description of a value for messages ("dict", "tuple of 3", "torch.nn.Foo object").
std::string describe(const Value* v);

}  // namespace paramscope::pickle
