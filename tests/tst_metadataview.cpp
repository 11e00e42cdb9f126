// What a file is beyond its tensors, in the window: the Metadata view (its item model under
// QAbstractItemModelTester, sorting, the search filter, long values, the empty state), the
// classes-not-imported line, the tree's Type / Belongs to / Shard columns, the details
// panel's belongs-to link and shard, a file without tensors, the Open dialog's filter.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/search.h"
#include "model/searchmatches.h"
#include "testutil.h"
#include "ui/detailspanel.h"
#include "ui/mainwindow.h"
#include "ui/metadataview.h"
#include "ui/models/metadatamodel.h"
#include "ui/models/modeltreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/modeltreeview.h"

#include <QAbstractItemModelTester>
#include <QClipboard>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

using namespace paramscope;

namespace {

/// A training checkpoint as the readers describe one: module classes, an optimizer entry
/// belonging to a parameter, tensors from two shard files, values that are not tensors.
std::shared_ptr<ModelIndex> checkpoint()
{
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("/m/ckpt.pt");
    index->format = ModelFormat::TorchSave;
    index->engine = QStringLiteral("native");
    index->sourceFiles = {QStringLiteral("/m/part-1.safetensors"), QStringLiteral("/m/part-2.safetensors")};
    for (const char* n : {"model.conv1.weight", "model.conv1.bias", "model.fc.weight", "optimizer.state.0.exp_avg"}) {
        TensorEntry e;
        e.name = n;
        e.kind = TensorKind::Parameter;
        e.dtype = DType::Float32;
        e.shape = {2};
        e.strides = {1};
        index->entries.push_back(e);
    }
    index->entries[3].kind = TensorKind::Tensor;
    index->entries[3].belongsTo = 2;
    index->entries[0].sourceFile = 0;
    index->entries[2].sourceFile = 1;
    index->moduleTypes = {{"model", "models.net.Net"},
                          {"model.conv1", "torch.nn.modules.conv.Conv2d"},
                          {"model.fc", "torch.nn.modules.linear.Linear"}};
    index->foreignClasses = QStringList{QStringLiteral("models.net.Net"), QStringLiteral("argparse.Namespace")};
    index->metadataEntries = {{"epoch", "int", "3"},
                              {"args.lr", "float", "0.001"},
                              {"args.name", "str", "'run\n1'"},
                              {"history", "str", std::string(1000, 'x')},
                              {"best_acc", "float", "0.91"}};
    index->finalize();
    return index;
}

QModelIndex findRow(const QAbstractItemModel* m, const QString& fullName, const QModelIndex& parent = {})
{
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        if (i.data(ModelTreeModel::FullNameRole).toString() == fullName)
            return i;
        if (const QModelIndex sub = findRow(m, fullName, i); sub.isValid())
            return sub;
    }
    return {};
}

QStringList column(const QAbstractItemModel* m, int c)
{
    QStringList out;
    for (int r = 0; r < m->rowCount(); ++r)
        out << m->index(r, c).data().toString();
    return out;
}

}  // namespace

class TestMetadataView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void modelShowsEntries();
    void sortAndFilter();
    void filterLooksUpTheSearchResult();
    void emptyState();
    void windowShowsWhatIsNotATensor();
    void treeColumns();
    void detailsBelongsToAndShard();
    void fileWithoutTensors();
    void safetensorsMetadataFromFile();
    void checkpointFromFile();
    void openDialogFilter();
    void nameColumnKeepsItsShare();

private:
    QTemporaryDir m_settings;
};

void TestMetadataView::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    MainWindow::setSettingsFile(m_settings.filePath(QStringLiteral("settings.ini")));
}

void TestMetadataView::modelShowsEntries()
{
    MetadataModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    model.setModel(checkpoint());
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.columnCount(), 3);
    QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Name"));
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("Type"));
    QCOMPARE(model.headerData(2, Qt::Horizontal).toString(), QStringLiteral("Value"));
    QCOMPARE(column(&model, 0), (QStringList{"epoch", "args.lr", "args.name", "history", "best_acc"}));  // file order
    QCOMPARE(column(&model, 1), (QStringList{"int", "float", "str", "str", "float"}));
    // One line per value: a newline is shown escaped; the tooltip has the value as it is.
    QCOMPARE(model.index(2, 2).data().toString(), QStringLiteral("'run\\n1'"));
    QVERIFY(model.index(2, 2).data(Qt::ToolTipRole).toString().contains(QStringLiteral("'run\n1'")));
    // A long value is cut with its length; the tooltip holds all of it.
    const QString shown = model.index(3, 2).data().toString();
    QCOMPARE(shown,
             QString(MetadataModel::kShownValueChars, QLatin1Char('x')) + QStringLiteral("… (1,000 characters)"));
    QVERIFY(model.index(3, 2).data(Qt::ToolTipRole).toString().contains(QString(1000, QLatin1Char('x'))));
    model.setModel(nullptr);
    QCOMPARE(model.rowCount(), 0);
}

void TestMetadataView::sortAndFilter()
{
    MetadataView view;
    QAbstractItemModelTester tester(view.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setModel(checkpoint());
    QCOMPARE(view.shownCount(), 5);
    view.view()->sortByColumn(MetadataModel::NameColumn, Qt::AscendingOrder);
    QCOMPARE(column(view.proxy(), 0), (QStringList{"args.lr", "args.name", "best_acc", "epoch", "history"}));
    view.view()->sortByColumn(MetadataModel::TypeColumn, Qt::DescendingOrder);
    QCOMPARE(column(view.proxy(), 1), (QStringList{"str", "str", "int", "float", "float"}));
    view.view()->sortByColumn(-1, Qt::AscendingOrder);  // back to the file's order
    QCOMPARE(column(view.proxy(), 0), (QStringList{"epoch", "args.lr", "args.name", "history", "best_acc"}));
    view.setMatcher(NameMatcher(SearchQuery{MatchMode::Contains, QStringLiteral("args."), true}));
    QCOMPARE(column(view.proxy(), 0), (QStringList{"args.lr", "args.name"}));
    view.setMatcher(NameMatcher(SearchQuery{MatchMode::Regex, QStringLiteral("^(epoch|best)"), true}));
    QCOMPARE(column(view.proxy(), 0), (QStringList{"epoch", "best_acc"}));
    view.setMatcher(NameMatcher(SearchQuery{MatchMode::Exact, QStringLiteral("nothing"), true}));
    QCOMPARE(view.shownCount(), 0);
    QVERIFY2(view.emptyText().contains(QStringLiteral("No value's name matches")), qPrintable(view.emptyText()));
    view.setMatcher(NameMatcher());
    QCOMPARE(view.shownCount(), 5);
    QVERIFY(view.emptyText().isEmpty());
    // Ctrl+C copies the selected rows exactly (a newline inside a value stays one).
    view.show();
    view.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&view));
    view.view()->selectionModel()->select(view.proxy()->index(2, 0),
                                          QItemSelectionModel::Select | QItemSelectionModel::Rows);
    view.view()->selectionModel()->select(view.proxy()->index(0, 0),
                                          QItemSelectionModel::Select | QItemSelectionModel::Rows);
    QCOMPARE(view.selectedText(), QStringLiteral("epoch\tint\t3\nargs.name\tstr\t'run\n1'"));
    view.view()->setFocus();
    QTest::keyClick(view.view(), Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), view.selectedText());
}

void TestMetadataView::emptyState()
{
    MetadataView view;
    auto index = checkpoint();
    index->metadataEntries.clear();
    view.setModel(index);
    QCOMPARE(view.emptyText(), QStringLiteral("This file holds no values other than tensors."));
}

// SearchMatches carries a mark per value; the proxy shows what the marks say without
// running the matcher again, and falls back to the matcher for a result of another file.
void TestMetadataView::filterLooksUpTheSearchResult()
{
    const auto index = checkpoint();
    const ModelTree tree = ModelTree::build(*index);
    const NameMatcher args(SearchQuery{MatchMode::Contains, QStringLiteral("args."), true});
    const auto computed = SearchMatches::compute(*index, tree, args);
    QCOMPARE(computed->metadataMatch, (std::vector<unsigned char>{0, 1, 1, 0, 0}));
    QVERIFY(SearchMatches::compute(*index, tree, NameMatcher())->metadataMatch.empty());
    // A restriction of the tensors (only those with problems) keeps the values as searched.
    const auto restricted = SearchMatches::restricted(tree, computed.get(), std::vector<unsigned char>(4, 0));
    QCOMPARE(restricted->metadataMatch, computed->metadataMatch);

    MetadataView view;
    QAbstractItemModelTester tester(view.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setModel(index);
    view.setMatches(computed);
    QCOMPARE(column(view.proxy(), 0), (QStringList{"args.lr", "args.name"}));
    // Marks that disagree with the matcher win: they are what the worker found.
    auto marked = std::make_shared<SearchMatches>(*computed);
    marked->metadataMatch = {0, 0, 0, 0, 1};
    view.setMatches(marked);
    QCOMPARE(column(view.proxy(), 0), (QStringList{"best_acc"}));
    // Marks for another file's values: the matcher decides.
    auto other = std::make_shared<SearchMatches>(*computed);
    other->metadataMatch = {1, 1};
    view.setMatches(other);
    QCOMPARE(column(view.proxy(), 0), (QStringList{"args.lr", "args.name"}));
    view.setMatches(nullptr);
    QCOMPARE(view.shownCount(), 5);
}

void TestMetadataView::windowShowsWhatIsNotATensor()
{
    MainWindow w;
    w.show();
    w.setModel(checkpoint());
    QTRY_COMPARE(w.metadataView()->totalCount(), 5);
    QCOMPARE(w.browserTabs()->tabText(1), QStringLiteral("Metadata (5)"));
    QCOMPARE(w.browserTabs()->currentWidget(),
             static_cast<QWidget*>(w.treeView()));  // a file with tensors opens on them
    QVERIFY(!w.foreignClassesLabel()->isHidden());
    QCOMPARE(w.foreignClassesLabel()->text(),
             QStringLiteral("Classes not imported: models.net.Net, argparse.Namespace"));
    // The window's search filters the values by name too.
    w.searchEdit()->setText(QStringLiteral("args"));
    w.flushSearch();
    QTRY_COMPARE(w.metadataView()->shownCount(), 2);
    QCOMPARE(w.browserTabs()->tabText(1), QStringLiteral("Metadata (2 of 5)"));
    // ... with the search controller's result: the values' matches come computed with the
    // tensors' (off the GUI thread for a large model), the view only looks them up.
    const auto searched = w.metadataView()->proxy()->matches();
    QVERIFY(searched);
    QCOMPARE(searched->metadataMatch, (std::vector<unsigned char>{0, 1, 1, 0, 0}));
    w.searchEdit()->clear();
    w.flushSearch();
    QTRY_COMPARE(w.metadataView()->shownCount(), 5);
    // Many classes: the first few, then how many more.
    auto many = checkpoint();
    many->foreignClasses.clear();
    for (int i = 0; i < 9; ++i)
        many->foreignClasses << QStringLiteral("m.C%1").arg(i);
    w.setModel(many);
    QTRY_COMPARE(w.foreignClassesLabel()->text(),
                 QStringLiteral("Classes not imported: m.C0, m.C1, m.C2, m.C3, m.C4, m.C5 and 3 more"));
    QVERIFY(w.foreignClassesLabel()->toolTip().contains(QStringLiteral("m.C8")));
    // None: no line.
    auto none = checkpoint();
    none->foreignClasses.clear();
    w.setModel(none);
    QTRY_VERIFY(w.foreignClassesLabel()->isHidden());
}

void TestMetadataView::treeColumns()
{
    ModelTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setModel(checkpoint());
    QVERIFY(model.hasModuleTypes() && model.hasBelongsTo() && model.hasShards());
    QCOMPARE(model.headerData(ModelTreeModel::TypeColumn, Qt::Horizontal).toString(), QStringLiteral("Type"));
    const QModelIndex conv = findRow(&model, QStringLiteral("model.conv1"));
    QVERIFY(conv.isValid());
    QCOMPARE(conv.siblingAtColumn(ModelTreeModel::TypeColumn).data().toString(), QStringLiteral("Conv2d"));
    QVERIFY(conv.siblingAtColumn(ModelTreeModel::TypeColumn)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("torch.nn.modules.conv.Conv2d")));
    QCOMPARE(findRow(&model, QStringLiteral("model")).siblingAtColumn(ModelTreeModel::TypeColumn).data().toString(),
             QStringLiteral("Net"));
    QCOMPARE(findRow(&model, QStringLiteral("optimizer")).siblingAtColumn(ModelTreeModel::TypeColumn).data().toString(),
             QString());  // the file names no class for it
    const QModelIndex weight = findRow(&model, QStringLiteral("model.conv1.weight"));
    QCOMPARE(weight.siblingAtColumn(ModelTreeModel::TypeColumn).data().toString(), QString());  // tensors: none
    QCOMPARE(weight.siblingAtColumn(ModelTreeModel::ShardColumn).data().toString(),
             QStringLiteral("part-1.safetensors"));
    QCOMPARE(findRow(&model, QStringLiteral("model.conv1.bias"))
                 .siblingAtColumn(ModelTreeModel::ShardColumn)
                 .data()
                 .toString(),
             QString());
    const QModelIndex state = findRow(&model, QStringLiteral("optimizer.state.0.exp_avg"));
    QCOMPARE(state.siblingAtColumn(ModelTreeModel::BelongsToColumn).data().toString(),
             QStringLiteral("model.fc.weight"));
    QVERIFY(state.data(Qt::ToolTipRole).toString().contains(QStringLiteral("belongs to <i>model.fc.weight</i>")));
    // Sorting by type keeps the model consistent (the tester watches) and orders the modules.
    TreeFilterProxy proxy;
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.sort(ModelTreeModel::TypeColumn, Qt::AscendingOrder);
    const QModelIndex modelRow = findRow(&proxy, QStringLiteral("model"));
    QCOMPARE(proxy.index(0, ModelTreeModel::TypeColumn, modelRow).data().toString(), QStringLiteral("Conv2d"));
    QCOMPARE(proxy.index(1, ModelTreeModel::TypeColumn, modelRow).data().toString(), QStringLiteral("Linear"));

    // A model without any of it: the window hides the three columns.
    auto plain = checkpoint();
    plain->moduleTypes.clear();
    plain->sourceFiles.clear();
    for (auto& e : plain->entries)
        e.belongsTo = e.sourceFile = -1;
    MainWindow w;
    w.show();
    w.setModel(plain);
    QTRY_VERIFY(w.treeModel()->modelIndex() == plain);
    for (int c : {ModelTreeModel::TypeColumn, ModelTreeModel::BelongsToColumn, ModelTreeModel::ShardColumn})
        QVERIFY(w.treeView()->isColumnHidden(c));
    w.setModel(checkpoint());
    QTRY_VERIFY(!w.treeView()->isColumnHidden(ModelTreeModel::TypeColumn));
    QVERIFY(!w.treeView()->isColumnHidden(ModelTreeModel::BelongsToColumn));
    QVERIFY(!w.treeView()->isColumnHidden(ModelTreeModel::ShardColumn));
}

void TestMetadataView::detailsBelongsToAndShard()
{
    MainWindow w;
    w.show();
    const auto index = checkpoint();
    w.setModel(index);
    QTRY_VERIFY(w.treeModel()->modelIndex() == index);
    auto* belongs = w.detailsPanel()->findChild<QLabel*>(QStringLiteral("belongsToValue"));
    auto* shard = w.detailsPanel()->findChild<QLabel*>(QStringLiteral("shardValue"));
    QVERIFY(belongs && shard);
    w.selectEntry(3);
    QTRY_COMPARE(w.detailsPanel()->currentNode(), w.modelTree()->nodeForEntry(3));
    QVERIFY(belongs->isVisibleTo(w.detailsPanel()));
    QVERIFY(belongs->text().contains(QStringLiteral("model.fc.weight")));
    QVERIFY(!shard->isVisibleTo(w.detailsPanel()));
    // The link selects the parameter.
    Q_EMIT belongs->linkActivated(QStringLiteral("entry:2"));
    QTRY_COMPARE(w.detailsPanel()->currentNode(), w.modelTree()->nodeForEntry(2));
    QCOMPARE(w.treeView()->currentIndex().siblingAtColumn(0).data(ModelTreeModel::FullNameRole).toString(),
             QStringLiteral("model.fc.weight"));
    QVERIFY(!belongs->isVisibleTo(w.detailsPanel()));
    QVERIFY(shard->isVisibleTo(w.detailsPanel()));
    QCOMPARE(shard->text(), QStringLiteral("part-2.safetensors"));
    // A module's page names its class.
    auto* cls = w.detailsPanel()->findChild<QLabel*>(QStringLiteral("moduleClassLabel"));
    QVERIFY(cls);
    w.selectNode(w.modelTree()->find("model.conv1"));
    QTRY_COMPARE(cls->text(), QStringLiteral("Conv2d  (torch.nn.modules.conv.Conv2d)"));
    QVERIFY(cls->isVisibleTo(w.detailsPanel()));
    w.selectNode(w.modelTree()->find("optimizer"));
    QTRY_VERIFY(!cls->isVisibleTo(w.detailsPanel()));
}

void TestMetadataView::fileWithoutTensors()
{
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("/m/sched.pt");
    index->format = ModelFormat::TorchSave;
    index->engine = QStringLiteral("native");
    index->noTensorsReason = QStringLiteral("a learning-rate scheduler's state");
    index->metadataEntries = {{"last_epoch", "int", "7"}, {"base_lrs", "list", "[0.1]"}};
    index->finalize();
    MainWindow w;
    w.show();
    w.setModel(index);
    QTRY_COMPARE(w.metadataView()->totalCount(), 2);
    QCOMPARE(w.treeView()->placeholderText(),
             QStringLiteral("This file holds no tensors: a learning-rate scheduler's state."));
    QCOMPARE(w.browserTabs()->currentWidget(), static_cast<QWidget*>(w.metadataView()));  // opens on its values
    auto* status = w.findChild<QLabel*>(QStringLiteral("modelStatusLabel"));
    QVERIFY(status);
    QVERIFY2(status->text().contains(QStringLiteral("no tensors: a learning-rate scheduler's state")),
             qPrintable(status->text()));
    // A file with tensors has no placeholder.
    w.setModel(checkpoint());
    QTRY_VERIFY(w.treeView()->placeholderText().isEmpty());
    QCOMPARE(w.browserTabs()->currentWidget(), static_cast<QWidget*>(w.treeView()));
}

void TestMetadataView::safetensorsMetadataFromFile()
{
    // A real file: the safetensors __metadata__ as the fixture script wrote it.
    const QJsonObject truth = test::readJson(test::fixture(QStringLiteral("safetensors/all_dtypes.json")));
    const QJsonObject meta = truth.value(QStringLiteral("metadata")).toObject();
    QVERIFY2(!meta.isEmpty(), "run the fixtures_safetensors test");
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openFile(test::fixture(QStringLiteral("safetensors/all_dtypes.safetensors")));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 30000);
    const QAbstractItemModel* m = w.metadataView()->proxy();
    QCOMPARE(m->rowCount(), meta.size());
    for (int r = 0; r < m->rowCount(); ++r) {
        const QString name = m->index(r, MetadataModel::NameColumn).data().toString();
        QVERIFY2(name.startsWith(QStringLiteral("__metadata__.")), qPrintable(name));
        QCOMPARE(m->index(r, MetadataModel::TypeColumn).data().toString(), QStringLiteral("str"));
        QCOMPARE(m->index(r, MetadataModel::ValueColumn).data().toString(), meta.value(name.mid(13)).toString());
    }
    QVERIFY(w.foreignClassesLabel()->isHidden());
}

void TestMetadataView::checkpointFromFile()
{
    // A YOLO-style checkpoint written by PyTorch, its classes unimportable: what the window
    // shows against what torch.load (with stand-ins) reports.
    const QJsonObject truth = test::readJson(test::fixture(QStringLiteral("checkpoints/yolo_style.truth.json")));
    QVERIFY2(!truth.isEmpty(), "run the fixtures_checkpoints test");
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openFile(test::fixture(QStringLiteral("checkpoints/yolo_style.pt")));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 30000);
    QStringList standIns;
    for (const auto& v : truth.value(QStringLiteral("stand_ins")).toArray())
        standIns << v.toString();
    QVERIFY(!w.foreignClassesLabel()->isHidden());
    for (const QString& c : standIns)
        QVERIFY2(w.foreignClassesLabel()->text().contains(c), qPrintable(w.foreignClassesLabel()->text()));
    QCOMPARE(findRow(w.treeModel(), QStringLiteral("model.model.1"))
                 .siblingAtColumn(ModelTreeModel::TypeColumn)
                 .data()
                 .toString(),
             QStringLiteral("Bottleneck"));
    QVERIFY(!w.treeView()->isColumnHidden(ModelTreeModel::BelongsToColumn));
    const QJsonObject links = truth.value(QStringLiteral("links")).toObject();
    for (auto it = links.begin(); it != links.end(); ++it)
        QCOMPARE(findRow(w.treeModel(), it.key()).siblingAtColumn(ModelTreeModel::BelongsToColumn).data().toString(),
                 it.value().toString());
    const QAbstractItemModel* m = w.metadataView()->model();
    for (const auto& v : truth.value(QStringLiteral("metadata")).toArray()) {
        const QJsonObject want = v.toObject();
        int found = 0;
        for (int r = 0; r < m->rowCount(); ++r)
            found += m->index(r, 0).data(Qt::EditRole).toString() == want.value(QStringLiteral("name")).toString() &&
                     m->index(r, 1).data(Qt::EditRole).toString() == want.value(QStringLiteral("type")).toString() &&
                     m->index(r, 2).data(Qt::EditRole).toString() == want.value(QStringLiteral("value")).toString();
        QVERIFY2(found == 1, qPrintable(want.value(QStringLiteral("name")).toString()));
    }
}

void TestMetadataView::openDialogFilter()
{
    QCOMPARE(MainWindow::openDialogFilter(),
             QStringLiteral("PyTorch models (*.pt *.pth *.pt2 *.bin *.ckpt *.tar *.pkl *.t7 *.jit *.ptl *.safetensors "
                            "*.index.json);;All files (*)"));
}

// With Type and Belongs to shown, the Name column keeps 40% of the tree (the columns to its
// right scroll) instead of what they leave it; a width the user sets is kept.
void TestMetadataView::nameColumnKeepsItsShare()
{
    MainWindow w;
    w.resize(1280, 760);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openFile(test::fixture(QStringLiteral("checkpoints/yolo_style.pt")));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 30000);
    auto* tree = w.findChild<QTreeView*>(QStringLiteral("modelTree"));
    QVERIFY(tree);
    QVERIFY(!tree->isColumnHidden(ModelTreeModel::TypeColumn));
    QTRY_VERIFY(tree->header()->sectionSize(ModelTreeModel::NameColumn) >= tree->viewport()->width() * 2 / 5 - 1);
    tree->header()->resizeSection(ModelTreeModel::NameColumn, 123);
    w.resize(1000, 700);
    QTest::qWait(50);
    QCOMPARE(tree->header()->sectionSize(ModelTreeModel::NameColumn), 123);
}

QTEST_MAIN(TestMetadataView)
#include "tst_metadataview.moc"
