#pragma once
// The one place where sizes read from files are multiplied and added. Every shape/stride
// product, element count, byte count and extent goes through these helpers, so a file
// that declares [2**62 + 1] elements cannot wrap a size around 64 bits.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace paramscope {

/// a * b, or nothing when it overflows int64 (or an operand is negative).
inline std::optional<std::int64_t> checkedMul(std::int64_t a, std::int64_t b)
{
    std::int64_t r = 0;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

/// a + b, or nothing when it overflows int64 (or an operand is negative).
inline std::optional<std::int64_t> checkedAdd(std::int64_t a, std::int64_t b)
{
    std::int64_t r = 0;
    if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

/// a + b for non-negative sizes, pinned at INT64_MAX instead of wrapping (aggregates of
/// tensors whose own sizes are saturated).
inline std::int64_t saturatingAdd(std::int64_t a, std::int64_t b)
{
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r))
        return std::numeric_limits<std::int64_t>::max();
    return r;
}

/// Product of the dimensions, or nothing when one is negative or the product overflows.
/// Any range of int64 (a std::vector, Dims) without a copy.
template <class Shape>
std::optional<std::int64_t> checkedNumelOf(const Shape& shape)
{
    std::int64_t n = 1;
    for (auto d : shape) {
        if (d < 0)
            return std::nullopt;
        if (d == 0)
            return 0;  // an empty tensor, whatever the other dimensions say
    }
    for (auto d : shape) {
        auto m = checkedMul(n, d);
        if (!m)
            return std::nullopt;
        n = *m;
    }
    return n;
}

inline std::optional<std::int64_t> checkedNumel(const std::vector<std::int64_t>& shape)
{
    return checkedNumelOf(shape);
}

/// numel * itemSize, or nothing on overflow.
inline std::optional<std::int64_t> checkedBytes(const std::vector<std::int64_t>& shape, int itemSize)
{
    auto n = checkedNumel(shape);
    if (!n)
        return std::nullopt;
    return checkedMul(*n, itemSize);
}

/// The exact decimal product of the dimensions times `factor`, however large (a file can
/// declare 64 dimensions of 2**62): what a tensor's true size is when it does not fit 64 bits.
/// Negative dimensions give "?".
inline std::string exactProductText(const std::vector<std::int64_t>& shape, std::int64_t factor = 1)
{
    // Little-endian base-1e9 digits; every partial product is below 1e18 < 2^63.
    constexpr std::uint64_t kBase = 1000000000u;
    std::vector<std::uint64_t> digits{1};
    auto mul = [&](std::uint64_t m) {
        std::vector<std::uint64_t> limbs;
        do {
            limbs.push_back(m % kBase);
            m /= kBase;
        } while (m);
        std::vector<std::uint64_t> out(digits.size() + limbs.size() + 1, 0);
        for (size_t i = 0; i < digits.size(); ++i) {
            std::uint64_t carry = 0;
            for (size_t j = 0; j < limbs.size(); ++j) {
                const std::uint64_t v = digits[i] * limbs[j] + out[i + j] + carry;
                out[i + j] = v % kBase;
                carry = v / kBase;
            }
            for (size_t k = i + limbs.size(); carry; ++k) {
                const std::uint64_t v = out[k] + carry;
                out[k] = v % kBase;
                carry = v / kBase;
            }
        }
        digits = std::move(out);
    };
    for (auto d : shape) {
        if (d < 0)
            return "?";
        mul(std::uint64_t(d));
    }
    if (factor < 0)
        return "?";
    mul(std::uint64_t(factor));
    while (digits.size() > 1 && digits.back() == 0)
        digits.pop_back();
    std::string out = std::to_string(digits.back());
    for (size_t i = digits.size() - 1; i-- > 0;) {
        std::string part = std::to_string(digits[i]);
        out += std::string(9 - part.size(), '0') + part;
    }
    return out;
}

/// The product as a double (for "about 1.8e19 bytes" displays); +inf past double's range.
inline double approxProduct(const std::vector<std::int64_t>& shape, std::int64_t factor = 1)
{
    double p = double(factor);
    for (auto d : shape)
        p *= double(d);
    return p;
}

}  // namespace paramscope
