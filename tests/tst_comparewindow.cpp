// The comparison window on the PyTorch-written diff fixtures: the merged tree holds every
// aligned name with its status (checked against NumPy's, diff_expected.json), module rows
// count what differs, the status filter and the name search narrow it, sorting by the
// relative change puts the most changed tensor first, selecting a pair shows both sides'
// statistics and the histogram of b - a (its figures against the pair's), the detected
// DDP prefix can be undone, File > Compare with… opens one from the main window.
#include "diff/difftable.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/comparecontroller.h"
#include "testutil.h"
#include "ui/comparewindow.h"
#include "ui/histogramwidget.h"
#include "ui/mainwindow.h"
#include "ui/models/difftreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/modeltreeview.h"
#include "ui/statspanel.h"
#include "uitestutil.h"

#include <QComboBox>
#include <QHeaderView>
#include <QJsonObject>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

/// Opens A and B in `w` and waits for the comparison to finish.
bool openAndWait(CompareWindow& w, const QString& a, const QString& b)
{
    QSignalSpy done(&w, &CompareWindow::comparisonFinished);
    w.openFiles(fixture(a), fixture(b));
    return done.wait(30000) && done.first().first().toBool();
}

/// Full names of the tensor rows in view order (depth first).
QStringList rowsInOrder(const QAbstractItemModel* m, const QModelIndex& parent = {})
{
    QStringList out;
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        if (i.data(ModelTreeModel::EntryRole).toInt() >= 0 && m->rowCount(i) == 0)
            out << i.data(ModelTreeModel::FullNameRole).toString();
        out << rowsInOrder(m, i);
    }
    return out;
}

}  // namespace

class TestCompareWindow : public QObject {
    Q_OBJECT
    QJsonObject m_truth;

private Q_SLOTS:
    void initTestCase()
    {
        m_truth = readJson(fixture(QStringLiteral("diff_expected.json"))).value(QStringLiteral("a_b")).toObject();
        QVERIFY2(!m_truth.isEmpty(), "diff_expected.json missing: run the fixtures_diff test first");
    }

    void mergedTreeShowsEveryStatus()
    {
        CompareWindow w;
        // The view hears of the results as they come (the status column is past the model's own).
        QSignalSpy changed(w.proxy(), &QAbstractItemModel::dataChanged);
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        QVERIFY(changed.count() > 0);
        bool statusColumn = false;
        for (const QList<QVariant>& c : changed)
            statusColumn = statusColumn || c.at(1).value<QModelIndex>().column() >= DiffTreeModel::StatusColumn;
        QVERIFY(statusColumn);
        const DiffTable* t = w.controller()->table();
        QVERIFY(t && t->isComplete());
        QCOMPARE(t->pairCount(), m_truth.size());
        // Every tensor row is there, its status cell saying what NumPy says.
        const auto names = visibleTensors(w.proxy());
        QCOMPARE(int(names.size()), m_truth.size());
        const ModelTree& tree = *w.controller()->tree();
        for (const QString& name : m_truth.keys()) {
            const int node = tree.find(name.toStdString());
            QVERIFY2(node > 0, qPrintable(name));
            const QModelIndex status = w.model()->indexForNode(node, DiffTreeModel::StatusColumn);
            const auto want =
                diffStatusFromId(m_truth.value(name).toObject().value(QStringLiteral("status")).toString());
            QVERIFY(want);
            QCOMPARE(status.data().toString(), diffStatusTitle(*want));
        }
        // Module rows count what differs: layers.1 has a changed mlp.weight and a -0.0 bias.
        const int layer1 = tree.find("layers.1");
        QCOMPARE(w.model()->indexForNode(layer1, DiffTreeModel::StatusColumn).data().toString(),
                 QStringLiteral("1 of 5 differ"));
        QCOMPARE(t->node(layer1).counts[size_t(DiffStatus::Close)], 1);
        // Shape and dtype cells say A -> B.
        QCOMPARE(w.model()->indexForNode(tree.find("conv.weight"), ModelTreeModel::ShapeColumn).data().toString(),
                 QStringLiteral("[8, 3, 3, 3] → [8, 27]"));
        QCOMPARE(w.model()->indexForNode(tree.find("head.weight"), ModelTreeModel::DTypeColumn).data().toString(),
                 QStringLiteral("float32 → float16"));
        QVERIFY(w.summaryText().contains(QLatin1String("17 identical")));
        QVERIFY2(w.summaryText().contains(QLatin1String("1 only in A")), qPrintable(w.summaryText()));
        QVERIFY2(w.alignmentText().contains(QLatin1String("as they are")), qPrintable(w.alignmentText()));
    }

    void statusFilterAndSearch()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        QSignalSpy applied(&w, &CompareWindow::viewApplied);
        w.setStatusFilter(CompareWindow::Differences);
        QTRY_VERIFY(visibleTensors(w.proxy()).size() == 8u);
        const auto shown = visibleTensors(w.proxy());
        for (const std::string& n : shown) {
            const QString st =
                m_truth.value(QString::fromStdString(n)).toObject().value(QStringLiteral("status")).toString();
            QVERIFY2(st != QLatin1String("identical") && st != QLatin1String("close"), n.c_str());
        }
        // The search narrows within the filter.
        w.searchEdit()->setText(QStringLiteral("layers"));
        QTRY_COMPARE(visibleTensors(w.proxy()), (std::set<std::string>{"layers.0.attn.weight", "layers.1.mlp.weight",
                                                                       "layers.2.attn.bias", "layers.3.norm.bias"}));
        w.setStatusFilter(CompareWindow::OnlyOneSide);
        QTRY_COMPARE(visibleTensors(w.proxy()), (std::set<std::string>{"layers.3.norm.bias"}));
        w.searchEdit()->clear();
        QTRY_COMPARE(visibleTensors(w.proxy()), (std::set<std::string>{"layers.3.norm.bias", "lora.A"}));
        w.setStatusFilter(CompareWindow::AllTensors);
        QTRY_COMPARE(int(visibleTensors(w.proxy()).size()), m_truth.size());
    }

    void sortByRelativeChangePutsTheMostChangedFirst()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        w.setStatusFilter(CompareWindow::Differences);
        QTRY_VERIFY(visibleTensors(w.proxy()).size() == 8u);
        QSignalSpy applied(&w, &CompareWindow::viewApplied);
        w.treeView()->sortByColumn(DiffTreeModel::RelL2Column, Qt::DescendingOrder);
        QTRY_VERIFY(applied.count() > 0);
        w.treeView()->expandAll();
        const QStringList order = rowsInOrder(w.proxy());
        // NumPy's largest relative change among the compared tensors.
        QString most;
        double best = -1;
        for (const QString& n : m_truth.keys()) {
            const QJsonObject e = m_truth.value(n).toObject();
            if (e.contains(QStringLiteral("rel_l2")) && e.value(QStringLiteral("rel_l2")).toDouble() > best) {
                best = e.value(QStringLiteral("rel_l2")).toDouble();
                most = n;
            }
        }
        QCOMPARE(most, QStringLiteral("layers.1.mlp.weight"));
        QVERIFY2(!order.isEmpty() && order.first() == most, qPrintable(order.join(QLatin1Char(' '))));
    }

    void selectingAPairShowsBothSidesAndTheDifference()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        const ModelTree& tree = *w.controller()->tree();
        QSignalSpy hist(&w, &CompareWindow::diffHistogramShown);
        QSignalSpy statsA(w.statsA(), &StatsPanel::statsShown), statsB(w.statsB(), &StatsPanel::statsShown);
        w.treeView()->expandAll();
        w.selectNode(tree.find("embed.weight"));
        QVERIFY(hist.wait(10000));
        QTRY_VERIFY(statsA.count() >= 1 && statsB.count() >= 1);
        QCOMPARE(w.statsA()->valueText(QStringLiteral("elements")), QStringLiteral("2,400"));
        QVERIFY(w.statsA()->valueText(QStringLiteral("l2")) != w.statsB()->valueText(QStringLiteral("l2")));
        QTRY_COMPARE(w.sideBySideText(QStringLiteral("l2"), 0), w.statsA()->valueText(QStringLiteral("l2")));
        QTRY_COMPARE(w.sideBySideText(QStringLiteral("l2"), 1), w.statsB()->valueText(QStringLiteral("l2")));
        const auto d = w.diffStats();
        QVERIFY(d);
        QCOMPARE(d->elements, std::int64_t(2400));
        const QJsonObject e = m_truth.value(QStringLiteral("embed.weight")).toObject();
        // Max |b - a| of the pair is the larger of the histogram's extremes.
        QVERIFY(qFuzzyCompare(std::max(std::abs(d->min), std::abs(d->max)),
                              e.value(QStringLiteral("max_abs_diff")).toDouble()));
        QVERIFY(w.diffHistogram()->barCount() > 0);
        QVERIFY(w.diffHistogramText().contains(QLatin1String("2,400")));
        if (const char* shot = std::getenv("PARAMSCOPE_COMPARE_SHOT2")) {  // a look at the window
            w.setStatusFilter(CompareWindow::AllTensors);
            w.resize(1280, 760);
            QTest::qWait(300);
            w.grab().save(QString::fromLocal8Bit(shot));
        }
        // A tensor only in A: no difference to show.
        w.selectNode(tree.find("layers.3.norm.bias"));
        QTRY_VERIFY(!w.diffStats());
        QVERIFY(w.diffHistogram()->message().contains(QLatin1String("Only in A")));
    }

    void ddpPrefixDetectedAndUndone()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_module.pt")));
        QVERIFY2(w.alignmentText().contains(QLatin1String("'module.' stripped from B's names (detected)")),
                 qPrintable(w.alignmentText()));
        QCOMPARE(w.controller()->table()->node(ModelTree::root()).counts[size_t(DiffStatus::Identical)], 25);
        QPushButton* undo = nullptr;
        for (QPushButton* b : w.findChildren<QPushButton*>())
            if (b->text() == QLatin1String("Compare names as they are"))
                undo = b;
        QVERIFY(undo);
        QSignalSpy done(&w, &CompareWindow::comparisonFinished);
        undo->click();
        QVERIFY(done.wait(10000));
        QCOMPARE(w.controller()->table()->node(ModelTree::root()).counts[size_t(DiffStatus::OnlyA)], 25);
        QCOMPARE(w.controller()->table()->node(ModelTree::root()).counts[size_t(DiffStatus::OnlyB)], 25);
        QVERIFY(w.alignmentText().contains(QLatin1String("as they are")));
    }

    void userMappingPairsNamesUp()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        QCOMPARE(w.controller()->table()->node(ModelTree::root()).counts[size_t(DiffStatus::OnlyA)], 1);
        // A's layers.3.norm.bias read as lora.A: the two one-sided tensors pair up.
        QSignalSpy done(&w, &CompareWindow::comparisonFinished);
        w.mappingEdit()->setText(QStringLiteral("layers.3.norm.bias=lora.A"));
        QTest::keyClick(w.mappingEdit(), Qt::Key_Return);
        QVERIFY(done.wait(10000));
        const NodeDiff& root = w.controller()->table()->node(ModelTree::root());
        QCOMPARE(root.counts[size_t(DiffStatus::OnlyA)], 0);
        QCOMPARE(root.counts[size_t(DiffStatus::OnlyB)], 0);
        QVERIFY2(w.alignmentText().contains(QLatin1String("read as 'lora.A'")), qPrintable(w.alignmentText()));
        // Module status cells list their tensors by status.
        const int layer1 = w.controller()->tree()->find("layers.1");
        const QString tip =
            w.model()->indexForNode(layer1, DiffTreeModel::StatusColumn).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QLatin1String("Identical: 3")) && tip.contains(QLatin1String("Changed: 1")),
                 qPrintable(tip));
    }

    void toleranceMakesASmallChangeClose()
    {
        CompareWindow w;
        QVERIFY(openAndWait(w, QStringLiteral("diff_a.pt"), QStringLiteral("diff_b.pt")));
        const int node = w.controller()->tree()->find("layers.0.attn.weight");
        QCOMPARE(w.controller()->table()->pair(w.controller()->tree()->node(node).entry).status, DiffStatus::Changed);
        QSignalSpy done(&w, &CompareWindow::comparisonFinished);
        w.controller()->setTolerance(1e-5, 0);
        QVERIFY(done.wait(10000));
        QCOMPARE(w.controller()->table()->pair(w.controller()->tree()->node(node).entry).status, DiffStatus::Close);
    }

    void compareWithFromTheMainWindow()
    {
        MainWindow::setSettingsFile(QDir::temp().filePath(QStringLiteral("paramscope-tst-compare.ini")));
        MainWindow m;
        QSignalSpy loaded(&m, &MainWindow::modelLoaded);
        m.openFile(fixture(QStringLiteral("diff_a.pt")));
        QVERIFY(loaded.wait(20000));
        CompareWindow* c = m.compareWith(fixture(QStringLiteral("diff_a.safetensors")));
        QVERIFY(c);
        QSignalSpy done(c, &CompareWindow::comparisonFinished);
        QVERIFY(done.wait(20000));
        QCOMPARE(c->controller()->table()->node(ModelTree::root()).counts[size_t(DiffStatus::Identical)], 25);
        if (const char* shot = std::getenv("PARAMSCOPE_COMPARE_SHOT")) {
            c->resize(1280, 760);
            c->grab().save(QString::fromLocal8Bit(shot));
        }
        c->close();
    }
};

QTEST_MAIN(TestCompareWindow)
#include "tst_comparewindow.moc"
