// What the window remembers between runs (column widths, sort order, the splitters, the
// search mode and case) and its Help menu (About, the keyboard-shortcut list).
#include "testutil.h"
#include "ui/mainwindow.h"
#include "ui/modeltreeview.h"
#include "ui/models/modeltreemodel.h"

#include <QAction>
#include <QComboBox>
#include <QHeaderView>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSplitter>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

class TestWindowSettings : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase() { MainWindow::setSettingsFile(m_dir.filePath(QStringLiteral("settings.ini"))); }

    void remembersTheViewBetweenRuns()
    {
        int width = 0;
        QList<int> sizes;
        {
            MainWindow w;
            w.resize(1200, 800);
            w.show();
            QSignalSpy loaded(&w, &MainWindow::modelLoaded);
            w.openFile(fixture(QStringLiteral("diff_a.pt")));
            QVERIFY(loaded.wait(20000));
            auto* tree = w.findChild<ModelTreeView*>(QStringLiteral("modelTree"));
            QVERIFY(tree);
            tree->header()->resizeSection(ModelTreeModel::ShapeColumn, 211);
            width = tree->header()->sectionSize(ModelTreeModel::ShapeColumn);
            tree->sortByColumn(ModelTreeModel::SizeColumn, Qt::DescendingOrder);
            auto* split = w.findChild<QSplitter*>(QStringLiteral("browserPage"));
            QVERIFY(split);
            split->setSizes({700, 500});
            sizes = split->sizes();
            w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findData(int(MatchMode::Regex)));
            w.caseSensitiveButton()->setChecked(true);
            w.close();
        }
        MainWindow again;
        again.resize(1200, 800);
        again.show();
        QSignalSpy loaded(&again, &MainWindow::modelLoaded);
        again.openFile(fixture(QStringLiteral("diff_a.pt")));
        QVERIFY(loaded.wait(20000));
        QTest::qWait(50);
        auto* tree = again.findChild<ModelTreeView*>(QStringLiteral("modelTree"));
        QCOMPARE(tree->header()->sectionSize(ModelTreeModel::ShapeColumn), width);
        QCOMPARE(tree->header()->sortIndicatorSection(), int(ModelTreeModel::SizeColumn));
        QCOMPARE(tree->header()->sortIndicatorOrder(), Qt::DescendingOrder);
        QCOMPARE(again.findChild<QSplitter*>(QStringLiteral("browserPage"))->sizes(), sizes);
        QCOMPARE(MatchMode(again.searchModeBox()->currentData().toInt()), MatchMode::Regex);
        QVERIFY(again.caseSensitiveButton()->isChecked());
    }

    void helpMenuAndShortcuts()
    {
        MainWindow w;
        QStringList menus;
        for (QAction* a : w.menuBar()->actions())
            menus << a->text().remove(QLatin1Char('&'));
        QCOMPARE(menus.last(), QStringLiteral("Help"));
        QMenu* help = w.menuBar()->actions().last()->menu();
        QStringList items;
        for (QAction* a : help->actions())
            items << a->text().remove(QLatin1Char('&'));
        QVERIFY(items.contains(QStringLiteral("About ParamScope")));
        QVERIFY(items.contains(QStringLiteral("Keyboard shortcuts")));
        // Every action's shortcut is listed once, with what it does.
        const QStringList rows = w.shortcutList();
        auto has = [&](const QString& keys, const QString& what) {
            for (const QString& r : rows)
                if (r.section(QLatin1Char('\t'), 0, 0) == keys && r.contains(what))
                    return true;
            return false;
        };
        QVERIFY2(has(QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText), QStringLiteral("Open")),
                 qPrintable(rows.join(QLatin1Char('\n'))));
        QVERIFY(has(QStringLiteral("Ctrl+R"), QStringLiteral("Scan")));
        QVERIFY(has(QStringLiteral("Ctrl+Shift+D"), QStringLiteral("Compare")));
        QVERIFY(has(QStringLiteral("Escape"), QStringLiteral("Clear the search")));
        QCOMPARE(rows.size(), QSet<QString>(rows.begin(), rows.end()).size());
    }
};

QTEST_MAIN(TestWindowSettings)
#include "tst_windowsettings.moc"
