#pragma once

// A tensor's elements as doubles, in logical (C) order, a range at a time: the values
// statistics see (float16/bfloat16/float8 widened exactly, integers and bool as numbers,
// |z| of a complex, a quantized element dequantized, per tensor or per channel). For
// readers that combine two tensors element by element (core/diff) or reduce one in blocks.

#include "model/modelindex.h"

#include <cstdint>
#include <memory>

namespace paramscope {

class ValueDecoder {
public:
    explicit ValueDecoder(const TensorView& view);
    ~ValueDecoder();
    ValueDecoder(const ValueDecoder&) = delete;
    ValueDecoder& operator=(const ValueDecoder&) = delete;

    /// False for a view whose dtype has no values (Unknown, per-channel quantization of a
    /// dtype other than qint8/quint8, parameters that do not match the shape).
    bool ok() const;
    std::int64_t numel() const;
    /// Elements [begin, end) of the view in C order into out[0 .. end - begin).
    void decode(std::int64_t begin, std::int64_t end, double* out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace paramscope
