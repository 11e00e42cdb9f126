#pragma once
// Internal to core/export: what a tensor's elements become in an export file. A Plan says
// which dtype an entry is written as (and the note telling the user, or why it cannot be
// written); Dequant gives a quantized element's real value; convertElements widens,
// dequantizes or narrows a run of C-order elements through base/floatcodec.h, the one
// float16/bfloat16/float8 decoder; Elements and forEachChunk hand a writer an entry's
// elements in C order, whole or chunk by chunk, already converted.

#include "base/result.h"
#include "model/modelindex.h"

#include <QString>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace paramscope::exportdetail {

template <typename T>
T load(const std::uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

/// 'name', quoted, for messages.
QString entryLabel(const TensorEntry& e);

/// What one tensor becomes in a given format.
struct Plan {
    DType out = DType::Unknown;  // Unknown: cannot be exported, `error` says why
    QString note;
    QString error;
};

/// The dequantized value of a quantized tensor's element from its C-order index and its
/// stored integer: (q - zero point) * scale, per tensor or per channel.
class Dequant {
public:
    explicit Dequant(const TensorEntry& e)
        : m_scale(e.qScale()), m_zero(e.qZeroPoint()), m_channels(e.qChannels().get())
    {
        if (m_channels) {
            const auto axis = size_t(m_channels->axis);
            m_count = axis < e.shape.size() ? std::max<std::int64_t>(1, e.shape[axis]) : 1;
            for (size_t d = axis + 1; d < e.shape.size(); ++d)
                m_inner *= std::max<std::int64_t>(1, e.shape[d]);
        }
    }
    float operator()(std::int64_t index, std::int64_t q) const
    {
        if (!m_channels)
            return float(m_scale * double(q - m_zero));
        const auto c = size_t((index / m_inner) % m_count);
        if (c >= m_channels->scales.size() || c >= m_channels->zeroPoints.size())
            return std::numeric_limits<float>::quiet_NaN();
        return float(m_channels->scales[c] * double(q - m_channels->zeroPoints[c]));
    }

private:
    double m_scale;
    std::int64_t m_zero;
    const QuantChannels* m_channels;
    std::int64_t m_inner = 1, m_count = 1;
};

/// Converts `n` C-order elements from `src` (dtype `from`) into `dst` (dtype `to`);
/// `first` is the C-order index of src's first element (it picks quantization channels).
/// Returns an error text when a value does not fit (uint64 -> int64).
QString convertElements(const std::uint8_t* src, std::int64_t n, DType from, DType to, const Dequant& dq,
                        std::int64_t first, std::uint8_t* dst);

/// Holds an entry's elements in C order: either pointing into the storage (contiguous
/// tensors, no copy) or in a private copy (strided views).
struct Elements {
    TensorView view;
    std::vector<std::uint8_t> copy;
    const std::uint8_t* data = nullptr;
    std::int64_t numel = 0;
};

Result<Elements> elementsOf(const ModelIndex& index, int entry);

/// Visits an entry's elements converted to `out`, in chunks of at most kChunkElems. A
/// strided view is copied chunk by chunk, never whole: a broadcast view of a few stored
/// values can stand for gigabytes. `fn(data, count, work)` gets the converted elements
/// and how many source bytes they stand for; its failure ends the walk.
template <typename Fn>
Status forEachChunk(const ModelIndex& index, int entry, DType out, Fn&& fn)
{
    auto v = index.view(entry);
    if (!v)
        return Status::failureFrom(v);
    const TensorView& view = v.value();
    const std::int64_t numel = view.numel();
    const auto& e = index.entries[size_t(entry)];
    const int inItem = dtypeItemSize(e.dtype);
    const int outItem = dtypeItemSize(out);
    constexpr std::int64_t kChunkElems = 1 << 20;
    const bool contiguous = view.isContiguous();
    std::vector<std::uint8_t> strided, buf;
    for (std::int64_t start = 0; start < numel; start += kChunkElems) {
        const std::int64_t n = std::min(kChunkElems, numel - start);
        const std::uint8_t* src = nullptr;
        if (contiguous) {
            src = view.base() + start * inItem;
        } else {
            strided.resize(size_t(n) * size_t(inItem));
            view.copyRange(start, n, strided.data());
            src = strided.data();
        }
        const std::uint8_t* chunk = src;
        if (out != e.dtype) {
            buf.resize(size_t(n) * size_t(outItem));
            const QString why = convertElements(src, n, e.dtype, out, Dequant(e), start, buf.data());
            if (!why.isEmpty())
                return Status::failure(ErrorKind::Unsupported, entryLabel(e) + QLatin1Char(' ') + why);
            chunk = buf.data();
        }
        if (Status s = fn(chunk, n, n * inItem); !s)
            return s;
    }
    return {};
}

}  // namespace paramscope::exportdetail
