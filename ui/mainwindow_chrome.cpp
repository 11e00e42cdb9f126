// MainWindow's chrome: actions and their shortcuts, the menus, the status bar, settings
// (geometry, engine, recent files) and the enabled state of the actions. The window's
// layout and its wiring to the session are in mainwindow.cpp, search in mainwindow_search.cpp.
#include "ui/mainwindow.h"

#include "ui/comparewindow.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/modelsession.h"
#include "session/settings.h"
#include "ui/models/modeltreemodel.h"
#include "ui/modeltreeview.h"

#include <QAction>
#include <QVBoxLayout>
#include <QTableWidget>
#include <QMessageBox>
#include <QDialogButtonBox>
#include <QDialog>
#include <QActionGroup>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QPlainTextEdit>
#include <QCoreApplication>
#include <QComboBox>
#include <QToolButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>

namespace paramscope {

void MainWindow::createActions()
{
    m_openAction = new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open…"), this);
    m_openAction->setShortcut(QKeySequence::Open);
    connect(m_openAction, &QAction::triggered, this, [this] {
        auto s = openSettings();
        const QString dir = s->value(QStringLiteral("lastFolder"), QDir::homePath()).toString();
        const QString path = QFileDialog::getOpenFileName(this, tr("Open model"), dir, openDialogFilter());
        if (!path.isEmpty())
            openFile(path);
    });

    m_openDemoAction = new QAction(tr("Open &demo model"), this);
    connect(m_openDemoAction, &QAction::triggered, this, &MainWindow::openDemoModel);

    m_exportAction = new QAction(tr("&Export…"), this);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportAction->setToolTip(
        tr("Export the selected tensor, the tensors under the selected module, or all search matches"));
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::triggerExport);

    m_compareAction = new QAction(tr("&Compare with…"), this);
    m_compareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    m_compareAction->setToolTip(tr("Compare the open model with another file, tensor by tensor"));
    connect(m_compareAction, &QAction::triggered, this, [this] {
        const QString dir = QFileInfo(currentFile()).absolutePath();
        const QString path = QFileDialog::getOpenFileName(this, tr("Compare with"), dir, openDialogFilter());
        if (!path.isEmpty())
            compareWith(path);
    });

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    // Copy shortcuts act on the tree only, so Ctrl+C still copies text in other widgets.
    m_copyNameAction = new QAction(tr("Copy &name"), this);
    m_copyNameAction->setShortcut(QKeySequence::Copy);
    m_copyNameAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copyNameAction, &QAction::triggered, this, &MainWindow::copyName);
    m_copySnippetAction = new QAction(tr("Copy Python &snippet"), this);
    m_copySnippetAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copySnippetAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copySnippetAction, &QAction::triggered, this, &MainWindow::copySnippet);
    m_expandSubtreeAction = new QAction(tr("E&xpand subtree"), this);
    m_expandSubtreeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Right));
    m_expandSubtreeAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_expandSubtreeAction, &QAction::triggered, this, &MainWindow::expandSubtree);
    m_collapseSubtreeAction = new QAction(tr("C&ollapse subtree"), this);
    m_collapseSubtreeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Left));
    m_collapseSubtreeAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_collapseSubtreeAction, &QAction::triggered, this, &MainWindow::collapseSubtree);
    m_tree->addActions({m_copyNameAction, m_copySnippetAction, m_expandSubtreeAction, m_collapseSubtreeAction});

    m_findAction = new QAction(tr("&Find…"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, [this] {
        if (m_pages->currentWidget() != m_browserPage)
            return;
        m_searchEdit->setFocus(Qt::ShortcutFocusReason);
        m_searchEdit->selectAll();
    });
    m_findNextAction = new QAction(tr("Find &next"), this);
    m_findNextAction->setShortcut(QKeySequence(Qt::Key_F3));
    connect(m_findNextAction, &QAction::triggered, this, &MainWindow::findNext);
    m_findPreviousAction = new QAction(tr("Find &previous"), this);
    m_findPreviousAction->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F3));
    connect(m_findPreviousAction, &QAction::triggered, this, &MainWindow::findPrevious);

    m_modelOrderAction = new QAction(tr("Sort in &model order"), this);
    m_modelOrderAction->setToolTip(tr("The order of the file (state_dict order)"));
    connect(m_modelOrderAction, &QAction::triggered, this, [this] {
        m_tree->header()->setSortIndicator(-1, Qt::AscendingOrder);
        m_tree->sortByColumn(-1, Qt::AscendingOrder);
    });

    m_engineGroup = new QActionGroup(this);
    m_engineGroup->setExclusive(true);
    const struct {
        LoaderEngine engine;
        QString text;
        QString tip;
    } engines[] = {
        {LoaderEngine::Auto, tr("&Auto"), tr("The safe native reader when it can read the file")},
        {LoaderEngine::Native, tr("&Native reader"), tr("ParamScope's own reader: never runs code from the file")},
        {LoaderEngine::LibTorch, tr("&LibTorch"),
         tr("torch::jit::load: TorchScript only; compiles and runs the file's code")},
    };
    for (const auto& e : engines) {
        auto* a = new QAction(e.text, m_engineGroup);
        a->setCheckable(true);
        a->setData(int(e.engine));
        a->setToolTip(e.tip);
        a->setStatusTip(e.tip);
    }
    connect(m_engineGroup, &QActionGroup::triggered, this, [this](QAction* a) {
        const LoaderEngine chosen = LoaderEngine(a->data().toInt());
        const bool changed = chosen != m_engine;
        setEngine(chosen);
        // The open file is read again with the engine chosen; if that fails, the
        // model on display stays (the session keeps it and shows the error).
        const QString file = currentFile();
        if (changed && !file.isEmpty() && !isLoading()) {
            statusBar()->showMessage(tr("Reopening %1 with the %2 engine")
                                         .arg(QFileInfo(file).fileName(), a->text().remove(QLatin1Char('&'))),
                                     4000);
            openFile(file);
        }
    });
}

QString MainWindow::openDialogFilter()
{
    // The extensions PyTorch files carry: torch.save (.pt .pth .bin .ckpt .tar .pkl, .t7 of
    // the Lua era's converters), TorchScript (.pt .jit) and mobile (.ptl), torch.export
    // (.pt2), safetensors and its shard index.
    return tr(
        "PyTorch models (*.pt *.pth *.pt2 *.bin *.ckpt *.tar *.pkl *.t7 *.jit *.ptl *.safetensors "
        "*.index.json);;All files (*)");
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openAction);
    file->addAction(m_openDemoAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(m_compareAction);
    file->addAction(m_exportAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_copyNameAction);
    edit->addAction(m_copySnippetAction);
    edit->addSeparator();
    edit->addAction(m_findAction);
    edit->addAction(m_findNextAction);
    edit->addAction(m_findPreviousAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_expandSubtreeAction);
    view->addAction(m_collapseSubtreeAction);
    view->addSeparator();
    view->addAction(m_modelOrderAction);
    view->addSeparator();
    QAction* summary = view->addAction(tr("Model &summary…"), this, &MainWindow::showModelSummary);
    summary->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));

    QMenu* engine = menuBar()->addMenu(tr("E&ngine"));
    engine->setToolTipsVisible(true);
    engine->addActions(m_engineGroup->actions());
}

void MainWindow::createStatusBar()
{
    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("modelStatusLabel"));
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("loadProgress"));
    m_progress->setMaximumWidth(220);
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setObjectName(QStringLiteral("cancelLoadButton"));
    m_cancelButton->hide();
    connect(m_cancelButton, &QPushButton::clicked, this, &MainWindow::cancelLoading);
    m_summaryButton = new QToolButton(this);
    m_summaryButton->setObjectName(QStringLiteral("modelSummaryButton"));
    m_summaryButton->setAutoRaise(true);
    m_summaryButton->setText(tr("Summary"));
    m_summaryButton->setToolTip(tr("The model's summary and the loader's warnings"));
    m_summaryButton->hide();
    connect(m_summaryButton, &QToolButton::clicked, this, &MainWindow::showModelSummary);
    statusBar()->addWidget(m_statusLabel, 1);
    statusBar()->addPermanentWidget(m_summaryButton);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelButton);
}

void MainWindow::restoreSettings()
{
    auto s = openSettings();
    if (!restoreGeometry(s->value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1200, 760);  // first run: room for the tree and the details side by side
    restoreState(s->value(QStringLiteral("window/state")).toByteArray());
    const QString engine = s->value(QStringLiteral("engine"), loaderEngineName(LoaderEngine::Auto)).toString();
    LoaderEngine e = LoaderEngine::Auto;
    for (LoaderEngine c : {LoaderEngine::Auto, LoaderEngine::Native, LoaderEngine::LibTorch})
        if (loaderEngineName(c) == engine)
            e = c;
    m_engine = e;
    for (QAction* a : m_engineGroup->actions())
        a->setChecked(LoaderEngine(a->data().toInt()) == m_engine);
    // The view as it was left: the splitters, the tree's columns (widths, order, shown, the
    // sort), the search mode and case.
    if (const QByteArray st = s->value(QStringLiteral("view/browserSplit")).toByteArray(); !st.isEmpty())
        m_browserSplit->restoreState(st);
    if (const QByteArray st = s->value(QStringLiteral("view/leftSplit")).toByteArray(); !st.isEmpty())
        m_leftSplit->restoreState(st);
    if (const QByteArray st = s->value(QStringLiteral("tree/header")).toByteArray(); !st.isEmpty())
        m_tree->header()->restoreState(st);
    const int mode = m_modeBox->findData(s->value(QStringLiteral("search/mode"), -1).toInt());
    if (mode >= 0)
        m_modeBox->setCurrentIndex(mode);
    m_caseButton->setChecked(s->value(QStringLiteral("search/caseSensitive"), false).toBool());
    rebuildRecentMenu();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    auto s = openSettings();
    s->setValue(QStringLiteral("window/geometry"), saveGeometry());
    s->setValue(QStringLiteral("window/state"), saveState());
    s->setValue(QStringLiteral("view/browserSplit"), m_browserSplit->saveState());
    s->setValue(QStringLiteral("view/leftSplit"), m_leftSplit->saveState());
    s->setValue(QStringLiteral("tree/header"), m_tree->header()->saveState());
    s->setValue(QStringLiteral("search/mode"), m_modeBox->currentData().toInt());
    s->setValue(QStringLiteral("search/caseSensitive"), m_caseButton->isChecked());
    QMainWindow::closeEvent(event);
}

void MainWindow::setEngine(LoaderEngine engine)
{
    m_engine = engine;
    for (QAction* a : m_engineGroup->actions())
        a->setChecked(LoaderEngine(a->data().toInt()) == engine);
    openSettings()->setValue(QStringLiteral("engine"), loaderEngineName(engine));
}

// ---- Recent files and status -----------------------------------------------------------

QStringList MainWindow::recentFiles() const
{
    return paramscope::recentFiles();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = recentFiles();
    int n = 0;
    for (const QString& f : files) {
        const QFileInfo fi(f);
        auto* a = m_recentMenu->addAction(
            tr("&%1 %2  —  %3").arg(QString::number(++n), fi.fileName(), QDir::toNativeSeparators(fi.absolutePath())));
        a->setEnabled(fi.exists());
        a->setToolTip(f);
        connect(a, &QAction::triggered, this, [this, f] { openFile(f); });
    }
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
    } else {
        m_recentMenu->addSeparator();
        connect(m_recentMenu->addAction(tr("&Clear list")), &QAction::triggered, this, [this] {
            clearRecentFiles();
            rebuildRecentMenu();
        });
    }
}

void MainWindow::updateStatusLabel()
{
    const auto index = m_model->modelIndex();
    m_summaryButton->setVisible(index != nullptr);
    if (!index) {
        m_statusLabel->setText(tr("No model open"));
        return;
    }
    const QString warnings = index->warnings.size() == 1
                                 ? tr("⚠ 1 warning")
                                 : tr("⚠ %1 warnings").arg(formatCount(qint64(index->warnings.size())));
    m_summaryButton->setText(index->warnings.isEmpty() ? tr("Summary") : warnings);
    const ModelIndex::Totals t = index->totals();
    QStringList parts;
    parts << m_session->displayName() << modelFormatName(index->format);
    QString counts;
    if (t.parameters + t.buffers > 0 || t.tensors == 0)
        counts = tr("%1 parameters, %2 buffers").arg(formatCount(t.parameters), formatCount(t.buffers));
    if (t.tensors > 0)
        counts += (counts.isEmpty() ? QString() : QStringLiteral(", ")) +
                  tr("%1 tensors (kind not recorded)").arg(formatCount(t.tensors));
    if (index->entries.empty() && !index->noTensorsReason.isEmpty())
        counts = tr("no tensors: %1").arg(index->noTensorsReason);
    // Parameter elements, as torchinfo counts a model; all elements beside them when
    // buffers or other tensors add to them.
    QString elements = t.parameterNumel > 0 ? tr("%1 parameter elements").arg(formatSize(t.parameterNumel, false))
                                            : tr("%1 elements").arg(formatSize(t.numel, false));
    if (t.parameterNumel > 0 && t.numel != t.parameterNumel)
        elements += tr(" (%1 in all)").arg(formatSize(t.numel, false));
    parts << counts << elements << formatSize(t.bytes, true) << tr("engine: %1").arg(index->engine);
    QString tip = QDir::toNativeSeparators(m_session->currentFile());
    if (!index->warnings.isEmpty()) {
        // Things the loader skipped stay visible in the status bar, each explained in the tooltip.
        parts << warnings;
        tip += QLatin1Char('\n') + index->warnings.join(QLatin1Char('\n'));
    }
    m_statusLabel->setText(parts.join(QStringLiteral("  ·  ")));
    m_statusLabel->setToolTip(tip);
}

void MainWindow::updateActions()
{
    const bool hasModel = m_model->modelIndex() != nullptr;
    const bool hasCurrent = currentNode() > 0;
    m_copyNameAction->setEnabled(hasCurrent);
    m_copySnippetAction->setEnabled(hasCurrent && m_model->tree()->node(currentNode()).entry >= 0);
    m_expandSubtreeAction->setEnabled(hasCurrent);
    m_collapseSubtreeAction->setEnabled(hasCurrent);
    m_exportAction->setEnabled(hasModel);
    m_compareAction->setEnabled(hasModel);
    m_findNextAction->setEnabled(hasModel);
    m_findPreviousAction->setEnabled(hasModel);
    m_modelOrderAction->setEnabled(hasModel);
}

void MainWindow::createHelpMenu()
{
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* keys = help->addAction(tr("&Keyboard shortcuts"));
    keys->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Slash));
    connect(keys, &QAction::triggered, this, [this] {
        QDialog d(this);
        d.setWindowTitle(tr("Keyboard shortcuts"));
        auto* layout = new QVBoxLayout(&d);
        const QStringList rows = shortcutList();
        auto* table = new QTableWidget(int(rows.size()), 2, &d);
        table->setHorizontalHeaderLabels({tr("Keys"), tr("Does")});
        table->verticalHeader()->hide();
        table->setEditTriggers(QAbstractItemView::NoEditTriggers);
        table->horizontalHeader()->setStretchLastSection(true);
        for (int r = 0; r < int(rows.size()); ++r) {
            table->setItem(r, 0, new QTableWidgetItem(rows[r].section(QLatin1Char('\t'), 0, 0)));
            table->setItem(r, 1, new QTableWidgetItem(rows[r].section(QLatin1Char('\t'), 1)));
        }
        table->resizeColumnToContents(0);
        layout->addWidget(table);
        auto* close = new QDialogButtonBox(QDialogButtonBox::Close, &d);
        connect(close, &QDialogButtonBox::rejected, &d, &QDialog::reject);
        layout->addWidget(close);
        d.resize(520, 480);
        d.exec();
    });
    help->addAction(tr("&About ParamScope"), this, [this] {
        QMessageBox::about(
            this, tr("About ParamScope"),
            tr("<h3>ParamScope %1</h3><p>Look inside PyTorch model files: TorchScript archives, torch.save "
               "checkpoints of every PyTorch version and safetensors files, opened without running code from "
               "them.</p><p>The module tree, name search, statistics, histograms and heatmaps of any tensor, a "
               "whole-model scan for broken tensors, the comparison of two checkpoints, export to .npy, .pt, "
               ".safetensors and .csv; paramscope-cli does the same from a shell.</p><p>Qt %2, QCustomPlot, "
               "LibTorch (the optional LibTorch engine).</p>")
                .arg(QCoreApplication::applicationVersion().toHtmlEscaped(), QString::fromLatin1(qVersion())));
    });
}

QStringList MainWindow::shortcutList() const
{
    QStringList rows;
    for (QAction* a : findChildren<QAction*>()) {
        if (a->shortcut().isEmpty())
            continue;
        QString what = a->text();
        what.remove(QLatin1Char('&'));
        rows << a->shortcut().toString(QKeySequence::NativeText) + QLatin1Char('\t') + what;
    }
    rows << tr("Escape") + QLatin1Char('\t') + tr("Clear the search (in the search box)");
    rows << tr("Enter") + QLatin1Char('\t') + tr("Next match (in the search box)");
    rows << tr("Shift+Enter") + QLatin1Char('\t') + tr("Previous match (in the search box)");
    rows << tr("Down") + QLatin1Char('\t') + tr("From the search box to the tree");
    rows.sort(Qt::CaseInsensitive);
    rows.removeDuplicates();
    return rows;
}

CompareWindow* MainWindow::compareWith(const QString& fileB)
{
    const auto a = m_model->modelIndex();
    if (!a)
        return nullptr;
    auto* w = new CompareWindow;
    w->setAttribute(Qt::WA_DeleteOnClose);
    w->compareAgainst(a, fileB);
    w->show();
    return w;
}

}  // namespace paramscope

namespace paramscope {

QString MainWindow::modelSummaryText() const
{
    const auto index = m_model->modelIndex();
    if (!index)
        return {};
    const ModelIndex::Totals t = index->totals();
    QStringList lines;
    lines << tr("Tensors: %1 (%2 parameters, %3 buffers, %4 of kind not recorded)")
                 .arg(formatCount(std::int64_t(index->entries.size())), formatCount(t.parameters),
                      formatCount(t.buffers), formatCount(t.tensors));
    lines << tr("Parameter elements: %1 (trainable %2, frozen %3)")
                 .arg(formatCount(t.parameterNumel), formatCount(t.trainableNumel), formatCount(t.frozenNumel));
    lines << tr("Buffer elements: %1").arg(formatCount(t.bufferNumel));
    if (t.tensorNumel > 0)
        lines << tr("Other tensor elements: %1").arg(formatCount(t.tensorNumel));
    lines << tr("Total: %1 elements, %2").arg(formatCount(t.numel), formatBytes(t.bytes));
    if (t.tied > 0)
        lines << tr("Tied names: %1 (their data is another name's, counted once)").arg(formatCount(t.tied));
    for (const auto& [dtype, bytes] : t.bytesByDType)
        lines << tr("  %1: %2")
                     .arg(QString::fromUtf8(dtypeName(dtype).data(), int(dtypeName(dtype).size())), formatBytes(bytes));
    return lines.join(QLatin1Char('\n'));
}

void MainWindow::showModelSummary()
{
    const auto index = m_model->modelIndex();
    if (!index)
        return;
    auto* d = new QDialog(this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    d->setObjectName(QStringLiteral("modelSummaryDialog"));
    d->setWindowTitle(tr("Summary of %1").arg(m_session->displayName()));
    auto* layout = new QVBoxLayout(d);
    auto* summary =
        new QLabel(modelSummaryText().toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")), d);
    summary->setObjectName(QStringLiteral("summaryText"));
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summary);
    auto* heading = new QLabel(index->warnings.isEmpty()
                                   ? tr("The loader reported no warnings.")
                                   : (index->warnings.size() == 1
                                          ? tr("<b>1 warning</b>")
                                          : tr("<b>%1 warnings</b>").arg(formatCount(qint64(index->warnings.size())))) +
                                         tr(" — what the loader skipped or could not read:"),
                               d);
    layout->addWidget(heading);
    auto* warnings = new QPlainTextEdit(d);
    warnings->setObjectName(QStringLiteral("warningsList"));
    warnings->setReadOnly(true);
    warnings->setPlainText(index->warnings.join(QLatin1Char('\n')));
    warnings->setVisible(!index->warnings.isEmpty());
    layout->addWidget(warnings, 1);
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close, d);
    connect(close, &QDialogButtonBox::rejected, d, &QDialog::reject);
    layout->addWidget(close);
    d->resize(560, index->warnings.isEmpty() ? 260 : 480);
    d->show();
}

}  // namespace paramscope
