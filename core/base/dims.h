#pragma once

// A tensor's sizes or strides: the members of std::vector<std::int64_t> the code uses, in 24
// bytes with room for two dimensions inline. Most tensors have one or two, and an index keeps
// shape and strides for every tensor: 1M tensors in std::vectors cost 64 MB of 8- and
// 16-byte heap blocks on top of the vectors themselves. Converts to and from std::vector.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <vector>

namespace paramscope {

class Dims {
public:
    using value_type = std::int64_t;
    using size_type = std::size_t;
    using iterator = std::int64_t*;
    using const_iterator = const std::int64_t*;
    using reference = std::int64_t&;
    using const_reference = const std::int64_t&;

    Dims() noexcept : m_inline{0, 0} {}
    Dims(std::initializer_list<std::int64_t> values) : Dims() { assign(values.begin(), values.end()); }
    Dims(const std::vector<std::int64_t>& values) : Dims() { assign(values.data(), values.data() + values.size()); }
    explicit Dims(std::size_t n, std::int64_t value = 0) : Dims() { assign(n, value); }
    Dims(const Dims& other) : Dims() { assign(other.begin(), other.end()); }
    Dims(Dims&& other) noexcept : Dims() { steal(other); }
    ~Dims() { release(); }

    Dims& operator=(const Dims& other)
    {
        if (this != &other)
            assign(other.begin(), other.end());
        return *this;
    }
    Dims& operator=(Dims&& other) noexcept
    {
        if (this != &other) {
            release();
            steal(other);
        }
        return *this;
    }
    Dims& operator=(const std::vector<std::int64_t>& values)
    {
        assign(values.data(), values.data() + values.size());
        return *this;
    }
    Dims& operator=(std::initializer_list<std::int64_t> values)
    {
        assign(values.begin(), values.end());
        return *this;
    }
    operator std::vector<std::int64_t>() const { return std::vector<std::int64_t>(begin(), end()); }
    std::vector<std::int64_t> toVector() const { return *this; }

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    std::int64_t* data() { return onHeap() ? m_heap : m_inline; }
    const std::int64_t* data() const { return onHeap() ? m_heap : m_inline; }
    iterator begin() { return data(); }
    iterator end() { return data() + m_size; }
    const_iterator begin() const { return data(); }
    const_iterator end() const { return data() + m_size; }
    std::int64_t& operator[](std::size_t i) { return data()[i]; }
    const std::int64_t& operator[](std::size_t i) const { return data()[i]; }
    std::int64_t& front() { return data()[0]; }
    const std::int64_t& front() const { return data()[0]; }
    std::int64_t& back() { return data()[m_size - 1]; }
    const std::int64_t& back() const { return data()[m_size - 1]; }

    void clear() { m_size = 0; }
    void reserve(std::size_t n)
    {
        if (n > m_capacity)
            grow(n);
    }
    void push_back(std::int64_t v)
    {
        if (m_size == m_capacity)
            grow(std::size_t(m_capacity) * 2);
        data()[m_size++] = v;
    }
    void pop_back() { --m_size; }
    void resize(std::size_t n, std::int64_t value = 0)
    {
        reserve(n);
        for (std::size_t i = m_size; i < n; ++i)
            data()[i] = value;
        m_size = std::uint32_t(n);
    }
    void assign(std::size_t n, std::int64_t value)
    {
        clear();
        resize(n, value);
    }
    void assign(const std::int64_t* first, const std::int64_t* last)
    {
        const std::size_t n = std::size_t(last - first);
        if (n > m_capacity) {
            release();
            grow(n);
        }
        if (n > 0)
            std::memmove(data(), first, n * sizeof(std::int64_t));
        m_size = std::uint32_t(n);
    }
    iterator erase(const_iterator pos)
    {
        const std::size_t i = std::size_t(pos - begin());
        std::int64_t* d = data();
        std::memmove(d + i, d + i + 1, (m_size - i - 1) * sizeof(std::int64_t));
        --m_size;
        return d + i;
    }
    iterator insert(const_iterator pos, std::int64_t v)
    {
        const std::size_t i = std::size_t(pos - begin());
        push_back(v);
        std::int64_t* d = data();
        std::rotate(d + i, d + m_size - 1, d + m_size);
        return d + i;
    }

    friend bool operator==(const Dims& a, const Dims& b)
    {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    }
    friend bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }
    friend bool operator==(const Dims& a, const std::vector<std::int64_t>& b)
    {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
    }
    friend bool operator==(const std::vector<std::int64_t>& a, const Dims& b) { return b == a; }
    friend bool operator!=(const Dims& a, const std::vector<std::int64_t>& b) { return !(a == b); }
    friend bool operator!=(const std::vector<std::int64_t>& a, const Dims& b) { return !(b == a); }

private:
    static constexpr std::uint32_t kInline = 2;
    bool onHeap() const { return m_capacity > kInline; }
    void release()
    {
        if (onHeap())
            delete[] m_heap;
        m_capacity = kInline;
        m_size = 0;
        m_inline[0] = m_inline[1] = 0;
    }
    void steal(Dims& other) noexcept
    {
        m_size = other.m_size;
        m_capacity = other.m_capacity;
        if (other.onHeap()) {
            m_heap = other.m_heap;
        } else {
            m_inline[0] = other.m_inline[0];
            m_inline[1] = other.m_inline[1];
        }
        other.m_capacity = kInline;
        other.m_size = 0;
        other.m_inline[0] = other.m_inline[1] = 0;
    }
    void grow(std::size_t n)
    {
        // Ranks are small (a reader refuses more than a few dozen dimensions), far from 2^32.
        n = std::max<std::size_t>(n, 4);
        if (n > 0xffffffffu)
            throw std::bad_alloc();
        auto* fresh = new std::int64_t[n];
        if (m_size > 0)
            std::memcpy(fresh, data(), m_size * sizeof(std::int64_t));
        if (onHeap())
            delete[] m_heap;
        m_heap = fresh;
        m_capacity = std::uint32_t(n);
    }

    union {
        std::int64_t m_inline[kInline];
        std::int64_t* m_heap;
    };
    std::uint32_t m_size = 0;
    std::uint32_t m_capacity = kInline;
};

static_assert(sizeof(Dims) == 24, "Dims is as small as a std::vector");

}  // namespace paramscope
