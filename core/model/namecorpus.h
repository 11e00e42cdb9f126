#pragma once

// Every tensor name of a model once, in one contiguous buffer, for searches that scan all
// names per keystroke: a substring search over the whole buffer (hits mapped back to names)
// beats a search per name. Built once per model (off the GUI thread), immutable afterwards.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;

class NameCorpus {
public:
    NameCorpus() = default;
    /// The full names of `index.entries`, in the index's order (name i is entry i).
    explicit NameCorpus(const ModelIndex& index);

    int size() const { return int(m_flags.size()); }
    std::string_view name(int i) const { return slice(m_bytes, i); }
    /// Name i with ASCII letters lower-cased (the same bytes as name(i) when none is upper-case).
    std::string_view folded(int i) const { return slice(foldedBytes(), i); }
    /// Every name, back to back, and the same with ASCII letters lower-cased.
    std::string_view bytes() const { return m_bytes; }
    std::string_view foldedBytes() const { return m_folded.empty() ? std::string_view(m_bytes) : m_folded; }
    size_t begin(int i) const { return m_offsets[size_t(i)]; }
    size_t end(int i) const { return m_offsets[size_t(i) + 1]; }
    /// The name that holds byte `pos` of bytes() (the first of several at an empty name's offset
    /// is never returned: an empty name holds no byte).
    int nameAt(size_t pos) const;

    bool isAscii(int i) const { return m_flags[size_t(i)] & kAscii; }
    /// Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF).
    bool isUtf8(int i) const { return m_flags[size_t(i)] & kUtf8; }
    /// The names with a byte >= 0x80, in order.
    const std::vector<int>& nonAscii() const { return m_nonAscii; }

    /// What the corpus holds, in bytes (buffers, offsets and flags).
    size_t memoryBytes() const;

private:
    static constexpr std::uint8_t kAscii = 1, kUtf8 = 2;
    std::string_view slice(std::string_view all, int i) const
    {
        return all.substr(m_offsets[size_t(i)], m_offsets[size_t(i) + 1] - m_offsets[size_t(i)]);
    }

    std::string m_bytes;
    std::string m_folded;  // empty when no name has an upper-case ASCII letter
    std::vector<size_t> m_offsets{0};
    std::vector<std::uint8_t> m_flags;
    std::vector<int> m_nonAscii;
};

/// Whether `s` is well-formed UTF-8 (RFC 3629).
bool isWellFormedUtf8(std::string_view s);

/// The first occurrence of `needle` (not empty) in `hay` at or after `from`, or npos.
size_t findBytes(std::string_view hay, std::string_view needle, size_t from);

/// Calls f(name) once for each name that contains `needle` (in bytes() or, with `folded`, in
/// foldedBytes()), in order; an empty needle is in every name.
template <typename F>
void forEachNameContaining(const NameCorpus& corpus, std::string_view needle, bool folded, F&& f);

template <typename F>
void forEachNameContaining(const NameCorpus& corpus, std::string_view needle, bool folded, F&& f)
{
    const int n = corpus.size();
    if (needle.empty()) {
        for (int i = 0; i < n; ++i)
            f(i);
        return;
    }
    const std::string_view hay = folded ? corpus.foldedBytes() : corpus.bytes();
    size_t from = 0;
    while (from < hay.size()) {
        const size_t p = findBytes(hay, needle, from);
        if (p == std::string_view::npos)
            return;
        const int i = corpus.nameAt(p);
        if (p + needle.size() <= corpus.end(i))
            f(i);
        // A hit that runs into the next name means no later start in name i fits either.
        from = corpus.end(i);
    }
}

}  // namespace paramscope
