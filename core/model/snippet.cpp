#include "model/snippet.h"

#include "base/textutil.h"
#include "model/modelindex.h"

namespace paramscope {

namespace {

enum class Loader { TorchLoad, JitLoad, SafetensorsLoad };

Loader loaderFor(ModelFormat f)
{
    switch (f) {
        case ModelFormat::TorchScript:
        case ModelFormat::TorchScriptMobile:
            return Loader::JitLoad;
        case ModelFormat::Safetensors:
        case ModelFormat::ShardedSafetensors:
            return Loader::SafetensorsLoad;
        case ModelFormat::TorchSave:
        case ModelFormat::TorchSaveLegacy:
        case ModelFormat::TorchSaveTar:
        case ModelFormat::Unknown:
            break;
    }
    return Loader::TorchLoad;
}

QString variableFor(Loader l)
{
    switch (l) {
        case Loader::JitLoad:
            return QStringLiteral("m");
        case Loader::SafetensorsLoad:
            return QStringLiteral("sd");
        case Loader::TorchLoad:
            break;
    }
    return QStringLiteral("obj");
}

bool inRange(const ModelIndex& index, int entry)
{
    return entry >= 0 && size_t(entry) < index.entries.size();
}

/// The file the entry is read from: its shard, or the model file.
QString fileOf(const ModelIndex& index, const TensorEntry& e)
{
    if (e.sourceFile >= 0 && e.sourceFile < index.sourceFiles.size())
        return index.sourceFiles[e.sourceFile];
    return index.filePath;
}

}  // namespace

QString pythonLoadingLines(const ModelIndex& index, int entry)
{
    if (!inRange(index, entry))
        return {};
    const TensorEntry& e = index.entries[size_t(entry)];
    const QString path = pythonStringLiteral(fileOf(index, e));
    switch (loaderFor(index.format)) {
        case Loader::JitLoad:
            return QStringLiteral("import torch\nm = torch.jit.load(%1, map_location=\"cpu\")").arg(path);
        case Loader::SafetensorsLoad:
            return QStringLiteral("from safetensors.torch import load_file\nsd = load_file(%1)").arg(path);
        case Loader::TorchLoad:
            break;
    }
    // torch.load's weights_only mode (the default from PyTorch 2.6) refuses pickled classes
    // other than tensors and plain containers, torch.nn modules included; loading them
    // imports and runs their code.
    QString pickled;
    if (!index.foreignClasses.isEmpty())
        pickled =
            index.foreignClasses.first() + (index.foreignClasses.size() > 1 ? QStringLiteral(", ...") : QString());
    else if (!index.moduleTypes.empty())
        pickled =
            utf8ToQString(index.moduleTypes.count("") ? index.moduleTypes.at("") : index.moduleTypes.begin()->second) +
            (index.moduleTypes.size() > 1 ? QStringLiteral(", ...") : QString());
    if (!pickled.isEmpty())
        return QStringLiteral(
                   "import torch\n"
                   "# the file pickles classes (%1): weights_only=False imports and runs their code\n"
                   "obj = torch.load(%2, map_location=\"cpu\", weights_only=False)")
            .arg(escapeForTerminal(pickled), path);
    return QStringLiteral("import torch\nobj = torch.load(%1, map_location=\"cpu\")").arg(path);
}

QString pythonExpression(const ModelIndex& index, int entry)
{
    if (!inRange(index, entry))
        return {};
    const TensorEntry& e = index.entries[size_t(entry)];
    const Loader loader = loaderFor(index.format);
    const QString var = variableFor(loader);
    if (const std::string path = index.pythonPath(entry, var.toStdString()); !path.empty())
        return utf8ToQString(path);
    const QString name = pythonStringLiteral(e.name);
    // ScriptModules refuse nn.Module's get_parameter and get_buffer, and named_parameters()
    // lists a tied tensor under its first name only: state_dict() has every name.
    if (loader == Loader::JitLoad)
        return QStringLiteral("m.state_dict()[%1]").arg(name);
    return QStringLiteral("%1[%2]").arg(var, name);
}

QString pythonSnippet(const ModelIndex& index, int entry)
{
    if (!inRange(index, entry))
        return {};
    return pythonLoadingLines(index, entry) + QStringLiteral("\nt = ") + pythonExpression(index, entry);
}

}  // namespace paramscope
