// The generic pickle interpreter: protocol 2-5 opcodes, the stack and its MARKs, the memo,
// and the resource limits (pickle.h's Limits). What GLOBAL, REDUCE, NEWOBJ, BUILD and
// persistent ids mean is the Resolver's business (resolver.h); the interpreter only moves
// values. Errors name the problem and the opcode's byte offset.

#include "formats/pickle/resolver.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace paramscope::pickle {

namespace {

// Opcodes used by protocols 2-5 (see CPython's Lib/pickletools.py).
enum Op : std::uint8_t {
    MARK = '(',
    STOP = '.',
    POP = '0',
    POP_MARK = '1',
    DUP = '2',
    BININT = 'J',
    BININT1 = 'K',
    BININT2 = 'M',
    NONE = 'N',
    BINPERSID = 'Q',
    REDUCE = 'R',
    BINSTRING = 'T',
    SHORT_BINSTRING = 'U',
    BINUNICODE = 'X',
    APPEND = 'a',
    BUILD = 'b',
    GLOBAL = 'c',
    DICT = 'd',
    EMPTY_DICT = '}',
    APPENDS = 'e',
    BINGET = 'h',
    LONG_BINGET = 'j',
    LIST = 'l',
    EMPTY_LIST = ']',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    BINFLOAT = 'G',
    BINBYTES = 'B',
    SHORT_BINBYTES = 'C',
    PROTO = 0x80,
    NEWOBJ = 0x81,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    LONG4 = 0x8b,
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    EMPTY_SET = 0x8f,
    ADDITEMS = 0x90,
    FROZENSET = 0x91,
    NEWOBJ_EX = 0x92,
    STACK_GLOBAL = 0x93,
    MEMOIZE = 0x94,
    FRAME = 0x95,
    BYTEARRAY8 = 0x96,
};

struct Error {
    std::string what;
    ErrorKind kind;
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

class Unpickler final : public Machine {
public:
    Unpickler(const std::uint8_t* d, std::size_t n, const Limits& l, Resolver& r)
        : Machine(l), m_resolver(r), m_d(d), m_n(n)
    {
    }

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
    /// Bytes read so far (after run(): up to and including STOP).
    std::size_t position() const { return m_pos; }

private:
    using T = Value::Type;
    using Machine::addItems;
    using Machine::setItems;

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
    void push(Value* v)
    {
        if (m_stack.size() >= m_limits.maxStack)
            fail("the stack grows beyond " + std::to_string(m_limits.maxStack) + " entries", ErrorKind::Limit);
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
            fail(std::string(op) +
                 (m_stack.empty() ? " needs a value but the stack is empty" : " needs a value but finds a MARK"));
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
    // Memo slots are numbered densely from 0 by picklers: a vector indexed by slot. It only
    // grows to twice the slots actually written (plus a little), so a LONG_BINPUT of 2**30
    // in a small pickle cannot make it huge; indices beyond go to a map.
    void memoPut(std::uint64_t idx, Value* v)
    {
        if (idx < m_n && idx <= 2 * std::uint64_t(m_memoCount) + 1024) {
            if (idx >= m_memoDense.size()) {
                if (m_memoCount >= m_limits.maxMemo)
                    fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")", ErrorKind::Limit);
                m_memoDense.resize(std::max<std::size_t>(std::size_t(idx) + 1, m_memoDense.size() * 2), nullptr);
            }
            if (!m_memoDense[std::size_t(idx)]) {
                // Counted per slot written: the dense vector's slack must not let the
                // count pass the limit unchecked.
                if (m_memoCount >= m_limits.maxMemo)
                    fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")", ErrorKind::Limit);
                ++m_memoCount;
            }
            m_memoDense[std::size_t(idx)] = v;
            return;
        }
        if (m_memoCount >= m_limits.maxMemo && !m_memo.count(idx))
            fail("too many memo entries (limit " + std::to_string(m_limits.maxMemo) + ")", ErrorKind::Limit);
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
    void setItems(Value* d, std::initializer_list<Value*> kv, const char* op)
    {
        setItems(d, kv.begin(), kv.size(), op);
    }
    void setItems(Value* d, const std::vector<Value*>& kv, const char* op) { setItems(d, kv.data(), kv.size(), op); }
    void appendItems(Value* l, std::initializer_list<Value*> items, const char* op)
    {
        appendItems(l, items.begin(), items.size(), op);
    }
    void appendItems(Value* l, const std::vector<Value*>& items, const char* op)
    {
        appendItems(l, items.data(), items.size(), op);
    }
    void appendItems(Value* l, Value* const* p, std::size_t n, const char* op)
    {
        if (l->type != T::List && l->type != T::Set)
            fail(std::string(op) + " on a " + describe(l) + ", not a list");
        addItems(l, p, n);
    }

    // Executes one opcode; true at STOP.
    bool step(std::uint8_t op)
    {
        switch (op) {
            case PROTO: {
                const int proto = byte();
                if (proto < 2 || proto > 5)
                    fail("pickle protocol " + std::to_string(proto) + " is not supported (2 to 5 are)",
                         ErrorKind::Unsupported);
                return false;
            }
            case FRAME:
                uintLE(8);
                return false;  // framing only groups opcodes
            case STOP:
                return true;
            case MARK:
                if (m_marks.size() >= m_limits.maxMarks)
                    fail("MARKs nested deeper than " + std::to_string(m_limits.maxMarks), ErrorKind::Limit);
                m_marks.push_back(m_stack.size());
                return false;
            case POP:
                if (!m_marks.empty() && m_stack.size() == m_marks.back())
                    m_marks.pop_back();
                else
                    pop("POP");
                return false;
            case POP_MARK:
                popMark("POP_MARK");
                return false;
            case DUP:
                push(top("DUP"));
                return false;
            case BINPUT:
                memoPut(byte(), top("BINPUT"));
                return false;
            case LONG_BINPUT:
                memoPut(uintLE(4), top("LONG_BINPUT"));
                return false;
            case MEMOIZE:
                memoPut(m_memoCount, top("MEMOIZE"));
                return false;
            case BINGET:
                push(memoGet(byte()));
                return false;
            case LONG_BINGET:
                push(memoGet(uintLE(4)));
                return false;
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
            case BININT:
                push(integer(std::int32_t(std::uint32_t(uintLE(4)))));
                return false;
            case BININT1:
                push(integer(byte()));
                return false;
            case BININT2:
                push(integer(std::int64_t(uintLE(2))));
                return false;
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
            case TUPLE:
                push(tuple(popMark("TUPLE")));
                return false;
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
            case EMPTY_LIST:
                push(make(T::List));
                return false;
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
            case EMPTY_SET:
                push(make(T::Set));
                return false;
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
            case EMPTY_DICT:
                push(make(T::Dict));
                return false;
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
                push(m_resolver.global(*this, module, name));
                return false;
            }
            case STACK_GLOBAL: {
                Value* name = pop("STACK_GLOBAL");
                Value* module = pop("STACK_GLOBAL");
                if (module->type != T::String || name->type != T::String)
                    fail("STACK_GLOBAL needs two strings");
                push(m_resolver.global(*this, module->text, name->text));
                return false;
            }
            case REDUCE: {
                Value* args = pop("REDUCE");
                Value* callable = pop("REDUCE");
                push(m_resolver.reduce(*this, callable, args));
                return false;
            }
            case NEWOBJ: {
                Value* args = pop("NEWOBJ");
                Value* cls = pop("NEWOBJ");
                push(m_resolver.newObject(*this, cls, args));
                return false;
            }
            case NEWOBJ_EX: {
                pop("NEWOBJ_EX");  // kwargs
                Value* args = pop("NEWOBJ_EX");
                Value* cls = pop("NEWOBJ_EX");
                push(m_resolver.newObject(*this, cls, args));
                return false;
            }
            case BUILD: {
                Value* state = pop("BUILD");
                m_resolver.build(*this, top("BUILD"), state);
                return false;
            }
            case BINPERSID: {
                Value* pid = pop("BINPERSID");
                push(m_resolver.persistentLoad(*this, pid));
                return false;
            }
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                fail(std::string("unknown or unsupported opcode ") + hex, ErrorKind::Unsupported);
            }
        }
    }

    Resolver& m_resolver;
    const std::uint8_t* m_d;
    std::size_t m_n;
    std::size_t m_pos = 0;
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
};

}  // namespace

void Machine::fail(const std::string& what, ErrorKind kind)
{
    throw Error{what + " (at byte " + std::to_string(m_opPos) + ")", kind};
}

void Machine::setItems(Value* d, Value* const* kv, std::size_t n, const char* op)
{
    if (d->type != Value::Type::Dict)
        fail(std::string(op) + " on a " + describe(d) + ", not a dict");
    if (n % 2)
        fail(std::string(op) + " with an odd number of items (" + std::to_string(n) + ")");
    // A pickler never repeats a key; a crafted file that does gets both entries
    // (harmless: names are only labels), which keeps this linear.
    addItems(d, kv, n);
}

Value* Machine::opaque(std::string_view name, Value* args)
{
    if (m_warned.insert(std::string(name)).second)
        m_doc.warnings.emplace_back(name);
    Value* o = make(Value::Type::Object);
    o->text = m_doc.store(name);
    o->args = args;
    o->opaque = true;
    return o;
}

bool Machine::toInt(const Value* v, std::int64_t& out)
{
    if (!v || v->bigInt)
        return false;
    if (v->type == Value::Type::Int) {
        out = v->integer;
        return true;
    }
    if (v->type == Value::Type::Bool) {
        out = v->boolean;
        return true;
    }
    return false;
}
namespace {

/// Machine::toInts into any container of int64 with clear/reserve/push_back.
template <typename Ints>
bool toIntsInto(const Value* v, Ints& out)
{
    if (!v || (v->type != Value::Type::Tuple && v->type != Value::Type::List))
        return false;
    out.clear();
    out.reserve(v->items.size());
    for (const auto* x : v->items) {
        std::int64_t i = 0;
        if (!Machine::toInt(x, i))
            return false;
        out.push_back(i);
    }
    return true;
}

}  // namespace

bool Machine::toInts(const Value* v, Dims& out)
{
    return toIntsInto(v, out);
}

bool Machine::toInts(const Value* v, std::vector<std::int64_t>& out)
{
    return toIntsInto(v, out);
}

Value* Resolver::global(Machine& m, std::string_view module, std::string_view name)
{
    Value* g = m.make(Value::Type::Global);
    std::string full;
    full.reserve(module.size() + 1 + name.size());
    full.append(module).append(1, '.').append(name);
    g->text = m.store(full);
    return g;
}

void Resolver::build(Machine&, Value* obj, Value* state)
{
    if (obj->type == Value::Type::Object)
        obj->state = state;
    // Tensors (parameter state), dicts and others: the state adds no tensor data.
}

Result<Document> unpickle(const std::uint8_t* data, std::size_t size, Resolver& resolver, const Limits& limits,
                          std::size_t* consumed)
{
    try {
        Unpickler u(data, size, limits, resolver);
        Document doc = u.run();
        if (consumed)
            *consumed = u.position();
        return Result<Document>(std::move(doc));
    } catch (const Error& e) {
        return Result<Document>::failure(e.kind, QString::fromStdString(e.what));
    } catch (const std::bad_alloc&) {
        return Result<Document>::failure(ErrorKind::Limit, QStringLiteral("out of memory while reading the pickle"));
    } catch (const std::exception& e) {
        return Result<Document>::failure(ErrorKind::Failed,
                                         QStringLiteral("cannot read the pickle: %1").arg(QString::fromUtf8(e.what())));
    }
}

}  // namespace paramscope::pickle
