// The whole-model scan in the window (offscreen): the scan fills the statistic columns
// (tensors and module aggregates), sorting by NaN count puts the broken tensor first, the
// Problems panel lists every finding and selects its tensor, "only problems" filters the
// tree (with the search too), the details panel shows the scan's figures at once, a
// cancelled scan is never shown as complete, re-opening a file reuses its results, and
// small files are scanned when opened.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "scan/scantable.h"
#include "session/scancontroller.h"
#include "testutil.h"
#include "ui/detailspanel.h"
#include "ui/mainwindow.h"
#include "ui/models/findingsmodel.h"
#include "ui/models/modeltreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/modeltreeview.h"
#include "ui/problemspanel.h"
#include "ui/statspanel.h"
#include "uitestutil.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

const QString kProblems = QStringLiteral(PARAMSCOPE_FIXTURES "/scan_problems.pt");

bool openAndWait(MainWindow& w, const QString& path)
{
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openFile(path);
    for (int i = 0; i < 300 && loaded.isEmpty(); ++i)
        QTest::qWait(50);
    return !loaded.isEmpty();
}

bool scanAndWait(MainWindow& w)
{
    QSignalSpy done(w.scanController(), &ScanController::finished);
    w.startScan();
    for (int i = 0; i < 600 && done.isEmpty(); ++i)
        QTest::qWait(20);
    return !done.isEmpty() && done.first().first().toBool();
}

QString cell(MainWindow& w, const char* name, int column)
{
    const int node = w.modelTree()->find(name);
    return w.treeModel()->indexForNode(node, column).data().toString();
}

/// The tensor reached by following row 0 down from the root of the shown tree.
QString firstLeaf(const QAbstractItemModel* m)
{
    QModelIndex i = m->index(0, 0);
    while (i.isValid() && m->rowCount(i) > 0)
        i = m->index(0, 0, i);
    return i.data(ModelTreeModel::FullNameRole).toString();
}

}  // namespace

class TestScanWindow : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_settings.isValid());
        MainWindow::setSettingsFile(m_settings.filePath(QStringLiteral("settings.ini")));
        MainWindow::setAutoScanLimitMB(0);
        ScanController::clearCache();
    }

    void scanFillsColumnsAndSortPutsBrokenFirst()
    {
        MainWindow w;
        w.resize(1280, 760);
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QCOMPARE(cell(w, "model.layers.2.mlp.up.weight", ModelTreeModel::NaNColumn), QString());  // not scanned
        QVERIFY(w.treeView()->isColumnHidden(ModelTreeModel::NaNColumn));                         // hidden by default
        QVERIFY(scanAndWait(w));
        QVERIFY(w.scanController()->table()->isComplete());
        QCOMPARE(cell(w, "model.layers.2.mlp.up.weight", ModelTreeModel::NaNColumn), QStringLiteral("3"));
        QCOMPARE(cell(w, "model.layers.3.attn.bias", ModelTreeModel::InfColumn), QStringLiteral("2"));
        QCOMPARE(cell(w, "model.head.bias", ModelTreeModel::ZerosColumn), QStringLiteral("10"));
        QCOMPARE(cell(w, "model.layers.2.mlp.up.weight", ModelTreeModel::ProblemsColumn), QStringLiteral("nan"));
        QCOMPARE(cell(w, "model.layers.4.mlp.down.weight", ModelTreeModel::ProblemsColumn),
                 QStringLiteral("dead-rows, dead-columns"));
        // Modules aggregate: NaN and Inf totals, the largest max |x|, tensors with findings.
        QCOMPARE(cell(w, "model.layers", ModelTreeModel::NaNColumn), QStringLiteral("3"));
        QCOMPARE(cell(w, "model", ModelTreeModel::InfColumn), QStringLiteral("2"));
        QCOMPARE(cell(w, "model.layers", ModelTreeModel::ProblemsColumn), QStringLiteral("5"));
        const ScanTable* t = w.scanController()->table();
        const int up5 = w.modelIndex()->findEntry("model.layers.5.mlp.up.weight");
        const int layers = w.modelTree()->find("model.layers");
        QCOMPARE(t->value(layers, ScanColumn::MaxAbs), t->tensor(up5).maxAbs);  // the outlier's is the largest

        // The first tensor in model order is healthy; sorted by NaN count (descending) the
        // one with NaNs comes first.
        QVERIFY(firstLeaf(w.filterProxy()) != QStringLiteral("model.layers.2.mlp.up.weight"));
        QSignalSpy applied(&w, &MainWindow::searchApplied);
        w.treeView()->sortByColumn(ModelTreeModel::NaNColumn, Qt::DescendingOrder);
        for (int i = 0; i < 100 && firstLeaf(w.filterProxy()) != QStringLiteral("model.layers.2.mlp.up.weight"); ++i)
            QTest::qWait(20);
        QCOMPARE(firstLeaf(w.filterProxy()), QStringLiteral("model.layers.2.mlp.up.weight"));
        // Another column: the tensor with infinities first.
        w.treeView()->sortByColumn(ModelTreeModel::InfColumn, Qt::DescendingOrder);
        for (int i = 0; i < 100 && firstLeaf(w.filterProxy()) != QStringLiteral("model.layers.3.attn.bias"); ++i)
            QTest::qWait(20);
        QCOMPARE(firstLeaf(w.filterProxy()), QStringLiteral("model.layers.3.attn.bias"));
    }

    void problemsPanelSelectsTheTensor()
    {
        MainWindow w;
        w.resize(1280, 760);
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(scanAndWait(w));
        ProblemsPanel* p = w.problemsPanel();
        QVERIFY(p->isVisible());
        FindingsModel* f = p->findings();
        QCOMPARE(f->totalCount(), 11);
        QCOMPARE(f->errorCount(), 2);
        QVERIFY2(p->summaryLabel()->text().contains(QStringLiteral("2 errors, 9 warnings")),
                 qPrintable(p->summaryLabel()->text()));
        const int nanEntry = w.modelIndex()->findEntry("model.layers.2.mlp.up.weight");
        const int row = f->rowOfEntry(nanEntry);
        QVERIFY(row >= 0);
        QTreeView* v = p->view();
        const QModelIndex shown = static_cast<QSortFilterProxyModel*>(v->model())->mapFromSource(f->index(row, 0));
        v->setCurrentIndex(shown);
        QCOMPARE(w.treeView()->currentIndex().data(ModelTreeModel::FullNameRole).toString(),
                 QStringLiteral("model.layers.2.mlp.up.weight"));
        QCOMPARE(w.treeView()->currentIndex().data(ModelTreeModel::EntryRole).toInt(), nanEntry);

        // One kind only.
        p->kindBox()->setCurrentIndex(p->kindBox()->findData(int(FindingKind::AllZeros)));
        QCOMPARE(f->rowCount(), 1);
        QCOMPARE(f->entryAt(0), w.modelIndex()->findEntry("model.head.bias"));
        p->kindBox()->setCurrentIndex(0);
        QCOMPARE(f->rowCount(), 11);
        // Only the findings of search matches.
        w.searchEdit()->setText(QStringLiteral("layers.4"));
        w.flushSearch();
        QTest::qWait(50);
        p->onlyMatchesBox()->setChecked(true);
        QCOMPARE(f->rowCount(), 2);  // dead rows and dead columns of layers.4.mlp.down.weight
    }

    void onlyProblemsFiltersTheTree()
    {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(!w.problemsOnlyAction()->isEnabled());  // nothing scanned yet
        QVERIFY(scanAndWait(w));
        QVERIFY(w.problemsOnlyAction()->isEnabled());
        w.problemsOnlyAction()->setChecked(true);
        QTest::qWait(50);
        const std::set<std::string> problems = {"model.layers.1.norm.weight",
                                                "model.layers.2.mlp.up.weight",
                                                "model.layers.3.attn.bias",
                                                "model.layers.4.mlp.down.weight",
                                                "model.layers.5.mlp.up.weight",
                                                "model.head.bias",
                                                "model.conv.weight",
                                                "model.big.weight",
                                                "model.act_scale"};
        QCOMPARE(visibleTensors(w.filterProxy()), problems);
        // With a search: the problems among its matches.
        w.searchEdit()->setText(QStringLiteral("mlp"));
        w.flushSearch();
        for (int i = 0; i < 50 && visibleTensors(w.filterProxy()).size() != 3; ++i)
            QTest::qWait(20);
        QCOMPARE(visibleTensors(w.filterProxy()),
                 (std::set<std::string>{"model.layers.2.mlp.up.weight", "model.layers.4.mlp.down.weight",
                                        "model.layers.5.mlp.up.weight"}));
        w.problemsOnlyAction()->setChecked(false);
        QTest::qWait(50);
        QCOMPARE(visibleTensors(w.filterProxy()).size(), size_t(6 * 2));  // every mlp weight
    }

    void detailsUseTheScansFigures()
    {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(scanAndWait(w));
        auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
        QVERIFY(stats);
        const int entry = w.modelIndex()->findEntry("model.layers.2.mlp.up.weight");
        w.selectEntry(entry);
        // At once, before the panel's own computation has run.
        QCOMPARE(stats->valueText(QStringLiteral("nan")), QStringLiteral("3"));
        QVERIFY2(stats->statusText().contains(QStringLiteral("From the scan")), qPrintable(stats->statusText()));
        QTRY_VERIFY(stats->currentStats() != nullptr);
        QCOMPARE(stats->valueText(QStringLiteral("nan")), QStringLiteral("3"));
    }

    void cancelIsNeverComplete()
    {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QSignalSpy done(w.scanController(), &ScanController::finished);
        w.startScan();
        w.scanController()->cancel();  // same turn: whatever the worker did is dropped
        QCOMPARE(done.size(), 1);
        QCOMPARE(done.first().first().toBool(), false);
        QTest::qWait(200);
        QCOMPARE(done.size(), 1);
        const ScanTable* t = w.scanController()->table();
        QVERIFY(t);
        QVERIFY(!t->isComplete());
        QVERIFY(t->scannedCount() < t->tensorCount());
        QVERIFY2(w.problemsPanel()->summaryLabel()->text().contains(QStringLiteral("incomplete")),
                 qPrintable(w.problemsPanel()->summaryLabel()->text()));
        // Nothing cached from a cancelled scan: opening again shows no results.
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(!w.scanController()->table());
    }

    void reopenUsesCachedResults()
    {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(scanAndWait(w));
        QSignalSpy started(w.scanController(), &ScanController::started);
        QVERIFY(openAndWait(w, kProblems));
        QVERIFY(w.scanController()->table());
        QVERIFY(w.scanController()->table()->isComplete());
        QCOMPARE(started.size(), 0);
        QCOMPARE(cell(w, "model.layers.2.mlp.up.weight", ModelTreeModel::NaNColumn), QStringLiteral("3"));
    }

    void smallFilesScanWhenOpened()
    {
        MainWindow::setAutoScanLimitMB(1);  // the fixture is 126 KB
        MainWindow w;
        w.show();
        QSignalSpy done(w.scanController(), &ScanController::finished);
        QVERIFY(openAndWait(w, kProblems));
        QTRY_VERIFY(!done.isEmpty());
        QVERIFY(w.scanController()->table()->isComplete());
    }
};

QTEST_MAIN(TestScanWindow)
#include "tst_scanwindow.moc"
