// The pickle walk (walker.h), part three: what quantized TorchScript modules keep outside
// their tensor attributes, named as the eager quantized model's state_dict() names it, and
// meta tensors (shape and dtype, no data).
//
// - Quantized ConvNd pickles its __getstate__ tuple (in_channels, out_channels, kernel_size,
//   stride, padding, dilation, transposed, output_padding, groups, padding_mode, weight, bias,
//   scale, zero_point, training): conv.weight, conv.bias, conv.scale, conv.zero_point.
// - Quantized and dynamic Linear keep scale and zero_point as plain numbers (state_dict()
//   gives them as 0-d float32 / int64 tensors) and their weight and bias in a torchbind
//   LinearPackedParamsBase whose state is (weight, bias): state_dict() lists that tuple as
//   fc._packed_params._packed_params, so its tensors are `..._packed_params.0` and `.1`.
// - A whole eager quantized model pickled by torch.save keeps the same tuples, and its packed
//   params as torch.ScriptObject objects with the same states.
// - ConvNdPackedParamsBase torchbind objects (frozen models) hold (version "2", [config,
//   weight], [bias]) or (3, config ints, [weight, bias]): listed as <module>.weight / .bias.

#include "base/pythontext.h"
#include "base/textutil.h"
#include "formats/pickle/resolver.h"
#include "formats/torch/walker_p.h"

#include <cstring>

namespace paramscope::detail {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;

constexpr std::string_view kTorchbindQuantized = "__torch__.torch.classes.quantized.";

bool endsWith(std::string_view s, std::string_view tail)
{
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool isTensor(const Value* v)
{
    return v && v->type == VT::Tensor;
}

bool isNumber(const Value* v)
{
    return v && (v->type == VT::Float || (v->type == VT::Int && !v->bigInt));
}

double numberOf(const Value* v)
{
    return v->type == VT::Float ? v->real : double(v->integer);
}

/// torch.ops.quantized's unpack function for a conv module or packed params class: conv1d_,
/// conv2d_ or conv3d_unpack by the class name's dimension.
std::string convUnpack(std::string_view cls)
{
    for (const char* d : {"1d", "3d"})
        if (cls.find(d) != std::string_view::npos ||
            cls.find(std::string(d).replace(1, 1, "D")) != std::string_view::npos)
            return std::string("torch.ops.quantized.conv") + d + "_unpack";
    return "torch.ops.quantized.conv2d_unpack";
}

}  // namespace

std::string Walker::scriptPath(const std::string& name) const
{
    // "layer1.0.conv." -> {}.layer1, then getattr(..., "0") for a name that is no identifier;
    // inside an eager model pickled whole, from that model.
    std::string out = "{}";
    std::string dotted = name;
    if (m_quantizedRoot) {
        out += m_quantizedRoot->access();
        if (!m_quantizedRoot->name.empty())
            dotted = name.substr(std::min(name.size(), m_quantizedRoot->name.size() + 1));
    }
    std::size_t begin = 0;
    while (begin < dotted.size()) {
        std::size_t end = dotted.find('.', begin);
        if (end == std::string::npos)
            end = dotted.size();
        const std::string part = dotted.substr(begin, end - begin);
        out = isPythonIdentifier(part) ? out + "." + part : "getattr(" + out + ", " + pythonLiteral(part) + ")";
        begin = end + 1;
    }
    return out;
}

std::uint32_t Walker::expressionAccess(std::string expression)
{
    return newAccessBase(std::move(expression), 0, ModelIndex::AccessBase::Step::Expression);
}

void Walker::addScalarTensor(const std::string& name, DType dtype, double real, std::int64_t integer,
                             std::uint32_t access)
{
    // The bytes PyTorch's torch.tensor(number) holds: float32 for a scale, int64 for a zero point.
    std::string bytes(std::size_t(dtypeItemSize(dtype)), '\0');
    if (dtype == DType::Float32) {
        const float f = float(real);
        std::memcpy(bytes.data(), &f, sizeof f);
    } else {
        std::memcpy(bytes.data(), &integer, sizeof integer);
    }
    pickle::StorageRef s;
    s.key = m_doc.store("scalar/" + std::to_string(m_doc.storages.size()));
    s.typeName = "torch.tensor";
    s.dtype = dtype;
    s.numel = 1;
    s.location = "cpu";
    s.isInline = true;
    s.inlineIndex = std::uint32_t(m_doc.inlineData.size());
    m_doc.inlineData.push_back(m_doc.store(bytes));
    StorageInfo info;
    info.key = std::string(s.key);
    info.dtype = dtype;
    info.byteSize = bytes.size();
    const int index = int(m_doc.storages.size());
    m_doc.storages.push_back(s);
    m_storageInfo.push_back(info);
    m_storageProblem.emplace_back();
    m_storageUsable.push_back(true);
    m_storageRecord.emplace_back();
    pickle::TensorRef t;
    t.storage = index;
    addTensor(name, t, TensorKind::Tensor, access);
}

bool Walker::walkQuantizedState(const Value* m, const std::string& dotted)
{
    const Value* state = m->state;
    if (!state || state->type != VT::Tuple || state->items.size() < 14)
        return false;
    const Value* weight = state->items[10];
    const Value* bias = state->items[11];
    const Value* scale = state->items[12];
    const Value* zeroPoint = state->items[13];
    if (!isTensor(weight) || (bias && !isTensor(bias) && bias->type != VT::None) || !isNumber(scale) || !zeroPoint ||
        zeroPoint->type != VT::Int || zeroPoint->bigInt)
        return false;
    // Python: the module (TorchScript, or eager: 1.13's state_dict() of a loaded quantized model
    // fails) unpacks its packed params and keeps scale and zero_point as numbers.
    const std::string module = scriptPath(dotted);
    const auto path = [&](const char* what) {
        const std::string w(what);
        if (w == "weight" || w == "bias")
            return expressionAccess(convUnpack(m->text) + "(" + module + "._packed_params)[" +
                                    (w == "weight" ? "0" : "1") + "]");
        return expressionAccess("torch.tensor(" + module + "." + w + ")");
    };
    addTensor(dotted + "weight", *weight->tensor, TensorKind::Tensor, path("weight"));
    if (isTensor(bias))
        addTensor(dotted + "bias", *bias->tensor, TensorKind::Tensor, path("bias"));
    addScalarTensor(dotted + "scale", DType::Float32, numberOf(scale), 0, path("scale"));
    addScalarTensor(dotted + "zero_point", DType::Int64, 0, zeroPoint->integer, path("zero_point"));
    return true;
}

bool convPackedTensors(const Value* state, const Value*& weight, const Value*& bias)
{
    weight = bias = nullptr;
    if (!state || (state->type != VT::Tuple && state->type != VT::List) || state->items.size() != 3)
        return false;
    const Value* version = state->items[0];
    const auto at = [](const Value* list, std::size_t i) { return pickle::Machine::item(list, i); };
    if (version && version->type == VT::String && version->text == "2") {
        weight = at(state->items[1], 1);
        bias = at(state->items[2], 0);
    } else if (version && version->type == VT::Int && version->integer == 3) {
        weight = at(state->items[2], 0);
        bias = at(state->items[2], 1);
    }
    if (!isTensor(bias))
        bias = nullptr;
    if (!isTensor(weight))
        weight = nullptr;
    return weight != nullptr;
}

void Walker::addPackedParams(std::string_view cls, const Value* state, const std::string& name)
{
    if (!state || (state->type != VT::Tuple && state->type != VT::List)) {
        m_index.warnings << QStringLiteral("'%1' (%2) holds no state ParamScope can read")
                                .arg(utf8ToQString(name), utf8ToQString(cls));
        return;
    }
    const Value* convWeight = nullptr;
    const Value* convBias = nullptr;
    const bool conv = convPackedTensors(state, convWeight, convBias);
    if (endsWith(cls, "LinearPackedParamsBase") || !conv) {
        // (weight, bias): the tuple state_dict() lists under this name.
        for (std::size_t i = 0; i < state->items.size(); ++i)
            if (isTensor(state->items[i]))
                addTensor(name + "." + std::to_string(i), *state->items[i]->tensor, TensorKind::Tensor,
                          packedAccess("torch.ops.quantized.linear_unpack", name, i));
        return;
    }
    const Value* weight = convWeight;
    const Value* bias = convBias;
    if (!isTensor(weight)) {
        m_index.warnings << QStringLiteral("'%1' (%2) stores its weights in a layout ParamScope does not know")
                                .arg(utf8ToQString(name), utf8ToQString(cls));
        return;
    }
    const auto dot = name.rfind('.');
    const std::string owner = dot == std::string::npos ? std::string() : name.substr(0, dot + 1);
    addTensor(owner + "weight", *weight->tensor, TensorKind::Tensor, packedAccess(convUnpack(cls), name, 0));
    if (isTensor(bias))
        addTensor(owner + "bias", *bias->tensor, TensorKind::Tensor, packedAccess(convUnpack(cls), name, 1));
}

std::uint32_t Walker::packedAccess(const std::string& unpack, const std::string& packed, std::size_t item)
{
    if (m_options.unnamedConstants)
        return accessBase(Place{});
    return expressionAccess(unpack + "(" + scriptPath(packed) + ")[" + std::to_string(item) + "]");
}

void Walker::addQuantizedAttributes(const Value* m, const Value* state, const std::string& dotted)
{
    const bool quantizedModule = m->text.find(".quantized.") != std::string_view::npos;
    const Value* scale = state->get("scale");
    const Value* zeroPoint = state->get("zero_point");
    if (quantizedModule && isNumber(scale) && zeroPoint && zeroPoint->type == VT::Int && !zeroPoint->bigInt) {
        const auto path = [&](const char* what) {
            return expressionAccess("torch.tensor(" + scriptPath(dotted) + "." + what + ")");
        };
        addScalarTensor(dotted + "scale", DType::Float32, numberOf(scale), 0, path("scale"));
        addScalarTensor(dotted + "zero_point", DType::Int64, 0, zeroPoint->integer, path("zero_point"));
    }
    for (std::size_t i = 0; i < state->dictSize(); ++i) {
        const Value* k = state->key(i);
        const Value* v = state->value(i);
        if (!k || k->type != VT::String || !v || v->type != VT::Object)
            continue;
        std::string_view cls = v->text;
        const Value* packed = v->state;
        if (quantizedModule && cls == "torch.ScriptObject") {
            // An eager model pickled whole: (the torchbind state, its qualified class name).
            const Value* name = pickle::Machine::item(packed, 1);
            if (!name || name->type != VT::String || packed->items.size() != 2)
                continue;
            cls = name->text;
            packed = packed->items[0];
        } else if (v->opaque) {
            continue;
        }
        if (cls.substr(0, kTorchbindQuantized.size()) == kTorchbindQuantized && endsWith(cls, "PackedParamsBase"))
            addPackedParams(cls, packed, dotted + std::string(k->text));
    }
}

bool Walker::addMetaTensor(const std::string& name, const pickle::TensorRef& t, TensorKind kind, std::uint32_t access)
{
    if (!t.dtype) {
        skip(name, QStringLiteral("it is a meta tensor of unknown dtype"));
        return false;
    }
    if (t.shape.size() != t.strides.size() || t.shape.size() > 64) {
        skip(name, QStringLiteral("it is a meta tensor whose size %1 and stride %2 do not match")
                       .arg(formatShape(t.shape), formatShape(t.strides)));
        return false;
    }
    for (std::size_t d = 0; d < t.shape.size(); ++d)
        if (t.shape[d] < 0 || t.strides[d] < 0) {
            skip(name, QStringLiteral("it is a meta tensor with a negative size or stride (%1, %2)")
                           .arg(formatShape(t.shape), formatShape(t.strides)));
            return false;
        }
    if (m_metaTensors++ == 0)
        m_index.warnings << QStringLiteral(
                                "'%1' is a meta tensor, as may be others: the file holds the shape and dtype of "
                                "meta tensors, not their data")
                                .arg(utf8ToQString(name));
    TensorEntry e;
    e.name = name;
    e.kind = kind;
    e.dtype = *t.dtype;
    e.shape = t.shape;
    e.strides = t.strides;
    e.requiresGrad = t.requiresGrad;
    e.storage = -1;  // no data: ModelIndex::view() says so
    pushEntry(std::move(e), access);
    return true;
}

}  // namespace paramscope::detail
