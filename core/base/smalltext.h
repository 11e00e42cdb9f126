#pragma once

// An immutable string in 16 bytes: up to 15 bytes inline, longer ones in one heap block.
// For per-storage keys ("data/123456", "scalar/7") that an index keeps a million of: a
// std::string costs 32 bytes for the same inline text. Reads as a std::string_view.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace paramscope {

class SmallText {
public:
    static constexpr std::size_t kInline = 15;

    SmallText() noexcept { clearInline(); }
    SmallText(std::string_view s) { init(s.data(), s.size()); }
    SmallText(const std::string& s) : SmallText(std::string_view(s)) {}
    SmallText(const char* s) : SmallText(std::string_view(s ? s : "")) {}
    SmallText(const SmallText& o) : SmallText(o.view()) {}
    SmallText(SmallText&& o) noexcept
    {
        std::memcpy(m_bytes, o.m_bytes, sizeof m_bytes);
        o.clearInline();
    }
    ~SmallText() { release(); }
    SmallText& operator=(const SmallText& o)
    {
        if (this != &o) {
            SmallText copy(o);
            *this = std::move(copy);
        }
        return *this;
    }
    SmallText& operator=(SmallText&& o) noexcept
    {
        if (this != &o) {
            release();
            std::memcpy(m_bytes, o.m_bytes, sizeof m_bytes);
            o.clearInline();
        }
        return *this;
    }

    std::string_view view() const
    {
        if (onHeap()) {
            const char* p = heapPointer();
            std::uint32_t n = 0;
            std::memcpy(&n, m_bytes + 8, sizeof n);
            return std::string_view(p, n);
        }
        return std::string_view(reinterpret_cast<const char*>(m_bytes), m_bytes[kInline]);
    }
    operator std::string_view() const { return view(); }
    std::string str() const { return std::string(view()); }
    std::size_t size() const { return view().size(); }
    bool empty() const { return size() == 0; }
    const char* data() const { return view().data(); }

    friend bool operator==(const SmallText& a, std::string_view b) { return a.view() == b; }
    friend bool operator==(std::string_view a, const SmallText& b) { return a == b.view(); }
    friend bool operator==(const SmallText& a, const SmallText& b) { return a.view() == b.view(); }
    friend bool operator!=(const SmallText& a, std::string_view b) { return a.view() != b; }

private:
    // Inline: the bytes, then the length in the last byte (0..15). On the heap: the
    // pointer, a 32-bit length, and 0xFF in the last byte.
    static constexpr std::uint8_t kHeapTag = 0xFF;
    bool onHeap() const { return m_bytes[kInline] == kHeapTag; }
    const char* heapPointer() const
    {
        const char* p = nullptr;
        std::memcpy(&p, m_bytes, sizeof p);
        return p;
    }
    void clearInline() noexcept { std::memset(m_bytes, 0, sizeof m_bytes); }
    void init(const char* s, std::size_t n)
    {
        clearInline();
        if (n <= kInline) {
            if (n)
                std::memcpy(m_bytes, s, n);
            m_bytes[kInline] = std::uint8_t(n);
            return;
        }
        if (n > UINT32_MAX)
            n = UINT32_MAX;  // a key is a name from a file: never near this, cut rather than wrap
        char* p = new char[n];
        std::memcpy(p, s, n);
        const auto len = std::uint32_t(n);
        std::memcpy(m_bytes, &p, sizeof p);
        std::memcpy(m_bytes + 8, &len, sizeof len);
        m_bytes[kInline] = kHeapTag;
    }
    void release() noexcept
    {
        if (onHeap())
            delete[] heapPointer();
        clearInline();
    }
    alignas(8) std::uint8_t m_bytes[16];
};
static_assert(sizeof(SmallText) == 16, "SmallText is 16 bytes");

}  // namespace paramscope
