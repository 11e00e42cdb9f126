#pragma once

// The one decoder of the narrow floating-point dtypes (float16, bfloat16, float8 e5m2 and
// e4m3fn) into float32, used by statistics, export and every view. Exact: every value of
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

}  // namespace paramscope
