#include "fuzzutil.h"

#include "model/searchmatches.h"
#include "model/treelayout.h"

#include <QFile>

#include <set>
#include <string>

namespace fuzz {

using namespace paramscope;

namespace {

constexpr int kMaxTensors = 4;                  // tensors summarised / exported per input
constexpr std::int64_t kMaxElements = 1 << 16;  // elements per summarised / exported tensor

void exerciseTree(const ModelIndex& index)
{
    ModelTree tree = ModelTree::build(index);
    FUZZ_CHECK(tree.size() >= 1, "tree: no root");
    std::int64_t visited = 0;
    for (int i = 0; i < tree.size() && visited < 10000; ++i, ++visited) {
        const TreeNode& n = tree.node(i);
        FUZZ_CHECK(n.numel >= 0 && n.bytes >= 0, "tree: negative total");
        if (i != ModelTree::root()) {
            FUZZ_CHECK(n.parent >= 0 && n.parent < tree.size(), "tree: bad parent");
            const TreeNode& p = tree.node(n.parent);
            FUZZ_CHECK(n.row >= 0 && size_t(n.row) < p.children.size() && p.children[size_t(n.row)] == i,
                       "tree: row does not lead back to the node");
            FUZZ_CHECK(tree.find(n.fullName) >= 0, "tree: a node's full name is not found");
        }
        if (n.entry >= 0)
            FUZZ_CHECK(tree.nodeForEntry(n.entry) >= 0, "tree: entry without a node");
    }
    tree.largestChildren(ModelTree::root(), 8);
    // The layouts a view shows: every sort key, and a search's filter, agree with the tree.
    for (auto field : {TreeSort::Field::ModelOrder, TreeSort::Field::Name, TreeSort::Field::Type,
                       TreeSort::Field::DType, TreeSort::Field::Shard, TreeSort::Field::BelongsTo}) {
        const auto all = TreeLayout::build(index, tree, {field, field == TreeSort::Field::Name});
        FUZZ_CHECK(all->nodeCount() == tree.size(), "layout: node count");
        FUZZ_CHECK(all->childCount(ModelTree::root()) == int(tree.node(ModelTree::root()).children.size()),
                   "layout: root's children");
        const auto matches = SearchMatches::compute(index, tree, NameMatcher({MatchMode::Contains, "a", true}));
        const auto shown = TreeLayout::filter(all, matches.get());
        for (int e : matches->entries)
            FUZZ_CHECK(shown->isVisible(tree.nodeForEntry(e)), "layout: a match is hidden");
    }
    tree.sortNatural(true);
    tree.sortNatural(false);
    index.totals();
}

void checkRoundTrip(const ModelIndex& index, const std::vector<int>& picked, const QString& exported)
{
    std::set<std::string> names;
    for (int i : picked) {
        const TensorEntry& e = index.entries[size_t(i)];
        if (dtypeIsQuantized(e.dtype) || dtypeSafetensorsCode(e.dtype).empty())
            return;  // converted on export: not the same tensor by design
        // Names are unique (ModelIndex::makeNamesUnique) and valid UTF-8 (the unpickler
        // refuses other text: finding F1), so every export must read back as written.
        FUZZ_CHECK(names.insert(e.name).second, "index: two tensors share a name");
        FUZZ_CHECK(validUtf8(e.name), "index: a name that is not valid UTF-8");
    }
    LoadOptions lo;
    lo.engine = LoaderEngine::Native;
    auto back = loadModel(exported, lo);
    if (!back) {
        std::fprintf(stderr, "re-reading the export failed: %s\n", qPrintable(back.error()));
        FUZZ_CHECK(false, "export: ParamScope cannot read the .safetensors it wrote");
    }
    const ModelIndex& b = *back.value();
    FUZZ_CHECK(b.entries.size() == picked.size(), "export: tensor count differs after re-reading");
    for (int i : picked) {
        const TensorEntry& e = index.entries[size_t(i)];
        const int j = b.findEntry(e.name);
        FUZZ_CHECK(j >= 0, "export: a tensor is missing after re-reading");
        FUZZ_CHECK(b.entries[size_t(j)].dtype == e.dtype, "export: dtype differs after re-reading");
        FUZZ_CHECK(b.entries[size_t(j)].shape == e.shape, "export: shape differs after re-reading");
        auto x = index.contiguousBytes(i);
        auto y = b.contiguousBytes(j);
        FUZZ_CHECK(x.ok() && y.ok(), "export: bytes cannot be read after a successful export");
        FUZZ_CHECK(x.value() == y.value(), "export: bytes differ after re-reading");
    }
}

}  // namespace

void exerciseModel(const ModelIndex& index, unsigned variant)
{
    exerciseTree(index);
    for (size_t i = 0; i < index.entries.size() && i < 64; ++i)
        FUZZ_CHECK(index.findEntry(index.entries[i].name) >= 0, "index: an entry's name is not found");

    std::vector<int> picked;
    for (size_t i = 0; i < index.entries.size() && picked.size() < size_t(kMaxTensors); ++i) {
        const TensorEntry& e = index.entries[i];
        if (!smallEnough(e, kMaxElements))
            continue;
        auto v = index.view(int(i));
        if (!v)
            continue;
        FUZZ_CHECK(v->numel() == shapeNumel(e.shape), "view: numel differs from the shape's product");
        auto bytes = index.contiguousBytes(int(i));
        if (bytes)
            FUZZ_CHECK(bytes->size() == size_t(v->numel()) * size_t(dtypeItemSize(e.dtype)), "copy: wrong size");
        exerciseStats(index, int(i), variant + unsigned(i));
        picked.push_back(int(i));
    }
    if (picked.empty())
        return;

    // One tensor to every single-tensor format, all of them to .safetensors (read back).
    // .pt needs the LibTorch plug-in, which a fuzz build does not have.
    const std::vector<int> first{picked.front()};
    exportTensors(index, first, scratchPath(QStringLiteral("out.npy")), ExportFormat::Npy);
    ExportOptions csv;
    csv.csvBoolAsWords = (variant & 1) != 0;
    exportTensors(index, first, scratchPath(QStringLiteral("out.csv")), ExportFormat::Csv, csv);
    const QString st = scratchPath(QStringLiteral("out.safetensors"));
    QFile::remove(st);
    auto r = exportTensors(index, picked, st, ExportFormat::Safetensors);
    if (r)
        checkRoundTrip(index, picked, st);
}

}  // namespace fuzz
