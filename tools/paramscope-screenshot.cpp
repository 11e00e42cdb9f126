// paramscope-screenshot: renders the window to a PNG and quits, for README pictures and
// for comparing the window before and after a change. Opens the files (or the demo) as
// paramscope does, then applies an optional search and selection, lets the layout settle
// and grabs the window. Settings go to a temporary file, so the user's are not touched.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/scancontroller.h"
#include "ui/heatmapwidget.h"
#include "ui/mainwindow.h"
#include "ui/statspanel.h"
#include "ui/models/modeltreemodel.h"
#include "ui/metadataview.h"
#include "ui/modeltreeview.h"
#include "ui/plotpalette.h"
#include "ui/windowlauncher.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>
#include <QComboBox>
#include <QCommandLineParser>
#include <QLineEdit>
#include <QPixmap>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace paramscope;

namespace {

struct ScreenshotPlan {
    QString out;
    QString search;
    QString mode;
    QString select;
    QString tab;           // "metadata": the Metadata tab in front
    bool scan = false;     // run the whole-model scan and wait for it first
    QStringList columns;   // statistic columns to show ("NaN", "Max |x|", "Problems", ...)
    QString sort;          // a column title to sort by, descending with a "-" prefix
    bool heatmap = false;  // the Heatmap tab of the details in front
};

void grabAndQuit(MainWindow* w, const ScreenshotPlan& plan)
{
    if (!plan.select.isEmpty() && w->modelIndex()) {
        const int node = w->modelTree()->find(plan.select.toStdString());
        if (node >= 0)
            w->selectNode(node);
        else
            fprintf(stderr, "--select: no tensor or module named %s\n", qPrintable(plan.select));
    } else if (!plan.search.isEmpty()) {
        w->findNext();
    }
    if (plan.tab.compare(QLatin1String("metadata"), Qt::CaseInsensitive) == 0)
        w->browserTabs()->setCurrentWidget(w->metadataView());
    else if (plan.tab.compare(QLatin1String("tensors"), Qt::CaseInsensitive) == 0)
        w->browserTabs()->setCurrentWidget(w->treeView());
    if (plan.heatmap)
        if (auto* stats = w->findChild<StatsPanel*>())
            stats->views()->setCurrentWidget(stats->heatmap());
    // Let the layout settle (column widths, elision) before grabbing.
    QTimer::singleShot(400, w, [w, plan] {
        const QPixmap pm = w->grab();
        const bool ok = pm.save(plan.out);
        fprintf(ok ? stdout : stderr, ok ? "wrote %s (%dx%d)\n" : "could not write %s\n", qPrintable(plan.out),
                pm.width(), pm.height());
        QApplication::exit(ok ? 0 : 1);
    });
}

void applyColumns(MainWindow* w, const ScreenshotPlan& plan)
{
    auto* model = w->treeModel();
    for (int c = 0; c < model->columnCount(); ++c) {
        const QString title = model->headerData(c, Qt::Horizontal).toString();
        if (ModelTreeModel::isScanColumn(c) && plan.columns.contains(title, Qt::CaseInsensitive))
            w->treeView()->setColumnHidden(c, false);
        const bool descending = plan.sort.startsWith(QLatin1Char('-'));
        if (!plan.sort.isEmpty() && title.compare(plan.sort.mid(descending ? 1 : 0), Qt::CaseInsensitive) == 0)
            w->treeView()->sortByColumn(c, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    }
}

void takeScreenshot(MainWindow* w, const ScreenshotPlan& plan);

/// Scans the model (when asked) and then takes the screenshot.
void scanThenScreenshot(MainWindow* w, ScreenshotPlan plan)
{
    if (!plan.scan || !w->modelIndex()) {
        applyColumns(w, plan);
        takeScreenshot(w, plan);
        return;
    }
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(w->scanController(), &ScanController::finished, w, [w, plan, conn](bool) {
        QObject::disconnect(*conn);
        ScreenshotPlan next = plan;
        next.scan = false;
        scanThenScreenshot(w, next);
    });
    w->startScan();
}

void takeScreenshot(MainWindow* w, const ScreenshotPlan& plan)
{
    if (!plan.mode.isEmpty()) {
        const int i = w->searchModeBox()->findText(plan.mode, Qt::MatchFixedString);
        if (i >= 0)
            w->searchModeBox()->setCurrentIndex(i);
    }
    if (plan.search.isEmpty() || !w->modelIndex()) {
        grabAndQuit(w, plan);
        return;
    }
    // Large models search on a worker: wait until the result is in the tree.
    auto conn = std::make_shared<QMetaObject::Connection>();
    *conn = QObject::connect(w, &MainWindow::searchApplied, w, [w, plan, conn] {
        QObject::disconnect(*conn);
        grabAndQuit(w, plan);
    });
    w->searchEdit()->setText(plan.search);
    w->flushSearch();
}

}  // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ParamScope"));
    QApplication::setOrganizationName(QStringLiteral("ParamScope"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Render the ParamScope window to a PNG and quit."));
    parser.addHelpOption();
    addWindowOptions(parser);
    const QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("The PNG to write (required)."),
                                     QStringLiteral("png"));
    const QCommandLineOption searchOpt(QStringLiteral("search"), QStringLiteral("Search text."),
                                       QStringLiteral("text"));
    const QCommandLineOption modeOpt(QStringLiteral("mode"), QStringLiteral("Contains, Exact, Wildcard or Regex."),
                                     QStringLiteral("mode"));
    const QCommandLineOption selectOpt(QStringLiteral("select"), QStringLiteral("Dotted name to select."),
                                       QStringLiteral("name"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("Window size WxH (default 1280x800)."),
                                     QStringLiteral("WxH"));
    const QCommandLineOption tabOpt(QStringLiteral("tab"), QStringLiteral("The tab in front: tensors or metadata."),
                                    QStringLiteral("tab"));
    const QCommandLineOption scanOpt(QStringLiteral("scan"),
                                     QStringLiteral("Scan the whole model first (Scan → Scan model)."));
    const QCommandLineOption columnsOpt(
        QStringLiteral("stat-columns"),
        QStringLiteral("Statistic columns to show, comma-separated (\"NaN,Max |x|,Problems\")."),
        QStringLiteral("titles"));
    const QCommandLineOption sortOpt(
        QStringLiteral("sort"), QStringLiteral("A column title to sort the tree by; a leading - sorts descending."),
        QStringLiteral("title"));
    const QCommandLineOption darkOpt(QStringLiteral("dark"),
                                     QStringLiteral("Render with a dark palette (Fusion style), as a dark desktop."));
    const QCommandLineOption heatmapOpt(
        QStringLiteral("heatmap"), QStringLiteral("Show the selected tensor's Heatmap tab instead of the histogram."));
    parser.addOptions(
        {shotOpt, searchOpt, modeOpt, selectOpt, sizeOpt, tabOpt, scanOpt, columnsOpt, sortOpt, darkOpt, heatmapOpt});
    parser.process(app);
    if (parser.isSet(darkOpt)) {
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
    }
    const std::optional<WindowOptions> options = readWindowOptions(parser, "paramscope-screenshot");
    if (!options)
        return kExitUsage;
    ScreenshotPlan plan;
    plan.out = parser.value(shotOpt);
    plan.search = parser.value(searchOpt);
    plan.mode = parser.value(modeOpt);
    plan.select = parser.value(selectOpt);
    plan.tab = parser.value(tabOpt);
    plan.scan = parser.isSet(scanOpt);
    plan.columns = parser.value(columnsOpt).split(QLatin1Char(','), Qt::SkipEmptyParts);
    plan.sort = parser.value(sortOpt);
    plan.heatmap = parser.isSet(heatmapOpt);
    if (plan.out.isEmpty()) {
        fprintf(stderr, "paramscope-screenshot: --screenshot PNG is required\n");
        return kExitUsage;
    }

    QTemporaryDir settingsDir;
    MainWindow::setSettingsFile(settingsDir.filePath(QStringLiteral("settings.ini")));
    MainWindow::setAutoScanLimitMB(0);  // scans only when --scan asks (the same picture every time)
    MainWindow w;
    int width = 1280, height = 800;
    const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
    if (wh.size() == 2) {
        width = wh[0].toInt();
        height = wh[1].toInt();
    }
    w.resize(width, height);
    w.show();
    openInSequence(&w, *options, [&w, plan] { scanThenScreenshot(&w, plan); });
    return app.exec();
}
