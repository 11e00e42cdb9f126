#pragma once

// The seam between the generic pickle interpreter (pickle.cpp: opcodes, stack, memo, limits)
// and what a pickle's names mean. The interpreter never decides what a GLOBAL, REDUCE,
// NEWOBJ, BUILD or persistent id stands for: it asks a Resolver, handing it the Machine,
// which makes values counted against the Limits and reports failures with the opcode's byte
// offset. PyTorch's semantics are one Resolver (torch/torchglobals.cpp); nothing here calls
// anything named by the file.

#include "formats/pickle/pickle.h"

#include <set>
#include <string>
#include <string_view>

namespace paramscope::pickle {

/// The services of the running interpreter, for resolvers.
class Machine {
public:
    /// A new value; fails past Limits::maxValues.
    Value* make(Value::Type t)
    {
        if (m_doc.valueCount() >= m_limits.maxValues)
            fail("too many objects (limit " + std::to_string(m_limits.maxValues) + ")", ErrorKind::Limit);
        return m_doc.make(t);
    }
    /// A new tensor description; fails past Limits::maxTensors. A tensor costs far more than
    /// its value (a TensorRef here, later an index entry), and one memoized argument tuple
    /// rebuilds any number of them: they are counted on their own.
    TensorRef* newTensor()
    {
        if (m_doc.tensorCount() >= m_limits.maxTensors)
            fail("more than " + std::to_string(m_limits.maxTensors) + " tensors", ErrorKind::Limit);
        return m_doc.makeTensor();
    }
    /// Appends items to a container; fails past Limits::maxItems in total.
    void addItems(Value* v, Value* const* p, std::size_t n)
    {
        // Items are pointers to values that already exist: without a total, repeated
        // APPENDS of one memoized value grow lists without bound (2 bytes of pickle each).
        if (n > m_limits.maxItems - m_itemCount)
            fail("containers hold more than " + std::to_string(m_limits.maxItems) + " items in total",
                 ErrorKind::Limit);
        m_itemCount += n;
        if (!m_doc.append(v, p, n))
            fail("a container holds more than 2^32 items", ErrorKind::Limit);
    }
    void addItems(Value* v, const Items& items) { addItems(v, items.begin(), items.size()); }
    /// Appends key, value, key, value... to a dict (`op` names the caller in messages).
    void setItems(Value* d, Value* const* kv, std::size_t n, const char* op);
    /// An object made from a callable that is not called: named, with its arguments kept,
    /// and reported once in Document::warnings.
    Value* opaque(std::string_view name, Value* args);
    /// A copy of `s` owned by the Document.
    std::string_view store(std::string_view s) { return m_doc.store(s); }
    Document& document() { return m_doc; }
    /// Stops the run with `what` and the current opcode's byte offset: Corrupt by default,
    /// Limit past a limit, Unsupported for what a valid pickle may hold but this one does not read.
    [[noreturn]] void fail(const std::string& what, ErrorKind kind = ErrorKind::Corrupt);

    /// Item `i` of a tuple or list, or null.
    static const Value* item(const Value* args, std::size_t i)
    {
        return args && (args->type == Value::Type::Tuple || args->type == Value::Type::List) && i < args->items.size()
                   ? args->items[i]
                   : nullptr;
    }
    /// An int (or bool) that fits in 64 bits.
    static bool toInt(const Value* v, std::int64_t& out);
    /// A tuple or list of such ints.
    static bool toInts(const Value* v, std::vector<std::int64_t>& out);
    static bool toInts(const Value* v, Dims& out);

protected:
    explicit Machine(const Limits& limits) : m_limits(limits) {}
    ~Machine() = default;

    Limits m_limits;
    Document m_doc;
    std::size_t m_itemCount = 0;  // container items appended so far (never above maxItems)
    std::size_t m_opPos = 0;      // byte offset of the opcode being run
    std::set<std::string> m_warned;
};

/// What the names in a pickle mean. Every method gets the running Machine; what it returns
/// is pushed on the stack.
class Resolver {
public:
    virtual ~Resolver() = default;
    /// GLOBAL / STACK_GLOBAL: by default a Global value named "module.name".
    virtual Value* global(Machine& m, std::string_view module, std::string_view name);
    /// REDUCE: callable(*args).
    virtual Value* reduce(Machine& m, Value* callable, Value* args) = 0;
    /// NEWOBJ / NEWOBJ_EX: cls.__new__(cls, *args).
    virtual Value* newObject(Machine& m, Value* cls, Value* args) = 0;
    /// BUILD: `obj` (still on the stack) takes `state`. By default an Object keeps it as
    /// Value::state; other values ignore it.
    virtual void build(Machine& m, Value* obj, Value* state);
    /// BINPERSID: persistent_load(pid).
    virtual Value* persistentLoad(Machine& m, Value* pid) = 0;
};

}  // namespace paramscope::pickle
