#include "base/pagereleaser.h"

#include "base/mappedfile.h"

#include <algorithm>

namespace paramscope {

void PageReleaser::add(const void* data, std::uint64_t length)
{
    if (!m_enabled || !data || length == 0)
        return;
    const auto lo = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t hi = lo + std::uintptr_t(length);
    if (m_lo != m_hi && (hi + kGap < m_lo || lo > m_hi + kGap))
        flush();
    if (m_lo == m_hi) {
        m_lo = lo;
        m_hi = hi;
    } else {
        m_lo = std::min(m_lo, lo);
        m_hi = std::max(m_hi, hi);
    }
    if (m_hi - m_lo >= kBatch)
        flush();
}

void PageReleaser::flush()
{
    if (m_lo != m_hi)
        MappedFile::advise(reinterpret_cast<const void*>(m_lo), m_hi - m_lo, MappedFile::Advice::Release);
    m_lo = m_hi = 0;
}

}  // namespace paramscope
