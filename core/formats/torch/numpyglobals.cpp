// NumPy inside PyTorch pickles (globals_p.h): arrays (training RNG states, metrics), dtypes
// and scalars, rebuilt from what the pickle holds. NumPy is never run: an array is its dtype
// code, byte order, shape, order and raw bytes, checked against each other, and becomes a
// tensor value (TensorRef::isArray) whose storage is inline (the bytes in the Document).
// Big-endian arrays are byte-swapped into little-endian copies; object, string, structured
// and date arrays are tensors with an error saying what they are (the walk skips them by name).

#include "formats/torch/globals_p.h"

#include "base/checkedsize.h"
#include "base/floatcodec.h"
#include "base/pythontext.h"

#include <QLocale>
#include <QString>

#include <limits>
#include <vector>

#include <cstring>
#include <string>

namespace paramscope::pickle::torchglobals {

namespace {

using T = Value::Type;
constexpr std::size_t kMaxDims = 64;  // as the archive reader allows
constexpr std::string_view kDtypeObject = "numpy.dtype";
constexpr std::string_view kArrayObject = "numpy.ndarray";

/// What a pickled numpy.dtype says about its elements.
struct ElementType {
    std::optional<DType> dtype;
    bool bigEndian = false;
    std::string problem;  // why its arrays are not read, when dtype is empty
};

std::string codeOf(const Value* dtype)
{
    const Value* code = Machine::item(dtype && dtype->type == T::Object ? dtype->args : nullptr, 0);
    return code && code->type == T::String ? std::string(code->text) : std::string();
}

ElementType elementType(const Value* dtype)
{
    ElementType out;
    if (!dtype || dtype->type != T::Object || dtype->text != kDtypeObject) {
        out.problem = "its dtype is a " + describe(dtype) + ", not a numpy.dtype";
        return out;
    }
    const std::string code = codeOf(dtype);
    const Value* state = dtype->state;
    // (version, byte order, subarray, names, fields, itemsize, alignment, flags)
    const Value* order = Machine::item(state, 1);
    if (order && order->type == T::String)
        out.bigEndian = order->text == ">";
    for (std::size_t i : {2, 3, 4})
        if (const Value* v = Machine::item(state, i); v && v->type != T::None) {
            out.problem = "it is a structured NumPy array (dtype '" + code + "' with fields), which is not read";
            return out;
        }
    static const struct {
        std::string_view code;
        DType dtype;
    } kCodes[] = {
        {"b1", DType::Bool},      {"i1", DType::Int8},        {"i2", DType::Int16},   {"i4", DType::Int32},
        {"i8", DType::Int64},     {"u1", DType::UInt8},       {"u2", DType::UInt16},  {"u4", DType::UInt32},
        {"u8", DType::UInt64},    {"f2", DType::Float16},     {"f4", DType::Float32}, {"f8", DType::Float64},
        {"c8", DType::Complex64}, {"c16", DType::Complex128},
    };
    for (const auto& c : kCodes)
        if (c.code == code) {
            out.dtype = c.dtype;
            return out;
        }
    if (!code.empty() && code[0] == 'O')
        out.problem = "it is a NumPy array of Python objects (dtype object), which is not read";
    else if (!code.empty() && (code[0] == 'U' || code[0] == 'S'))
        out.problem = "it is a NumPy array of strings (dtype '" + code + "'), which is not read";
    else if (code.empty())
        out.problem = "its NumPy dtype has no type code";
    else
        out.problem = "its NumPy dtype '" + code.substr(0, 40) + "' is not one ParamScope reads";
    return out;
}

/// The bytes of a bytes (or Python 2 str) value, or false.
bool rawBytes(const Value* v, std::string_view& out)
{
    if (!v || (v->type != T::Bytes && v->type != T::String))
        return false;
    out = v->text;
    return true;
}

std::string shapeText(const std::vector<std::int64_t>& shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

/// Makes `t` an array over `raw`: checks dims, element count and byte count, swaps big-endian
/// bytes, and adds the inline storage. Problems go to TensorRef::error.
void fillArray(Machine& m, TensorRef& r, const Value* shapeValue, const Value* dtype, bool fortran, const Value* raw)
{
    r.isArray = true;
    if (shapeValue && shapeValue->items.size() > kMaxDims) {
        r.error = "it has " + std::to_string(shapeValue->items.size()) + " dimensions (more than " +
                  std::to_string(kMaxDims) + ")";
        return;
    }
    if (!Machine::toInts(shapeValue, r.shape)) {
        r.error = "its NumPy shape is not a tuple of integers";
        return;
    }
    const ElementType et = elementType(dtype);
    if (!et.dtype) {
        r.error = et.problem;
        return;
    }
    for (auto d : r.shape)
        if (d < 0) {
            r.error = "its NumPy shape has a negative dimension";
            return;
        }
    const auto numel = checkedNumel(r.shape);
    const int item = dtypeItemSize(*et.dtype);
    const auto bytes = numel ? checkedMul(*numel, item) : std::nullopt;
    if (!bytes) {
        r.error = "its NumPy shape's element count overflows";
        return;
    }
    // Strides in elements: C order, or reversed for Fortran order. A zero dimension keeps
    // the product of the others from mattering, but it must not overflow either.
    r.strides.assign(r.shape.size(), 1);
    std::int64_t step = 1;
    for (std::size_t k = 0; k < r.shape.size(); ++k) {
        const std::size_t d = fortran ? k : r.shape.size() - 1 - k;
        r.strides[d] = step;
        const auto next = checkedMul(step, std::max<std::int64_t>(r.shape[d], 1));
        if (!next) {
            r.error = "its NumPy shape's strides overflow";
            return;
        }
        step = *next;
    }
    std::string_view data;
    if (!rawBytes(raw, data)) {
        r.error = "its NumPy data is a " + describe(raw) + ", not bytes";
        return;
    }
    if (std::uint64_t(data.size()) != std::uint64_t(*bytes)) {
        r.error = "its NumPy data holds " + std::to_string(data.size()) + " bytes but shape " + shapeText(r.shape) +
                  " of " + std::string(dtypeName(*et.dtype)) + " needs " + std::to_string(*bytes);
        return;
    }
    if (et.bigEndian && item > 1) {
        // Complex numbers swap each half on its own.
        const int unit = dtypeIsComplex(*et.dtype) ? item / 2 : item;
        std::string swapped(data);
        for (std::size_t i = 0; i + std::size_t(unit) <= swapped.size(); i += std::size_t(unit))
            for (int a = 0, b = unit - 1; a < b; ++a, --b)
                std::swap(swapped[i + std::size_t(a)], swapped[i + std::size_t(b)]);
        data = m.store(swapped);
    }
    Document& doc = m.document();
    StorageRef s;
    s.key = m.store("numpy/" + std::to_string(doc.storages.size()));
    s.typeName = kArrayObject;
    s.dtype = et.dtype;
    s.numel = *numel;
    s.location = "cpu";
    s.isInline = true;
    s.inlineIndex = std::uint32_t(doc.inlineData.size());
    doc.inlineData.push_back(data);
    r.storage = int(doc.storages.size());
    doc.storages.push_back(s);
}

/// Python's repr of a complex number: "(1+2j)", "(1-2j)".
std::string complexText(double re, double im)
{
    const std::string i = pythonFloatRepr(im, false);
    return "(" + pythonFloatRepr(re, false) + (i[0] == '-' ? "" : "+") + i + "j)";
}

template <typename V>
V load(const char* p, bool bigEndian)
{
    char b[sizeof(V)];
    std::memcpy(b, p, sizeof(V));
    if (bigEndian)
        for (std::size_t a = 0, z = sizeof(V) - 1; a < z; ++a, --z)
            std::swap(b[a], b[z]);
    V v;
    std::memcpy(&v, b, sizeof(V));
    return v;
}

}  // namespace

Value* numpyDtype(Machine& m, Value* args)
{
    Value* o = m.make(T::Object);
    o->text = kDtypeObject;
    o->args = args;
    return o;
}

Value* numpyReconstruct(Machine& m, Value* args)
{
    const Value* cls = Machine::item(args, 0);
    if (!cls || cls->type != T::Global || cls->text != kArrayObject)
        return m.opaque("numpy.core.multiarray._reconstruct of " + describe(cls), args);
    Value* o = m.make(T::Object);
    o->text = kArrayObject;
    o->args = args;
    return o;
}

bool numpyBuild(Machine& m, Value* obj, Value* state)
{
    if (!obj || obj->type != T::Object || obj->opaque || obj->text != kArrayObject)
        return false;
    // (version, shape, dtype, is_fortran, rawdata): the array becomes a tensor in place, so
    // every memo reference to it sees the tensor.
    TensorRef* r = m.newTensor();
    const Value* version = Machine::item(state, 0);
    const Value* fortran = Machine::item(state, 3);
    if (!state || state->type != T::Tuple || state->items.size() != 5 || !version || version->type != T::Int) {
        r->isArray = true;
        r->error = "its NumPy state is a " + describe(state) + ", not (version, shape, dtype, is_fortran, data)";
    } else {
        fillArray(m, *r, Machine::item(state, 1), Machine::item(state, 2),
                  fortran && fortran->type == T::Bool && fortran->boolean, Machine::item(state, 4));
    }
    obj->type = T::Tensor;
    obj->args = nullptr;
    obj->tensor = r;
    return true;
}

Value* numpyFromBuffer(Machine& m, Value* args)
{
    Value* t = m.make(T::Tensor);
    t->tensor = m.newTensor();
    const Value* order = Machine::item(args, 3);
    const bool fortran = order && order->type == T::String && order->text == "F";
    fillArray(m, *t->tensor, Machine::item(args, 2), Machine::item(args, 1), fortran, Machine::item(args, 0));
    return t;
}

Value* numpyScalar(Machine& m, Value* args)
{
    const Value* dtype = Machine::item(args, 0);
    const ElementType et = elementType(dtype);
    std::string_view data;
    auto text = [&](const std::string& s) {
        Value* v = m.make(T::String);
        v->text = m.store(s);
        return v;
    };
    if (!et.dtype)
        return text("<NumPy scalar: " + et.problem.substr(et.problem.find(' ') + 1) + ">");
    if (!rawBytes(Machine::item(args, 1), data) || data.size() != std::size_t(dtypeItemSize(*et.dtype)))
        return text("<NumPy scalar of " + std::string(dtypeName(*et.dtype)) + " whose data is not " +
                    std::to_string(dtypeItemSize(*et.dtype)) + " bytes>");
    const char* p = data.data();
    const bool be = et.bigEndian;
    auto real = [&](double d) {
        Value* v = m.make(T::Float);
        v->real = d;
        return v;
    };
    auto integer = [&](std::int64_t i) {
        Value* v = m.make(T::Int);
        v->integer = i;
        return v;
    };
    switch (*et.dtype) {
        case DType::Bool: {
            Value* v = m.make(T::Bool);
            v->boolean = p[0] != 0;
            return v;
        }
        case DType::Int8:
            return integer(load<std::int8_t>(p, be));
        case DType::Int16:
            return integer(load<std::int16_t>(p, be));
        case DType::Int32:
            return integer(load<std::int32_t>(p, be));
        case DType::Int64:
            return integer(load<std::int64_t>(p, be));
        case DType::UInt8:
            return integer(load<std::uint8_t>(p, be));
        case DType::UInt16:
            return integer(load<std::uint16_t>(p, be));
        case DType::UInt32:
            return integer(load<std::uint32_t>(p, be));
        case DType::UInt64: {
            const auto u = load<std::uint64_t>(p, be);
            if (u <= std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                return integer(std::int64_t(u));
            return text(std::to_string(u));
        }
        case DType::Float16:
            return real(halfToFloat(load<std::uint16_t>(p, be)));
        case DType::Float32:
            return real(load<float>(p, be));
        case DType::Float64:
            return real(load<double>(p, be));
        case DType::Complex64:
            return text(complexText(load<float>(p, be), load<float>(p + 4, be)));
        case DType::Complex128:
            return text(complexText(load<double>(p, be), load<double>(p + 8, be)));
        default:
            return text("<NumPy scalar>");
    }
}

}  // namespace paramscope::pickle::torchglobals
