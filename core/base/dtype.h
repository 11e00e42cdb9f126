#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paramscope {

/// Element types a checkpoint can hold. Names follow PyTorch ("float32", "bfloat16").
enum class DType : std::uint8_t {
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Bool,
    Complex64,
    Complex128,
    QInt8,
    QUInt8,
    QInt32,
    Float8E5M2,
    Float8E4M3,
    Float8E4M3FNUZ,  // float8_e4m3fnuz: bias 8, no infinities, no -0, NaN = 0x80
    Float8E5M2FNUZ,  // float8_e5m2fnuz: bias 16, no infinities, no -0, NaN = 0x80
    Unknown,
};

/// Size in bytes of one element (0 for Unknown).
int dtypeItemSize(DType t);
/// PyTorch's name without the "torch." prefix: "float32", "bfloat16", "qint8", ...
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);

bool dtypeIsFloating(DType t);  // float16/32/64, bfloat16, float8
bool dtypeIsInteger(DType t);   // signed and unsigned ints (not bool, not quantized)
bool dtypeIsComplex(DType t);
bool dtypeIsQuantized(DType t);

/// PyTorch legacy storage class name ("FloatStorage") <-> dtype.
std::optional<DType> dtypeFromStorageName(std::string_view storageClass);
std::string_view dtypeStorageName(DType t);

/// safetensors dtype code ("F32", "BF16", ...) <-> dtype.
std::optional<DType> dtypeFromSafetensors(std::string_view code);
std::string_view dtypeSafetensorsCode(DType t);  // empty when safetensors has none

}  // namespace paramscope
