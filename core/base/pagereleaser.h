#pragma once

// Letting go of the mapped pages a long front-to-back read (a whole-model scan, a diff) has
// finished with, in batches.

#include <cstdint>

namespace paramscope {

/// Pages of finished records waiting to be let go, one per reading thread: releasing each
/// small record on its own costs a TLB shootdown on every core per call (madvise), so finished
/// extents near each other are gathered and released together once they span kBatch
/// bytes, or when the next one lies elsewhere (another file), and at the end.
class PageReleaser {
public:
    static constexpr std::uint64_t kBatch = std::uint64_t(8) << 20;
    static constexpr std::uint64_t kGap = std::uint64_t(64) << 20;  // farther: flush first
    explicit PageReleaser(bool enabled) : m_enabled(enabled) {}
    ~PageReleaser() { flush(); }
    PageReleaser(const PageReleaser&) = delete;
    PageReleaser& operator=(const PageReleaser&) = delete;
    /// A record of [data, data + length) is done (heap memory is never touched).
    void add(const void* data, std::uint64_t length);
    void flush();

private:
    bool m_enabled;
    std::uintptr_t m_lo = 0, m_hi = 0;  // the span gathered so far (empty: m_lo == m_hi)
};

}  // namespace paramscope
