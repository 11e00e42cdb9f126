#include "fuzzutil.h"

#include "diff/diff.h"
#include "heatmap/heatmap.h"
#include "model/searchmatches.h"
#include "model/treelayout.h"
#include "scan/findings.h"
#include "scan/scan.h"
#include "scan/scantable.h"

#include <QFile>

#include <cmath>
#include <set>
#include <string>

namespace fuzz {

using namespace paramscope;

namespace {

constexpr int kMaxTensors = 4;                  // tensors summarised / exported per input
constexpr std::int64_t kMaxElements = 1 << 16;  // elements per summarised / exported tensor
constexpr size_t kMaxScanned = 256;             // tensors of a model the scan exercise takes

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

/// The whole-model scan of a small model: each tensor's figures are computeStats' own, the
/// findings name scanned tensors only, the table's root adds up the NaN counts. Sliced
/// (tiny slices, two threads) on odd variants, so the merge of slices runs too.
void exerciseScan(const ModelIndex& index, unsigned variant)
{
    // Small models only, whatever PARAMSCOPE_FUZZ_HUGE says (the scan and the diff read
    // every element of every tensor).
    if (index.entries.size() > kMaxScanned)
        return;
    for (const TensorEntry& e : index.entries) {
        const std::int64_t n = shapeNumel(e.shape);
        if (e.sizeOverflow || n < 0 || n > kMaxElements)
            return;
    }
    ScanOptions o;
    o.threads = (variant & 1) ? 2 : 1;
    o.sliceBytes = (variant & 1) ? 64 : (std::uint64_t(32) << 20);
    o.releasePages = (variant & 2) != 0;
    const ScanResult r = scanModel(index, o);
    FUZZ_CHECK(r.complete(), "scan: not complete without a cancel");
    FUZZ_CHECK(r.tensors.size() == index.entries.size(), "scan: one result per entry");
    FUZZ_CHECK(r.progress.tensorsDone == int(index.entries.size()), "scan: tensors left undone");
    auto shared = std::make_shared<ModelIndex>(index);
    auto tree = std::make_shared<ModelTree>(ModelTree::build(*shared));
    std::int64_t nan = 0;  // of the tensors in the tree
    for (size_t i = 0; i < index.entries.size(); ++i) {
        const TensorScan& t = r.tensors[i];
        FUZZ_CHECK(t.state != TensorScan::State::Pending, "scan: a tensor left pending");
        if (!t.done())
            continue;
        FUZZ_CHECK(t.finite + t.nan + t.posInf + t.negInf == t.elements, "scan: finite + NaN + Inf != elements");
        StatsOptions so;
        so.threads = 1;
        so.histogram = false;
        so.quantiles = false;
        auto s = computeStats(index, int(i), so);
        FUZZ_CHECK(s.ok(), "scan: a tensor the scan read has no statistics");
        const TensorStats& st = s.value();
        FUZZ_CHECK(t.elements == st.elements && t.nan == st.nan && t.posInf == st.posInf && t.negInf == st.negInf &&
                       t.zeros == st.zeros,
                   "scan: counts differ from computeStats");
        if (t.hasFinite() && !(variant & 1))  // unsliced: the same fused pass, the same doubles
            FUZZ_CHECK(t.minText() == st.minText() && t.maxText() == st.maxText(),
                       "scan: min/max differ from computeStats");
        if (tree->nodeForEntry(int(i)) >= 0)
            nan += t.nan;
    }
    const std::vector<Finding> findings = allFindings(index, r.tensors);
    for (const Finding& f : findings) {
        FUZZ_CHECK(f.entry >= 0 && size_t(f.entry) < r.tensors.size() && r.tensors[size_t(f.entry)].done(),
                   "scan: a finding on a tensor not scanned");
        FUZZ_CHECK(!f.detail.isEmpty(), "scan: a finding without a detail");
    }
    ScanTable table(shared, tree);
    for (size_t i = 0; i < r.tensors.size(); ++i)
        if (r.tensors[i].done())
            table.add(int(i), r.tensors[i]);
    table.setFindings(findings);
    FUZZ_CHECK(table.node(ModelTree::root()).nan == nan, "scan table: the root's NaN total differs");

    // The model against itself: every name aligns, every readable pair is identical (NaN
    // payloads included: the same bytes), sliced on odd variants.
    const Alignment al = alignModels(index, index);
    FUZZ_CHECK(al.matched() == int(index.entries.size()), "diff: a model's names do not align with themselves");
    DiffOptions d;
    d.threads = o.threads;
    d.sliceBytes = o.sliceBytes;
    const DiffResult self = diffModels(index, index, al, d);
    for (size_t i = 0; i < self.pairs.size(); ++i) {
        const PairDiff& p = self.pairs[i];
        FUZZ_CHECK(p.status == DiffStatus::Identical || p.status == DiffStatus::Failed,
                   "diff: a tensor differs from itself");
        if (p.status == DiffStatus::Identical)
            FUZZ_CHECK(p.changed == 0 && p.maxAbsDiff == 0 && p.nanAppeared == 0,
                       "diff: figures of a tensor against itself");
    }
}

/// The heatmap of a small tensor: cells within the asked size, every cell's value one of
/// the block's (max |x|) or between its extremes (mean), norms per row and column.
void exerciseHeatmap(const TensorView& v, unsigned variant)
{
    if (v.numel() < 0 || v.numel() > kMaxElements)
        return;  // it reads every element (PARAMSCOPE_FUZZ_HUGE lets larger tensors this far)
    auto m = matrixOf(v);
    if (!m)
        return;
    HeatmapOptions o;
    o.width = int(1 + variant % 7);
    o.height = int(1 + (variant / 7) % 5);
    o.threads = 1 + int(variant & 1);
    o.pooling = (variant & 2) ? Pooling::Mean : Pooling::MaxAbs;
    auto h = reduceMatrix(m.value(), o);
    if (!h)
        return;
    FUZZ_CHECK(h->width >= 1 && h->width <= o.width && h->height >= 1 && h->height <= o.height, "heatmap: cell count");
    FUZZ_CHECK(h->values.size() == size_t(h->width) * size_t(h->height) && h->flags.size() == h->values.size(),
               "heatmap: cell arrays");
    FUZZ_CHECK(
        h->rowNorms.size() == size_t(h->rowEnd - h->rowBegin) && h->colNorms.size() == size_t(h->colEnd - h->colBegin),
        "heatmap: norms per row and column");
    for (double x : h->values)
        FUZZ_CHECK(std::isnan(x) || (x >= h->min && x <= h->max), "heatmap: a cell outside min..max");
    const ColorLimits l = colorLimits(h.value());
    const auto rgb = renderRgb(h.value(), l, h->width * 2, h->height * 2);
    FUZZ_CHECK(rgb.size() == size_t(h->width) * size_t(h->height) * 12, "heatmap: picture size");
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
    exerciseScan(index, variant);
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
        exerciseHeatmap(v.value(), variant + unsigned(i));
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
