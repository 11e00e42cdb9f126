// The value tree of an unpickled document (pickle.h): the Document's arenas for values,
// text and container items, dict lookup, and the short descriptions used in messages.

#include "formats/pickle/pickle.h"

#include <cstring>

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
            const std::size_t cap =
                it.m_size == 0 ? need
                               : std::min<std::size_t>(std::max(need, std::size_t(it.m_capacity) * 2), 0xffffffffu);
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
        case T::None:
            return "None";
        case T::Bool:
            return "bool";
        case T::Int:
            return "int";
        case T::Float:
            return "float";
        case T::String:
            return "str";
        case T::Bytes:
            return "bytes";
        case T::Tuple:
            return "tuple of " + std::to_string(v->items.size());
        case T::List:
            return "list";
        case T::Set:
            return "set";
        case T::Dict:
            return "dict";
        case T::Global:
            return "global " + std::string(v->text);
        case T::Object:
            return std::string(v->text) + " object";
        case T::Storage:
            return "storage";
        case T::Tensor:
            return "tensor";
    }
    return "value";
}

}  // namespace paramscope::pickle
