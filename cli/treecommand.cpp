// paramscope-cli tree FILE [--depth N] [--natural-sort]: the module tree with element
// counts and sizes per module and the class of each module the file names, drawn with box
// characters in aligned columns.
#include "cli/commandline_p.h"
#include "cli/commandoutput.h"
#include "model/modeltree.h"

#include <QFileInfo>

#include <algorithm>
#include <limits>

namespace paramscope::cli {

void writeTree(const ModelIndex& index, const ModelTree& tree, const QString& fileName, QTextStream& out, int maxDepth)
{
    // " (Conv2d)" for a module whose class the file names, as torchinfo shows it.
    const auto typeSuffix = [&](const std::string& path) {
        const auto it = index.moduleTypes.find(path);
        if (it == index.moduleTypes.end() || it->second.empty())
            return QString();
        return QStringLiteral(" (") + escapeForTerminal(shortClassName(it->second)) + QLatin1Char(')');
    };
    struct Row {
        QString label, detail, elements, size;
    };
    std::vector<Row> rows;
    const auto t = index.totals();
    rows.push_back({shown(fileName) + typeSuffix(std::string()), modelFormatName(index.format),
                    formatSize(t.numel, false), formatSize(t.bytes, true)});
    // Depth-first, iterative (single-child chains can be deep).
    std::vector<std::pair<int, QString>> stack;  // node, indent prefix for its children
    auto pushChildren = [&](int node, const QString& prefix) {
        const auto& ch = tree.node(node).children;
        for (size_t k = ch.size(); k-- > 0;)
            stack.emplace_back(ch[k], prefix);
    };
    pushChildren(ModelTree::root(), QString());
    while (!stack.empty()) {
        auto [id, prefix] = stack.back();
        stack.pop_back();
        const TreeNode& n = tree.node(id);
        const TreeNode& parent = tree.node(n.parent);
        const bool lastChild = n.row == int(parent.children.size()) - 1;
        const int d = tree.depth(id);
        if (d > maxDepth)  // tensors that are also modules (names 'a' and 'a.b') included
            continue;
        Row r;
        r.label = prefix + (lastChild ? QStringLiteral("└─ ") : QStringLiteral("├─ ")) + shown(n.name());
        if (n.isModule())
            r.label += typeSuffix(std::string(n.fullName));
        if (n.isTensor()) {
            const auto& e = index.entries[size_t(n.entry)];
            r.detail = QStringLiteral("%1 %2 %3")
                           .arg(QLatin1String(tensorKindName(e.kind).data()), QLatin1String(dtypeName(e.dtype).data()),
                                formatShape(e.shape));
            if (e.sharedWith >= 0)
                r.detail += QStringLiteral(" = ") + shown(index.entries[size_t(e.sharedWith)].name);
        } else {
            const int count = n.parameters + n.buffers + n.tensors;
            r.detail = QString::number(count) + (count == 1 ? QStringLiteral(" tensor") : QStringLiteral(" tensors"));
        }
        if (n.entry >= 0 && n.children.empty()) {
            r.elements = entryNumelText(index.entries[size_t(n.entry)]);
            r.size = entryBytesText(index.entries[size_t(n.entry)]);
        } else {
            r.elements = formatSize(n.numel, false);
            r.size = formatSize(n.bytes, true);
        }
        rows.push_back(r);
        if (d < maxDepth)
            pushChildren(id, prefix + (lastChild ? QStringLiteral("   ") : QStringLiteral("│  ")));
    }
    int wDetail = 0, wElems = 0, wSize = 0;
    std::vector<int> labels;
    labels.reserve(rows.size());
    for (const auto& r : rows)
        labels.push_back(int(r.label.size()));
    const int wLabel = cappedColumnWidth(std::move(labels));
    for (const auto& r : rows) {
        wDetail = std::max(wDetail, int(r.detail.size()));
        wElems = std::max(wElems, int(r.elements.size()));
        wSize = std::max(wSize, int(r.size.size()));
    }
    for (const auto& r : rows)
        out << r.label.leftJustified(wLabel) << "  " << r.detail.leftJustified(wDetail) << "  "
            << r.elements.rightJustified(wElems) << "  " << r.size.rightJustified(wSize) << "\n";
}

int cmdTree(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Print FILE's module tree with element counts and sizes per module (shared storage counted once)."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addOption({QStringLiteral("depth"), QStringLiteral("Show modules down to depth N only (0: the model alone)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("natural-sort"),
                 QStringLiteral("Order children naturally by name (layers.2 before layers.10).")});
    addEngineOption(p);
    if (int rc = parse(p, "tree", args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 1) {
        err << "paramscope-cli tree: expected one FILE (see --help)\n";
        return kExitUsage;
    }
    int maxDepth = std::numeric_limits<int>::max();
    if (p.isSet(QStringLiteral("depth"))) {
        bool ok = false;
        maxDepth = p.value(QStringLiteral("depth")).toInt(&ok);
        if (!ok || maxDepth < 0) {
            err << "paramscope-cli tree: --depth takes a whole number >= 0\n";
            return kExitUsage;
        }
    }
    const QString file = p.positionalArguments().first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    ModelTree tree = ModelTree::build(index);
    if (p.isSet(QStringLiteral("natural-sort")))
        tree.sortNatural(true);
    writeTree(*index, tree, QFileInfo(file).fileName(), out, maxDepth);
    return kExitOk;
}

}  // namespace paramscope::cli
