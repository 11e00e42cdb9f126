// ModelTreeModel and TreeFilterProxy: structure, data, sorting and filtering, each checked
// by QAbstractItemModelTester (attached before any data is set) and against values the
// test computes from the entries on its own.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"
#include "scan/scantable.h"
#include "uitestutil.h"
#include "ui/models/treefilterproxy.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QFont>
#include <QtTest>

#include <set>

using namespace paramscope;
using namespace paramscope::test;

namespace {

struct Spec {
    const char* name;
    TensorKind kind;
    DType dtype;
    std::vector<std::int64_t> shape;
    int storage;  // same number = shared data
};

std::shared_ptr<const ModelIndex> makeIndex(const std::vector<Spec>& specs)
{
    auto index = std::make_shared<ModelIndex>();
    for (const Spec& s : specs) {
        TensorEntry e;
        e.name = s.name;
        e.kind = s.kind;
        e.dtype = s.dtype;
        e.shape = s.shape;
        e.storage = s.storage;
        e.requiresGrad = s.kind == TensorKind::Parameter;
        index->entries.push_back(e);
    }
    index->finalize();
    return index;
}

const auto P = TensorKind::Parameter;
const auto B = TensorKind::Buffer;
const auto F32 = DType::Float32;

// A small model in state_dict order, with numeric segments out of natural order on
// purpose (layers.10 is declared before layers.2), a tied weight and a buffer.
std::shared_ptr<const ModelIndex> smallModel()
{
    return makeIndex({
        {"embed.weight", P, F32, {100, 8}, 0},
        {"layers.10.weight", P, F32, {8, 8}, 1},
        {"layers.10.bias", P, F32, {8}, 2},
        {"layers.2.weight", P, F32, {8, 8}, 3},
        {"layers.2.bias", P, F32, {8}, 4},
        {"layers.1.weight", P, DType::Float16, {8, 8}, 5},
        {"bn.running_mean", B, F32, {8}, 6},
        {"bn.num_batches_tracked", B, DType::Int64, {}, 7},
        {"head.weight", P, F32, {100, 8}, 0},  // tied to embed.weight
    });
}

QStringList childNames(const QAbstractItemModel* m, const QModelIndex& parent = {})
{
    QStringList out;
    for (int r = 0; r < m->rowCount(parent); ++r)
        out << m->index(r, 0, parent).data().toString();
    return out;
}

QModelIndex childRow(const QAbstractItemModel* m, const QModelIndex& parent, const QString& name)
{
    for (int r = 0; r < m->rowCount(parent); ++r)
        if (m->index(r, 0, parent).data().toString() == name)
            return m->index(r, 0, parent);
    return {};
}

}  // namespace

class TestModelTreeModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void structureAndData();
    void moduleTotals();
    void kindsLookDifferent();
    void sorting();
    void filtering();
    void invalidQueryKeepsFilter();
    void resetWhileFiltered();
    void filterKeepsAncestorsOnly();
    void scale100k();
};

void TestModelTreeModel::structureAndData()
{
    ModelTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    const auto index = smallModel();
    model.setModel(index);
    QCOMPARE(model.columnCount(), int(ModelTreeModel::ColumnCount));
    QCOMPARE(int(ModelTreeModel::ColumnCount), 8 + kScanColumns);  // eight of the file, ten of a scan
    QCOMPARE(childNames(&model), (QStringList{"embed", "layers", "bn", "head"}));
    const QModelIndex layers = childRow(&model, {}, "layers");
    QCOMPARE(childNames(&model, layers), (QStringList{"10", "2", "1"}));  // model order
    const QModelIndex l2 = childRow(&model, layers, "2");
    QCOMPARE(model.parent(l2), layers);
    const QModelIndex w = childRow(&model, l2, "weight");
    QCOMPARE(model.parent(w), l2);
    QCOMPARE(w.data(ModelTreeModel::FullNameRole).toString(), QStringLiteral("layers.2.weight"));
    QCOMPARE(w.data(ModelTreeModel::EntryRole).toInt(), 3);
    QCOMPARE(w.siblingAtColumn(ModelTreeModel::ShapeColumn).data().toString(), QStringLiteral("[8, 8]"));
    QCOMPARE(w.siblingAtColumn(ModelTreeModel::DTypeColumn).data().toString(), QStringLiteral("float32"));
    QCOMPARE(w.siblingAtColumn(ModelTreeModel::ElementsColumn).data().toString(), QStringLiteral("64"));
    QCOMPARE(w.siblingAtColumn(ModelTreeModel::SizeColumn).data().toString(), formatBytes(256));
    QCOMPARE(w.siblingAtColumn(ModelTreeModel::SizeColumn).data(ModelTreeModel::SortRole).toLongLong(), 256);
    const auto align =
        w.siblingAtColumn(ModelTreeModel::ElementsColumn).data(Qt::TextAlignmentRole).value<Qt::Alignment>();
    QVERIFY(align & Qt::AlignRight);
    QVERIFY(!model.hasChildren(w));
    QVERIFY(model.flags(w) & Qt::ItemNeverHasChildren);
    // indexForEntry / indexForNode round-trip for every entry.
    for (int e = 0; e < int(index->entries.size()); ++e) {
        const QModelIndex i = model.indexForEntry(e);
        QVERIFY(i.isValid());
        QCOMPARE(i.data(ModelTreeModel::FullNameRole).toString().toStdString(), index->entries[size_t(e)].name);
        QCOMPARE(model.index(i.row(), 0, model.parent(i)), i);
    }
    // A 0-d tensor.
    const QModelIndex nbt = childRow(&model, childRow(&model, {}, "bn"), "num_batches_tracked");
    QCOMPARE(nbt.siblingAtColumn(ModelTreeModel::ShapeColumn).data().toString(), QStringLiteral("[]"));
    QCOMPARE(nbt.siblingAtColumn(ModelTreeModel::ElementsColumn).data(ModelTreeModel::SortRole).toLongLong(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestModelTreeModel::moduleTotals()
{
    ModelTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto index = smallModel();
    model.setModel(index);
    // Independently: sum numel/bytes of the entries under a prefix, each storage once.
    auto expected = [&](const std::string& prefix) {
        std::set<int> seen;
        std::int64_t numel = 0, bytes = 0;
        for (const auto& e : index->entries)
            if (e.name.rfind(prefix + ".", 0) == 0 && seen.insert(e.storage).second) {
                numel += e.numel;
                bytes += e.bytes;
            }
        return std::make_pair(numel, bytes);
    };
    for (const char* m : {"layers", "bn", "embed", "head"}) {
        const QModelIndex i = childRow(&model, {}, QString::fromLatin1(m));
        const auto [numel, bytes] = expected(m);
        QCOMPARE(i.siblingAtColumn(ModelTreeModel::ElementsColumn).data(ModelTreeModel::SortRole).toLongLong(), numel);
        QCOMPARE(i.siblingAtColumn(ModelTreeModel::SizeColumn).data(ModelTreeModel::SortRole).toLongLong(), bytes);
        QCOMPARE(i.siblingAtColumn(ModelTreeModel::ElementsColumn).data().toString(), formatCount(numel));
        QVERIFY(i.data(Qt::ToolTipRole).toString().contains(QStringLiteral("parameters")));
    }
    // Mixed dtypes (float16 + float32) and uniform ones.
    QCOMPARE(childRow(&model, {}, "layers").siblingAtColumn(ModelTreeModel::DTypeColumn).data().toString(),
             QStringLiteral("mixed"));
    QCOMPARE(childRow(&model, {}, "embed").siblingAtColumn(ModelTreeModel::DTypeColumn).data().toString(),
             QStringLiteral("float32"));
    // The tied head weight is listed, and its tooltip names the tensor it shares with.
    const QModelIndex head = childRow(&model, childRow(&model, {}, "head"), "weight");
    QVERIFY(head.data(Qt::ToolTipRole).toString().contains(QStringLiteral("embed.weight")));
}

void TestModelTreeModel::kindsLookDifferent()
{
    ModelTreeModel model;
    model.setModel(smallModel());
    const QModelIndex bn = childRow(&model, {}, "bn");
    const QModelIndex buffer = childRow(&model, bn, "running_mean");
    const QModelIndex param = childRow(&model, childRow(&model, {}, "embed"), "weight");
    QCOMPARE(buffer.data(ModelTreeModel::KindRole).toInt(), int(ModelTreeModel::NodeKind::Buffer));
    QCOMPARE(param.data(ModelTreeModel::KindRole).toInt(), int(ModelTreeModel::NodeKind::Parameter));
    QCOMPARE(bn.data(ModelTreeModel::KindRole).toInt(), int(ModelTreeModel::NodeKind::Module));
    QVERIFY(buffer.data(Qt::FontRole).value<QFont>().italic());
    QVERIFY(!param.data(Qt::FontRole).isValid());
    QVERIFY(buffer.data(Qt::ForegroundRole).isValid());
    const QIcon bi = buffer.data(Qt::DecorationRole).value<QIcon>();
    const QIcon pi = param.data(Qt::DecorationRole).value<QIcon>();
    QVERIFY(!bi.isNull() && !pi.isNull());
    QVERIFY(bi.pixmap(16).toImage() != pi.pixmap(16).toImage());
}

void TestModelTreeModel::sorting()
{
    ModelTreeModel model;
    TreeFilterProxy proxy;
    QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    model.setModel(smallModel());
    auto layersOf = [&] { return childNames(&proxy, childRow(&proxy, {}, "layers")); };

    QCOMPARE(layersOf(), (QStringList{"10", "2", "1"}));  // no sort: model order
    proxy.sort(ModelTreeModel::NameColumn, Qt::AscendingOrder);
    QCOMPARE(layersOf(), (QStringList{"1", "2", "10"}));  // natural, not "1, 10, 2"
    QCOMPARE(childNames(&proxy), (QStringList{"bn", "embed", "head", "layers"}));
    proxy.sort(ModelTreeModel::NameColumn, Qt::DescendingOrder);
    QCOMPARE(layersOf(), (QStringList{"10", "2", "1"}));
    // Sizes as numbers: layers.1 (float16, 128 B) < layers.2 = layers.10 (288 B; ties in
    // model order, so 10 before 2).
    proxy.sort(ModelTreeModel::SizeColumn, Qt::AscendingOrder);
    QCOMPARE(layersOf(), (QStringList{"1", "10", "2"}));
    // Elements as numbers: bn (9) < layers (208) < embed (800) = head (800, tied).
    proxy.sort(ModelTreeModel::ElementsColumn, Qt::AscendingOrder);
    QCOMPARE(childNames(&proxy), (QStringList{"bn", "layers", "embed", "head"}));
    // Shape: rank first, then dimensions (a 0-d tensor before a 1-d one).
    proxy.sort(ModelTreeModel::ShapeColumn, Qt::AscendingOrder);
    QCOMPARE(childNames(&proxy, childRow(&proxy, {}, "bn")), (QStringList{"num_batches_tracked", "running_mean"}));
    proxy.sort(ModelTreeModel::DTypeColumn, Qt::AscendingOrder);
    QCOMPARE(childNames(&proxy, childRow(&proxy, {}, "bn")), (QStringList{"running_mean", "num_batches_tracked"}));
    proxy.sort(-1);
    QCOMPARE(layersOf(), (QStringList{"10", "2", "1"}));
    QCOMPARE(childNames(&proxy), (QStringList{"embed", "layers", "bn", "head"}));
}

void TestModelTreeModel::filtering()
{
    ModelTreeModel model;
    TreeFilterProxy proxy;
    QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    const auto index = smallModel();
    model.setModel(index);
    proxy.sort(ModelTreeModel::NameColumn, Qt::AscendingOrder);

    struct Case {
        MatchMode mode;
        QString pattern;
        bool cs;
        std::set<std::string> expected;
    };
    const std::vector<Case> cases = {
        {MatchMode::Contains, "bias", true, {"layers.10.bias", "layers.2.bias"}},
        {MatchMode::Contains,
         "WEIGHT",
         false,
         {"embed.weight", "layers.10.weight", "layers.2.weight", "layers.1.weight", "head.weight"}},
        {MatchMode::Contains, "WEIGHT", true, {}},
        {MatchMode::Exact, "layers.2.weight", true, {"layers.2.weight"}},
        {MatchMode::Exact, "layers.2", true, {}},
        {MatchMode::Wildcard, "layers.*.weight", true, {"layers.10.weight", "layers.2.weight", "layers.1.weight"}},
        {MatchMode::Wildcard, "layers.?.weight", true, {"layers.2.weight", "layers.1.weight"}},
        {MatchMode::Regex, "^bn\\.", true, {"bn.running_mean", "bn.num_batches_tracked"}},
        {MatchMode::Regex, "\\d{2}", true, {"layers.10.weight", "layers.10.bias"}},
    };
    for (const Case& c : cases) {
        QVERIFY(proxy.setQuery({c.mode, c.pattern, c.cs}));
        QCOMPARE(visibleTensors(&proxy), c.expected);
        QCOMPARE(proxy.matchCount(), int(c.expected.size()));
        // Every ancestor of a match is there, and nothing else at the top.
        std::set<QString> tops;
        for (const auto& n : c.expected)
            tops.insert(QString::fromStdString(n.substr(0, n.find('.'))));
        QCOMPARE(proxy.rowCount(), int(tops.size()));
    }
    proxy.clearQuery();
    QCOMPARE(int(visibleTensors(&proxy).size()), int(index->entries.size()));
    QVERIFY(proxy.setQuery({MatchMode::Contains, QString(), true}));  // empty shows all
    QVERIFY(!proxy.isFiltering());
}

void TestModelTreeModel::invalidQueryKeepsFilter()
{
    ModelTreeModel model;
    TreeFilterProxy proxy;
    QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    model.setModel(smallModel());
    QVERIFY(proxy.setQuery({MatchMode::Regex, "bias$", true}));
    const auto before = visibleTensors(&proxy);
    QCOMPARE(int(before.size()), 2);
    QVERIFY(!proxy.setQuery({MatchMode::Regex, "layers.(2", true}));
    QVERIFY(!proxy.lastInvalidMatcher().errorString().isEmpty());
    QCOMPARE(proxy.lastInvalidMatcher().errorOffset(), 9);
    QCOMPARE(visibleTensors(&proxy), before);
}

void TestModelTreeModel::resetWhileFiltered()
{
    ModelTreeModel model;
    TreeFilterProxy proxy;
    QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    model.setModel(smallModel());
    QVERIFY(proxy.setQuery({MatchMode::Contains, "weight", true}));
    // A new model drops the old matches (their node ids mean nothing in the new tree).
    model.setModel(makeIndex({{"a.b", P, F32, {2}, 0}, {"a.c", B, F32, {3}, 1}}));
    QVERIFY(!proxy.isFiltering());
    QCOMPARE(int(visibleTensors(&proxy).size()), 2);
    QVERIFY(proxy.setQuery({MatchMode::Contains, "c", true}));
    QCOMPARE(visibleTensors(&proxy), (std::set<std::string>{"a.c"}));
    // Matches computed for another model are refused.
    auto other = smallModel();
    const ModelTree otherTree = ModelTree::build(*other);
    proxy.setMatches(SearchMatches::compute(*other, otherTree, NameMatcher({MatchMode::Contains, "weight", true})));
    QCOMPARE(visibleTensors(&proxy), (std::set<std::string>{"a.c"}));
    model.clear();
    QCOMPARE(proxy.rowCount(), 0);
}

namespace {

// Every row reachable in `m`, by full name.
void visibleRows(const QAbstractItemModel* m, const QModelIndex& parent, std::set<std::string>& out)
{
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        out.insert(i.data(ModelTreeModel::FullNameRole).toString().toStdString());
        visibleRows(m, i, out);
    }
}

}  // namespace

void TestModelTreeModel::filterKeepsAncestorsOnly()
{
    // A deep match under "enc" and a wide subtree "big" of 2,000 tensors without one.
    auto index = std::make_shared<ModelIndex>();
    auto add = [&](const std::string& name) {
        TensorEntry e;
        e.name = name;
        e.kind = TensorKind::Parameter;
        e.dtype = DType::Float32;
        e.shape = {1};
        e.storage = int(index->entries.size());
        index->entries.push_back(e);
    };
    add("enc.layers.0.attn.q_proj.weight");
    add("enc.layers.0.attn.k_proj.weight");
    add("enc.layers.1.mlp.weight");
    for (int i = 0; i < 1000; ++i) {
        add("big.block" + std::to_string(i) + ".weight");
        add("big.block" + std::to_string(i) + ".bias");
    }
    index->finalize();
    ModelTreeModel model;
    TreeFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    model.setModel(index);
    QVERIFY(proxy.setQuery({MatchMode::Contains, "q_proj", true}));

    std::set<std::string> rows;
    visibleRows(&proxy, {}, rows);
    // The match and each of its ancestors, nothing else: siblings and the other subtree
    // are hidden.
    QCOMPARE(rows, (std::set<std::string>{"enc", "enc.layers", "enc.layers.0", "enc.layers.0.attn",
                                          "enc.layers.0.attn.q_proj", "enc.layers.0.attn.q_proj.weight"}));
    // The layout lists the shown children of shown rows only: the rejected "big" subtree has
    // none, and the hidden rows have no row at all.
    QVERIFY(proxy.layout() && proxy.layout()->isFiltered());
    QCOMPARE(proxy.layout()->childCount(model.tree()->find("big")), 0);
    QCOMPARE(proxy.layout()->row(model.tree()->find("big.block7.bias")), -1);
    QVERIFY(proxy.setQuery({MatchMode::Contains, "k_proj", true}));
    rows.clear();
    visibleRows(&proxy, {}, rows);
    QCOMPARE(rows, (std::set<std::string>{"enc", "enc.layers", "enc.layers.0", "enc.layers.0.attn",
                                          "enc.layers.0.attn.k_proj", "enc.layers.0.attn.k_proj.weight"}));
    // A match deep in the wide subtree shows its path and none of its 999 sibling blocks.
    QVERIFY(proxy.setQuery({MatchMode::Exact, "big.block500.bias", true}));
    rows.clear();
    visibleRows(&proxy, {}, rows);
    QCOMPARE(rows, (std::set<std::string>{"big", "big.block500", "big.block500.bias"}));
}

void TestModelTreeModel::scale100k()
{
    // 100,000 parameters: 100 blocks x 40 experts x 24 tensors, and a 2,000-wide flat
    // level to exercise wide parents.
    auto index = std::make_shared<ModelIndex>();
    auto add = [&](std::string name, std::vector<std::int64_t> shape) {
        TensorEntry e;
        e.name = std::move(name);
        e.kind = TensorKind::Parameter;
        e.dtype = DType::Float32;
        e.shape = std::move(shape);
        e.storage = int(index->entries.size());
        index->entries.push_back(std::move(e));
    };
    for (int b = 0; b < 100; ++b)
        for (int x = 0; x < 40; ++x)
            for (int k = 0; k < 24; ++k)
                add("blocks." + std::to_string(b) + ".experts." + std::to_string(x) + ".w" + std::to_string(k),
                    {16, 4});
    for (int i = 0; i < 2000; ++i) {
        add("wide." + std::to_string(i) + ".weight", {8});
        add("wide." + std::to_string(i) + ".bias", {1});
    }
    QCOMPARE(int(index->entries.size()), 100000);
    index->finalize();

    QElapsedTimer timer;
    timer.start();
    auto tree = std::make_shared<const ModelTree>(ModelTree::build(*index));
    const qint64 buildMs = timer.restart();
    ModelTreeModel model;
    TreeFilterProxy proxy;
    proxy.setSourceModel(&model);
    model.setModel(index, tree);
    proxy.sort(ModelTreeModel::NameColumn, Qt::AscendingOrder);
    QCOMPARE(proxy.rowCount(), 2);
    const qint64 setMs = timer.restart();

    // Truth by a plain loop over the names.
    const std::string needle = "experts.3";
    std::set<std::string> expected;
    for (const auto& e : index->entries)
        if (e.name.find(needle) != std::string::npos)
            expected.insert(e.name);
    QVERIFY(proxy.setQuery({MatchMode::Contains, QString::fromStdString(needle), true}));
    const qint64 queryMs = timer.restart();
    QCOMPARE(proxy.matchCount(), int(expected.size()));
    QCOMPARE(visibleTensors(&proxy), expected);
    const qint64 walkMs = timer.restart();

    QVERIFY(proxy.setQuery({MatchMode::Regex, "blocks\\.4[0-9]\\.experts\\.(1|2)\\.w1$", true}));
    const qint64 regexMs = timer.restart();
    QCOMPARE(proxy.matchCount(), 10 * 2);

    // Sorting the wide level by size then name, model order back.
    proxy.clearQuery();
    proxy.sort(ModelTreeModel::SizeColumn, Qt::DescendingOrder);
    const QModelIndex wide = childRow(&proxy, {}, "wide");
    QCOMPARE(proxy.rowCount(wide), 2000);
    proxy.sort(ModelTreeModel::NameColumn, Qt::AscendingOrder);
    QCOMPARE(proxy.index(1999, 0, childRow(&proxy, {}, "wide")).data().toString(), QStringLiteral("1999"));
    proxy.sort(-1);
    const qint64 sortMs = timer.restart();
    qDebug(
        "100k: tree %lld ms, reset+sort %lld ms, contains query %lld ms, walk %lld ms, regex query %lld ms, "
        "sorts %lld ms",
        buildMs, setMs, queryMs, walkMs, regexMs, sortMs);
}

QTEST_MAIN(TestModelTreeModel)
#include "tst_modeltreemodel.moc"
