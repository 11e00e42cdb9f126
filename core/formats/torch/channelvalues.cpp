// Per-channel quantization parameters (archive_p.h): a 1-D float or integer tensor of at most
// 2^24 values, bounds-checked against its storage and read from its record.

#include "formats/torch/archive_p.h"

#include "base/textutil.h"
#include "model/modelindex.h"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace paramscope {

template <typename Out>
bool readChannelValues(const RecordRead& read, const pickle::StorageRef& s, const pickle::TensorRef& r,
                       std::vector<Out>& out, QString& why)
{
    constexpr std::int64_t kMaxChannels = std::int64_t(1) << 24;
    const auto qs = [](const std::string& t) { return utf8ToQString(t); };
    if (r.shape.size() != 1 || r.strides.size() != 1 || r.shape[0] < 0 || r.shape[0] > kMaxChannels ||
        r.strides[0] < 0 || r.offset < 0) {
        why = QStringLiteral("they are not a 1-D tensor of at most %1 values").arg(kMaxChannels);
        return false;
    }
    const std::int64_t needed = requiredStorageElements(r.shape, r.strides, r.offset);
    if (needed < 0 || needed > s.numel) {
        why = QStringLiteral("they lie outside their storage");
        return false;
    }
    const DType dt = *s.dtype;
    if (dt != DType::Float64 && dt != DType::Float32 && dt != DType::Int64 && dt != DType::Int32) {
        why = QStringLiteral("they are %1, not floats or integers").arg(qs(std::string(dtypeName(dt))));
        return false;
    }
    const int item = dtypeItemSize(dt);
    auto bytes = read(std::uint64_t(needed) * std::uint64_t(item));
    if (!bytes) {
        why = bytes.error();
        return false;
    }
    if (bytes->size < std::uint64_t(needed) * std::uint64_t(item)) {
        why = QStringLiteral("their record is short");
        return false;
    }
    out.resize(size_t(r.shape[0]));
    for (std::int64_t i = 0; i < r.shape[0]; ++i) {
        const std::uint8_t* p = bytes->data + (r.offset + i * r.strides[0]) * item;
        double d = 0;
        std::int64_t k = 0;
        switch (dt) {
            case DType::Float64:
                std::memcpy(&d, p, 8);
                break;
            case DType::Float32: {
                float f;
                std::memcpy(&f, p, 4);
                d = f;
                break;
            }
            case DType::Int64:
                std::memcpy(&k, p, 8);
                d = double(k);
                break;
            default: {
                std::int32_t v;
                std::memcpy(&v, p, 4);
                k = v;
                d = v;
                break;
            }
        }
        if constexpr (std::is_integral_v<Out>) {
            if (dt == DType::Float64 || dt == DType::Float32) {
                why = QStringLiteral("the zero points are floats");
                return false;
            }
            out[size_t(i)] = Out(k);
        } else {
            if (!std::isfinite(d)) {
                why = QStringLiteral("a scale is not finite");
                return false;
            }
            out[size_t(i)] = Out(d);
        }
    }
    return true;
}

template bool readChannelValues<double>(const RecordRead&, const pickle::StorageRef&, const pickle::TensorRef&,
                                        std::vector<double>&, QString&);
template bool readChannelValues<std::int64_t>(const RecordRead&, const pickle::StorageRef&, const pickle::TensorRef&,
                                              std::vector<std::int64_t>&, QString&);

}  // namespace paramscope
