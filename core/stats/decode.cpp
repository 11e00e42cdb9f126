// ValueDecoder: collapses the view once (walk_p.h's Layout), then walks the runs of a
// range with one decoding loop per dtype.
#include "stats/decode.h"

#include "base/floatcodec.h"
#include "stats/walk_p.h"

#include <cmath>
#include <limits>

namespace paramscope {

using namespace stats_internal;

struct ValueDecoder::Impl {
    TensorView view;
    Layout layout;
    bool ok = false;
    // Per-channel dequantization: a C-order index's channel is (index / inner) % count.
    const QuantChannels* channels = nullptr;
    std::int64_t inner = 1, count = 1;
};

ValueDecoder::ValueDecoder(const TensorView& view) : d(std::make_unique<Impl>())
{
    d->view = view;
    const DType t = view.dtype;
    d->ok = t != DType::Unknown && dtypeItemSize(t) > 0 && view.numel() >= 0;
    if (view.qChannels) {
        const QuantChannels& qc = *view.qChannels;
        const bool fits =
            (t == DType::QInt8 || t == DType::QUInt8) && qc.axis >= 0 && size_t(qc.axis) < view.shape.size() &&
            std::int64_t(qc.scales.size()) == view.shape[size_t(qc.axis)] && qc.zeroPoints.size() == qc.scales.size();
        if (!fits) {
            d->ok = false;
        } else {
            d->channels = &qc;
            d->count = std::max<std::int64_t>(1, view.shape[size_t(qc.axis)]);
            for (size_t k = size_t(qc.axis) + 1; k < view.shape.size(); ++k)
                d->inner *= std::max<std::int64_t>(1, view.shape[k]);
        }
    }
    if (d->ok)
        d->layout = collapse(d->view);
}

ValueDecoder::~ValueDecoder() = default;

bool ValueDecoder::ok() const
{
    return d->ok;
}

std::int64_t ValueDecoder::numel() const
{
    return d->ok ? d->layout.numel : 0;
}

namespace {

template <typename F>
void decodeRuns(const Layout& L, std::int64_t begin, std::int64_t end, double* out, F&& one)
{
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t step) {
        for (std::int64_t i = 0; i < n; ++i)
            out[i] = one(p + i * step);
        out += n;
    });
}

}  // namespace

void ValueDecoder::decode(std::int64_t begin, std::int64_t end, double* out) const
{
    if (!d->ok || begin >= end)
        return;
    const Layout& L = d->layout;
    const TensorView& v = d->view;
    switch (v.dtype) {
        case DType::Float32:
            // The common case: a contiguous run widens without the per-element lambda.
            if (isContiguousRun(L)) {
                const std::uint8_t* p = L.base + begin * 4;
                for (std::int64_t i = 0; i < end - begin; ++i)
                    out[i] = double(load<float>(p + i * 4));
                return;
            }
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<float>(p)); });
        case DType::Float64:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return load<double>(p); });
        case DType::Float16:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return double(halfToFloat(load<std::uint16_t>(p))); });
        case DType::BFloat16:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return double(bfloat16ToFloat(load<std::uint16_t>(p))); });
        case DType::Float8E5M2:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(float8e5m2ToFloat(*p)); });
        case DType::Float8E4M3:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return double(float8e4m3fnToFloat(*p)); });
        case DType::Float8E4M3FNUZ:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return double(float8e4m3fnuzToFloat(*p)); });
        case DType::Float8E5M2FNUZ:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return double(float8e5m2fnuzToFloat(*p)); });
        case DType::Int8:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(std::int8_t(*p)); });
        case DType::UInt8:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(*p); });
        case DType::Bool:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return *p ? 1.0 : 0.0; });
        case DType::Int16:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::int16_t>(p)); });
        case DType::UInt16:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::uint16_t>(p)); });
        case DType::Int32:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::int32_t>(p)); });
        case DType::UInt32:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::uint32_t>(p)); });
        case DType::Int64:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::int64_t>(p)); });
        case DType::UInt64:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) { return double(load<std::uint64_t>(p)); });
        case DType::Complex64:
            return decodeRuns(L, begin, end, out, [](const std::uint8_t* p) {
                return std::hypot(double(load<float>(p)), double(load<float>(p + 4)));
            });
        case DType::Complex128:
            return decodeRuns(L, begin, end, out,
                              [](const std::uint8_t* p) { return std::hypot(load<double>(p), load<double>(p + 8)); });
        case DType::QInt32: {
            const double scale = v.qScale;
            const std::int64_t zp = v.qZeroPoint;
            return decodeRuns(L, begin, end, out, [&](const std::uint8_t* p) {
                return double(std::int64_t(load<std::int32_t>(p)) - zp) * scale;
            });
        }
        case DType::QInt8:
        case DType::QUInt8: {
            const bool isSigned = v.dtype == DType::QInt8;
            auto q = [isSigned](const std::uint8_t* p) {
                return isSigned ? std::int64_t(std::int8_t(*p)) : std::int64_t(*p);
            };
            if (!d->channels) {
                const double scale = v.qScale;
                const std::int64_t zp = v.qZeroPoint;
                return decodeRuns(L, begin, end, out, [&](const std::uint8_t* p) { return double(q(p) - zp) * scale; });
            }
            // Per channel: the channel follows the C-order index.
            std::int64_t index = begin;
            const QuantChannels& qc = *d->channels;
            return decodeRuns(L, begin, end, out, [&](const std::uint8_t* p) {
                const auto c = size_t((index++ / d->inner) % d->count);
                return double(q(p) - qc.zeroPoints[c]) * qc.scales[c];
            });
        }
        case DType::Unknown:
            break;
    }
    for (std::int64_t i = 0; i < end - begin; ++i)
        out[i] = std::numeric_limits<double>::quiet_NaN();
}

}  // namespace paramscope
