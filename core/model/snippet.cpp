#include "model/snippet.h"

#include "base/textutil.h"
#include "model/modelindex.h"

namespace paramscope {

QString pythonSnippet(const ModelIndex& index, int entry)
{
    if (entry < 0 || size_t(entry) >= index.entries.size())
        return {};
    const TensorEntry& e = index.entries[size_t(entry)];
    switch (e.kind) {
        case TensorKind::Parameter:
            return QStringLiteral("model.get_parameter(%1)").arg(pythonStringLiteral(e.name));
        case TensorKind::Buffer:
            return QStringLiteral("model.get_buffer(%1)").arg(pythonStringLiteral(e.name));
        case TensorKind::Tensor:
        case TensorKind::Array:
            return QStringLiteral("state_dict[%1]").arg(pythonStringLiteral(e.name));
    }
    return {};
}

}  // namespace paramscope
