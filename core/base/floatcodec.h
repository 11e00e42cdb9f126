#pragma once

// The one decoder of the narrow floating-point dtypes (float16, bfloat16, float8 e5m2,
// e4m3fn, e4m3fnuz and e5m2fnuz) into float32, used by statistics, export and every view. Exact: every value of
// these formats, subnormals included, is a float32; NaN keeps its sign.

#include <cstdint>
#include <cstring>

namespace paramscope {

inline float floatFromBits(std::uint32_t bits)
{
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

/// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
inline float halfToFloat(std::uint16_t h)
{
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f)
        return floatFromBits(sign | 0x7f800000u | (mant << 13));  // inf / NaN
    if (exp != 0)
        return floatFromBits(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0)
        return floatFromBits(sign);
    // Subnormal half (mant * 2^-24): normalise into a float32 normal.
    std::uint32_t e = 0;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        ++e;
    }
    return floatFromBits(sign | ((113 - e) << 23) | ((mant & 0x3ffu) << 13));
}

/// bfloat16: the top half of a float32.
inline float bfloat16ToFloat(std::uint16_t b)
{
    return floatFromBits(std::uint32_t(b) << 16);
}

/// float8_e5m2: the top byte of a float16.
inline float float8e5m2ToFloat(std::uint8_t b)
{
    return halfToFloat(std::uint16_t(std::uint16_t(b) << 8));
}

/// float8_e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities,
/// S.1111.111 is NaN.
inline float float8e4m3fnToFloat(std::uint8_t b)
{
    const std::uint32_t sign = std::uint32_t(b & 0x80u) << 24;
    const std::uint32_t exp = (b >> 3) & 0xfu;
    std::uint32_t mant = b & 0x7u;
    if (exp == 0xf && mant == 0x7)
        return floatFromBits(sign | 0x7fc00000u);
    if (exp != 0)
        return floatFromBits(sign | ((exp + 120) << 23) | (mant << 20));
    if (mant == 0)
        return floatFromBits(sign);
    // Subnormal (mant * 2^-9): normalise.
    std::uint32_t e = 0;
    while (!(mant & 0x8u)) {
        mant <<= 1;
        ++e;
    }
    return floatFromBits(sign | ((121 - e) << 23) | ((mant & 0x7u) << 20));
}

/// The "fnuz" float8 formats (float8_e4m3fnuz: 4 exponent bits, bias 8, 3 mantissa bits;
/// float8_e5m2fnuz: 5, bias 16, 2): no infinities and no negative zero; 0x80 is the only NaN.
template <int ExpBits, int Bias>
inline float float8FnuzToFloat(std::uint8_t b)
{
    constexpr int kMantBits = 7 - ExpBits;
    if (b == 0x80u)
        return floatFromBits(0x7fc00000u);
    const std::uint32_t sign = std::uint32_t(b & 0x80u) << 24;
    const std::uint32_t exp = (b >> kMantBits) & ((1u << ExpBits) - 1u);
    std::uint32_t mant = b & ((1u << kMantBits) - 1u);
    if (exp != 0)
        return floatFromBits(sign | ((exp + 127 - Bias) << 23) | (mant << (23 - kMantBits)));
    if (mant == 0)
        return floatFromBits(sign);
    // Subnormal (mant * 2^(1 - Bias - kMantBits)): normalise.
    std::uint32_t e = 0;
    while (!(mant & (1u << kMantBits))) {
        mant <<= 1;
        ++e;
    }
    return floatFromBits(sign | ((128 - Bias - e) << 23) | ((mant & ((1u << kMantBits) - 1u)) << (23 - kMantBits)));
}

inline float float8e4m3fnuzToFloat(std::uint8_t b)
{
    return float8FnuzToFloat<4, 8>(b);
}
inline float float8e5m2fnuzToFloat(std::uint8_t b)
{
    return float8FnuzToFloat<5, 16>(b);
}

}  // namespace paramscope
