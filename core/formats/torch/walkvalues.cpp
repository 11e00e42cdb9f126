// The pickle walk (walker.h), part two: torch.save values. Containers are walked by key
// path; a pickled nn.Module (anywhere in the graph) is walked as nn.Module.state_dict()
// walks it; whatever is not a tensor becomes a metadata entry; torch.optim state is linked to
// the parameters it belongs to. No class named by the file is imported or called.

#include "base/pythontext.h"
#include "base/textutil.h"
#include "formats/pickle/resolver.h"
#include "formats/torch/walker_p.h"

#include <QLocale>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace paramscope::detail {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;

constexpr std::size_t kMaxMetadataEntries = 200'000;
constexpr std::size_t kMaxMetadataBytes = std::size_t(32) << 20;
constexpr int kValueChars = 200;           // shown value before it is cut
constexpr std::size_t kBigContainer = 64;  // items past which a container without tensors is summarised

QString qs(std::string_view s)
{
    return utf8ToQString(s);
}

/// Python's repr() of a str: single quotes unless the text holds ' and no ".
std::string strRepr(std::string_view utf8)
{
    const bool dq = utf8.find('\'') != std::string_view::npos && utf8.find('"') == std::string_view::npos;
    const char quote = dq ? '"' : '\'';
    std::string out(1, quote);
    static const char* hex = "0123456789abcdef";
    for (const char ch : utf8) {
        const auto c = std::uint8_t(ch);
        if (c == '\\' || c == std::uint8_t(quote)) {
            out += '\\';
            out += ch;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;  // UTF-8 passes through, as Python 3 prints printable text
        }
    }
    return out + quote;
}

std::string keyName(const Value* k)
{
    if (!k)
        return "?";
    switch (k->type) {
        case VT::String:
            return std::string(k->text);
        case VT::Int:
            return k->bigInt ? std::string("<int>") : std::to_string(k->integer);
        case VT::Bool:
            return k->boolean ? "True" : "False";
        case VT::None:
            return "None";
        case VT::Float:
            return QString::number(k->real, 'g', QLocale::FloatingPointShortest).toStdString();
        default:
            return "<" + pickle::describe(k) + ">";
    }
}

/// The subscript that reaches a dict value in Python: ["name"], [17], [True].
std::string subscript(const Value* k)
{
    if (k && k->type == VT::String)
        return "[" + pythonLiteral(k->text) + "]";
    if (k && k->type == VT::Float)
        return "[" + pythonFloatRepr(k->real) + "]";
    return "[" + keyName(k) + "]";
}

bool isScalar(const Value* v)
{
    if (!v)
        return true;
    switch (v->type) {
        case VT::None:
        case VT::Bool:
        case VT::Int:
        case VT::Float:
        case VT::String:
        case VT::Bytes:
        case VT::Global:
            return true;
        default:
            return false;
    }
}

std::string typeOf(const Value* v)
{
    if (!v)
        return "NoneType";
    switch (v->type) {
        case VT::None:
            return "NoneType";
        case VT::Bool:
            return "bool";
        case VT::Int:
            return "int";
        case VT::Float:
            return "float";
        case VT::String:
            return "str";
        case VT::Bytes:
            return "bytes";
        case VT::Tuple:
            return "tuple";
        case VT::List:
            return "list";
        case VT::Dict:
            return "dict";
        case VT::Set:
            return "set";
        case VT::Global:
            return "global";
        case VT::Object:
            return std::string(v->text);
        case VT::Storage:
            return "storage";
        case VT::Tensor:
            return "torch.Tensor";
    }
    return "object";
}

std::string cut(std::string s, std::size_t length, const char* unit)
{
    if (s.size() <= std::size_t(kValueChars))
        return s;
    std::size_t end = kValueChars;
    while (end > 0 && (std::uint8_t(s[end]) & 0xc0) == 0x80)  // not inside a UTF-8 sequence
        --end;
    return s.substr(0, end) + "… (" + formatCount(std::int64_t(length)).toStdString() + " " + unit + ")";
}

std::string repr(const Value* v, int depth = 0);

/// "[1, 2, 3]", cut after about kValueChars characters with the item count.
std::string itemsRepr(const Value* v, int depth)
{
    const bool dict = v->type == VT::Dict;
    const char* open = dict || v->type == VT::Set ? "{" : v->type == VT::Tuple ? "(" : "[";
    const char* close = dict || v->type == VT::Set ? "}" : v->type == VT::Tuple ? ")" : "]";
    const std::size_t n = dict ? v->dictSize() : v->items.size();
    std::string s = open;
    for (std::size_t i = 0; i < n; ++i) {
        if (i)
            s += ", ";
        if (s.size() > std::size_t(kValueChars)) {
            s += "… (" + formatCount(std::int64_t(n)).toStdString() + " items)";
            return s + close;
        }
        s += dict ? repr(v->key(i), depth + 1) + ": " + repr(v->value(i), depth + 1) : repr(v->items[i], depth + 1);
    }
    if (v->type == VT::Tuple && n == 1)
        s += ",";
    return s + close;
}

std::string repr(const Value* v, int depth)
{
    if (!v)
        return "None";
    switch (v->type) {
        case VT::None:
            return "None";
        case VT::Bool:
            return v->boolean ? "True" : "False";
        case VT::Int:
            return v->bigInt ? std::string("<an integer beyond 64 bits>") : std::to_string(v->integer);
        case VT::Float:
            return pythonFloatRepr(v->real);
        case VT::String: {
            const QString text = utf8ToQString(v->text);
            return cut(strRepr(v->text), std::size_t(text.size()), "characters");
        }
        case VT::Bytes:
            return "<" + formatCount(std::int64_t(v->text.size())).toStdString() + " bytes>";
        case VT::Global:
            return std::string(v->text);
        case VT::Tuple:
        case VT::List:
        case VT::Set:
        case VT::Dict:
            return depth > 2 ? std::string("…") : itemsRepr(v, depth);
        case VT::Tensor: {
            const auto& t = *v->tensor;
            return "tensor " + formatShape(t.shape).toStdString();
        }
        case VT::Object: {
            const auto dot = v->text.rfind('.');
            return "<" + std::string(dot == std::string_view::npos ? v->text : v->text.substr(dot + 1)) + ">";
        }
        case VT::Storage:
            return "<storage>";
    }
    return "?";
}

/// Whether `v` holds a tensor within `budget` values (an exhausted budget counts as yes).
bool holdsTensor(const Value* v, int depth, int& budget)
{
    if (!v || --budget < 0)
        return budget < 0;
    switch (v->type) {
        case VT::Tensor:
            return true;
        case VT::Tuple:
        case VT::List:
        case VT::Set:
        case VT::Dict:
            if (depth > 16)
                return true;
            for (const Value* i : v->items)
                if (holdsTensor(i, depth + 1, budget))
                    return true;
            return false;
        case VT::Object:
            return depth > 16 || holdsTensor(v->state, depth + 1, budget) || holdsTensor(v->args, depth + 1, budget);
        default:
            return false;
    }
}

/// The BUILD state of an nn.Module: its __dict__, with _parameters, _buffers and _modules.
bool isModuleState(const Value* state)
{
    return state && state->type == VT::Dict && state->get("_parameters") && state->get("_modules");
}

bool isTorchClass(std::string_view cls)
{
    return cls.substr(0, 6) == "torch." || cls.substr(0, 10) == "__torch__.";
}

}  // namespace

bool Place::flat() const
{
    return step == Step::Key && parent && parent->step == Step::Root && key && key->type == VT::String;
}

std::string Place::access() const
{
    std::vector<const Place*> chain;
    for (const Place* p = this; p && p->step != Step::Root; p = p->parent) {
        if (p->step == Step::Opaque)
            return {};
        chain.push_back(p);
    }
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const Place& p = **it;
        if (p.step == Step::Key)
            out += subscript(p.key);
        else if (p.step == Step::Index)
            out += "[" + std::to_string(p.index) + "]";
        else if (isPythonIdentifier(p.key ? p.key->text : std::string_view()))
            out += "." + std::string(p.key->text);
        else
            out += ".__dict__" + subscript(p.key);
    }
    return out;
}

std::uint32_t Walker::newAccessBase(std::string prefix, std::uint32_t nameOffset, ModelIndex::AccessBase::Step step)
{
    m_index.accessBases.push_back({std::move(prefix), nameOffset, step});
    return std::uint32_t(m_index.accessBases.size());
}

std::uint32_t Walker::accessBase(const Place& at)
{
    if (m_options.unnamedConstants)
        return expressionAccess(
            "None  # a frozen model's constant: TorchScript gives it no Python name ({}.code "
            "shows where it is used)");
    if (at.flat())
        return 0;
    if (at.step == Place::Step::Root)
        return expressionAccess("{}");  // the loaded object is the tensor
    const Place* parent = at.parent;
    if (at.step == Place::Step::Key && parent && at.key && at.key->type == VT::String) {
        if (m_lastContainerBase == 0 || m_lastContainerPlace != parent || m_lastContainer != parent->name) {
            m_lastContainerPlace = parent;
            const std::uint32_t offset = parent->name.empty() ? 0 : std::uint32_t(parent->name.size() + 1);
            m_lastContainer = parent->name;
            m_lastContainerBase = newAccessBase(parent->access(), offset, ModelIndex::AccessBase::Step::Subscript);
        }
        return m_lastContainerBase;
    }
    return newAccessBase(at.access(), 0, ModelIndex::AccessBase::Step::Exact);
}

std::uint32_t Walker::moduleAccessBase(const Place& root, TensorKind kind)
{
    if (m_lastModule != root.name || (m_lastModuleBases[0] == 0 && m_lastModuleBases[1] == 0)) {
        m_lastModule = root.name;
        m_lastModuleBases[0] = m_lastModuleBases[1] = 0;
    }
    const int k = kind == TensorKind::Buffer ? 1 : 0;
    if (m_lastModuleBases[k] == 0) {
        const std::uint32_t offset = root.name.empty() ? 0 : std::uint32_t(root.name.size() + 1);
        m_lastModuleBases[k] =
            newAccessBase(root.access(), offset,
                          k ? ModelIndex::AccessBase::Step::GetBuffer : ModelIndex::AccessBase::Step::GetParameter);
    }
    return m_lastModuleBases[k];
}

void Walker::noteForeignClass(std::string_view name)
{
    if (isTorchClass(name) || name.substr(0, 12) == "collections." || name.substr(0, 9) == "builtins." ||
        name.substr(0, 12) == "__builtin__.")
        return;
    if (m_foreign.insert(std::string(name)).second)
        m_index.foreignClasses << qs(name);
}

void Walker::addMetadata(const std::string& name, std::string type, std::string value)
{
    if (m_metadataFull)
        return;
    if (m_index.metadataEntries.size() >= kMaxMetadataEntries || m_metadataBytes > kMaxMetadataBytes) {
        m_metadataFull = true;
        m_index.warnings << QStringLiteral(
                                "the file holds more than %1 values other than tensors: only the first are "
                                "listed under Metadata")
                                .arg(formatCount(std::int64_t(m_index.metadataEntries.size())));
        return;
    }
    MetadataEntry e;
    e.name = name.empty() ? std::string("(value)") : name;
    e.type = std::move(type);
    e.value = std::move(value);
    m_metadataBytes += e.name.size() + e.type.size() + e.value.size();
    m_index.metadataEntries.push_back(std::move(e));
}

void Walker::addMetadata(const std::string& name, const Value* v)
{
    addMetadata(name, typeOf(v), repr(v));
}

Status Walker::walkValue(const Value* v, const Place& at, int depth)
{
    if (depth > kMaxDepth)
        return tooDeep(at.name);
    if (auto st = visit(at.name); !st)
        return st;
    if (!v)
        return {};
    switch (v->type) {
        case VT::Tensor: {
            const pickle::TensorRef& t = *v->tensor;
            if (m_outsideStateDict > 0) {
                addMetadata(at.name, "torch.Tensor",
                            "tensor " + formatShape(t.shape).toStdString() + " (an attribute, not in state_dict())");
                return {};
            }
            const TensorKind kind = t.isArray       ? TensorKind::Array
                                    : t.isParameter ? TensorKind::Parameter
                                                    : TensorKind::Tensor;
            addTensor(at.name.empty() ? std::string("tensor") : at.name, t, kind, accessBase(at));
            return {};
        }
        case VT::Dict:
        case VT::List:
        case VT::Tuple:
        case VT::Set:
            return walkContainer(v, at, depth);
        case VT::Object:
            return walkObject(v, at, depth);
        default:
            addMetadata(at.name, v);
            return {};
    }
}

Status Walker::walkContainer(const Value* v, const Place& at, int depth)
{
    if (v->type != VT::Dict) {
        if (v->items.empty() || std::all_of(v->items.begin(), v->items.end(), isScalar)) {
            addMetadata(at.name, v);
            return {};
        }
        int budget = 100000;
        if (v->items.size() > kBigContainer && !holdsTensor(v, 0, budget)) {
            addMetadata(at.name, typeOf(v), formatCount(std::int64_t(v->items.size())).toStdString() + " items");
            return {};
        }
        if (childNameTooLong(at.name, "01234567890123456789"))
            return {};
        for (size_t i = 0; i < v->items.size(); ++i) {
            Place child{join(at.name, std::to_string(i)), &at,
                        v->type == VT::Set ? Place::Step::Opaque : Place::Step::Index, nullptr, i};
            if (auto st = walkValue(v->items[i], child, depth + 1); !st)
                return st;
        }
        return {};
    }
    if (v->dictSize() == 0) {
        addMetadata(at.name, v);
        return {};
    }
    const std::size_t optimizersBefore = m_optimizers.size();
    noteOptimizer(v, at);
    const bool optimizerHere = m_optimizers.size() > optimizersBefore;
    // A dict of tensors is one model's tensors as torch.optim may number them.
    bool allTensors = true;
    for (size_t i = 0; i < v->dictSize() && allTensors; ++i)
        allTensors = v->value(i) && v->value(i)->type == VT::Tensor;
    const std::size_t begin = m_index.entries.size();
    for (size_t i = 0; i < v->dictSize(); ++i) {
        const Value* k = v->key(i);
        if (k && k->type == VT::String && childNameTooLong(at.name, k->text))
            continue;
        Place child{join(at.name, keyName(k)), &at, Place::Step::Key, k};
        if (auto st = walkValue(v->value(i), child, depth + 1); !st)
            return st;
    }
    if (allTensors && m_outsideStateDict == 0)
        m_parameterSets.push_back({begin, m_index.entries.size(), false});
    if (optimizerHere)
        m_optimizers[optimizersBefore].end = m_index.entries.size();
    return {};
}

Status Walker::walkObject(const Value* v, const Place& at, int depth)
{
    const Value* state = v->state;
    if (isModuleState(state))
        return walkPickledModule(v, at, at, depth);
    if (v->opaque)
        noteForeignClass(v->text);
    // The object itself: its class and a Python-like summary of its scalar attributes.
    const auto dot = v->text.rfind('.');
    std::string summary(dot == std::string_view::npos ? v->text : v->text.substr(dot + 1));
    summary += "(";
    bool first = true;
    const auto addPart = [&](const std::string& part) {
        if (summary.size() > std::size_t(kValueChars))
            return;
        summary += (first ? "" : ", ") + part;
        first = false;
    };
    if (state && state->type == VT::Dict) {
        for (size_t i = 0; i < state->dictSize(); ++i)
            if (isScalar(state->value(i)))
                addPart(keyName(state->key(i)) + "=" + repr(state->value(i)));
    } else if (v->args && (v->args->type == VT::Tuple || v->args->type == VT::List)) {
        for (const Value* a : v->args->items)
            if (isScalar(a))
                addPart(repr(a));
    }
    addMetadata(at.name, std::string(v->text),
                cut(summary + (summary.size() > std::size_t(kValueChars) ? "…)" : ")"), summary.size(), "characters"));
    // Then each attribute (or what the object was built from) under its own name.
    const Value* attributes = state;
    if (state && state->type == VT::Tuple && state->items.size() == 2 && state->items[0] &&
        state->items[0]->type == VT::Dict)
        attributes = state->items[0];  // (__dict__, slots)
    if (attributes && attributes->type == VT::Dict) {
        for (size_t i = 0; i < attributes->dictSize(); ++i) {
            const Value* k = attributes->key(i);
            const Value* value = attributes->value(i);
            if (!k || (k->type == VT::String && childNameTooLong(at.name, k->text)))
                continue;
            const std::string key = keyName(k);
            Place child{join(at.name, key), &at, Place::Step::Attribute, k};
            if (auto st = walkValue(value, child, depth + 1); !st)
                return st;
        }
    } else if (state && !isScalar(state)) {
        if (auto st = walkValue(state, Place{join(at.name, "__state__"), &at, Place::Step::Opaque}, depth + 1); !st)
            return st;
    }
    int budget = 100000;
    if (v->args && (!v->opaque || holdsTensor(v->args, 0, budget)) && !isScalar(v->args) &&
        !std::all_of(v->args->items.begin(), v->args->items.end(), isScalar))
        if (auto st = walkValue(v->args, Place{join(at.name, "__args__"), &at, Place::Step::Opaque}, depth + 1); !st)
            return st;
    return {};
}

Status Walker::walkPickledModule(const Value* m, const Place& at, const Place& root, int depth)
{
    if (depth > kMaxDepth)
        return tooDeep(at.name);
    if (auto st = visit(at.name); !st)
        return st;
    const std::string cls(m->text);
    m_index.moduleTypes.emplace(at.name, cls);
    noteForeignClass(cls);
    const Value* state = m->state;
    const Value* parameters = state->get("_parameters");
    const Value* buffers = state->get("_buffers");
    const Value* modules = state->get("_modules");
    const Value* nonPersistent = state->get("_non_persistent_buffers_set");
    const std::size_t begin = m_index.entries.size();
    const auto tensors = [&](const Value* dict, TensorKind kind) {
        if (!dict || dict->type != VT::Dict)
            return;
        for (size_t i = 0; i < dict->dictSize(); ++i) {
            const Value* k = dict->key(i);
            const Value* t = dict->value(i);
            if (!k || k->type != VT::String || !t || t->type != VT::Tensor)
                continue;  // None: a parameter or buffer that is not set (state_dict() leaves it out)
            if (kind == TensorKind::Buffer && nonPersistent &&
                std::any_of(nonPersistent->items.begin(), nonPersistent->items.end(),
                            [&](const Value* n) { return n && n->type == VT::String && n->text == k->text; }))
                continue;  // a non-persistent buffer: not in state_dict()
            if (childNameTooLong(at.name, k->text))
                continue;
            const std::string key(k->text);
            if (m_outsideStateDict > 0) {
                addMetadata(join(at.name, key), "torch.Tensor",
                            "tensor " + formatShape(t->tensor->shape).toStdString() + " (not in state_dict())");
                continue;
            }
            addTensor(join(at.name, key), *t->tensor, kind, moduleAccessBase(root, kind));
        }
    };
    tensors(parameters, TensorKind::Parameter);
    tensors(buffers, TensorKind::Buffer);
    const Place* outerRoot = m_quantizedRoot;
    m_quantizedRoot = &root;
    if (m_outsideStateDict == 0)
        addQuantizedAttributes(m, state, at.name.empty() ? std::string() : at.name + ".");
    // A model's own settings (the attributes of classes outside torch: a YOLO model's yaml,
    // names, stride); torch.nn's modules keep only their constructor arguments there.
    if (!isTorchClass(cls)) {
        ++m_outsideStateDict;
        for (size_t i = 0; i < state->dictSize(); ++i) {
            const Value* k = state->key(i);
            if (!k || k->type != VT::String || k->text.empty() || k->text[0] == '_' || k->text == "training")
                continue;
            if (childNameTooLong(at.name, k->text))
                continue;
            const std::string key(k->text);
            Place child{join(at.name, key), &at, Place::Step::Attribute, k};
            if (auto st = walkValue(state->value(i), child, depth + 1); !st) {
                --m_outsideStateDict;
                return st;
            }
        }
        --m_outsideStateDict;
    }
    if (modules && modules->type == VT::Dict) {
        for (size_t i = 0; i < modules->dictSize(); ++i) {
            const Value* k = modules->key(i);
            const Value* child = modules->value(i);
            if (!k || k->type != VT::String || !child || child->type != VT::Object)
                continue;  // None: an unset submodule
            if (childNameTooLong(at.name, k->text))
                continue;
            if (!isModuleState(child->state)) {
                // A quantized ConvNd pickles its __getstate__ tuple instead of its __dict__.
                if (m_outsideStateDict == 0 && walkQuantizedState(child, join(at.name, std::string(k->text)) + "."))
                    m_index.moduleTypes.emplace(join(at.name, std::string(k->text)), std::string(child->text));
                continue;
            }
            const Status st = walkPickledModule(
                child, Place{join(at.name, std::string(k->text)), &at, Place::Step::Opaque}, root, depth + 1);
            m_quantizedRoot = &root;
            if (!st) {
                m_quantizedRoot = outerRoot;
                return st;
            }
        }
    }
    m_quantizedRoot = outerRoot;
    if (&at == &root && m_outsideStateDict == 0)
        m_parameterSets.push_back({begin, m_index.entries.size(), true});
    return {};
}

void Walker::explainNoTensors()
{
    const Value* root = m_doc.root;
    QString why;
    if (!root) {
        why = QStringLiteral("it holds nothing");
    } else if (root->type == VT::Dict && root->get("state") && root->get("param_groups")) {
        why = QStringLiteral(
            "it is an optimizer's state (torch.optim) without per-parameter state: only its "
            "settings, listed under Metadata");
    } else if (root->type == VT::Dict &&
               (root->get("base_lrs") || root->get("last_epoch") || root->get("_step_count"))) {
        why = QStringLiteral(
            "it is a learning-rate scheduler's state (torch.optim.lr_scheduler): only numbers, listed "
            "under Metadata");
    } else if (root->type == VT::Object && root->text == "argparse.Namespace") {
        why = QStringLiteral("it holds training arguments (argparse.Namespace), listed under Metadata");
    } else if (root->type == VT::Object) {
        why = QStringLiteral("it holds a %1 object without tensors; its attributes are listed under Metadata")
                  .arg(qs(root->text));
    } else {
        why = QStringLiteral("it holds a %1 without tensors, listed under Metadata").arg(qs(typeOf(root)));
    }
    m_index.noTensorsReason = why;
}

}  // namespace paramscope::detail
