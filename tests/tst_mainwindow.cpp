// The window under the offscreen platform: opening (good, bad, cancelled, dropped),
// searching (live filter, match count, invalid regex, Enter/F3 navigation), the details
// panel, export candidates and settings. Settings go to a temporary file, never to the
// user's.
#include "windowtestutil.h"
#include "base/textutil.h"
#include "ui/detailspanel.h"
#include "formats/loader.h"
#include "ui/mainwindow.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"
#include "testutil.h"
#include "uitestutil.h"
#include "ui/modeltreeview.h"
#include "ui/models/treefilterproxy.h"
#include "ui/subtreeexpander.h"
#include "ui/statspanel.h"
#include "ui/histogramwidget.h"

#include <QActionGroup>
#include <QClipboard>
#include <QDialog>
#include <QTextLayout>
#include <QTextBlock>
#include <QTimer>
#include <QStatusBar>
#include <QMessageBox>
#include <QFileDialog>
#include <QHeaderView>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QScrollArea>
#include <QScrollBar>
#include <QStackedWidget>
#include <QTableWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <algorithm>
#include <set>

using namespace paramscope;
using namespace paramscope::test;

Q_DECLARE_METATYPE(std::vector<int>)

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

QString currentName(MainWindow& w)
{
    return w.treeView()->currentIndex().siblingAtColumn(0).data(ModelTreeModel::FullNameRole).toString();
}

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void emptyStateThenOpen();
    void engineMenuReopensFile();
    void detailsPaneReflows();
    void modelSummaryMatchesTorch();
    void modulePageCountsLikeTorch();
    void largeModuleTotalsAreCountedOnAWorker();
    void detailsLeaveATensorTheSearchHides();
    void warningsButtonListsThem();
    void caseButtonShowsWhenOn();
    void nameColumnTakesSpareWidth();
    void deepNamesKeepTheirText();
    void searchFiltersLive();
    void invalidRegexKeepsTree();
    void badFileKeepsModel();
    void badFileOnEmptyWindow();
    void selectionFillsDetails();
    void enterAndF3MoveSelection();
    void selectionShowsStatistics();
    void exportCandidates();
    void exportConfirmsAndSaysOnlyMatches();
    void expandCollapseSubtree();
    void cancelDropsLoad();
    void dropOpensFile();
    void settingsPersist();
    void demoFromResources();
    void libTorchCrashKeepsWindow();
    void largeModelSearchesOnWorker();
    void largeSubtreeExpandsInSteps();
    void searchKeepsSelectionAndSortKeepsExpansion();

private:
    QTemporaryDir m_tmp;
};

namespace {

/// The first place the details' Python snippet wraps between two characters of one
/// identifier ("map_loca|tion"), or empty; "no wrap at all" when no line wraps.
QString snippetBreaksInsideIdentifiers(MainWindow& w)
{
    auto* snippet = w.detailsPanel()->findChild<QPlainTextEdit*>(QStringLiteral("snippetEdit"));
    if (!snippet)
        return QStringLiteral("no snippet");
    const auto identifier = [](QChar c) { return c.isLetterOrNumber() || c == QLatin1Char('_'); };
    int wrapped = 0;
    for (QTextBlock b = snippet->document()->begin(); b.isValid(); b = b.next()) {
        QTextLayout* layout = b.layout();
        for (int i = 1; layout && i < layout->lineCount(); ++i) {
            const int at = layout->lineAt(i).textStart();
            ++wrapped;
            if (identifier(b.text().at(at - 1)) && identifier(b.text().at(at)))
                return b.text().left(at) + QStringLiteral(" | ") + b.text().mid(at);
        }
    }
    return wrapped > 0 ? QString() : QStringLiteral("no wrap at all");
}

}  // namespace

void TestMainWindow::initTestCase()
{
    qRegisterMetaType<std::vector<int>>();
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_tmp.isValid());
    MainWindow::setSettingsFile(m_tmp.filePath(QStringLiteral("settings.ini")));
    QVERIFY(QFile::exists(kDemo));
}

void TestMainWindow::emptyStateThenOpen()
{
    MainWindow w;
    w.show();
    auto* pages = w.findChild<QStackedWidget*>();
    QVERIFY(pages);
    QCOMPARE(pages->currentWidget()->objectName(), QStringLiteral("emptyPage"));
    QVERIFY(w.findChild<QWidget*>(QStringLiteral("emptyOpenButton"))->isVisible());
    QVERIFY(w.findChild<QWidget*>(QStringLiteral("emptyDemoButton"))->isVisible());
    QVERIFY(openAndWait(w, kDemo));
    QCOMPARE(pages->currentWidget()->objectName(), QStringLiteral("browserPage"));
    QCOMPARE(w.currentFile(), QFileInfo(kDemo).absoluteFilePath());
    // The status bar names the file and the counts, taken from the index.
    const auto t = w.modelIndex()->totals();
    const QString status = w.findChild<QLabel*>(QStringLiteral("modelStatusLabel"))->text();
    QVERIFY2(status.contains(QStringLiteral("demo_model.pt")), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("%1 parameters").arg(formatCount(t.parameters))), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("%1 buffers").arg(formatCount(t.buffers))), qPrintable(status));
    QVERIFY2(status.contains(formatBytes(t.bytes)), qPrintable(status));
    QCOMPARE(w.matchCountLabel()->text(), QStringLiteral("%1 tensors").arg(w.modelIndex()->entries.size()));
}

void TestMainWindow::searchFiltersLive()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    const int total = int(index->entries.size());
    const int allTop = w.filterProxy()->rowCount();

    // Truth: a case-insensitive substring test over the names, by hand.
    std::set<std::string> expected;
    for (const auto& e : index->entries)
        if (lower(e.name).find("norm") != std::string::npos)
            expected.insert(e.name);
    QVERIFY(!expected.empty() && int(expected.size()) < total);

    w.searchEdit()->setFocus();
    QTest::keyClicks(w.searchEdit(), QStringLiteral("NoRm"));
    QTRY_COMPARE(w.matchCountLabel()->text(),
                 QStringLiteral("%1 of %2 tensors").arg(expected.size()).arg(formatCount(total)));
    QCOMPARE(visibleTensors(w.filterProxy()), expected);
    QVERIFY(w.filterProxy()->rowCount() < allTop);
    // Matches are expanded into view: every match's parent row is expanded.
    for (const auto& name : expected) {
        const QModelIndex src = w.treeModel()->indexForEntry(index->findEntry(name));
        const QModelIndex pi = w.filterProxy()->mapFromSource(src);
        QVERIFY(pi.isValid());
        if (pi.parent().isValid())
            QVERIFY2(w.treeView()->isExpanded(pi.parent()), name.c_str());
    }
    // Case-sensitive now: "NoRm" matches nothing.
    w.caseSensitiveButton()->click();
    QTRY_COMPARE(w.filterProxy()->rowCount(), 0);
    QVERIFY(w.matchCountLabel()->text().startsWith(QStringLiteral("no match")));
    // Wildcard mode, whole-name semantics.
    w.caseSensitiveButton()->click();
    w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Wildcard")));
    w.searchEdit()->setText(QStringLiteral("layers.?.ln1.*"));
    std::set<std::string> wild;
    const QRegularExpression rx(QStringLiteral("^layers\\..\\.ln1\\..*$"));
    for (const auto& e : index->entries)
        if (rx.match(QString::fromStdString(e.name)).hasMatch())
            wild.insert(e.name);
    QVERIFY(!wild.empty());
    QTRY_COMPARE(w.filterProxy()->matchCount(), int(wild.size()));
    QCOMPARE(visibleTensors(w.filterProxy()), wild);
    // Clearing shows everything again.
    w.searchEdit()->clear();
    QTRY_COMPARE(w.filterProxy()->rowCount(), allTop);
    QCOMPARE(int(visibleTensors(w.filterProxy()).size()), total);
}

void TestMainWindow::invalidRegexKeepsTree()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Regex")));
    w.searchEdit()->setText(QStringLiteral("weight$"));
    QTRY_VERIFY(w.filterProxy()->isFiltering());
    const auto before = visibleTensors(w.filterProxy());
    const int rows = w.filterProxy()->rowCount();
    QVERIFY(!w.searchErrorLabel()->isVisible());

    QTest::keyClicks(w.searchEdit(), QStringLiteral("(["));
    QTRY_VERIFY(w.searchErrorLabel()->isVisible());
    const QString err = w.searchErrorLabel()->text();
    QVERIFY2(err.contains(QStringLiteral("position")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("Invalid")), qPrintable(err));
    QCOMPARE(w.filterProxy()->rowCount(), rows);
    QCOMPARE(visibleTensors(w.filterProxy()), before);
    // Fixing the pattern clears the error.
    QTest::keyClick(w.searchEdit(), Qt::Key_Backspace);
    QTest::keyClick(w.searchEdit(), Qt::Key_Backspace);
    QTRY_VERIFY(!w.searchErrorLabel()->isVisible());
}

void TestMainWindow::badFileKeepsModel()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    QVERIFY(w.errorBanner()->isHidden());

    const QString bad = m_tmp.filePath(QStringLiteral("notes.pt"));
    {
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is a text file, not a model\n");
    }
    QSignalSpy failed(&w, &MainWindow::loadFailed);
    w.openFile(bad);
    QVERIFY(failed.wait(15000));
    QVERIFY(w.errorBanner()->isVisible());
    const QString text = w.errorBannerText();
    QVERIFY2(text.contains(QStringLiteral("notes.pt")), qPrintable(text));
    QVERIFY2(text.contains(failed.first().at(1).toString()), qPrintable(text));  // the reason
    QVERIFY(!failed.first().at(1).toString().isEmpty());
    // The previous model is still there, still browsable.
    QCOMPARE(w.modelIndex(), index);
    QCOMPARE(w.currentFile(), QFileInfo(kDemo).absoluteFilePath());
    QVERIFY(w.filterProxy()->rowCount() > 0);
    // A missing file too.
    w.openFile(m_tmp.filePath(QStringLiteral("missing.pt")));
    QVERIFY(failed.wait(15000));
    QVERIFY(w.errorBannerText().contains(QStringLiteral("missing.pt")));
    QCOMPARE(w.modelIndex(), index);
    // A good open hides the banner.
    QVERIFY(openAndWait(w, kDemo));
    QVERIFY(w.errorBanner()->isHidden());
}

void TestMainWindow::badFileOnEmptyWindow()
{
    MainWindow w;
    w.show();
    QSignalSpy failed(&w, &MainWindow::loadFailed);
    w.openFile(QStringLiteral(PARAMSCOPE_SOURCE_DIR "/CMakeLists.txt"));
    QVERIFY(failed.wait(15000));
    QVERIFY(w.errorBanner()->isVisible());
    QVERIFY(w.errorBannerText().contains(QStringLiteral("CMakeLists.txt")));
    QCOMPARE(w.findChild<QStackedWidget*>()->currentWidget()->objectName(), QStringLiteral("emptyPage"));
    QVERIFY(!w.modelIndex());
}

void TestMainWindow::selectionFillsDetails()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    auto* details = w.detailsPanel();
    // A parameter.
    int param = -1, buffer = -1;
    for (int i = 0; i < int(index->entries.size()); ++i) {
        if (param < 0 && index->entries[size_t(i)].kind == TensorKind::Parameter &&
            index->entries[size_t(i)].shape.size() == 2)
            param = i;
        if (buffer < 0 && index->entries[size_t(i)].kind == TensorKind::Buffer)
            buffer = i;
    }
    QVERIFY(param >= 0 && buffer >= 0);
    QSignalSpy shown(details, &DetailsPanel::tensorShown);
    w.selectEntry(param);
    const TensorEntry& e = index->entries[size_t(param)];
    const QString name = QString::fromStdString(e.name);
    QCOMPARE(currentName(w), name);
    QCOMPARE(details->findChild<ElidedLabel*>(QStringLiteral("tensorNameLabel"))->fullText(), name);
    QVERIFY(details->findChild<QWidget*>(QStringLiteral("tensorPage"))->isVisible());
    QVERIFY(details->findChild<QLabel*>(QStringLiteral("dtypeValue"))->text().startsWith(QStringLiteral("float32")));
    QCOMPARE(details->findChild<QLabel*>(QStringLiteral("shapeValue"))->text().left(formatShape(e.shape).size()),
             formatShape(e.shape));
    QCOMPARE(details->findChild<QLabel*>(QStringLiteral("elementsValue"))->text(), formatCount(e.numel));
    QCOMPARE(details->findChild<QLabel*>(QStringLiteral("requiresGradValue"))->text(),
             e.requiresGrad ? QStringLiteral("True") : QStringLiteral("False"));
    // The demo is TorchScript: torch.jit.load, then state_dict() (ScriptModules refuse get_parameter).
    const QString snippet =
        QStringLiteral("import torch\nm = torch.jit.load(%1, map_location=\"cpu\")\nt = m.state_dict()[%2]")
            .arg(pythonStringLiteral(index->filePath), pythonStringLiteral(e.name));
    QCOMPARE(details->findChild<QPlainTextEdit*>(QStringLiteral("snippetEdit"))->toPlainText(), snippet);
    QCOMPARE(shown.size(), 1);
    QCOMPARE(shown.first().at(1).toInt(), param);
    // Copy name / copy snippet shortcuts on the tree.
    w.treeView()->setFocus();
    QTest::keyClick(w.treeView(), Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), name);
    QTest::keyClick(w.treeView(), Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(QApplication::clipboard()->text(), snippet);
    // A buffer.
    w.selectEntry(buffer);
    QCOMPARE(details->findChild<QPlainTextEdit*>(QStringLiteral("snippetEdit"))->toPlainText(),
             QStringLiteral("import torch\nm = torch.jit.load(%1, map_location=\"cpu\")\nt = m.state_dict()[%2]")
                 .arg(pythonStringLiteral(index->filePath), pythonStringLiteral(index->entries[size_t(buffer)].name)));
    // A module: totals and largest children from the tree.
    const int layers = w.modelTree()->find("layers");
    QVERIFY(layers > 0);
    w.selectNode(layers);
    QVERIFY(details->findChild<QWidget*>(QStringLiteral("modulePage"))->isVisible());
    const QString totals = details->findChild<QLabel*>(QStringLiteral("moduleTotalsLabel"))->text();
    QVERIFY2(totals.contains(formatCount(w.modelTree()->node(layers).numel)), qPrintable(totals));
    auto* table = details->findChild<QTableWidget*>(QStringLiteral("largestChildrenTable"));
    QVERIFY(table->rowCount() > 0);
    const int largest = w.modelTree()->largestChildren(layers, 1).front();
    QCOMPARE(table->item(0, 0)->text(), QString::fromStdString(std::string(w.modelTree()->node(largest).name())));
    // Tied weight: the shared-with field names the other tensor.
    for (int i = 0; i < int(index->entries.size()); ++i) {
        if (index->entries[size_t(i)].sharedWith >= 0) {
            w.selectEntry(i);
            const QString other =
                QString::fromStdString(index->entries[size_t(index->entries[size_t(i)].sharedWith)].name);
            QVERIFY(details->findChild<QLabel*>(QStringLiteral("sharedWithValue"))->text().contains(other));
            break;
        }
    }
}

void TestMainWindow::selectionShowsStatistics()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
    QVERIFY(stats);
    // Independent truth: the mean and NaN-free extremes straight from the tensor's bytes.
    auto truth = [&](int entry) {
        const auto bytes = index->contiguousBytes(entry);
        std::vector<float> v(bytes->size() / 4);
        std::memcpy(v.data(), bytes->data(), bytes->size());
        double sum = 0;
        float lo = v[0], hi = v[0];
        for (float x : v) {
            sum += x;
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
        return std::make_tuple(sum / double(v.size()), double(lo), double(hi));
    };
    for (const char* name : {"layers.1.attn.q_proj.weight", "stem.bn.running_var", "embed.weight"}) {
        const int entry = index->findEntry(name);
        QVERIFY2(entry >= 0, name);
        w.selectEntry(entry);
        QTRY_VERIFY_WITH_TIMEOUT(
            stats->currentStats() && stats->currentStats()->elements == index->entries[size_t(entry)].numel, 20000);
        const auto [mean, lo, hi] = truth(entry);
        QVERIFY(stats->isVisible());
        QVERIFY(qAbs(stats->currentStats()->mean - mean) <= 1e-9 * std::max(1.0, qAbs(mean)));
        QCOMPARE(stats->currentStats()->min, lo);
        QCOMPARE(stats->currentStats()->max, hi);
        QCOMPARE(stats->currentStats()->nan, 0);
        QVERIFY(stats->histogram()->isVisible());
    }
    // A module shows its totals, not tensor statistics.
    w.selectNode(w.modelTree()->find("layers"));
    QTRY_VERIFY(!stats->isVisible());
}

void TestMainWindow::enterAndF3MoveSelection()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    const auto tree = w.modelTree();
    // Expected order: the tree walked depth-first in model order, matches only.
    QStringList expected;
    std::vector<int> stack{ModelTree::root()};
    while (!stack.empty()) {
        const int n = stack.back();
        stack.pop_back();
        const TreeNode& node = tree->node(n);
        if (node.entry >= 0 && node.fullName.find("bias") != std::string::npos)
            expected << QString::fromStdString(std::string(node.fullName));
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it)
            stack.push_back(*it);
    }
    QVERIFY(expected.size() >= 3);

    w.activateWindow();
    w.searchEdit()->setFocus();
    QTest::keyClicks(w.searchEdit(), QStringLiteral("bias"));
    QTest::keyClick(w.searchEdit(), Qt::Key_Return);  // runs the pending search, then next
    QCOMPARE(currentName(w), expected[0]);
    QTest::keyClick(w.searchEdit(), Qt::Key_Return);
    QCOMPARE(currentName(w), expected[1]);
    QTest::keyClick(&w, Qt::Key_F3);
    QCOMPARE(currentName(w), expected[2]);
    QTest::keyClick(&w, Qt::Key_F3, Qt::ShiftModifier);
    QCOMPARE(currentName(w), expected[1]);
    w.findPrevious();
    w.findPrevious();  // wraps to the last match
    QCOMPARE(currentName(w), expected.last());
    w.findNext();
    QCOMPARE(currentName(w), expected[0]);
    // The details follow the selection.
    QCOMPARE(w.detailsPanel()->findChild<ElidedLabel*>(QStringLiteral("tensorNameLabel"))->fullText(), expected[0]);
}

void TestMainWindow::exportCandidates()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    QVERIFY(w.exportCandidates().empty());  // nothing selected, no search
    QSignalSpy requested(&w, &MainWindow::exportRequested);

    // A module: every tensor under it, in file order.
    const int node = w.modelTree()->find("layers.1");
    QVERIFY(node > 0);
    w.selectNode(node);
    std::vector<int> under;
    for (int i = 0; i < int(index->entries.size()); ++i)
        if (index->entries[size_t(i)].name.rfind("layers.1.", 0) == 0)
            under.push_back(i);
    QVERIFY(!under.empty());
    QCOMPARE(w.exportCandidates(), under);
    QCOMPARE(w.exportSuggestedBaseName(under), QStringLiteral("layers.1"));
    QTest::keyClick(&w, Qt::Key_E, Qt::ControlModifier);
    QCOMPARE(requested.size(), 1);
    QCOMPARE(requested.first().at(0).value<std::vector<int>>(), under);

    // One tensor.
    w.selectEntry(under.front());
    QCOMPARE(w.exportCandidates(), std::vector<int>{under.front()});

    // Nothing selected and a search: all matches.
    w.treeView()->selectionModel()->clear();
    w.searchEdit()->setText(QStringLiteral("bias"));
    w.flushSearch();
    std::vector<int> biases;
    for (int i = 0; i < int(index->entries.size()); ++i)
        if (index->entries[size_t(i)].name.find("bias") != std::string::npos)
            biases.push_back(i);
    QCOMPARE(w.exportCandidates(), biases);
    QCOMPARE(w.exportSuggestedBaseName(biases), QStringLiteral("demo_model_matches"));
}

// Exporting a module during a search writes only its matches, which the file dialog's title
// says (a single tensor, or a module without a search, does not get the note); once written,
// the status bar says what went where, and the file holds those tensors.
void TestMainWindow::exportConfirmsAndSaysOnlyMatches()
{
    MainWindow w;
    w.enableExportDialog();
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    QTemporaryDir dir;
    QStringList titles;
    QString out;
    QTimer user;
    user.setInterval(20);
    connect(&user, &QTimer::timeout, &w, [&] {
        QWidget* modal = QApplication::activeModalWidget();
        if (auto* fd = qobject_cast<QFileDialog*>(modal)) {
            titles << fd->windowTitle();
            if (auto* edit = fd->findChild<QLineEdit*>(QStringLiteral("fileNameEdit")))
                edit->setText(out);
            else
                fd->selectFile(out);
            static_cast<QDialog*>(fd)->accept();
        } else if (auto* box = qobject_cast<QMessageBox*>(modal)) {
            box->accept();
        }
    });
    user.start();
    const QString onlyMatches = QStringLiteral("(only the search's matches)");

    // A module without a search: all of it, no note.
    w.selectNode(w.modelTree()->find("layers.1"));
    QVERIFY(!w.exportLeavesOutUnmatched(w.exportCandidates()));
    out = dir.filePath(QStringLiteral("all.safetensors"));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QTest::keyClick(w.treeView(), Qt::Key_E, Qt::ControlModifier);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(out), 30000);
    QCOMPARE(titles.size(), 1);
    QVERIFY2(!titles[0].contains(onlyMatches), qPrintable(titles[0]));
    QTRY_VERIFY(w.statusBar()->currentMessage().startsWith(QStringLiteral("Exported ")));
    QVERIFY2(w.statusBar()->currentMessage().contains(out), qPrintable(w.statusBar()->currentMessage()));

    // The same module during a search: its matches only, and the title says so.
    w.searchEdit()->setText(QStringLiteral("bias"));
    w.flushSearch();
    w.selectNode(w.modelTree()->find("layers.1"));
    std::vector<int> biases;
    for (int i = 0; i < int(index->entries.size()); ++i) {
        const std::string& n = index->entries[size_t(i)].name;
        if (n.rfind("layers.1.", 0) == 0 && n.find("bias") != std::string::npos)
            biases.push_back(i);
    }
    QVERIFY(biases.size() >= 2);
    QCOMPARE(w.exportCandidates(), biases);
    QVERIFY(w.exportLeavesOutUnmatched(biases));
    out = dir.filePath(QStringLiteral("matches.safetensors"));
    w.statusBar()->clearMessage();
    // Ctrl+E from the search box, as a user who has just searched presses it (the line
    // edit's own Ctrl+E, end of line, gives way; that binding exists on X11 desktops, so
    // this part bites under xcb, e.g. xvfb-run with QT_QPA_PLATFORM=xcb, not offscreen).
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    w.searchEdit()->setFocus();
    QTest::keyClick(w.searchEdit(), Qt::Key_E, Qt::ControlModifier);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(out), 30000);
    QCOMPARE(titles.size(), 2);
    QVERIFY2(titles[1].contains(onlyMatches), qPrintable(titles[1]));
    QTRY_COMPARE(w.statusBar()->currentMessage(), QStringLiteral("Exported %1 tensors (%2) to %3")
                                                      .arg(biases.size())
                                                      .arg(formatBytes(QFileInfo(out).size()))
                                                      .arg(out));
    LoadOptions o;
    auto back = loadModel(out, o);
    QVERIFY2(back, back ? "" : qPrintable(back.error()));
    QCOMPARE(back.value()->entries.size(), biases.size());
    for (size_t k = 0; k < biases.size(); ++k)
        QCOMPARE(back.value()->entries[k].name, index->entries[size_t(biases[k])].name);

    // One tensor during the search: nothing left out.
    w.selectEntry(biases.front());
    QVERIFY(!w.exportLeavesOutUnmatched(w.exportCandidates()));
    // Nothing selected during the search: every match, which is not the whole model.
    w.treeView()->selectionModel()->clear();
    QVERIFY(w.exportLeavesOutUnmatched(w.exportCandidates()));
}

void TestMainWindow::expandCollapseSubtree()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const int layers = w.modelTree()->find("layers");
    const int deep = w.modelTree()->find("layers.2.attn.q_proj");
    QVERIFY(layers > 0 && deep > 0);
    auto proxyIndex = [&](int node) { return w.filterProxy()->mapFromSource(w.treeModel()->indexForNode(node)); };
    w.selectNode(layers);
    QVERIFY(!w.treeView()->isExpanded(proxyIndex(deep)));
    w.treeView()->setFocus();
    QTest::keyClick(w.treeView(), Qt::Key_Right, Qt::ControlModifier);  // Expand subtree
    QVERIFY(w.treeView()->isExpanded(proxyIndex(layers)));
    QVERIFY(w.treeView()->isExpanded(proxyIndex(deep)));
    QTest::keyClick(w.treeView(), Qt::Key_Left, Qt::ControlModifier);  // Collapse subtree
    QVERIFY(!w.treeView()->isExpanded(proxyIndex(layers)));
    QVERIFY(!w.treeView()->isExpanded(proxyIndex(deep)));
}

void TestMainWindow::cancelDropsLoad()
{
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openFile(kDemo);
    QVERIFY(w.isLoading());
    QVERIFY(w.findChild<QWidget*>(QStringLiteral("cancelLoadButton"))->isVisible());
    w.cancelLoading();
    QVERIFY(!w.isLoading());
    QVERIFY(!w.findChild<QWidget*>(QStringLiteral("cancelLoadButton"))->isVisible());
    // A newer open supersedes; the cancelled one never lands.
    const QString copy = m_tmp.filePath(QStringLiteral("copy_of_demo.pt"));
    QFile::remove(copy);
    QVERIFY(QFile::copy(kDemo, copy));
    QVERIFY(openAndWait(w, copy));
    QTest::qWait(200);
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(loaded.first().at(0).toString(), QFileInfo(copy).absoluteFilePath());
    QCOMPARE(w.currentFile(), QFileInfo(copy).absoluteFilePath());
    // Two opens in a row: only the last one lands.
    loaded.clear();
    w.openFile(kDemo);
    w.openFile(copy);
    QVERIFY(loaded.wait(15000));
    QTest::qWait(200);
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(w.currentFile(), QFileInfo(copy).absoluteFilePath());
}

void TestMainWindow::dropOpensFile()
{
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(kDemo)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QVERIFY(loaded.wait(15000));
    QCOMPARE(w.currentFile(), QFileInfo(kDemo).absoluteFilePath());
}

void TestMainWindow::settingsPersist()
{
    const QString other = m_tmp.filePath(QStringLiteral("recent_test.pt"));
    QFile::remove(other);
    QVERIFY(QFile::copy(kDemo, other));
    {
        MainWindow w;
        w.show();
        QVERIFY(openAndWait(w, kDemo));
        QVERIFY(openAndWait(w, other));
        w.setEngine(LoaderEngine::LibTorch);
        w.resize(900, 700);
        w.close();  // saves the geometry
    }
    MainWindow w2;
    const QStringList recent = w2.recentFiles();
    QVERIFY(recent.size() >= 2);
    QCOMPARE(recent.at(0), QFileInfo(other).absoluteFilePath());
    QCOMPARE(recent.at(1), QFileInfo(kDemo).absoluteFilePath());
    QCOMPARE(w2.engine(), LoaderEngine::LibTorch);
    QCOMPARE(w2.size(), QSize(900, 700));
    QSettings s(m_tmp.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    QCOMPARE(s.value(QStringLiteral("lastFolder")).toString(), QFileInfo(other).absolutePath());
    w2.setEngine(LoaderEngine::Auto);
}

void TestMainWindow::demoFromResources()
{
    MainWindow w;
    w.show();
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openDemoModel();
    QVERIFY(loaded.wait(15000));
    // The same tensors as the demo file in the source tree.
    const auto direct = loadModel(kDemo);
    QVERIFY(direct.ok());
    QCOMPARE(w.modelIndex()->entries.size(), direct.value()->entries.size());
    QVERIFY(w.errorBanner()->isHidden());
}

namespace {

// 100 blocks x 50 experts x 20 tensors (entries only, no data); every fifth a buffer when
// `buffers` is set.
std::shared_ptr<ModelIndex> makeExperts(bool buffers = false)
{
    auto index = std::make_shared<ModelIndex>();
    for (int b = 0; b < 100; ++b)
        for (int x = 0; x < 50; ++x)
            for (int k = 0; k < 20; ++k) {
                TensorEntry e;
                e.name = "blocks." + std::to_string(b) + ".experts." + std::to_string(x) + ".w" + std::to_string(k);
                e.kind = buffers && k % 5 == 4 ? TensorKind::Buffer : TensorKind::Parameter;
                e.dtype = DType::Float32;
                e.shape = {4, 4};
                e.storage = int(index->entries.size());
                index->entries.push_back(std::move(e));
            }
    index->finalize();
    return index;
}

}  // namespace

void TestMainWindow::largeModelSearchesOnWorker()
{
    // 100,000 tensors (entries only, no data): the search runs on a worker thread.
    const auto index = makeExperts(true);
    QCOMPARE(int(index->entries.size()), 100000);
    MainWindow w;
    w.show();
    w.setModel(index);
    QCOMPARE(w.matchCountLabel()->text(), QStringLiteral("100,000 tensors"));

    int expected = 0;
    for (const auto& e : index->entries)
        if (e.name.find("experts.42.w1") != std::string::npos)
            ++expected;  // w1, w10..w19 of expert 42 in every block
    QCOMPARE(expected, 100 * 11);
    QSignalSpy applied(&w, &MainWindow::searchApplied);
    w.searchEdit()->setText(QStringLiteral("experts.42.w1"));
    QTRY_COMPARE_WITH_TIMEOUT(w.matchCountLabel()->text(), QStringLiteral("1,100 of 100,000 tensors"), 15000);
    QCOMPARE(w.filterProxy()->matchCount(), expected);
    QCOMPARE(int(visibleTensors(w.filterProxy()).size()), expected);
    w.findNext();
    QCOMPARE(currentName(w), QStringLiteral("blocks.0.experts.42.w1"));
    w.findPrevious();
    QCOMPARE(currentName(w), QStringLiteral("blocks.99.experts.42.w19"));

    // Typing on while a search runs: the last query wins.
    w.searchEdit()->setText(QStringLiteral("experts.4"));
    w.flushSearch();
    w.searchEdit()->setText(QStringLiteral("blocks.7.experts.8.w3"));
    QTRY_COMPARE_WITH_TIMEOUT(w.filterProxy()->matchCount(), 1, 15000);
    QTest::qWait(300);
    QCOMPARE(w.filterProxy()->matchCount(), 1);
    QCOMPARE(visibleTensors(w.filterProxy()), (std::set<std::string>{"blocks.7.experts.8.w3"}));

    // An invalid regex leaves the large tree as it was.
    w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Regex")));
    w.searchEdit()->setText(QStringLiteral("blocks.[7"));
    QTRY_VERIFY(w.searchErrorLabel()->isVisible());
    QCOMPARE(visibleTensors(w.filterProxy()), (std::set<std::string>{"blocks.7.experts.8.w3"}));
}

// Expanding a 105,101-row subtree opens it a step at a time, each step opening at most the
// row budget (one module with more children excepted), and in the end every module is open,
// as QTreeView::expandRecursively would leave it; collapsing closes them all.
void TestMainWindow::largeSubtreeExpandsInSteps()
{
    const auto index = makeExperts();
    MainWindow w;
    w.resize(1000, 700);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    w.setModel(index);
    const ModelTree& tree = *w.modelTree();
    const int blocks = tree.find("blocks");
    QVERIFY(blocks > 0);
    w.selectNode(blocks);
    SubtreeExpander* expander = w.subtreeExpander();
    expander->setRowBudget(5000);
    QSignalSpy finished(expander, &SubtreeExpander::finished);
    w.treeView()->setFocus();
    QTest::keyClick(w.treeView(), Qt::Key_Right, Qt::ControlModifier);  // Expand subtree: the first step
    QVERIFY(expander->isRunning());
    auto proxyIndex = [&](int node) { return w.filterProxy()->indexForNode(node); };
    auto openModules = [&] {
        int open = 0;
        for (int n = 1; n < tree.size(); ++n)
            if (!tree.node(n).children.empty() && w.treeView()->isExpanded(proxyIndex(n)))
                ++open;
        return open;
    };
    // A sort while it runs only moves rows: the expansion goes on.
    w.treeView()->sortByColumn(ModelTreeModel::NameColumn, Qt::DescendingOrder);
    const int afterFirst = openModules();
    QVERIFY2(afterFirst > 0 && afterFirst < 5101, qPrintable(QString::number(afterFirst)));
    int steps = 1;
    QElapsedTimer t;
    qint64 longest = 0;
    while (expander->isRunning()) {
        t.start();
        QCoreApplication::processEvents();  // one step, and the repaint it asks for
        w.treeView()->layoutNow();
        longest = std::max(longest, t.elapsed());
        ++steps;
        QVERIFY(steps < 1000);
    }
    QCOMPARE(finished.size(), 1);
    // 5,100 modules below and including "blocks" (itself, 100 blocks, 100 "experts", 5,000 experts).
    QCOMPARE(openModules(), 1 + 100 + 100 + 5000);
    QVERIFY2(steps >= 105101 / 5000, qPrintable(QString::number(steps)));
    qDebug("expanded 105,101 rows in %d steps, longest step %lld ms", steps, longest);
    t.start();
    QTest::keyClick(w.treeView(), Qt::Key_Left, Qt::ControlModifier);  // Collapse subtree
    QVERIFY(!w.treeView()->isExpanded(proxyIndex(blocks)));            // at once; the modules below in steps
    longest = 0;
    while (expander->isRunning()) {
        t.start();
        QCoreApplication::processEvents();
        w.treeView()->layoutNow();
        longest = std::max(longest, t.elapsed());
    }
    qDebug("collapsed, longest step %lld ms", longest);
    QCOMPARE(openModules(), 0);
}

// A search replaces the proxy's rows with one reset: the current row and the selected rows
// that the new match set still shows stay current and selected. A sort moves rows without a
// reset: the open modules stay open.
void TestMainWindow::searchKeepsSelectionAndSortKeepsExpansion()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const ModelTree& tree = *w.modelTree();
    const int keep = tree.find("layers.1.attn.q_proj.weight");
    const int other = tree.find("layers.1.attn.k_proj.weight");
    const int gone = tree.find("embed.weight");
    QVERIFY(keep > 0 && other > 0 && gone > 0);
    w.selectNode(keep);
    auto* sel = w.treeView()->selectionModel();
    sel->select(w.filterProxy()->indexForNode(other), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    sel->select(w.filterProxy()->indexForNode(gone), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    QCOMPARE(int(sel->selectedRows(0).size()), 3);

    QSignalSpy applied(&w, &MainWindow::searchApplied);
    w.searchEdit()->setText(QStringLiteral("layers.1.attn"));
    w.flushSearch();
    QTRY_VERIFY(applied.size() >= 1);
    QVERIFY(w.filterProxy()->isFiltering());
    QCOMPARE(currentName(w), QStringLiteral("layers.1.attn.q_proj.weight"));
    std::set<QString> selected;
    for (const QModelIndex& r : sel->selectedRows(0))
        selected.insert(r.data(ModelTreeModel::FullNameRole).toString());
    QCOMPARE(selected, (std::set<QString>{"layers.1.attn.q_proj.weight", "layers.1.attn.k_proj.weight"}));
    QVERIFY(w.treeView()->isExpanded(w.filterProxy()->indexForNode(tree.find("layers.1.attn.q_proj"))));

    // Sorting by name, descending: the same rows, reordered; q_proj's module stays open and
    // the current row stays current.
    w.treeView()->sortByColumn(ModelTreeModel::NameColumn, Qt::DescendingOrder);
    QTRY_COMPARE(w.filterProxy()->layout() ? int(w.filterProxy()->layout()->sort().field) : -1,
                 int(TreeSort::Field::Name));
    QVERIFY(w.treeView()->isExpanded(w.filterProxy()->indexForNode(tree.find("layers.1.attn.q_proj"))));
    QCOMPARE(currentName(w), QStringLiteral("layers.1.attn.q_proj.weight"));
    const QModelIndex attn = w.filterProxy()->indexForNode(tree.find("layers.1.attn"));
    QStringList order;
    for (int r = 0; r < w.filterProxy()->rowCount(attn); ++r)
        order << w.filterProxy()->index(r, 0, attn).data().toString();
    QStringList sorted = order;
    std::sort(sorted.begin(), sorted.end(), std::greater<QString>());
    QCOMPARE(order, sorted);
    QVERIFY(order.size() >= 2);

    // Clearing the search: every row again, still sorted, the current row kept.
    w.searchEdit()->clear();
    w.flushSearch();
    QTRY_VERIFY(!w.filterProxy()->isFiltering());
    QCOMPARE(currentName(w), QStringLiteral("layers.1.attn.q_proj.weight"));
    QVERIFY(w.filterProxy()->indexForNode(gone).isValid());
    QCOMPARE(w.filterProxy()->layout()->sort().field, TreeSort::Field::Name);
}

// Issue 10: the LibTorch engine runs in a helper process. A file that crashes LibTorch
// (a 4-byte constants.pkl: SIGSEGV in jit::load; the native reader does not need that
// record) ends in the error banner; the window and the model it showed stay.
void TestMainWindow::libTorchCrashKeepsWindow()
{
    const QString crash = m_tmp.filePath(QStringLiteral("demo_crash.pt"));
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"),
              QStringLiteral("import sys, zipfile\n"
                             "with zipfile.ZipFile(sys.argv[1]) as a, zipfile.ZipFile(sys.argv[2], 'w') as b:\n"
                             "    for i in a.infolist():\n"
                             "        d = a.read(i.filename)\n"
                             "        b.writestr(zipfile.ZipInfo(i.filename), b'\\x80\\x02\\x85.' if "
                             "i.filename.endswith('constants.pkl') else d)\n"),
              kDemo, crash});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());

    MainWindow w;
    w.show();
    w.setEngine(LoaderEngine::LibTorch);
    QVERIFY(openAndWait(w, kDemo));
    const auto index = w.modelIndex();
    QCOMPARE(index->engine, QStringLiteral("libtorch"));
    // A tensor read through the helper's result shows its statistics.
    auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
    QVERIFY(stats);
    const int entry = index->findEntry("embed.weight");
    QVERIFY(entry >= 0);
    w.selectEntry(entry);
    QTRY_VERIFY_WITH_TIMEOUT(
        stats->currentStats() && stats->currentStats()->elements == index->entries[size_t(entry)].numel, 20000);

    QSignalSpy failed(&w, &MainWindow::loadFailed);
    w.openFile(crash);
    QVERIFY(failed.wait(30000));
    QVERIFY(w.errorBanner()->isVisible());
    const QString text = w.errorBannerText();
    QVERIFY2(text.contains(QStringLiteral("the LibTorch engine crashed while reading 'demo_crash.pt' (signal 11")),
             qPrintable(text));
    // The previous model is still there, still browsable; the window still opens files.
    QVERIFY(w.isVisible());
    QCOMPARE(w.modelIndex(), index);
    QCOMPARE(w.currentFile(), QFileInfo(kDemo).absoluteFilePath());
    QVERIFY(w.filterProxy()->rowCount() > 0);
    w.selectEntry(index->findEntry("lm_head.weight"));
    QTRY_VERIFY_WITH_TIMEOUT(stats->currentStats() && stats->currentStats()->elements == 96000, 20000);
    QVERIFY(openAndWait(w, kDemo));
    QVERIFY(w.errorBanner()->isHidden());
    w.setEngine(LoaderEngine::Auto);
}

// Choosing another engine in the Engine menu reads the open file again with it.
void TestMainWindow::engineMenuReopensFile()
{
    MainWindow w;
    w.show();
    w.setEngine(LoaderEngine::Native);
    QVERIFY(openAndWait(w, kDemo));
    QCOMPARE(w.modelIndex()->engine, QStringLiteral("native"));
    auto engineAction = [&w](LoaderEngine e) -> QAction* {
        for (QAction* a : w.findChildren<QAction*>())
            if (a->actionGroup() && a->isCheckable() && a->data().toInt() == int(e) &&
                a->actionGroup()->actions().size() == 3)
                return a;
        return nullptr;
    };
    QAction* torch = engineAction(LoaderEngine::LibTorch);
    QVERIFY(torch);
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    torch->trigger();
    QVERIFY(loaded.wait(60000));
    QCOMPARE(w.engine(), LoaderEngine::LibTorch);
    QCOMPARE(w.modelIndex()->engine, QStringLiteral("libtorch"));
    QCOMPARE(w.currentFile(), QFileInfo(kDemo).absoluteFilePath());
    // The same engine again reads nothing.
    torch->trigger();
    QTest::qWait(300);
    QCOMPARE(loaded.size(), 1);
    engineAction(LoaderEngine::Native)->trigger();
    QVERIFY(loaded.wait(30000));
    QCOMPARE(w.modelIndex()->engine, QStringLiteral("native"));
    w.setEngine(LoaderEngine::Auto);
}

// At 800x600 the details pane never scrolls sideways: the statistics stack in one column
// when the pane is narrow and stand side by side when it is wide.
void TestMainWindow::detailsPaneReflows()
{
    MainWindow w;
    w.resize(800, 600);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(openAndWait(w, kDemo));
    auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
    QVERIFY(stats);
    w.selectEntry(w.modelIndex()->findEntry("embed.weight"));
    QTRY_VERIFY_WITH_TIMEOUT(stats->currentStats(), 20000);
    QScrollArea* scroll = nullptr;
    for (auto* s : w.findChildren<QScrollArea*>())
        if (s->widget() && s->widget()->objectName() == QStringLiteral("detailsPanel"))
            scroll = s;
    QVERIFY(scroll);
    QTRY_COMPARE(scroll->horizontalScrollBar()->maximum(), 0);
    QVERIFY(!scroll->horizontalScrollBar()->isVisible());
    QVERIFY(scroll->widget()->width() <= scroll->viewport()->width());
    QVERIFY(!stats->isGridSideBySide());
    // Every value is fully visible in its label.
    for (const char* key : {"min", "max", "mean", "std", "l2"}) {
        const QString text = stats->valueText(QLatin1String(key));
        QVERIFY(!text.isEmpty() && text != QStringLiteral("—"));
        const auto* label = [&]() -> QLabel* {
            for (QLabel* l : stats->findChildren<QLabel*>())
                if (l->text() == text)
                    return l;
            return nullptr;
        }();
        QVERIFY2(label, key);
        QVERIFY2(label->width() >= label->fontMetrics().horizontalAdvance(text), key);
        QVERIFY2(label->mapTo(scroll->viewport(), QPoint(label->width(), 0)).x() <= scroll->viewport()->width(), key);
    }
    // The snippet's lines never break inside an identifier.
    QCOMPARE(snippetBreaksInsideIdentifiers(w), QString());
    w.resize(1800, 900);
    QTRY_VERIFY(stats->isGridSideBySide());
    QTRY_COMPARE(scroll->horizontalScrollBar()->maximum(), 0);  // once the splitter gave the wider layout its room
}

// Until the user sizes it, the Name column takes what the other columns leave, and never
// less than 40% of the view.
void TestMainWindow::nameColumnTakesSpareWidth()
{
    MainWindow w;
    w.resize(1600, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(openAndWait(w, kDemo));
    QTreeView* tree = w.treeView();
    QHeaderView* h = tree->header();
    int others = 0, lastVisual = -1;
    for (int c = 1; c < h->count(); ++c)
        if (!tree->isColumnHidden(c)) {
            others += h->sectionSize(c);
            lastVisual = std::max(lastVisual, h->visualIndex(c));
        }
    QVERIFY(others > 0);
    QTRY_COMPARE(h->sectionSize(ModelTreeModel::NameColumn), tree->viewport()->width() - others);
    QVERIFY(h->sectionSize(ModelTreeModel::NameColumn) > tree->viewport()->width() * 2 / 5);
    // The last column ends at the view's edge: nothing scrolls, nothing is left blank.
    const int last = h->logicalIndex(lastVisual);
    QCOMPARE(h->sectionViewportPosition(last) + h->sectionSize(last), tree->viewport()->width());
    QCOMPARE(tree->horizontalScrollBar()->maximum(), 0);
    // Narrow: 40% of the view, the other columns scroll.
    w.resize(800, 600);
    QTRY_COMPARE(h->sectionSize(ModelTreeModel::NameColumn),
                 std::max(tree->fontMetrics().averageCharWidth() * 22, tree->viewport()->width() * 2 / 5));
    // A column the user sized keeps its width.
    h->resizeSection(ModelTreeModel::NameColumn, 150);
    w.resize(1200, 700);
    QTest::qWait(50);
    QCOMPARE(h->sectionSize(ModelTreeModel::NameColumn), 150);
}

// A name 15 levels down keeps room for its text after the indentation; the view scrolls
// sideways instead of drawing blank rows.
void TestMainWindow::deepNamesKeepTheirText()
{
    const QString file = m_tmp.filePath(QStringLiteral("deep.pt"));
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"),
              QStringLiteral("import sys, torch\n"
                             "sd = {}; p = 'model'\n"
                             "for d in range(14):\n"
                             "    p += '.block%d' % d; sd[p + '.weight'] = torch.ones(2, 2)\n"
                             "sd[p + '.a_rather_long_parameter_name_at_the_bottom'] = torch.zeros(3)\n"
                             "torch.save(sd, sys.argv[1])\n"),
              file});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    MainWindow w;
    w.resize(800, 600);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(openAndWait(w, file));
    auto* tree = static_cast<ModelTreeView*>(w.treeView());
    const int leaf = w.modelIndex()->findEntry(
        "model.block0.block1.block2.block3.block4.block5.block6.block7.block8.block9.block10.block11.block12.block13"
        ".a_rather_long_parameter_name_at_the_bottom");
    QVERIFY(leaf >= 0);
    // Even a width the user set narrow grows when a deeper level is expanded.
    tree->header()->resizeSection(ModelTreeModel::NameColumn, 100);
    w.selectEntry(leaf);
    const QModelIndex current = tree->currentIndex();
    QVERIFY(current.isValid());
    QTRY_COMPARE(tree->deepestShownDepth(), 15);
    QVERIFY(tree->header()->sectionSize(ModelTreeModel::NameColumn) >= tree->nameWidthForDepth(15));
    // The cell left after the indentation holds the icon and at least 16 characters.
    const QFontMetrics fm = tree->fontMetrics();
    const QRect cell = tree->visualRect(current.siblingAtColumn(ModelTreeModel::NameColumn));
    QVERIFY2(cell.width() >= tree->iconSize().width() + fm.averageCharWidth() * 14,
             qPrintable(QString::number(cell.width())));
    // Every row shown has its name's text in view once scrolled to.
    QVERIFY(tree->horizontalScrollBar()->maximum() > 0);
    // The snippet names it whole: the long name scrolls in its box, not broken inside.
    QTRY_VERIFY(w.detailsPanel()
                    ->findChild<QPlainTextEdit*>(QStringLiteral("snippetEdit"))
                    ->toPlainText()
                    .contains(QStringLiteral("a_rather_long_parameter_name_at_the_bottom")));
    QCOMPARE(snippetBreaksInsideIdentifiers(w), QString());
    for (QModelIndex i = tree->indexAt(QPoint(1, 1)); i.isValid(); i = tree->indexBelow(i)) {
        const QRect r = tree->visualRect(i.siblingAtColumn(ModelTreeModel::NameColumn));
        QVERIFY2(r.width() >= fm.horizontalAdvance(QStringLiteral("weight")), qPrintable(i.data().toString()));
    }
}

void TestMainWindow::largeModuleTotalsAreCountedOnAWorker()
{
    // Past the limit a module's per-kind totals are counted on a worker (a module of 1M tensors
    // took tens of ms on the GUI thread): the page shows at once with "counting…", then the
    // same figures the synchronous count gives. A newer selection drops an older count.
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    auto* details = w.findChild<DetailsPanel*>(QStringLiteral("detailsPanel"));
    QVERIFY(details);
    auto* label = details->findChild<QLabel*>(QStringLiteral("moduleTotalsLabel"));
    QVERIFY(label);
    const int layers = w.modelTree()->find("layers");
    QVERIFY(layers > 0);
    const QString layersTotals = details->moduleTotalsText(layers);
    const QString modelTotals = details->moduleTotalsText(ModelTree::root());
    QVERIFY(layersTotals.contains(QStringLiteral("Parameters:</td>")));
    QVERIFY(!layersTotals.contains(QStringLiteral("counting")));

    details->setSyncTotalsLimit(0);
    w.selectNode(layers);
    QVERIFY(label->text().contains(QStringLiteral("counting…")));
    QVERIFY(label->text().contains(formatCount(w.modelTree()->node(layers).numel)));  // known at once
    QTRY_COMPARE(label->text(), layersTotals);
    QVERIFY(!details->countingTotals());
    // The whole model, then another module before its count can arrive: only the last shows.
    details->showNode(ModelTree::root());  // the window shows it when nothing is selected
    QVERIFY(label->text().contains(QStringLiteral("counting…")));
    details->showNode(layers);
    QTRY_COMPARE(label->text(), layersTotals);
    QTest::qWait(50);
    QCOMPARE(label->text(), layersTotals);
    details->showNode(ModelTree::root());  // the window shows it when nothing is selected
    QTRY_COMPARE(label->text(), modelTotals);
    // A new model while a count runs: the count is dropped, nothing lands on the page.
    details->showNode(layers);
    QVERIFY(details->countingTotals());
    details->setModel(w.modelIndex(), w.modelTree());
    QVERIFY(!details->countingTotals());
    QTest::qWait(100);
    QVERIFY2(label->text().contains(QStringLiteral("counting…")), qPrintable(label->text()));
    details->showNode(layers);
    QTRY_COMPARE(label->text(), layersTotals);
    // Under the limit: counted at once, no worker.
    details->setSyncTotalsLimit(DetailsPanel::kSyncTotalsLimit);
    details->showNode(layers);
    QCOMPARE(label->text(), layersTotals);
    QVERIFY(!details->countingTotals());
}

// A module's page counts per kind as PyTorch's own parameters() and buffers() do (tied
// weights once, trainable and frozen apart), on a TorchScript model with a tied pair, a frozen
// layer and a buffer; the status bar gives the parameter elements.
void TestMainWindow::modulePageCountsLikeTorch()
{
    const QString file = m_tmp.filePath(QStringLiteral("kinds.pt"));
    QProcess py;
    py.start(
        QStringLiteral(PARAMSCOPE_PYTHON),
        {QStringLiteral("-c"),
         QStringLiteral(
             "import sys, torch\n"
             "from torch import nn\n"
             "class Pair(nn.Module):\n"
             "    def __init__(self):\n"
             "        super().__init__(); self.emb = nn.Embedding(10, 4); self.head = nn.Linear(4, 10, bias=False)\n"
             "        self.head.weight = self.emb.weight\n"
             "    def forward(self, x): return self.head(self.emb(x))\n"
             "class M(nn.Module):\n"
             "    def __init__(self):\n"
             "        super().__init__(); self.pair = Pair(); self.frozen = nn.Linear(4, 3)\n"
             "        self.frozen.requires_grad_(False); self.bn = nn.BatchNorm1d(3)\n"
             "    def forward(self, x): return self.bn(self.frozen(self.pair(x)[:, :4]))\n"
             "m = torch.jit.trace(M().eval(), torch.tensor([1, 2, 3]))\n"
             "m.save(sys.argv[1]); m = torch.jit.load(sys.argv[1])\n"
             "for name in ['', 'pair', 'frozen', 'bn']:\n"
             "    s = m if not name else getattr(m, name)\n"
             "    p = list(s.parameters()); b = list(s.buffers())\n"
             "    print(name or '-', len(s.state_dict()) - len(list(s.named_buffers())),\n"
             "          sum(x.numel() for x in p), sum(x.numel() for x in p if x.requires_grad),\n"
             "          sum(x.numel() for x in p if not x.requires_grad), len(b), sum(x.numel() for x in b))\n"),
         file});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, file));
    auto* details = w.findChild<DetailsPanel*>(QStringLiteral("detailsPanel"));
    QVERIFY(details);
    const QStringList lines =
        QString::fromUtf8(py.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);
    const auto tensors = [](qint64 count, qint64 elements) {
        return QStringLiteral("%1 %2 · %3 %4")
            .arg(count)
            .arg(count == 1 ? "tensor" : "tensors")
            .arg(formatCount(elements))
            .arg(elements == 1 ? "element" : "elements");
    };
    for (const QString& line : lines) {
        const QStringList f = line.split(QLatin1Char(' '));
        QCOMPARE(f.size(), 7);
        const int node = f[0] == QLatin1String("-") ? ModelTree::root() : w.modelTree()->find(f[0].toStdString());
        QVERIFY2(node >= 0, qPrintable(f[0]));
        const QString text = details->moduleTotalsText(node);
        QVERIFY2(text.contains(QStringLiteral("Parameters:</td><td align=right>") +
                               tensors(f[1].toLongLong(), f[2].toLongLong())),
                 qPrintable(f[0] + QStringLiteral(": ") + text));
        QVERIFY2(text.contains(QStringLiteral("Buffers:</td><td align=right>") +
                               tensors(f[5].toLongLong(), f[6].toLongLong())),
                 qPrintable(f[0] + QStringLiteral(": ") + text));
        if (f[4].toLongLong() > 0)
            QVERIFY2(text.contains(QStringLiteral("trainable %1, frozen %2")
                                       .arg(formatCount(f[3].toLongLong()), formatCount(f[4].toLongLong()))),
                     qPrintable(f[0] + QStringLiteral(": ") + text));
        else
            QVERIFY2(!text.contains(QStringLiteral("frozen")), qPrintable(f[0] + QStringLiteral(": ") + text));
        // The tied pair says so; the frozen layer has nothing tied.
        QCOMPARE(text.contains(QStringLiteral("1 name is tied")),
                 f[0] == QLatin1String("pair") || f[0] == QLatin1String("-"));
    }
    // In the largest-children table the tied tensor's row says "tied" and names the tensor
    // whose data it is, rather than counting its size a second time.
    const int head = w.modelTree()->find("pair.head");
    QVERIFY(head > 0);
    w.selectNode(head);
    auto* largest = details->findChild<QTableWidget*>(QStringLiteral("largestChildrenTable"));
    QVERIFY(largest);
    QTRY_COMPARE(largest->rowCount(), 1);
    QCOMPARE(largest->item(0, 0)->text(), QStringLiteral("weight"));
    QCOMPARE(largest->item(0, 2)->text(), QStringLiteral("tied"));
    QCOMPARE(largest->item(0, 2)->toolTip(),
             QStringLiteral("Shares its data with pair.emb.weight, where it is counted"));
    w.selectNode(w.modelTree()->find("pair.emb"));
    QTRY_COMPARE(largest->item(0, 2)->text(), QStringLiteral("100.0 %"));
    const QStringList root = lines[0].split(QLatin1Char(' '));
    const QString status = w.findChild<QLabel*>(QStringLiteral("modelStatusLabel"))->text();
    QVERIFY2(status.contains(QStringLiteral("%1 parameter elements (%2 in all)")
                                 .arg(formatCount(root[2].toLongLong()), formatCount(w.modelIndex()->totals().numel))),
             qPrintable(status));
}

// The details pane never shows a tensor the tree no longer does: a search that hides the
// current tensor puts the whole model there (and the statistics go).
void TestMainWindow::detailsLeaveATensorTheSearchHides()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
    const int embed = w.modelIndex()->findEntry("embed.weight");
    w.selectEntry(embed);
    QCOMPARE(w.detailsPanel()->currentNode(), w.modelTree()->nodeForEntry(embed));
    QTRY_VERIFY_WITH_TIMEOUT(stats->currentStats(), 20000);
    w.searchEdit()->setText(QStringLiteral("bias"));
    w.flushSearch();
    QTRY_COMPARE(w.detailsPanel()->currentNode(), ModelTree::root());
    QCOMPARE(w.detailsPanel()->findChild<QWidget*>(QStringLiteral("modulePage"))->isVisible(), true);
    QCOMPARE(w.detailsPanel()->findChild<ElidedLabel*>(QStringLiteral("moduleNameLabel"))->fullText(),
             QStringLiteral("Whole model"));
    QVERIFY(!stats->currentStats());
    // A search that keeps it shown keeps it in the details.
    w.searchEdit()->clear();
    w.flushSearch();
    w.selectEntry(embed);
    w.searchEdit()->setText(QStringLiteral("embed"));
    w.flushSearch();
    QTest::qWait(50);
    QCOMPARE(w.detailsPanel()->currentNode(), w.modelTree()->nodeForEntry(embed));
}

// A file the loader had to skip things in: the status bar's button says how many warnings,
// and clicking it lists every one of them.
void TestMainWindow::warningsButtonListsThem()
{
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, fixture(QStringLiteral("checkpoints/training_checkpoint.pt"))));
    const QStringList warnings = w.modelIndex()->warnings;
    QVERIFY(!warnings.isEmpty());
    QVERIFY2(warnings.join(QLatin1Char(' ')).contains(QStringLiteral("allow-list")), qPrintable(warnings.join('\n')));
    auto* button = w.findChild<QToolButton*>(QStringLiteral("modelSummaryButton"));
    QVERIFY(button && button->isVisible());
    QCOMPARE(button->text(), warnings.size() == 1 ? QStringLiteral("⚠ 1 warning")
                                                  : QStringLiteral("⚠ %1 warnings").arg(warnings.size()));
    button->click();
    QDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QDialog*>(QStringLiteral("modelSummaryDialog"))) != nullptr);
    auto* list = dialog->findChild<QPlainTextEdit*>(QStringLiteral("warningsList"));
    QVERIFY(list && list->isVisible());
    QCOMPARE(list->toPlainText(), warnings.join(QLatin1Char('\n')));
    dialog->close();
}

// "Aa" switched on is drawn filled with the palette's highlight; off it is not.
void TestMainWindow::caseButtonShowsWhenOn()
{
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* aa = w.findChild<QToolButton*>(QStringLiteral("caseSensitive"));
    QVERIFY(aa);
    const QColor highlight = aa->palette().color(QPalette::Highlight);
    const auto highlighted = [&](const QImage& img) {
        int n = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                n += img.pixelColor(x, y).rgb() == highlight.rgb();
        return double(n) / double(img.width() * img.height());
    };
    aa->setChecked(false);
    const QImage off = aa->grab().toImage();
    aa->setChecked(true);
    const QImage on = aa->grab().toImage();
    // The filled part (inside the border and its rounded corners) is a fifth of the grab or more.
    QVERIFY2(highlighted(off) < 0.01, qPrintable(QString::number(highlighted(off))));
    QVERIFY2(highlighted(on) > 0.15, qPrintable(QString::number(highlighted(on))));
    aa->setChecked(false);
}

// The summary's figures are PyTorch's own: parameters() and buffers() count tied data once.
void TestMainWindow::modelSummaryMatchesTorch()
{
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"),
              QStringLiteral("import sys, torch\n"
                             "m = torch.jit.load(sys.argv[1])\n"
                             "p = list(m.parameters()); b = list(m.buffers())\n"
                             "print(sum(x.numel() for x in p), sum(x.numel() for x in p if x.requires_grad),"
                             " sum(x.numel() for x in p if not x.requires_grad), sum(x.numel() for x in b),"
                             " sum(x.numel() * x.element_size() for x in p + b if x.dtype == torch.float32))"),
              kDemo});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const QStringList truth = QString::fromUtf8(py.readAllStandardOutput()).split(QLatin1Char(' '));
    QCOMPARE(truth.size(), 5);
    MainWindow w;
    w.show();
    QVERIFY(openAndWait(w, kDemo));
    const ModelIndex::Totals t = w.modelIndex()->totals();
    QCOMPARE(t.parameterNumel, truth[0].toLongLong());
    QCOMPARE(t.trainableNumel, truth[1].toLongLong());
    QCOMPARE(t.frozenNumel, truth[2].toLongLong());
    QCOMPARE(t.bufferNumel, truth[3].toLongLong());
    QCOMPARE(t.bytesByDType.at(DType::Float32), truth[4].trimmed().toLongLong());
    QVERIFY(t.tied >= 1);  // lm_head.weight is embed.weight
    const QString text = w.modelSummaryText();
    QVERIFY2(text.contains(
                 QStringLiteral("Parameter elements: %1 (trainable %2, frozen %3)")
                     .arg(formatCount(t.parameterNumel), formatCount(t.trainableNumel), formatCount(t.frozenNumel))),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Buffer elements: %1").arg(formatCount(t.bufferNumel))), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("float32: %1").arg(formatBytes(t.bytesByDType.at(DType::Float32)))),
             qPrintable(text));
    // The status bar's button opens it, with the warnings listed.
    auto* button = w.findChild<QToolButton*>(QStringLiteral("modelSummaryButton"));
    QVERIFY(button && button->isVisible());
    button->click();
    QDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QDialog*>(QStringLiteral("modelSummaryDialog"))) != nullptr);
    QCOMPARE(dialog->findChild<QLabel*>(QStringLiteral("summaryText"))->text().count(QStringLiteral("<br>")),
             text.count(QLatin1Char('\n')));
    QCOMPARE(dialog->findChild<QPlainTextEdit*>(QStringLiteral("warningsList"))->toPlainText(),
             w.modelIndex()->warnings.join(QLatin1Char('\n')));
    dialog->close();

    // The whole model's largest children: embed and lm_head each hold the tied weight, so
    // their shares add up past 100 % by its size, as PyTorch sums each child's parameters()
    // and buffers(); the note under the table says so and why.
    QProcess shares;
    shares.start(QStringLiteral(PARAMSCOPE_PYTHON),
                 {QStringLiteral("-c"),
                  QStringLiteral("import sys, torch\n"
                                 "m = torch.jit.load(sys.argv[1])\n"
                                 "b = lambda xs: sum(x.numel() * x.element_size() for x in xs)\n"
                                 "tot = b(list(m.parameters()) + list(m.buffers()))\n"
                                 "s = sum(b(list(c.parameters()) + list(c.buffers())) for _, c in m.named_children())\n"
                                 "s += b([x for _, x in m.named_parameters(recurse=False)])\n"
                                 "s += b([x for _, x in m.named_buffers(recurse=False)])\n"
                                 "print('%.1f' % (100 * s / tot))\n"),
                  kDemo});
    QVERIFY(shares.waitForFinished(60000));
    QVERIFY2(shares.exitCode() == 0, shares.readAllStandardError().constData());
    const QString percent = QString::fromUtf8(shares.readAllStandardOutput()).trimmed();
    QVERIFY(percent.toDouble() > 100.05);
    w.selectNode(ModelTree::root());
    auto* note = w.detailsPanel()->findChild<QLabel*>(QStringLiteral("sharesNoteLabel"));
    QVERIFY(note);
    QTRY_VERIFY(note->isVisible());
    QVERIFY2(note->text().contains(QStringLiteral("add up to %1 %").arg(percent)), qPrintable(note->text()));
    // A module without a tie among its children has none.
    w.selectNode(w.modelTree()->find("layers.1"));
    QTRY_VERIFY(!note->isVisible());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
