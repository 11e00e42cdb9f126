#include "model/namecorpus.h"

#include "model/modelindex.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace paramscope {

bool isWellFormedUtf8(std::string_view s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int len;
        unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte (RFC 3629 table)
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;  // no overlong forms
            else if (c == 0xED)
                hi = 0x9F;  // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;  // nothing above U+10FFFF
        } else {
            return false;
        }
        if (end - p < len || p[1] < lo || p[1] > hi)
            return false;
        for (int k = 2; k < len; ++k)
            if (p[k] < 0x80 || p[k] > 0xBF)
                return false;
        p += len;
    }
    return true;
}

ByteFinder::ByteFinder(std::string_view needle, const std::uint64_t (&counts)[256]) : m_needle(needle)
{
    const auto count = [&](size_t k) { return counts[std::uint8_t(m_needle[k])]; };
    for (size_t k = 1; k < m_needle.size(); ++k)
        if (count(k) < count(m_rare))
            m_rare = k;
    m_second = m_rare;
    for (size_t k = 0; k < m_needle.size(); ++k)
        if (k != m_rare && (m_second == m_rare || count(k) < count(m_second)))
            m_second = k;
}

size_t ByteFinder::findOneByte(std::string_view hay, size_t from) const
{
    const size_t m = m_needle.size();
    const char* h = hay.data();
    const char* n = m_needle.data();
    const size_t last = hay.size() - m;  // the caller checked that the needle fits from `from`
    for (size_t at = from; at <= last;) {
        const void* hit = std::memchr(h + at + m_rare, n[m_rare], last - at + 1);
        if (!hit)
            return std::string_view::npos;
        at = size_t(static_cast<const char*>(hit) - h) - m_rare;
        if (std::memcmp(h + at, n, m) == 0)
            return at;
        ++at;
    }
    return std::string_view::npos;
}

size_t ByteFinder::find(std::string_view hay, size_t from) const
{
    const size_t m = m_needle.size();
    if (from > hay.size() || m > hay.size() - from)
        return std::string_view::npos;
    if (m == 0)
        return from;
#if defined(__SSE2__)
    if (m >= 2) {
        const char* h = hay.data();
        const char* n = m_needle.data();
        const __m128i a = _mm_set1_epi8(n[m_rare]);
        const __m128i b = _mm_set1_epi8(n[m_second]);
        const size_t reach = std::max(m_rare, m_second) + 16;  // bytes read past a block's start
        size_t at = from;
        // Blocks of 16 candidate starts while both loads stay inside hay.
        for (; at + std::max(reach, m) <= hay.size(); at += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + m_rare));
            const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + at + m_second));
            unsigned mask = unsigned(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, a), _mm_cmpeq_epi8(y, b))));
            while (mask) {
                const size_t start = at + size_t(__builtin_ctz(mask));
                if (start + m <= hay.size() && std::memcmp(h + start, n, m) == 0)
                    return start;
                mask &= mask - 1;
            }
        }
        if (at > hay.size() || m > hay.size() - at)
            return std::string_view::npos;
        return findOneByte(hay, at);  // the tail
    }
#endif
    return findOneByte(hay, from);
}

NameCorpus::NameCorpus(const ModelIndex& index)
{
    size_t total = 0;
    for (const TensorEntry& e : index.entries)
        total += e.name.size();  // names held in memory: their sum fits in size_t
    m_bytes.reserve(total);
    m_offsets.reserve(index.entries.size() + 1);
    m_flags.reserve(index.entries.size());
    bool upper = false;
    for (const TensorEntry& e : index.entries) {
        const std::string& s = e.name;
        bool ascii = true;
        for (const char c : s) {
            ascii &= std::uint8_t(c) < 0x80;
            upper |= c >= 'A' && c <= 'Z';
            ++m_counts[std::uint8_t(c)];
        }
        std::uint8_t flags = 0;
        if (ascii)
            flags = kAscii | kUtf8;
        else if (isWellFormedUtf8(s))
            flags = kUtf8;
        if (!ascii)
            m_nonAscii.push_back(int(m_flags.size()));
        m_flags.push_back(flags);
        m_bytes += s;
        m_offsets.push_back(m_bytes.size());
    }
    std::copy(std::begin(m_counts), std::end(m_counts), std::begin(m_foldedCounts));
    for (int c = 'A'; c <= 'Z'; ++c) {
        m_foldedCounts[c - 'A' + 'a'] += m_foldedCounts[c];
        m_foldedCounts[c] = 0;
    }
    if (upper) {
        m_folded = m_bytes;
        for (char& c : m_folded)
            if (c >= 'A' && c <= 'Z')
                c = char(c - 'A' + 'a');
    }
}

int NameCorpus::nameAt(size_t pos) const
{
    // The last name starting at or before pos (the first offset greater than pos, minus one),
    // which skips empty names at the same offset.
    const auto it = std::upper_bound(m_offsets.begin(), m_offsets.end(), pos);
    return int(it - m_offsets.begin()) - 1;
}

size_t NameCorpus::memoryBytes() const
{
    return m_bytes.capacity() + m_folded.capacity() + m_offsets.capacity() * sizeof(size_t) + m_flags.capacity() +
           m_nonAscii.capacity() * sizeof(int);
}

}  // namespace paramscope
