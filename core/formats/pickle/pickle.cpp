#include "formats/pickle/pickle.h"

#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

namespace paramscope::pickle {

const Value* Value::get(std::string_view key) const
{
    if (type != Type::Dict)
        return nullptr;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2)
        if (items[i] && items[i]->type == Type::String && items[i]->text == key)
            return items[i + 1];
    return nullptr;
}

TensorRef* Document::makeTensor()
{
    m_tensors.emplace_back();
    return &m_tensors.back();
}

std::string_view Document::store(std::string_view s)
{
    if (s.empty())
        return {};
    if (s.size() > kTextChunk / 4) {
        // Large strings get their own chunk (inserted before the current one, which stays open).
        auto big = std::make_unique<char[]>(s.size());
        std::memcpy(big.get(), s.data(), s.size());
        std::string_view out(big.get(), s.size());
        m_text.insert(m_text.empty() ? m_text.end() : m_text.end() - 1, std::move(big));
        return out;
    }
    if (kTextChunk - m_textUsed < s.size()) {
        m_text.push_back(std::make_unique<char[]>(kTextChunk));
        m_textUsed = 0;
    }
    char* p = m_text.back().get() + m_textUsed;
    std::memcpy(p, s.data(), s.size());
    m_textUsed += s.size();
    return std::string_view(p, s.size());
}

Value** Document::allocItems(std::size_t n)
{
    if (n > kItemChunk / 4) {
        m_bigItems.push_back(std::make_unique<Value*[]>(n));
        return m_bigItems.back().get();
    }
    if (kItemChunk - m_itemsUsed < n) {
        m_items.push_back(std::make_unique<Value*[]>(kItemChunk));
        m_itemsUsed = 0;
    }
    Value** p = m_items.back().get() + m_itemsUsed;
    m_itemsUsed += n;
    return p;
}

bool Document::append(Value* v, Value* const* p, std::size_t n)
{
    Items& it = v->items;
    if (n == 0)
        return true;
    const std::size_t need = std::size_t(it.m_size) + n;
    if (need > 0xffffffffu)
        return false;
    if (need > it.m_capacity) {
        // The last block of the open chunk grows in place; anything else moves (the old
        // block stays in the arena until the Document is freed).
        Value** chunkEnd = m_items.empty() ? nullptr : m_items.back().get() + m_itemsUsed;
        if (it.m_data && it.m_data + it.m_capacity == chunkEnd && m_itemsUsed + (need - it.m_capacity) <= kItemChunk) {
            m_itemsUsed += need - it.m_capacity;
            it.m_capacity = std::uint32_t(need);
        } else {
            const std::size_t cap = it.m_size == 0 ? need : std::min<std::size_t>(std::max(need, std::size_t(it.m_capacity) * 2), 0xffffffffu);
            Value** d = allocItems(cap);
            if (it.m_size)
                std::memcpy(d, it.m_data, it.m_size * sizeof(Value*));
            it.m_data = d;
            it.m_capacity = std::uint32_t(cap);
        }
    }
    std::memcpy(it.m_data + it.m_size, p, n * sizeof(Value*));
    it.m_size = std::uint32_t(need);
    return true;
}

Value* Document::make(Value::Type t)
{
    if (m_values.empty() || m_used == kBlock) {
        m_values.push_back(std::make_unique<Value[]>(kBlock));
        m_used = 0;
    }
    Value* v = &m_values.back()[m_used++];
    v->type = t;
    ++m_count;
    return v;
}

std::string describe(const Value* v)
{
    if (!v)
        return "nothing";
    using T = Value::Type;
    switch (v->type) {
    case T::None: return "None";
    case T::Bool: return "bool";
    case T::Int: return "int";
    case T::Float: return "float";
    case T::String: return "str";
    case T::Bytes: return "bytes";
    case T::Tuple: return "tuple of " + std::to_string(v->items.size());
    case T::List: return "list";
    case T::Set: return "set";
    case T::Dict: return "dict";
    case T::Global: return "global " + std::string(v->text);
    case T::Object: return std::string(v->text) + " object";
    case T::Storage: return "storage";
    case T::Tensor: return "tensor";
    }
    return "value";
}

namespace {

// Opcodes used by protocols 2-5 (see CPython's Lib/pickletools.py).
enum Op : std::uint8_t {
    MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K', BININT2 = 'M',
    NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U', BINUNICODE = 'X',
    APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', BINGET = 'h',
    LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's',
    TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G', BINBYTES = 'B', SHORT_BINBYTES = 'C',
    PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
    LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
    EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
    FRAME = 0x95, BYTEARRAY8 = 0x96,
};

constexpr std::size_t kMaxDims = 64;  // as the archive reader allows

struct Error {
    std::string what;
};

/// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF), as Python decodes it.
bool validUtf8(const std::uint8_t* p, std::uint64_t n)
{
    std::uint64_t i = 0;
    while (i < n) {
        const std::uint8_t c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        int len = 0;
        std::uint32_t cp = 0, min = 0;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < std::uint64_t(len))
            return false;
        for (int k = 1; k < len; ++k) {
            if ((p[i + std::uint64_t(k)] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + std::uint64_t(k)] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += std::uint64_t(len);
    }
    return true;
}

class Unpickler {
public:
    Unpickler(const std::uint8_t* d, std::size_t n, const Limits& l) : m_d(d), m_n(n), m_limits(l) {}

    Document run()
    {
        while (true) {
            m_opPos = m_pos;
            const std::uint8_t op = byte();
            if (step(op))
                break;
        }
        if (m_stack.size() != 1 || !m_marks.empty())
            fail("STOP with " + std::to_string(m_stack.size()) + " values on the stack (expected 1)");
        m_doc.root = m_stack.back();
        return std::move(m_doc);
    }

    [[noreturn]] void fail(const std::string& what) { throw Error{what + " (at byte " + std::to_string(m_opPos) + ")"}; }

private:
    using T = Value::Type;

    // ---- input ----
    std::uint8_t byte()
    {
        if (m_pos >= m_n)
            fail("the pickle ends without STOP (truncated)");
        return m_d[m_pos++];
    }
    const std::uint8_t* take(std::uint64_t len, const char* what)
    {
        if (len > m_n - m_pos)
            fail(std::string(what) + " of " + std::to_string(len) + " bytes runs past the end of the pickle");
        const auto* p = m_d + m_pos;
        m_pos += std::size_t(len);
        return p;
    }
    std::uint64_t uintLE(int bytes)
    {
        const auto* p = take(std::uint64_t(bytes), "an argument");
        std::uint64_t v = 0;
        for (int i = bytes; i-- > 0;)
            v = (v << 8) | p[i];
        return v;
    }
    std::string line()
    {
        const std::size_t start = m_pos;
        while (m_pos < m_n && m_d[m_pos] != '\n')
            ++m_pos;
        if (m_pos >= m_n)
            fail("GLOBAL name runs past the end of the pickle");
        std::string s(reinterpret_cast<const char*>(m_d + start), m_pos - start);
        ++m_pos;
        return s;
    }

    // ---- stack ----
    Value* make(T t)
    {
        if (m_doc.valueCount() >= m_limits.maxValues)
            fail("too many objects (limit " + std::to_string(m_limits.maxValues) + ")");
        return m_doc.make(t);
    }
    void push(Value* v)
    {
        if (m_stack.size() >= m_limits.maxStack)
            fail("the stack grows beyond " + std::to_string(m_limits.maxStack) + " entries");
        m_stack.push_back(v);
    }
    std::size_t floor() const { return m_marks.empty() ? 0 : m_marks.back(); }
    Value* pop(const char* op)
    {
        if (m_stack.size() <= floor())
            fail(std::string(op) + (m_stack.empty() ? " pops from an empty stack" : " pops past a MARK"));
        Value* v = m_stack.back();
        m_stack.pop_back();
        return v;
    }
    Value* top(const char* op)
    {
        if (m_stack.size() <= floor())
            fail(std::string(op) + (m_stack.empty() ? " needs a value but the stack is empty" : " needs a value but finds a MARK"));
        return m_stack.back();
    }
    // Pops everything above the last MARK, and the MARK.
    // The result is valid until the next popMark (a reused buffer: no allocation per tuple).
    const std::vector<Value*>& popMark(const char* op)
    {
        if (m_marks.empty())
            fail(std::string(op) + " without a MARK");
        const std::size_t m = m_marks.back();
        m_marks.pop_back();
        m_popped.assign(m_stack.begin() + std::ptrdiff_t(m), m_stack.end());
        m_stack.resize(m);
        return m_popped;
    }
    void addItems(Value* v, Value* const* p, std::size_t n)
    {
        // Items are pointers to values that already exist: without a total, repeated
        // APPENDS of one memoized value grow lists without bound (2 bytes of pickle each).
        if (n > m_limits.maxItems - m_itemCount)
            fail("containers hold more than " + std::to_string(m_limits.maxItems) + " items in total");
        m_itemCount += n;
        if (!m_doc.append(v, p, n))
            fail("a container holds more than 2^32 items");
    }
    void addItems(Value* v, const Items& items) { addItems(v, items.begin(), items.size()); }
    // Memo slots are numbered densely from 0 by picklers: a vector indexed by slot. It only
    // grows to twice the slots actually written (plus a little), so a LONG_BINPUT of 2**30
    // in a small pickle cannot make it huge; indices beyond go to a map.
    void memoPut(std::uint64_t idx, Value* v)
    {
        if (idx < m_n && idx <= 2 * std::uint64_t(m_memoCount) + 1024) {
            if (idx >= m_memoDense.size()) {
                if (m_memoCount >= m_limits.maxMemo)
                    fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")");
                m_memoDense.resize(std::max<std::size_t>(std::size_t(idx) + 1, m_memoDense.size() * 2), nullptr);
            }
            if (!m_memoDense[std::size_t(idx)]) {
                // Counted per slot written: the dense vector's slack must not let the
                // count pass the limit unchecked.
                if (m_memoCount >= m_limits.maxMemo)
                    fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")");
                ++m_memoCount;
            }
            m_memoDense[std::size_t(idx)] = v;
            return;
        }
        if (m_memoCount >= m_limits.maxMemo && !m_memo.count(idx))
            fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")");
        if (m_memo.emplace(idx, v).second)
            ++m_memoCount;
        else
            m_memo[idx] = v;
    }
    Value* memoGet(std::uint64_t idx)
    {
        if (idx < m_memoDense.size() && m_memoDense[std::size_t(idx)])
            return m_memoDense[std::size_t(idx)];
        auto it = m_memo.find(idx);
        if (it == m_memo.end())
            fail("memo slot " + std::to_string(idx) + " is read before it is written");
        return it->second;
    }

    Value* tuple(std::initializer_list<Value*> items) { return tuple(items.begin(), items.size()); }
    Value* tuple(const std::vector<Value*>& items) { return tuple(items.data(), items.size()); }
    Value* tuple(Value* const* p, std::size_t n)
    {
        Value* t = make(T::Tuple);
        addItems(t, p, n);
        return t;
    }
    Value* str(T t, const std::uint8_t* p, std::uint64_t n)
    {
        // Text becomes tensor names, JSON and file headers: like Python's unpickler (which
        // raises UnicodeDecodeError), refuse text that is not valid UTF-8.
        if (t == T::String && !validUtf8(p, n))
            fail("a text string is not valid UTF-8");
        Value* v = make(t);
        v->text = m_doc.store(std::string_view(reinterpret_cast<const char*>(p), std::size_t(n)));
        return v;
    }
    // Scalars are immutable, so small ints, None and the booleans are shared: a large
    // state_dict holds millions of them (sizes, strides, offsets, flags).
    Value* integer(std::int64_t i)
    {
        if (i >= 0 && i < std::int64_t(kSmallInts)) {
            Value*& c = m_smallInts[std::size_t(i)];
            if (!c) {
                c = make(T::Int);
                c->integer = i;
            }
            return c;
        }
        Value* v = make(T::Int);
        v->integer = i;
        return v;
    }
    Value* longInt(const std::uint8_t* p, std::uint64_t n)
    {
        Value* v = make(T::Int);
        if (n > 8) {
            v->bigInt = true;
            return v;
        }
        std::uint64_t u = 0;
        for (std::uint64_t i = n; i-- > 0;)
            u = (u << 8) | p[i];
        if (n > 0 && n < 8 && (p[n - 1] & 0x80))
            u |= ~std::uint64_t(0) << (8 * n);  // sign-extend two's complement
        v->integer = std::int64_t(u);
        return v;
    }
    void setItems(Value* d, std::initializer_list<Value*> kv, const char* op) { setItems(d, kv.begin(), kv.size(), op); }
    void setItems(Value* d, const std::vector<Value*>& kv, const char* op) { setItems(d, kv.data(), kv.size(), op); }
    void setItems(Value* d, Value* const* kv, std::size_t n, const char* op)
    {
        if (d->type != T::Dict)
            fail(std::string(op) + " on a " + describe(d) + ", not a dict");
        if (n % 2)
            fail(std::string(op) + " with an odd number of items (" + std::to_string(n) + ")");
        // A pickler never repeats a key; a crafted file that does gets both entries
        // (harmless: names are only labels), which keeps this linear.
        addItems(d, kv, n);
    }
    void appendItems(Value* l, std::initializer_list<Value*> items, const char* op) { appendItems(l, items.begin(), items.size(), op); }
    void appendItems(Value* l, const std::vector<Value*>& items, const char* op) { appendItems(l, items.data(), items.size(), op); }
    void appendItems(Value* l, Value* const* p, std::size_t n, const char* op)
    {
        if (l->type != T::List && l->type != T::Set)
            fail(std::string(op) + " on a " + describe(l) + ", not a list");
        addItems(l, p, n);
    }

    Value* global(std::string_view module, std::string_view name)
    {
        Value* g = make(T::Global);
        std::string full;
        full.reserve(module.size() + 1 + name.size());
        full.append(module).append(1, '.').append(name);
        g->text = m_doc.store(full);
        return g;
    }
    void warnOnce(const std::string& w)
    {
        if (m_warned.insert(w).second)
            m_doc.warnings.push_back(w);
    }
    Value* opaque(std::string_view name, Value* args)
    {
        warnOnce(std::string(name));
        Value* o = make(T::Object);
        o->text = m_doc.store(name);
        o->args = args;
        o->opaque = true;
        return o;
    }

    static const Value* item(const Value* args, std::size_t i)
    {
        return args && (args->type == T::Tuple || args->type == T::List) && i < args->items.size() ? args->items[i] : nullptr;
    }
    static bool toInt(const Value* v, std::int64_t& out)
    {
        if (!v || v->bigInt)
            return false;
        if (v->type == T::Int) {
            out = v->integer;
            return true;
        }
        if (v->type == T::Bool) {
            out = v->boolean;
            return true;
        }
        return false;
    }
    static bool toInts(const Value* v, std::vector<std::int64_t>& out)
    {
        if (!v || (v->type != T::Tuple && v->type != T::List))
            return false;
        out.clear();
        out.reserve(v->items.size());
        for (const auto* x : v->items) {
            std::int64_t i = 0;
            if (!toInt(x, i))
                return false;
            out.push_back(i);
        }
        return true;
    }

    // A tensor costs far more than its value (a TensorRef here, later an index entry), and
    // one memoized argument tuple rebuilds any number of them: they are counted on their own.
    TensorRef* newTensor()
    {
        if (m_doc.tensorCount() >= m_limits.maxTensors)
            fail("more than " + std::to_string(m_limits.maxTensors) + " tensors");
        return m_doc.makeTensor();
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)
    Value* rebuildTensor(const Value* args, bool quantized)
    {
        Value* t = make(T::Tensor);
        t->tensor = newTensor();
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
        else if (!toInts(item(args, 2), r.shape))
            r.error = "its size is not a tuple of integers";
        else if (!toInts(item(args, 3), r.strides))
            r.error = "its stride is not a tuple of integers";
        std::size_t next = 4;
        if (quantized) {
            const Value* q = item(args, 4);
            const Value* scheme = item(q, 0);
            const bool global = scheme && scheme->type == T::Global;
            if (global && scheme->text == "torch.per_channel_affine") {
                // (scheme, scales tensor, zero points tensor, axis)
                const Value* scales = item(q, 1);
                const Value* zeros = item(q, 2);
                if (!scales || scales->type != T::Tensor || !zeros || zeros->type != T::Tensor)
                    r.error = "its per-channel scales or zero points are not tensors";
                else if (!toInt(item(q, 3), r.qAxis))
                    r.error = "its per-channel quantization axis is not an integer";
                r.qScales = scales && scales->type == T::Tensor ? scales->tensor : nullptr;
                r.qZeroPoints = zeros && zeros->type == T::Tensor ? zeros->tensor : nullptr;
            } else if (!global || scheme->text != "torch.per_tensor_affine") {
                r.error = "it uses a quantization scheme ParamScope does not know (" + describe(scheme) + ")";
            } else {
                const Value* scale = item(q, 1);
                if (scale && scale->type == T::Float)
                    r.qScale = scale->real;
                else if (std::int64_t i = 0; toInt(scale, i))
                    r.qScale = double(i);
                if (!toInt(item(q, 2), r.qZeroPoint))
                    r.error = "its quantization zero point is not an integer";
            }
            r.quantized = true;
            next = 5;
        }
        if (const Value* rg = item(args, next); rg && rg->type == T::Bool)
            r.requiresGrad = rg->boolean;
        return t;
    }

    Value* call(Value* callable, Value* args)
    {
        if (!callable || callable->type != T::Global)
            return opaque("call of " + describe(callable), args);
        const std::string_view f = callable->text;
        if (!args || (args->type != T::Tuple && args->type != T::List))
            fail("the arguments of " + std::string(f) + " are a " + describe(args) + ", not a tuple");
        if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor")
            return rebuildTensor(args, false);
        if (f == "torch._utils._rebuild_qtensor")
            return rebuildTensor(args, true);
        if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
            const Value* data = item(args, 0);
            Value* t = make(T::Tensor);
            if (data && data->type == T::Tensor) {
                t->tensor = newTensor();
                *t->tensor = *data->tensor;
            } else {
                t->tensor = newTensor();
                t->tensor->error = "the data of a Parameter is a " + describe(data) + ", not a tensor";
            }
            t->tensor->isParameter = true;
            if (const Value* rg = item(args, 1); rg && rg->type == T::Bool)
                t->tensor->requiresGrad = rg->boolean;
            return t;
        }
        if (f == "torch._tensor._rebuild_from_type_v2" || f == "torch._tensor._rebuild_from_type") {
            // (func, new_type, args, state): a tensor subclass; the tensor comes from func(*args).
            Value* inner = const_cast<Value*>(item(args, 0));
            Value* innerArgs = const_cast<Value*>(item(args, 2));
            if (inner && inner->type == T::Global && innerArgs && innerArgs->type == T::Tuple && inner->text != f)
                return call(inner, innerArgs);
            return opaque(f, args);
        }
        if (f == "collections.OrderedDict") {
            Value* d = make(T::Dict);
            if (const Value* pairs = item(args, 0); pairs && pairs->type == T::List) {
                std::vector<Value*> kv;
                for (Value* p : pairs->items) {
                    if (!p || p->type != T::Tuple || p->items.size() != 2)
                        fail("OrderedDict built from something other than (key, value) pairs");
                    kv.push_back(p->items[0]);
                    kv.push_back(p->items[1]);
                }
                setItems(d, kv, "OrderedDict");
            }
            return d;
        }
        if (f == "builtins.set" || f == "builtins.frozenset" || f == "__builtin__.set" || f == "__builtin__.frozenset") {
            Value* s = make(T::Set);
            if (const Value* l = item(args, 0); l && (l->type == T::List || l->type == T::Tuple))
                addItems(s, l->items);
            return s;
        }
        if (f.rfind("torch.jit._pickle.build_", 0) == 0) {
            // TorchScript's typed lists (build_intlist, build_tensorlist, ...): the list itself.
            Value* l = make(T::List);
            if (const Value* a = item(args, 0); a && (a->type == T::List || a->type == T::Tuple))
                addItems(l, a->items);
            return l;
        }
        if (f == "torch.jit._pickle.restore_type_tag") {
            // (value, type string): only annotates a dict or list with its static type.
            if (Value* v = const_cast<Value*>(item(args, 0)))
                return v;
            return make(T::None);
        }
        if (f == "torch.device") {
            Value* s = make(T::String);
            std::string device;
            if (const Value* a = item(args, 0); a && a->type == T::String)
                device = a->text;
            if (std::int64_t i = 0; toInt(item(args, 1), i))
                device += ":" + std::to_string(i);
            s->text = m_doc.store(device);
            return s;
        }
        if (f == "torch.Size") {
            Value* t = make(T::Tuple);
            if (const Value* a = item(args, 0); a && (a->type == T::Tuple || a->type == T::List))
                addItems(t, a->items);
            return t;
        }
        if (f == "_codecs.encode") {
            // Protocol 2 pickles Python 3 bytes as _codecs.encode(latin-1 text, 'latin1').
            Value* b = make(T::Bytes);
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
                b->text = m_doc.store(bytes);
            }
            return b;
        }
        return opaque(f, args);
    }

    Value* newObject(Value* cls, Value* args)
    {
        if (cls && cls->type == T::Global && cls->text.substr(0, 10) == "__torch__.") {
            // A TorchScript module or class: a plain object filled by BUILD; no code runs.
            Value* o = make(T::Object);
            o->text = cls->text;
            o->args = args;
            return o;
        }
        if (cls && cls->type == T::Global && cls->text == "collections.OrderedDict")
            return make(T::Dict);
        return opaque(cls && cls->type == T::Global ? std::string(cls->text) : "instance of " + describe(cls), args);
    }

    Value* persistent(Value* pid)
    {
        // ('storage', storage_type, key, location, numel)
        if (!pid || pid->type != T::Tuple || pid->items.size() < 5 || pid->items[0]->type != T::String ||
            pid->items[0]->text != "storage")
            fail("persistent id is a " + describe(pid) + ", not ('storage', type, key, location, numel)");
        const Value* type = pid->items[1];
        const Value* key = pid->items[2];
        const Value* loc = pid->items[3];
        std::int64_t numel = 0;
        if (!key || (key->type != T::String && key->type != T::Int))
            fail("storage key is a " + describe(key) + ", not a string");
        if (!toInt(pid->items[4], numel) || numel < 0)
            fail("storage size is not a non-negative integer");
        std::string number;
        if (key->type != T::String)
            number = std::to_string(key->integer);
        const std::string_view k = key->type == T::String ? key->text : std::string_view(number);
        auto it = m_storageByKey.find(k);
        int index = 0;
        if (it == m_storageByKey.end()) {
            StorageRef s;
            s.key = key->type == T::String ? key->text : m_doc.store(number);
            s.numel = numel;
            if (loc && loc->type == T::String)
                s.location = loc->text;
            if (type && type->type == T::Global) {
                s.typeName = type->text;
                if (s.typeName.substr(0, 6) == "torch.")
                    s.dtype = dtypeFromStorageName(s.typeName.substr(6));
            } else {
                s.typeName = m_doc.store(describe(type));
            }
            index = int(m_doc.storages.size());
            m_doc.storages.push_back(std::move(s));
            m_storageByKey.emplace(m_doc.storages.back().key, index);  // a view into the Document
        } else {
            index = it->second;
        }
        Value* v = make(T::Storage);
        v->storage = index;
        return v;
    }

    // Executes one opcode; true at STOP.
    bool step(std::uint8_t op)
    {
        switch (op) {
        case PROTO: {
            const int proto = byte();
            if (proto < 2 || proto > 5)
                fail("pickle protocol " + std::to_string(proto) + " is not supported (2 to 5 are)");
            return false;
        }
        case FRAME: uintLE(8); return false;  // framing only groups opcodes
        case STOP: return true;
        case MARK:
            if (m_marks.size() >= m_limits.maxMarks)
                fail("MARKs nested deeper than " + std::to_string(m_limits.maxMarks));
            m_marks.push_back(m_stack.size());
            return false;
        case POP:
            if (!m_marks.empty() && m_stack.size() == m_marks.back())
                m_marks.pop_back();
            else
                pop("POP");
            return false;
        case POP_MARK: popMark("POP_MARK"); return false;
        case DUP: push(top("DUP")); return false;
        case BINPUT: memoPut(byte(), top("BINPUT")); return false;
        case LONG_BINPUT: memoPut(uintLE(4), top("LONG_BINPUT")); return false;
        case MEMOIZE: memoPut(m_memoCount, top("MEMOIZE")); return false;
        case BINGET: push(memoGet(byte())); return false;
        case LONG_BINGET: push(memoGet(uintLE(4))); return false;
        case NONE:
            if (!m_none)
                m_none = make(T::None);
            push(m_none);
            return false;
        case NEWTRUE:
        case NEWFALSE: {
            Value*& b = m_bools[op == NEWTRUE ? 1 : 0];
            if (!b) {
                b = make(T::Bool);
                b->boolean = op == NEWTRUE;
            }
            push(b);
            return false;
        }
        case BININT: push(integer(std::int32_t(std::uint32_t(uintLE(4))))); return false;
        case BININT1: push(integer(byte())); return false;
        case BININT2: push(integer(std::int64_t(uintLE(2)))); return false;
        case LONG1: {
            const std::uint64_t n = byte();
            push(longInt(take(n, "LONG1"), n));
            return false;
        }
        case LONG4: {
            const std::uint64_t n = uintLE(4);
            push(longInt(take(n, "LONG4"), n));
            return false;
        }
        case BINFLOAT: {
            const auto* p = take(8, "BINFLOAT");
            std::uint64_t u = 0;
            for (int i = 0; i < 8; ++i)
                u = (u << 8) | p[i];  // big-endian
            Value* f = make(T::Float);
            std::memcpy(&f->real, &u, 8);
            push(f);
            return false;
        }
        case SHORT_BINUNICODE: {
            const std::uint64_t n = byte();
            push(str(T::String, take(n, "SHORT_BINUNICODE"), n));
            return false;
        }
        case BINUNICODE: {
            const std::uint64_t n = uintLE(4);
            push(str(T::String, take(n, "BINUNICODE"), n));
            return false;
        }
        case BINUNICODE8: {
            const std::uint64_t n = uintLE(8);
            push(str(T::String, take(n, "BINUNICODE8"), n));
            return false;
        }
        case SHORT_BINSTRING: {
            const std::uint64_t n = byte();
            push(str(T::String, take(n, "SHORT_BINSTRING"), n));
            return false;
        }
        case BINSTRING: {
            const std::uint64_t n = uintLE(4);
            if (n & 0x80000000u)
                fail("BINSTRING with a negative length");
            push(str(T::String, take(n, "BINSTRING"), n));
            return false;
        }
        case SHORT_BINBYTES: {
            const std::uint64_t n = byte();
            push(str(T::Bytes, take(n, "SHORT_BINBYTES"), n));
            return false;
        }
        case BINBYTES: {
            const std::uint64_t n = uintLE(4);
            push(str(T::Bytes, take(n, "BINBYTES"), n));
            return false;
        }
        case BINBYTES8:
        case BYTEARRAY8: {
            const std::uint64_t n = uintLE(8);
            push(str(T::Bytes, take(n, "BINBYTES8"), n));
            return false;
        }
        case EMPTY_TUPLE:
            // No opcode mutates a tuple, so one empty tuple serves them all.
            if (!m_emptyTuple)
                m_emptyTuple = tuple({});
            push(m_emptyTuple);
            return false;
        case TUPLE: push(tuple(popMark("TUPLE"))); return false;
        case TUPLE1: {
            Value* a = pop("TUPLE1");
            push(tuple({a}));
            return false;
        }
        case TUPLE2: {
            Value* b = pop("TUPLE2");
            Value* a = pop("TUPLE2");
            push(tuple({a, b}));
            return false;
        }
        case TUPLE3: {
            Value* c = pop("TUPLE3");
            Value* b = pop("TUPLE3");
            Value* a = pop("TUPLE3");
            push(tuple({a, b, c}));
            return false;
        }
        case EMPTY_LIST: push(make(T::List)); return false;
        case LIST: {
            Value* l = make(T::List);
            const auto& items = popMark("LIST");
            addItems(l, items.data(), items.size());
            push(l);
            return false;
        }
        case APPEND: {
            Value* v = pop("APPEND");
            appendItems(top("APPEND"), {v}, "APPEND");
            return false;
        }
        case APPENDS: {
            const auto& items = popMark("APPENDS");
            appendItems(top("APPENDS"), items, "APPENDS");
            return false;
        }
        case EMPTY_SET: push(make(T::Set)); return false;
        case ADDITEMS: {
            const auto& items = popMark("ADDITEMS");
            appendItems(top("ADDITEMS"), items, "ADDITEMS");
            return false;
        }
        case FROZENSET: {
            Value* s = make(T::Set);
            const auto& items = popMark("FROZENSET");
            addItems(s, items.data(), items.size());
            push(s);
            return false;
        }
        case EMPTY_DICT: push(make(T::Dict)); return false;
        case DICT: {
            const auto& kv = popMark("DICT");
            Value* d = make(T::Dict);
            setItems(d, kv, "DICT");
            push(d);
            return false;
        }
        case SETITEM: {
            Value* v = pop("SETITEM");
            Value* k = pop("SETITEM");
            setItems(top("SETITEM"), {k, v}, "SETITEM");
            return false;
        }
        case SETITEMS: {
            const auto& kv = popMark("SETITEMS");
            setItems(top("SETITEMS"), kv, "SETITEMS");
            return false;
        }
        case GLOBAL: {
            std::string module = line();
            std::string name = line();
            push(global(std::move(module), std::move(name)));
            return false;
        }
        case STACK_GLOBAL: {
            Value* name = pop("STACK_GLOBAL");
            Value* module = pop("STACK_GLOBAL");
            if (module->type != T::String || name->type != T::String)
                fail("STACK_GLOBAL needs two strings");
            push(global(module->text, name->text));
            return false;
        }
        case REDUCE: {
            Value* args = pop("REDUCE");
            Value* callable = pop("REDUCE");
            push(call(callable, args));
            return false;
        }
        case NEWOBJ: {
            Value* args = pop("NEWOBJ");
            Value* cls = pop("NEWOBJ");
            push(newObject(cls, args));
            return false;
        }
        case NEWOBJ_EX: {
            pop("NEWOBJ_EX");  // kwargs
            Value* args = pop("NEWOBJ_EX");
            Value* cls = pop("NEWOBJ_EX");
            push(newObject(cls, args));
            return false;
        }
        case BUILD: {
            Value* state = pop("BUILD");
            Value* obj = top("BUILD");
            if (obj->type == T::Object)
                obj->state = state;
            // Tensors (parameter state), dicts and others: the state adds no tensor data.
            return false;
        }
        case BINPERSID: {
            Value* pid = pop("BINPERSID");
            push(persistent(pid));
            return false;
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(std::string("unknown or unsupported opcode ") + hex);
        }
        }
    }

    const std::uint8_t* m_d;
    std::size_t m_n;
    std::size_t m_pos = 0;
    std::size_t m_opPos = 0;
    Limits m_limits;
    std::size_t m_itemCount = 0;  // container items appended so far (never above maxItems)
    Document m_doc;
    std::vector<Value*> m_stack;
    std::vector<Value*> m_popped;  // popMark's result
    std::vector<std::size_t> m_marks;
    static constexpr std::size_t kSmallInts = 1024;
    Value* m_smallInts[kSmallInts] = {};
    Value* m_none = nullptr;
    Value* m_emptyTuple = nullptr;
    Value* m_bools[2] = {nullptr, nullptr};
    std::vector<Value*> m_memoDense;
    std::unordered_map<std::uint64_t, Value*> m_memo;
    std::size_t m_memoCount = 0;
    std::unordered_map<std::string_view, int> m_storageByKey;
    std::set<std::string> m_warned;
};

}  // namespace

Result<Document> unpickle(const std::uint8_t* data, std::size_t size, const Limits& limits)
{
    try {
        Unpickler u(data, size, limits);
        return Result<Document>(u.run());
    } catch (const Error& e) {
        return Result<Document>::failure(QString::fromStdString(e.what));
    } catch (const std::bad_alloc&) {
        return Result<Document>::failure(QStringLiteral("out of memory while reading the pickle"));
    } catch (const std::exception& e) {
        return Result<Document>::failure(QStringLiteral("cannot read the pickle: %1").arg(QString::fromUtf8(e.what())));
    }
}

}  // namespace paramscope::pickle
