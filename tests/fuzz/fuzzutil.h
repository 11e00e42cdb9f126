#pragma once

#include "base/textutil.h"
// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp): a private scratch folder in
// memory (/dev/shm when it exists), files written into it, bounded work per input, and
// one helper that exercises everything a loaded model offers.
//
// The targets crash (abort) only on a real defect: a sanitizer report, an uncaught
// exception, or an inconsistency checked with FUZZ_CHECK. Errors returned by core for bad
// input are the expected outcome and are simply discarded.

#include "export/export.h"
#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "stats/stats.h"

#include <QByteArray>
#include <QDir>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

#define FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, what); \
            std::abort();                                                                       \
        }                                                                                       \
    } while (0)

namespace fuzz {

/// This process's scratch folder, created on first use and removed at a normal exit (a
/// crash leaves it: run_short.sh and fuzz.sh point PARAMSCOPE_FUZZ_SCRATCH at a folder
/// they remove). Default base: /dev/shm (memory), else $TMPDIR or /tmp.
inline const QString& scratchDir()
{
    static const QString dir = [] {
        const char* base = std::getenv("PARAMSCOPE_FUZZ_SCRATCH");
        if (!base || !*base)
            base =
                ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
        std::string tmpl = std::string(base) + "/paramscope-fuzz-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data())) {
            std::perror("mkdtemp");
            std::abort();
        }
        static std::string removeAtExit;
        removeAtExit = buf.data();
        std::atexit([] { QDir(QString::fromStdString(removeAtExit)).removeRecursively(); });
        return QString::fromLocal8Bit(buf.data());
    }();
    return dir;
}

inline QString scratchPath(const QString& name)
{
    return scratchDir() + QLatin1Char('/') + name;
}

/// Writes `size` bytes to scratchPath(name) (replacing it) and returns the path.
inline QString writeScratch(const QString& name, const void* data, std::size_t size)
{
    const QString path = scratchPath(name);
    const QByteArray local = path.toLocal8Bit();
    std::FILE* f = std::fopen(local.constData(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
        std::perror("fuzz: cannot write the scratch file");
        std::abort();
    }
    return path;
}

/// Checks that would fail today on defects already reported and being fixed in core
/// (each skip names its finding). PARAMSCOPE_FUZZ_STRICT=1 turns them back on:
/// remove a skip with the fix that makes it unnecessary.
inline bool strict()
{
    static const bool on = std::getenv("PARAMSCOPE_FUZZ_STRICT") != nullptr;
    return on;
}

inline bool validUtf8(const std::string& s)
{
    // Round trip through UTF-16 (invalid sequences become U+FFFD); a leading U+FEFF is kept
    // by utf8ToQString, which QString::fromUtf8 would drop.
    const QString q = paramscope::utf8ToQString(s);
    return q.toStdString() == s;
}

/// Logical element count of a shape, or -1 when it is negative or overflows.
inline std::int64_t shapeNumel(const std::vector<std::int64_t>& shape)
{
    std::int64_t n = 1;
    for (std::int64_t d : shape)
        if (d < 0 || __builtin_mul_overflow(n, d, &n))
            return -1;
    return n;
}

/// Bound on the work done per input: tensors above this many elements (or whose element
/// count overflows) are indexed but not summarised or exported, so that a run stays in
/// milliseconds. PARAMSCOPE_FUZZ_HUGE=1 lifts it: every tensor goes to statistics and
/// export, so that core's own limits on logical sizes are what is exercised.
/// The regression files are always run that way (run_short.sh).
inline bool smallEnough(const paramscope::TensorEntry& e, std::int64_t limit)
{
    static const bool huge = std::getenv("PARAMSCOPE_FUZZ_HUGE") != nullptr;
    if (huge)
        return true;
    const std::int64_t n = shapeNumel(e.shape);
    return n >= 0 && n <= limit;
}

/// Statistics of a bounded tensor with every option path (one thread: the fuzzer runs
/// many processes instead).
inline void exerciseStats(const paramscope::ModelIndex& index, int entry, unsigned variant)
{
    paramscope::StatsOptions o;
    o.threads = 1;
    o.bins = int(variant % 3 == 0 ? 0 : variant % 3 == 1 ? 7 : paramscope::kMaxBins + 5);
    o.histogram = (variant & 4) == 0;
    o.exactQuantileLimit = (variant & 8) ? 16 : (std::int64_t(1) << 24);
    auto s = paramscope::computeStats(index, entry, o);
    if (!s)
        return;
    const auto& t = s.value();
    FUZZ_CHECK(t.finite + t.nan + t.posInf + t.negInf == t.elements, "stats: finite + NaN + Inf != elements");
    std::int64_t sum = 0;
    for (std::int64_t c : t.histogram.counts) {
        FUZZ_CHECK(c >= 0, "stats: negative histogram count");
        sum += c;
    }
    if (!t.histogram.counts.empty()) {
        FUZZ_CHECK(sum == t.finite, "stats: histogram counts do not sum to the finite values");
        FUZZ_CHECK(t.histogram.edges.size() == t.histogram.counts.size() + 1, "stats: edges != bins + 1");
    }
    if (t.hasFinite())
        FUZZ_CHECK(t.min <= t.max, "stats: min > max");
}

/// The model's whole path after opening: tree, views, copies, statistics and exports of
/// the first few (bounded) tensors, the exports read back and compared.
void exerciseModel(const paramscope::ModelIndex& index, unsigned variant);

}  // namespace fuzz
