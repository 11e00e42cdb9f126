// The window's whole-model scan: the Scan menu, the Problems panel under the tree, the
// statistic columns (chosen from the tree header's context menu), "only problems" in the
// search bar, the automatic scan of small files and its preference.

#include "ui/mainwindow.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "scan/scantable.h"
#include "session/modelsession.h"
#include "session/scancontroller.h"
#include "session/searchcontroller.h"
#include "session/settings.h"
#include "ui/detailspanel.h"
#include "ui/models/modeltreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/modeltreeview.h"
#include "ui/problemspanel.h"
#include "ui/statspanel.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QToolButton>

namespace paramscope {

namespace {
const QString kScanColumnsKey = QStringLiteral("tree/scanColumns");
const QString kAutoScanKey = QStringLiteral("scan/autoMaxMB");
constexpr int kDefaultAutoScanMB = 512;
}  // namespace

int MainWindow::autoScanLimitMB()
{
    return openSettings()->value(kAutoScanKey, kDefaultAutoScanMB).toInt();
}

void MainWindow::setAutoScanLimitMB(int mb)
{
    openSettings()->setValue(kAutoScanKey, std::max(0, mb));
}

void MainWindow::createScanUi()
{
    m_scanAction = new QAction(tr("&Scan model"), this);
    m_scanAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_scanAction->setToolTip(tr("Compute the statistics of every tensor and list the broken ones"));
    connect(m_scanAction, &QAction::triggered, this, &MainWindow::startScan);
    m_cancelScanAction = new QAction(tr("&Cancel scan"), this);
    connect(m_cancelScanAction, &QAction::triggered, m_scan, &ScanController::cancel);
    m_showProblemsAction = new QAction(tr("Show &Problems panel"), this);
    m_showProblemsAction->setCheckable(true);
    connect(m_showProblemsAction, &QAction::toggled, m_problems, &QWidget::setVisible);
    m_problemsOnlyAction = new QAction(tr("Only tensors with p&roblems"), this);
    m_problemsOnlyAction->setCheckable(true);
    m_problemsOnlyAction->setToolTip(tr("Show only the tensors the scan found problems in (with the search, if any)"));
    connect(m_problemsOnlyAction, &QAction::toggled, this, &MainWindow::updateProblemsFilter);
    m_problemsOnlyButton->setDefaultAction(m_problemsOnlyAction);
    m_problemsOnlyAction->setIconText(tr("⚠ Problems"));
    auto* prefs = new QAction(tr("&Preferences…"), this);
    connect(prefs, &QAction::triggered, this, &MainWindow::showScanPreferences);

    m_scanMenu = new QMenu(tr("&Scan"), this);
    m_scanMenu->addAction(m_scanAction);
    m_scanMenu->addAction(m_cancelScanAction);
    m_scanMenu->addSeparator();
    m_scanMenu->addAction(m_showProblemsAction);
    m_scanMenu->addAction(m_problemsOnlyAction);
    m_statColumnsMenu = m_scanMenu->addMenu(tr("Statistic &columns"));
    connect(m_statColumnsMenu, &QMenu::aboutToShow, this, [this] { fillStatColumnsMenu(m_statColumnsMenu); });
    m_scanMenu->addSeparator();
    m_scanMenu->addAction(prefs);
    // Before the Engine menu: File, Edit, View, Scan, Engine.
    const QList<QAction*> menus = menuBar()->actions();
    menuBar()->insertMenu(menus.size() >= 4 ? menus.at(3) : nullptr, m_scanMenu);

    QHeaderView* header = m_tree->header();
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QWidget::customContextMenuRequested, this, [this, header](const QPoint& pos) {
        QMenu menu(this);
        fillStatColumnsMenu(&menu);
        menu.exec(header->mapToGlobal(pos));
    });
    const QFontMetrics fm = m_tree->fontMetrics();
    for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
        header->resizeSection(
            c, fm.horizontalAdvance(c == ModelTreeModel::ProblemsColumn ? QStringLiteral("nan, dead-rows")
                                                                        : QStringLiteral("-0.0123457")) +
                   fm.averageCharWidth() * 3);
    const QStringList shown = openSettings()->value(kScanColumnsKey).toStringList();
    for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
        m_tree->setColumnHidden(c, !shown.contains(scanColumnTitle(ScanColumn(c - ModelTreeModel::kFirstScanColumn))));

    connect(m_scan, &ScanController::tableChanged, this, [this] {
        m_model->setScanTable(m_scan->table());
        m_stats->setScanTable(m_scan->table());
        updateProblemsFilter();
        updateScanActions();
    });
    connect(m_scan, &ScanController::started, this, [this] {
        m_showProblemsAction->setChecked(true);
        updateScanActions();
    });
    connect(m_scan, &ScanController::tensorsScanned, this, [this] {
        m_model->scanUpdated();
        if (m_problemsOnlyAction->isChecked())
            updateProblemsFilter();
    });
    connect(m_scan, &ScanController::finished, this, [this](bool) {
        m_model->scanUpdated();
        updateProblemsFilter();
        updateScanActions();
        // Sorted by a statistic: sort again now that every value is in.
        const TreeSort& s = m_proxy->requestedSort();
        if (s.field == TreeSort::Field::Numeric)
            m_proxy->sort(s.key, s.descending ? Qt::DescendingOrder : Qt::AscendingOrder);
        const int current = currentNode();
        if (current >= 0 && m_model->tree() && current < m_model->tree()->size())
            m_problems->showEntry(m_model->tree()->node(current).entry);
    });
    connect(m_problems, &ProblemsPanel::entryActivated, this, [this](int entry) {
        m_tabs->setCurrentWidget(m_tree);
        selectEntry(entry);
    });
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
        const int node = currentNode();
        if (node > 0 && m_model->tree() && node < m_model->tree()->size())
            m_problems->showEntry(m_model->tree()->node(node).entry);
    });
    connect(m_search, &SearchController::viewReady, m_problems, [this](std::shared_ptr<const SearchMatches> matches) {
        // "Only search matches" lists the query's matches, not the problems filter's.
        m_problems->setMatches(m_searchEdit->text().isEmpty() ? nullptr : std::move(matches));
    });
    updateScanActions();
}

void MainWindow::fillStatColumnsMenu(QMenu* menu)
{
    menu->clear();
    for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c) {
        QAction* a = menu->addAction(scanColumnTitle(ScanColumn(c - ModelTreeModel::kFirstScanColumn)));
        a->setCheckable(true);
        a->setChecked(!m_tree->isColumnHidden(c));
        connect(a, &QAction::toggled, this, [this, c](bool on) { setStatColumnShown(c, on); });
    }
    menu->addSeparator();
    connect(menu->addAction(tr("Show all statistics")), &QAction::triggered, this, [this] {
        for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
            setStatColumnShown(c, true);
    });
    connect(menu->addAction(tr("Hide all statistics")), &QAction::triggered, this, [this] {
        for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
            setStatColumnShown(c, false);
    });
}

void MainWindow::setStatColumnShown(int column, bool shown)
{
    m_tree->setColumnHidden(column, !shown);
    m_tree->fitNameColumn();
    QStringList names;
    for (int c = ModelTreeModel::MinColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
        if (!m_tree->isColumnHidden(c))
            names << scanColumnTitle(ScanColumn(c - ModelTreeModel::kFirstScanColumn));
    openSettings()->setValue(kScanColumnsKey, names);
}

void MainWindow::startScan()
{
    if (!m_session->index() || m_scan->isRunning())
        return;
    m_scan->start();
}

void MainWindow::scanIfSmall()
{
    if (m_scan->table() && m_scan->table()->isComplete())
        return;  // results cached for this file
    const auto index = m_session->index();
    const int limit = autoScanLimitMB();
    if (!index || limit <= 0 || index->filePath.isEmpty())
        return;
    qint64 bytes = 0;
    const QStringList files = index->sourceFiles.isEmpty() ? QStringList{index->filePath} : index->sourceFiles;
    for (const QString& f : files)
        bytes += QFileInfo(f).size();
    if (bytes <= qint64(limit) * 1024 * 1024)
        m_scan->start();
}

void MainWindow::updateProblemsFilter()
{
    const ScanTable* t = m_scan->table();
    const bool on = m_problemsOnlyAction->isChecked() && t;
    m_search->setRestriction(on ? std::make_shared<const std::vector<unsigned char>>(t->problemMask()) : nullptr);
}

void MainWindow::updateScanActions()
{
    const bool model = m_session->index() != nullptr;
    const bool running = m_scan->isRunning();
    m_scanAction->setEnabled(model && !running);
    m_scanAction->setText(m_scan->table() && !running ? tr("&Scan model again") : tr("&Scan model"));
    m_cancelScanAction->setEnabled(running);
    m_problemsOnlyAction->setEnabled(m_scan->table() != nullptr);
    if (!m_scan->table() && m_problemsOnlyAction->isChecked())
        m_problemsOnlyAction->setChecked(false);
}

void MainWindow::showScanPreferences()
{
    QDialog d(this);
    d.setWindowTitle(tr("Preferences"));
    auto* form = new QFormLayout(&d);
    auto* limit = new QSpinBox(&d);
    limit->setObjectName(QStringLiteral("autoScanLimit"));
    limit->setRange(0, 1024 * 1024);
    limit->setSuffix(tr(" MB"));
    limit->setSpecialValueText(tr("never"));
    limit->setValue(autoScanLimitMB());
    form->addRow(tr("Scan automatically files up to"), limit);
    auto* note = new QLabel(tr("After opening a file this size or smaller, the whole-model scan runs in the "
                               "background (0: never). Larger files are scanned with Scan → Scan model."),
                            &d);
    note->setWordWrap(true);
    form->addRow(note);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    if (d.exec() == QDialog::Accepted)
        setAutoScanLimitMB(limit->value());
}

}  // namespace paramscope
