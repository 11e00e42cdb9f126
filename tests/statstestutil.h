#pragma once
// Helpers shared by the statistics tests (tst_stats, tst_stats_paths): a relative
// comparison, full-precision number text, and tensor views over bytes the test owns.

#include "model/modelindex.h"

#include <QString>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace paramscope::test {

inline bool close(double a, double b, double rel)
{
    if (a == b)
        return true;
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

inline QString num(double v)
{
    return QString::number(v, 'g', 17);
}

/// A view over bytes we own.
struct OwnedView {
    std::shared_ptr<std::vector<std::uint8_t>> bytes;
    TensorView view;
};

template <typename T>
OwnedView makeView(const std::vector<T>& data, DType dt, std::vector<std::int64_t> shape = {},
                   std::vector<std::int64_t> strides = {}, std::int64_t offset = 0)
{
    OwnedView o;
    o.bytes = std::make_shared<std::vector<std::uint8_t>>(data.size() * sizeof(T));
    if (!data.empty())
        std::memcpy(o.bytes->data(), data.data(), o.bytes->size());
    o.view.storage.owner = o.bytes;
    o.view.storage.data = o.bytes->data();
    o.view.storage.size = o.bytes->size();
    o.view.dtype = dt;
    o.view.shape = shape.empty() && strides.empty() ? std::vector<std::int64_t>{std::int64_t(data.size())} : shape;
    o.view.strides = strides.empty() ? contiguousStrides(o.view.shape) : strides;
    o.view.offset = offset;
    return o;
}

}  // namespace paramscope::test
