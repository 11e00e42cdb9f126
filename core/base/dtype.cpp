#include "base/dtype.h"

#include <array>

namespace paramscope {

namespace {

struct DTypeInfo {
    DType type;
    int itemSize;
    std::string_view name;
    std::string_view storage;
    std::string_view safetensors;
};

constexpr std::array<DTypeInfo, 22> kInfo{{
    {DType::Float32, 4, "float32", "FloatStorage", "F32"},
    {DType::Float64, 8, "float64", "DoubleStorage", "F64"},
    {DType::Float16, 2, "float16", "HalfStorage", "F16"},
    {DType::BFloat16, 2, "bfloat16", "BFloat16Storage", "BF16"},
    {DType::Int8, 1, "int8", "CharStorage", "I8"},
    {DType::Int16, 2, "int16", "ShortStorage", "I16"},
    {DType::Int32, 4, "int32", "IntStorage", "I32"},
    {DType::Int64, 8, "int64", "LongStorage", "I64"},
    {DType::UInt8, 1, "uint8", "ByteStorage", "U8"},
    {DType::UInt16, 2, "uint16", "", "U16"},
    {DType::UInt32, 4, "uint32", "", "U32"},
    {DType::UInt64, 8, "uint64", "", "U64"},
    {DType::Bool, 1, "bool", "BoolStorage", "BOOL"},
    {DType::Complex64, 8, "complex64", "ComplexFloatStorage", "C64"},
    {DType::Complex128, 16, "complex128", "ComplexDoubleStorage", ""},
    {DType::QInt8, 1, "qint8", "QInt8Storage", ""},
    {DType::QUInt8, 1, "quint8", "QUInt8Storage", ""},
    {DType::QInt32, 4, "qint32", "QInt32Storage", ""},
    {DType::Float8E5M2, 1, "float8_e5m2", "Float8_e5m2Storage", "F8_E5M2"},
    {DType::Float8E4M3, 1, "float8_e4m3fn", "Float8_e4m3fnStorage", "F8_E4M3"},
    {DType::Float8E4M3FNUZ, 1, "float8_e4m3fnuz", "Float8_e4m3fnuzStorage", ""},
    {DType::Float8E5M2FNUZ, 1, "float8_e5m2fnuz", "Float8_e5m2fnuzStorage", ""},
}};

const DTypeInfo* find(DType t)
{
    for (const auto& i : kInfo)
        if (i.type == t)
            return &i;
    return nullptr;
}

}  // namespace

int dtypeItemSize(DType t)
{
    const auto* i = find(t);
    return i ? i->itemSize : 0;
}

std::string_view dtypeName(DType t)
{
    const auto* i = find(t);
    return i ? i->name : std::string_view("unknown");
}

std::optional<DType> dtypeFromName(std::string_view name)
{
    if (name.substr(0, 6) == "torch.")
        name.remove_prefix(6);
    for (const auto& i : kInfo)
        if (i.name == name)
            return i.type;
    // PyTorch's aliases.
    if (name == "float" || name == "float")
        return DType::Float32;
    if (name == "double")
        return DType::Float64;
    if (name == "half")
        return DType::Float16;
    if (name == "long")
        return DType::Int64;
    if (name == "int")
        return DType::Int32;
    if (name == "short")
        return DType::Int16;
    if (name == "cfloat")
        return DType::Complex64;
    if (name == "cdouble")
        return DType::Complex128;
    return std::nullopt;
}

bool dtypeIsFloating(DType t)
{
    switch (t) {
        case DType::Float32:
        case DType::Float64:
        case DType::Float16:
        case DType::BFloat16:
        case DType::Float8E5M2:
        case DType::Float8E4M3:
        case DType::Float8E4M3FNUZ:
        case DType::Float8E5M2FNUZ:
            return true;
        default:
            return false;
    }
}

bool dtypeIsInteger(DType t)
{
    switch (t) {
        case DType::Int8:
        case DType::Int16:
        case DType::Int32:
        case DType::Int64:
        case DType::UInt8:
        case DType::UInt16:
        case DType::UInt32:
        case DType::UInt64:
            return true;
        default:
            return false;
    }
}

bool dtypeIsComplex(DType t)
{
    return t == DType::Complex64 || t == DType::Complex128;
}

bool dtypeIsQuantized(DType t)
{
    return t == DType::QInt8 || t == DType::QUInt8 || t == DType::QInt32;
}

std::optional<DType> dtypeFromStorageName(std::string_view storageClass)
{
    for (const auto& i : kInfo)
        if (!i.storage.empty() && i.storage == storageClass)
            return i.type;
    return std::nullopt;
}

std::string_view dtypeStorageName(DType t)
{
    const auto* i = find(t);
    return i ? i->storage : std::string_view();
}

std::optional<DType> dtypeFromSafetensors(std::string_view code)
{
    for (const auto& i : kInfo)
        if (!i.safetensors.empty() && i.safetensors == code)
            return i.type;
    return std::nullopt;
}

std::string_view dtypeSafetensorsCode(DType t)
{
    const auto* i = find(t);
    return i ? i->safetensors : std::string_view();
}

}  // namespace paramscope
