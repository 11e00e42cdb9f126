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

    /// How often each byte value occurs in bytes() and in foldedBytes().
    const std::uint64_t (&byteCounts(bool folded) const)[256] { return folded ? m_foldedCounts : m_counts; }

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
    std::uint64_t m_counts[256] = {};
    std::uint64_t m_foldedCounts[256] = {};
};

/// Whether `s` is well-formed UTF-8 (RFC 3629).
bool isWellFormedUtf8(std::string_view s);

/// A substring search prepared once for one needle, to be run many times over one buffer:
/// candidates where the needle's two bytes that are rarest in the buffer (`counts`: how often
/// each byte value occurs there) both sit, 16 positions at a time (SSE2; memchr for the rarest
/// one elsewhere or for a one-byte needle), then a compare of the whole needle.
class ByteFinder {
public:
    ByteFinder(std::string_view needle, const std::uint64_t (&counts)[256]);
    /// The first occurrence of the needle in `hay` at or after `from`, or npos (an empty needle:
    /// `from` if it is within hay).
    size_t find(std::string_view hay, size_t from) const;

private:
    size_t findOneByte(std::string_view hay, size_t from) const;
    std::string_view m_needle;
    size_t m_rare = 0;    // the index in the needle of the rarest byte
    size_t m_second = 0;  // of the next rarest at another index (== m_rare for one byte)
};

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
    const ByteFinder finder(needle, corpus.byteCounts(folded));
    size_t from = 0;
    int i = 0;
    while (from < hay.size()) {
        const size_t p = finder.find(hay, from);
        if (p == std::string_view::npos)
            return;
        // The hits come in order: walk forward to the name that holds p (a few names per hit
        // when hits are dense; a binary search when they are far apart).
        int k = 0;
        while (k < 8 && corpus.end(i) <= p)
            ++i, ++k;
        if (corpus.end(i) <= p)
            i = corpus.nameAt(p);
        if (p + needle.size() <= corpus.end(i))
            f(i);
        // A hit that runs into the next name means no later start in name i fits either.
        from = corpus.end(i);
    }
}

}  // namespace paramscope
