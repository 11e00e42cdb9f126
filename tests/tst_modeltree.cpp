// Tree building from text fixtures: each case lists tensors as "name dtype shape [storage]"
// and the expected tree, written by hand.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/treelayout.h"

#include <QtTest>

using namespace paramscope;

namespace {

// "name dtype d0xd1 [s<storage>]" per line; kind from a leading "b:" (buffer) or "p:" (parameter).
ModelIndex indexFromText(const QString& text)
{
    ModelIndex index;
    int nextStorage = 0;
    for (const QString& raw : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QStringList f = raw.trimmed().split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (f.isEmpty())
            continue;
        TensorEntry e;
        QString name = f[0];
        e.kind = TensorKind::Parameter;
        if (name.startsWith(QLatin1String("b:"))) {
            e.kind = TensorKind::Buffer;
            name = name.mid(2);
        } else if (name.startsWith(QLatin1String("p:"))) {
            name = name.mid(2);
        } else if (name.startsWith(QLatin1String("t:"))) {
            e.kind = TensorKind::Tensor;
            name = name.mid(2);
        }
        e.name = name == QLatin1String("<empty>") ? std::string() : name.toStdString();
        e.dtype = f.size() > 1 ? dtypeFromName(f[1].toStdString()).value_or(DType::Float32) : DType::Float32;
        if (f.size() > 2 && f[2] != QLatin1String("scalar"))
            for (const QString& d : f[2].split(QLatin1Char('x')))
                e.shape.push_back(d.toLongLong());
        e.storage = f.size() > 3 ? f[3].mid(1).toInt() : 1000 + nextStorage++;
        index.entries.push_back(e);
    }
    index.finalize();
    return index;
}

// One line per node: indentation, name, [T] for tensors, elements, bytes.
QString dump(const ModelTree& t)
{
    QString out;
    std::vector<int> stack;
    const auto& rootCh = t.node(0).children;
    for (auto it = rootCh.rbegin(); it != rootCh.rend(); ++it)
        stack.push_back(*it);
    while (!stack.empty()) {
        const int id = stack.back();
        stack.pop_back();
        const TreeNode& n = t.node(id);
        out += QString(2 * (t.depth(id) - 1), QLatin1Char(' ')) + QString::fromStdString(std::string(n.name())) +
               (n.isTensor() ? QStringLiteral(" [T]") : QString()) +
               QStringLiteral(" %1 %2\n").arg(n.numel).arg(n.bytes);
        for (auto it = n.children.rbegin(); it != n.children.rend(); ++it)
            stack.push_back(*it);
    }
    return out;
}

QString lines(std::initializer_list<const char*> ls)
{
    QString s;
    for (const char* l : ls)
        s += QLatin1String(l) + QLatin1Char('\n');
    return s;
}

}  // namespace

class TestModelTree : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void build_data();
    void build();
    void rootTotalsAndKinds();
    void nodeLookups();
    void naturalSortAndBack();
    void deepChainNoRecursion();
    void largestChildren();
    void entriesUnder();
    void sharedIndexNamesAreViewedNotCopied();
    void copiesOwnTheirChildren();
    void entryCopiesOwnTheirQuantization();
    void naturalCompare_data();
    void naturalCompare();
    void layoutSortsTextColumnsLikeTheOldProxy();
};

void TestModelTree::build_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");

    QTest::newRow("state_dict order kept") << lines({"p:fc.weight float32 4x3", "p:fc.bias float32 4",
                                                     "b:bn.running_mean float32 4", "p:head.weight float16 2x4"})
                                           << lines({"fc 16 64", "  weight [T] 12 48", "  bias [T] 4 16", "bn 4 16",
                                                     "  running_mean [T] 4 16", "head 8 16", "  weight [T] 8 16"});
    QTest::newRow("numeric segments, ModuleDict key 8000")
        << lines({"layers.0.w float32 2", "layers.1.w float32 2", "experts.8000.w float32 3", "experts.a.w float32 1"})
        << lines({"layers 4 16", "  0 2 8", "    w [T] 2 8", "  1 2 8", "    w [T] 2 8", "experts 4 16", "  8000 3 12",
                  "    w [T] 3 12", "  a 1 4", "    w [T] 1 4"});
    QTest::newRow("name is both a leaf and a prefix")
        << lines({"a.b float32 2", "a.b.c float32 3"}) << lines({"a 5 20", "  b [T] 5 20", "    c [T] 3 12"});
    QTest::newRow("tied weights counted once, across siblings")
        << lines({"embed.weight float32 10x4 s1", "proj.weight float32 4x4 s2", "out.weight float32 10x4 s1"})
        << lines({"embed 40 160", "  weight [T] 40 160", "proj 16 64", "  weight [T] 16 64", "out 40 160",
                  "  weight [T] 40 160"});
    QTest::newRow("tied weights counted once, storage indices far apart")
        << lines({"embed.weight float32 10x4 s2000000000", "proj.weight float32 4x4 s2",
                  "out.weight float32 10x4 s2000000000", "out.bias float32 4 s2"})
        << lines({"embed 40 160", "  weight [T] 40 160", "proj 16 64", "  weight [T] 16 64", "out 44 176",
                  "  weight [T] 40 160", "  bias [T] 4 16"});
    QTest::newRow("tied weights counted once, same module")
        << lines({"m.a float32 5 s7", "m.b float32 5 s7", "m.c int64 2 s8"})
        << lines({"m 7 36", "  a [T] 5 20", "  b [T] 5 20", "  c [T] 2 16"});
    QTest::newRow("0-d and empty tensors")
        << lines({"bn.num_batches_tracked int64 scalar", "x.empty float32 0x4"})
        << lines({"bn 1 8", "  num_batches_tracked [T] 1 8", "x 0 0", "  empty [T] 0 0"});
    QTest::newRow("empty segments kept literally")
        << lines({"a..b float32 1", "c. float32 1"})
        << lines({"a 1 4", "   1 4", "    b [T] 1 4", "c 1 4", "   [T] 1 4"});
    // Names are made unique by the index (ModelIndex::makeNamesUnique): both stay visible.
    QTest::newRow("the same name twice stays visible")
        << lines({"w float32 1", "w float32 2"}) << lines({"w [T] 1 4", "w#2 [T] 2 8"});
    QTest::newRow("unicode names") << lines({"编码器.权重 float32 2", "café.w float32 1"})
                                   << lines({"编码器 2 8", "  权重 [T] 2 8", "café 1 4", "  w [T] 1 4"});
}

void TestModelTree::build()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const ModelIndex index = indexFromText(input);
    const ModelTree tree = ModelTree::build(index);
    QCOMPARE(dump(tree), expected);
    // Every node's row is its position in its parent's children.
    for (int i = 1; i < tree.size(); ++i) {
        const TreeNode& n = tree.node(i);
        QCOMPARE(tree.node(n.parent).children[size_t(n.row)], i);
    }
}

void TestModelTree::rootTotalsAndKinds()
{
    const ModelIndex index =
        indexFromText(lines({"p:a.w float32 10 s1", "b:a.rm float32 5", "p:b.w float32 10 s1", "t:c float64 3"}));
    const ModelTree tree = ModelTree::build(index);
    const TreeNode& root = tree.node(ModelTree::root());
    QCOMPARE(root.parameters, 2);
    QCOMPARE(root.buffers, 1);
    QCOMPARE(root.tensors, 1);
    QCOMPARE(root.numel, 10 + 5 + 3);
    QCOMPARE(root.bytes, 40 + 20 + 24);
    const auto totals = index.totals();
    QCOMPARE(totals.numel, root.numel);
    QCOMPARE(totals.bytes, root.bytes);
    QCOMPARE(index.entries[2].sharedWith, 0);
    QCOMPARE(index.entries[1].sharedWith, -1);
}

void TestModelTree::nodeLookups()
{
    const ModelIndex index = indexFromText(
        lines({"enc.layers.3.attn.q_proj.weight float32 2x2", "enc.layers.3.attn.q_proj.bias float32 2"}));
    const ModelTree tree = ModelTree::build(index);
    const int q = tree.find("enc.layers.3.attn.q_proj");
    QVERIFY(q > 0);
    QCOMPARE(std::string(tree.node(q).fullName), std::string("enc.layers.3.attn.q_proj"));
    QCOMPARE(tree.depth(q), 5);
    QCOMPARE(tree.node(q).numel, 6);
    const int w = tree.nodeForEntry(0);
    QCOMPARE(tree.node(w).parent, q);
    QCOMPARE(std::string(tree.node(w).fullName), std::string("enc.layers.3.attn.q_proj.weight"));
    QCOMPARE(tree.find("enc.layers.3.attn.q_proj.weight"), w);
    QCOMPARE(tree.find("enc.layers.4"), -1);
    QCOMPARE(tree.find(""), 0);
    QCOMPARE(tree.nodeForEntry(5), -1);
}

void TestModelTree::naturalSortAndBack()
{
    QString in;
    for (int i : {0, 1, 2, 10, 11, 3, 20})
        in += QStringLiteral("layers.%1.w float32 1\n").arg(i);
    in += QStringLiteral("Layers.x float32 1\n");
    const ModelIndex index = indexFromText(in);
    ModelTree tree = ModelTree::build(index);
    auto names = [&](int node) {
        QStringList l;
        for (int c : tree.node(node).children)
            l << QString::fromStdString(std::string(tree.node(c).name()));
        return l;
    };
    const int layers = tree.find("layers");
    QCOMPARE(names(layers), (QStringList{"0", "1", "2", "10", "11", "3", "20"}));
    tree.sortNatural(true);
    QCOMPARE(names(layers), (QStringList{"0", "1", "2", "3", "10", "11", "20"}));
    QCOMPARE(names(0), (QStringList{"Layers", "layers"}));
    for (int c : tree.node(layers).children)
        QCOMPARE(tree.node(layers).children[size_t(tree.node(c).row)], c);
    tree.sortNatural(false);
    QCOMPARE(names(layers), (QStringList{"0", "1", "2", "10", "11", "3", "20"}));
    QCOMPARE(names(0), (QStringList{"layers", "Layers"}));
}

void TestModelTree::deepChainNoRecursion()
{
    // 20,000 nested single-child modules: building and aggregating must not recurse.
    ModelIndex index;
    TensorEntry e;
    std::string name;
    for (int i = 0; i < 20000; ++i)
        name += "m.";
    e.name = name + "weight";
    e.dtype = DType::Float32;
    e.shape = {3};
    e.storage = 0;
    index.entries.push_back(e);
    index.finalize();
    const ModelTree tree = ModelTree::build(index);
    QCOMPARE(tree.size(), 20000 + 2);
    QCOMPARE(tree.node(0).numel, 3);
    QCOMPARE(tree.depth(tree.nodeForEntry(0)), 20001);
}

void TestModelTree::largestChildren()
{
    const ModelIndex index = indexFromText(lines({"m.small float32 1", "m.big float32 100", "m.mid float32 10"}));
    const ModelTree tree = ModelTree::build(index);
    const auto top = tree.largestChildren(tree.find("m"), 2);
    QCOMPARE(int(top.size()), 2);
    QCOMPARE(tree.node(top[0]).name(), std::string("big"));
    QCOMPARE(tree.node(top[1]).name(), std::string("mid"));

    // Ties keep the tree's order (what a stable sort of them all gives), whatever the limit,
    // also after a natural re-sort; a limit past the children gives them all.
    ModelTree ties = ModelTree::build(indexFromText(
        lines({"m.c3 float32 5", "m.c10 float32 5", "m.a float32 1", "m.c2 float32 5", "m.z float32 7"})));
    const auto names = [&](const std::vector<int>& nodes) {
        QStringList out;
        for (int n : nodes)
            out << QString::fromUtf8(ties.node(n).name().data(), int(ties.node(n).name().size()));
        return out.join(QLatin1Char(' '));
    };
    QCOMPARE(names(ties.largestChildren(ties.find("m"), 3)), QStringLiteral("z c3 c10"));
    QCOMPARE(names(ties.largestChildren(ties.find("m"), 10)), QStringLiteral("z c3 c10 c2 a"));
    QCOMPARE(names(ties.largestChildren(ties.find("m"), -1)), QStringLiteral("z c3 c10 c2 a"));
    QCOMPARE(names(ties.largestChildren(ties.find("m"), 0)), QString());
    ties.sortNatural(true);
    QCOMPARE(names(ties.largestChildren(ties.find("m"), 3)), QStringLiteral("z c2 c3"));
}

void TestModelTree::sharedIndexNamesAreViewedNotCopied()
{
    // Built from a shared index, the nodes view the index's own names (a leaf's full name is
    // its entry's string), the tree keeps the index alive, and it is the same tree as one
    // built with a copy of the names.
    auto index = std::make_shared<ModelIndex>(indexFromText(
        lines({"encoder.layers.0.attention.query.weight float32 4", "encoder.layers.0.attention.query.bias float32 2",
               "encoder.layers.1.ln.weight float32 3", "head float32 1"})));
    const ModelTree copied = ModelTree::build(*index);
    std::shared_ptr<const ModelIndex> shared = index;
    index.reset();
    const ModelTree viewing = ModelTree::build(shared);
    const ModelIndex* raw = shared.get();
    shared.reset();  // the tree's reference is the last one
    QCOMPARE(viewing.size(), copied.size());
    for (int i = 0; i < viewing.size(); ++i) {
        QCOMPARE(viewing.node(i).fullName, copied.node(i).fullName);
        QCOMPARE(viewing.node(i).name(), copied.node(i).name());
        QCOMPARE(viewing.node(i).entry, copied.node(i).entry);
        QCOMPARE(viewing.node(i).numel, copied.node(i).numel);
        if (viewing.node(i).entry >= 0) {
            const std::string& own = raw->entries[size_t(viewing.node(i).entry)].name;
            QCOMPARE(static_cast<const void*>(viewing.node(i).fullName.data()), static_cast<const void*>(own.data()));
            QVERIFY(copied.node(i).fullName.data() != own.data());
        }
    }
}

void TestModelTree::copiesOwnTheirChildren()
{
    // Children live in one array per tree: a copy views its own (sorting it leaves the
    // original alone, and it outlives the original); rows match the children's positions.
    auto original = std::make_unique<ModelTree>(ModelTree::build(indexFromText(
        lines({"m.layers.10.w float32 1", "m.layers.2.w float32 1", "m.head float32 1", "x float32 1"}))));
    const auto childNames = [](const ModelTree& t, int node) {
        QStringList out;
        for (int c : t.node(node).children) {
            out << QString::fromUtf8(t.node(c).name().data(), int(t.node(c).name().size()));
            if (t.node(c).parent != node || t.node(node).children[size_t(t.node(c).row)] != c)
                out << QStringLiteral("(bad row or parent)");
        }
        return out.join(QLatin1Char(' '));
    };
    ModelTree copy = *original;
    ModelTree assigned;
    assigned = *original;
    copy.sortNatural(true);
    const int layers = original->find("m.layers");
    QCOMPARE(childNames(*original, layers), QStringLiteral("10 2"));
    QCOMPARE(childNames(copy, layers), QStringLiteral("2 10"));
    QVERIFY(copy.node(layers).children.begin() != original->node(layers).children.begin());
    original.reset();
    QCOMPARE(childNames(copy, layers), QStringLiteral("2 10"));
    QCOMPARE(childNames(assigned, layers), QStringLiteral("10 2"));
    QCOMPARE(childNames(assigned, ModelTree::root()), QStringLiteral("m x"));
    QCOMPARE(childNames(assigned, assigned.find("m")), QStringLiteral("layers head"));
    const ModelTree moved = std::move(assigned);
    QCOMPARE(childNames(moved, moved.find("m")), QStringLiteral("layers head"));
}

void TestModelTree::entriesUnder()
{
    // In file order, the module's own tensor included, nothing from a sibling that shares
    // the prefix.
    const ModelIndex index = indexFromText(
        lines({"b.x float32 1", "a.y float32 1", "ab.q float32 1", "a float32 1", "a.z.w float32 1", "b.y float32 1"}));
    const ModelTree tree = ModelTree::build(index);
    QCOMPARE(tree.entriesUnder(tree.find("a")), (std::vector<int>{1, 3, 4}));
    QCOMPARE(tree.entriesUnder(tree.find("b")), (std::vector<int>{0, 5}));
    QCOMPARE(tree.entriesUnder(tree.find("a.z.w")), (std::vector<int>{4}));
    QCOMPARE(tree.entriesUnder(ModelTree::root()), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

void TestModelTree::naturalCompare_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("sign");
    QTest::newRow("2 < 10") << "layers.2"
                            << "layers.10" << -1;
    QTest::newRow("10 > 9") << "layers.10.w"
                            << "layers.9.w" << 1;
    QTest::newRow("equal") << "a.1.b"
                           << "a.1.b" << 0;
    QTest::newRow("text") << "alpha"
                          << "beta" << -1;
    QTest::newRow("prefix first") << "layer"
                                  << "layer.0" << -1;
    QTest::newRow("leading zeros by value") << "x007"
                                            << "x10" << -1;
    QTest::newRow("same value, fewer zeros first") << "x7"
                                                   << "x07" << -1;
    QTest::newRow("huge numbers") << "k99999999999999999999"
                                  << "k100000000000000000000" << -1;
    QTest::newRow("digit vs letter") << "a1"
                                     << "ab" << -1;
}

void TestModelTree::naturalCompare()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, sign);
    const std::string sa = a.toStdString(), sb = b.toStdString();
    QCOMPARE(paramscope::naturalCompare(sa, sb), sign);
    QCOMPARE(paramscope::naturalCompare(sb, sa), -sign);
}

// The Shard and Belongs to columns sort as the tree's former QSortFilterProxyModel did (a
// stable sort on the cell's value): tensors by the text, modules (no value) after them;
// descending reverses the text order, equal texts keep the file's order, modules come first.
// Name sorts with the file's order as the last key, so descending reverses ties too.
void TestModelTree::layoutSortsTextColumnsLikeTheOldProxy()
{
    using namespace paramscope;
    ModelIndex idx;
    idx.sourceFiles = QStringList{QStringLiteral("/m/b.safetensors"), QStringLiteral("/m/a.safetensors")};
    auto add = [&](const char* name, int shard) {
        TensorEntry e;
        e.name = name;
        e.dtype = DType::Float32;
        e.shape = {1};
        e.sourceFile = shard;
        idx.entries.push_back(e);
    };
    add("t1", 0);   // b
    add("m.x", 1);  // a module "m" between the tensors
    add("t2", 1);   // a
    add("t3", 0);   // b
    add("t4", 1);   // a
    idx.finalize();
    const ModelTree tree = ModelTree::build(idx);
    auto top = [&](const TreeSort& sort) {
        const auto l = TreeLayout::build(idx, tree, sort);
        QStringList out;
        for (int r = 0; r < l->childCount(ModelTree::root()); ++r)
            out << QString::fromStdString(std::string(tree.node(l->child(ModelTree::root(), r)).name()));
        return out;
    };
    QCOMPARE(top({TreeSort::Field::ModelOrder, false}), (QStringList{"t1", "m", "t2", "t3", "t4"}));
    QCOMPARE(top({TreeSort::Field::Shard, false}), (QStringList{"t2", "t4", "t1", "t3", "m"}));
    QCOMPARE(top({TreeSort::Field::Shard, true}), (QStringList{"m", "t1", "t3", "t2", "t4"}));
    QCOMPARE(top({TreeSort::Field::Name, false}), (QStringList{"m", "t1", "t2", "t3", "t4"}));
    QCOMPARE(top({TreeSort::Field::Name, true}), (QStringList{"t4", "t3", "t2", "t1", "m"}));
    // Elements: all equal but the module's subtree (1): ties reversed in descending order.
    QCOMPARE(top({TreeSort::Field::Elements, true}), (QStringList{"t4", "t3", "t2", "m", "t1"}));
    // Numbers per node (a scan's column): ties in the model's order both ways, no value last
    // both ways.
    TreeSort numeric(TreeSort::Field::Numeric, false);
    auto numbers = std::make_shared<std::vector<double>>(size_t(tree.size()), qQNaN());
    auto set = [&](const char* name, double v) { (*numbers)[size_t(tree.find(name))] = v; };
    set("t1", 2.0);
    set("t2", -1.0);
    set("t3", 2.0);
    set("m", 5.0);  // t4 has none
    numeric.numbers = numbers;
    QCOMPARE(top(numeric), (QStringList{"t2", "t1", "t3", "m", "t4"}));
    numeric.descending = true;
    QCOMPARE(top(numeric), (QStringList{"m", "t1", "t3", "t2", "t4"}));
}

QTEST_GUILESS_MAIN(TestModelTree)
void TestModelTree::entryCopiesOwnTheirQuantization()
{
    auto channels = std::make_shared<QuantChannels>();
    channels->axis = 1;
    channels->scales = {0.5, 0.25};
    channels->zeroPoints = {3, 4};
    TensorEntry a;
    a.setQuantization(0.125, -7, channels);
    QVERIFY(bool(a.quant));
    TensorEntry b = a;  // a copy, not a share: replacing a's leaves b's
    a.setQuantization(2.0, 1);
    QCOMPARE(b.qScale(), 0.125);
    QCOMPARE(b.qZeroPoint(), std::int64_t(-7));
    QCOMPARE(b.qChannels().get(), channels.get());
    QCOMPARE(a.qScale(), 2.0);
    QVERIFY(!a.qChannels());
    TensorEntry c;
    QCOMPARE(c.qScale(), 1.0);
    QCOMPARE(c.qZeroPoint(), std::int64_t(0));
    c = b;
    TensorEntry d = std::move(b);
    QCOMPARE(c.qZeroPoint(), std::int64_t(-7));
    QCOMPARE(d.qZeroPoint(), std::int64_t(-7));
    c = TensorEntry();  // assigning an unquantized entry clears it
    QVERIFY(!c.quant);
    QCOMPARE(c.qScale(), 1.0);
}

#include "tst_modeltree.moc"
