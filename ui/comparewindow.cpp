// The comparison window: the controller's merged tree through the same filter proxy and
// search controller as the main window (layouts computed off the GUI thread), the status
// filter as the search's restriction, and the selected pair's details.
#include "ui/comparewindow.h"

#include "diff/difftable.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/comparecontroller.h"
#include "session/searchcontroller.h"
#include "stats/decode.h"
#include "ui/heatmapwidget.h"
#include "ui/histogramwidget.h"
#include "ui/plotpalette.h"
#include "ui/models/difftreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/modeltreeview.h"
#include "ui/statspanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QGuiApplication>

#include <cmath>

namespace paramscope {

namespace {

struct SideRow {
    const char* key;  // StatsPanel::valueText's
    const char* title;
};
constexpr SideRow kSideRows[] = {
    {"elements", "Elements"}, {"nan", "NaN"}, {"pos_inf", "+Inf"},  {"neg_inf", "−Inf"},   {"zeros", "Zeros"},
    {"min", "Min"},           {"max", "Max"}, {"mean", "Mean"},     {"std", "Std (pop.)"}, {"max_abs", "Max |x|"},
    {"l2", "L2 norm"},        {"p1", "p1"},   {"median", "Median"}, {"p99", "p99"},
};

/// At most this many differences go into the histogram of b − a (evenly spaced runs beyond).
constexpr std::int64_t kMaxHistogramValues = std::int64_t(1) << 24;

std::uint32_t statusBits(CompareWindow::StatusFilter f)
{
    auto bit = [](DiffStatus s) { return 1u << unsigned(s); };
    switch (f) {
        case CompareWindow::AllTensors:
            return 0;
        case CompareWindow::Differences:
            return DiffTable::differingStatuses();
        case CompareWindow::OnlyChanged:
            return bit(DiffStatus::Changed);
        case CompareWindow::OnlyClose:
            return bit(DiffStatus::Close);
        case CompareWindow::OnlyIdentical:
            return bit(DiffStatus::Identical);
        case CompareWindow::OnlyRecast:
            return bit(DiffStatus::DTypeChanged) | bit(DiffStatus::ShapeChanged);
        case CompareWindow::OnlyOneSide:
            return bit(DiffStatus::OnlyA) | bit(DiffStatus::OnlyB);
    }
    return 0;
}

struct DiffValues {
    std::shared_ptr<const TensorStats> stats;
    QString text;
};

/// The statistics and histogram of b − a over the elements finite in both (a sample of
/// evenly spaced runs beyond kMaxHistogramValues).
DiffValues diffValues(const ModelIndex& a, int ia, const ModelIndex& b, int ib, const CancelToken& cancel)
{
    DiffValues out;
    auto va = a.view(ia);
    auto vb = va ? b.view(ib) : Result<TensorView>::failure(QString());
    if (!va || !vb) {
        out.text = !va ? va.error() : vb.error();
        return out;
    }
    const ValueDecoder da(va.value()), db(vb.value());
    if (!da.ok() || !db.ok() || da.numel() != db.numel()) {
        out.text = QObject::tr("No values to compare");
        return out;
    }
    const std::int64_t n = da.numel();
    constexpr std::int64_t kRun = 4096;
    const std::int64_t runs = (n + kRun - 1) / kRun;
    const std::int64_t keepRuns = std::min(runs, kMaxHistogramValues / kRun);
    auto values = std::make_shared<std::vector<double>>();
    values->reserve(size_t(std::min(n, kMaxHistogramValues)));
    std::vector<double> xa(kRun), xb(kRun);
    for (std::int64_t k = 0; k < keepRuns; ++k) {
        if ((k & 63) == 0 && isCancelled(cancel))
            return out;
        const std::int64_t run = keepRuns == runs ? k : k * runs / keepRuns;
        const std::int64_t begin = run * kRun, end = std::min(n, begin + kRun);
        da.decode(begin, end, xa.data());
        db.decode(begin, end, xb.data());
        for (std::int64_t i = 0; i < end - begin; ++i)
            if (std::isfinite(xa[size_t(i)]) && std::isfinite(xb[size_t(i)]))
                values->push_back(xb[size_t(i)] - xa[size_t(i)]);
    }
    TensorView v;
    v.dtype = DType::Float64;
    v.shape = {std::int64_t(values->size())};
    v.strides = {1};
    v.storage.data = reinterpret_cast<const std::uint8_t*>(values->data());
    v.storage.size = values->size() * sizeof(double);
    v.storage.owner = values;
    StatsOptions o;
    o.cancel = cancel;
    auto s = computeStats(v, o);
    if (!s) {
        out.text = s.error();
        return out;
    }
    out.stats = std::make_shared<const TensorStats>(std::move(s.value()));
    const QLocale loc;
    out.text = QObject::tr("b − a over %1 elements finite in both%2: min %3, max %4, mean %5")
                   .arg(loc.toString(qint64(values->size())),
                        keepRuns < runs ? QObject::tr(" (a sample of %1)").arg(loc.toString(n)) : QString(),
                        QString::number(out.stats->min, 'g', 4), QString::number(out.stats->max, 'g', 4),
                        QString::number(out.stats->mean, 'g', 4));
    return out;
}

}  // namespace

CompareWindow::CompareWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Compare — ParamScope"));
    m_controller = new CompareController(this);
    m_search = new SearchController(this);
    m_model = new DiffTreeModel(this);
    m_proxy = new TreeFilterProxy(this);
    m_proxy->setSourceModel(m_model);
    buildUi();

    connect(m_controller, &CompareController::modelsChanged, this, &CompareWindow::onModelsChanged);
    connect(m_controller, &CompareController::pairsCompared, this, [this] {
        m_model->diffUpdated();
        if (m_statusBox->currentIndex() != AllTensors)
            applyRestriction();
        updateSummary();
    });
    connect(m_controller, &CompareController::progressChanged, this,
            [this](const DiffProgress& p) { m_progress->setValue(int(1000 * p.fraction())); });
    connect(m_controller, &CompareController::finished, this, &CompareWindow::onFinished);
    connect(m_controller, &CompareController::loadFailed, this, [this](const QString& message) {
        m_header->setText(tr("Could not compare: %1").arg(message.toHtmlEscaped()));
        m_progress->hide();
        Q_EMIT loadFailed(message);
    });

    connect(m_search, &SearchController::viewReady, this,
            [this](std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout) {
                m_proxy->setView(std::move(matches), std::move(layout));
                if (m_proxy->isFiltering() && m_proxy->rowCount() > 0 && m_proxy->rowCount() <= 64)
                    m_tree->expandToDepth(0);
                updateSummary();
                Q_EMIT viewApplied();
            });
    m_proxy->setAsyncSort(true);
    connect(m_proxy, &TreeFilterProxy::sortRequested, this, [this](const TreeSort& s) {
        m_sortedByDiff = DiffTreeModel::isDiffColumn(s.key) && s.field == TreeSort::Field::Numeric;
        m_search->setSort(s);
    });
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &CompareWindow::onCurrentChanged);
}

CompareWindow::~CompareWindow() = default;

void CompareWindow::buildUi()
{
    auto* central = new QWidget(this);
    auto* outer = new QVBoxLayout(central);
    outer->setContentsMargins(6, 6, 6, 6);

    auto* headerRow = new QHBoxLayout;
    m_header = new QLabel(tr("Loading…"), central);
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_alignButton = new QPushButton(central);
    m_alignButton->hide();
    connect(m_alignButton, &QPushButton::clicked, this, [this] {
        AlignOptions o = m_controller->alignOptions();
        const Alignment& al = m_controller->alignment();
        if (!al.stripA.empty() || !al.stripB.empty()) {
            o.detect = false;  // compare the names as they are
            o.stripA.reset();
            o.stripB.reset();
        } else {
            o.detect = true;
        }
        m_controller->setAlignOptions(o);
    });
    m_mapEdit = new QLineEdit(central);
    m_mapEdit->setPlaceholderText(tr("Map names: encoder.=transformer., …"));
    m_mapEdit->setToolTip(
        tr("A's names that start with FROM are read as starting with TO (FROM=TO, comma-separated); "
           "Enter applies"));
    m_mapEdit->setMaximumWidth(260);
    connect(m_mapEdit, &QLineEdit::returnPressed, this, &CompareWindow::applyMapping);
    headerRow->addWidget(m_header, 1);
    headerRow->addWidget(m_mapEdit);
    headerRow->addWidget(m_alignButton);
    outer->addLayout(headerRow);

    auto* bar = new QHBoxLayout;
    m_searchEdit = new QLineEdit(central);
    m_searchEdit->setPlaceholderText(tr("Search names"));
    m_searchEdit->setClearButtonEnabled(true);
    m_modeBox = new QComboBox(central);
    m_modeBox->addItem(tr("Contains"), int(MatchMode::Contains));
    m_modeBox->addItem(tr("Wildcard"), int(MatchMode::Wildcard));
    m_modeBox->addItem(tr("Regex"), int(MatchMode::Regex));
    m_modeBox->addItem(tr("Exact"), int(MatchMode::Exact));
    m_caseBox = new QCheckBox(tr("Match case"), central);
    m_statusBox = new QComboBox(central);
    m_statusBox->addItems({tr("All tensors"), tr("Differences only"), tr("Changed"), tr("Within tolerance"),
                           tr("Identical"), tr("Shape or dtype changed"), tr("Only in A or B")});
    m_statusBox->setToolTip(tr("Show only tensors of these statuses (with the name search, if any)"));
    auto* tolLabel = new QLabel(tr("Tolerance |b−a| ≤"), central);
    m_atolEdit = new QLineEdit(QStringLiteral("0"), central);
    m_rtolEdit = new QLineEdit(QStringLiteral("0"), central);
    for (QLineEdit* e : {m_atolEdit, m_rtolEdit}) {
        auto* v = new QDoubleValidator(0, 1e300, 17, e);
        v->setLocale(QLocale::c());
        e->setValidator(v);
        e->setMaximumWidth(80);
        connect(e, &QLineEdit::editingFinished, this, &CompareWindow::applyTolerance);
    }
    m_atolEdit->setToolTip(tr("Absolute tolerance (atol)"));
    m_rtolEdit->setToolTip(tr("Relative tolerance (rtol), times |a|"));
    // Two rows, so the window fits an 800-pixel screen: the search, then what is shown.
    bar->addWidget(m_searchEdit, 1);
    bar->addWidget(m_modeBox);
    bar->addWidget(m_caseBox);
    outer->addLayout(bar);
    auto* filters = new QHBoxLayout;
    filters->addWidget(m_statusBox);
    filters->addSpacing(12);
    filters->addWidget(tolLabel);
    filters->addWidget(m_atolEdit);
    filters->addWidget(new QLabel(QStringLiteral("+"), central));
    filters->addWidget(m_rtolEdit);
    filters->addWidget(new QLabel(tr("·|a|"), central));
    filters->addStretch(1);
    outer->addLayout(filters);

    connect(m_searchEdit, &QLineEdit::textChanged, this, &CompareWindow::runSearch);
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, &CompareWindow::runSearch);
    connect(m_caseBox, &QCheckBox::toggled, this, &CompareWindow::runSearch);
    connect(m_statusBox, &QComboBox::currentIndexChanged, this, &CompareWindow::applyRestriction);

    auto* split = new QSplitter(Qt::Horizontal, central);
    m_tree = new ModelTreeView(split);
    m_tree->setModel(m_proxy);
    m_tree->setSortingEnabled(true);
    m_tree->header()->setSortIndicator(-1, Qt::AscendingOrder);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    for (int c : {int(ModelTreeModel::TypeColumn), int(ModelTreeModel::BelongsToColumn),
                  int(ModelTreeModel::ShardColumn), int(ModelTreeModel::SizeColumn)})
        m_tree->setColumnHidden(c, true);
    for (int c = ModelTreeModel::kFirstScanColumn; c <= ModelTreeModel::ProblemsColumn; ++c)
        m_tree->setColumnHidden(c, true);

    auto* details = new QWidget(split);
    auto* dl = new QVBoxLayout(details);
    dl->setContentsMargins(6, 0, 0, 0);
    m_pairTitle = new QLabel(tr("Select a tensor to see both sides and the histogram of b − a."), details);
    m_pairTitle->setWordWrap(true);
    m_pairTitle->setTextFormat(Qt::RichText);
    // The NaN/Inf note's colour follows the palette.
    onPaletteChange(m_pairTitle, [this] {
        if (m_titleEntry >= 0 && size_t(m_titleEntry) < m_controller->alignment().pairs.size())
            m_pairTitle->setText(pairTitle(m_titleEntry));
    });
    dl->addWidget(m_pairTitle);
    // Both sides' statistics in one table (the panels compute them off the GUI thread).
    m_captionA = new QLabel(tr("A"), details);
    m_captionB = new QLabel(tr("B"), details);
    for (QLabel* c : {m_captionA, m_captionB}) {
        c->setWordWrap(true);
        dl->addWidget(c);
    }
    m_statsA = new StatsPanel(details);
    m_statsB = new StatsPanel(details);
    m_statsA->hide();
    m_statsB->hide();
    connect(m_statsA, &StatsPanel::statsShown, this, &CompareWindow::updateSideBySide);
    connect(m_statsB, &StatsPanel::statsShown, this, &CompareWindow::updateSideBySide);
    m_sideBySide = new QTableWidget(int(std::size(kSideRows)), 2, details);
    m_sideBySide->setHorizontalHeaderLabels({tr("A"), tr("B")});
    QStringList rowTitles;
    for (const auto& r : kSideRows)
        rowTitles << tr(r.title);
    m_sideBySide->setVerticalHeaderLabels(rowTitles);
    m_sideBySide->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_sideBySide->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_sideBySide->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_sideBySide->verticalHeader()->setMinimumSectionSize(18);
    m_sideBySide->setAlternatingRowColors(true);
    dl->addWidget(m_sideBySide, 2);
    m_diffCaption = new QLabel(details);
    m_diffCaption->setWordWrap(true);
    dl->addWidget(m_diffCaption);
    m_diffHistogram = new HistogramWidget(details);
    m_diffHistogram->clear(tr("No pair selected"));
    m_diffHistogram->setMinimumHeight(180);
    m_diffHeatmap = new HeatmapWidget(details);
    m_diffViews = new QTabWidget(details);
    m_diffViews->setDocumentMode(true);
    m_diffViews->addTab(m_diffHistogram, tr("Histogram of b − a"));
    m_diffViews->addTab(m_diffHeatmap, tr("Heatmap of b − a"));
    dl->addWidget(m_diffViews, 1);
    split->addWidget(m_tree);
    split->addWidget(details);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({760, 520});
    // The comparison's columns right after the name; the model's own after them.
    QHeaderView* header = m_tree->header();
    int visual = 1;
    for (int c :
         {int(DiffTreeModel::StatusColumn), int(DiffTreeModel::RelL2Column), int(DiffTreeModel::MaxAbsDiffColumn),
          int(DiffTreeModel::ChangedColumn), int(DiffTreeModel::CosineColumn), int(DiffTreeModel::MeanAbsDiffColumn),
          int(DiffTreeModel::NewNonFiniteColumn)})
        header->moveSection(header->visualIndex(c), visual++);
    m_tree->setColumnHidden(ModelTreeModel::ElementsColumn, true);
    outer->addWidget(split, 1);
    setCentralWidget(central);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(200);
    m_progress->setTextVisible(false);
    m_summary = new QLabel(this);
    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(m_progress);
    // As large as suits the comparison, but never beyond the screen.
    const QRect screenRect = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 760);
    resize(std::min(1280, screenRect.width()), std::min(760, screenRect.height()));
}

void CompareWindow::openFiles(const QString& fileA, const QString& fileB)
{
    m_header->setText(
        tr("Loading <b>%1</b> and <b>%2</b>…")
            .arg(QFileInfo(fileA).fileName().toHtmlEscaped(), QFileInfo(fileB).fileName().toHtmlEscaped()));
    setWindowTitle(tr("%1 ↔ %2 — ParamScope").arg(QFileInfo(fileA).fileName(), QFileInfo(fileB).fileName()));
    m_controller->open(fileA, fileB);
}

void CompareWindow::compareAgainst(std::shared_ptr<const ModelIndex> a, const QString& fileB)
{
    const QString nameA = QFileInfo(a->filePath).fileName(), nameB = QFileInfo(fileB).fileName();
    m_header->setText(tr("Loading <b>%1</b>…").arg(nameB.toHtmlEscaped()));
    setWindowTitle(tr("%1 ↔ %2 — ParamScope").arg(nameA, nameB));
    m_controller->openAgainst(std::move(a), fileB);
}

void CompareWindow::setModels(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b)
{
    setWindowTitle(
        tr("%1 ↔ %2 — ParamScope").arg(QFileInfo(a->filePath).fileName(), QFileInfo(b->filePath).fileName()));
    m_controller->setModels(std::move(a), std::move(b));
}

void CompareWindow::onModelsChanged()
{
    const auto& merged = m_controller->merged();
    const auto& tree = m_controller->tree();
    std::vector<std::pair<int, int>> pairs;
    pairs.reserve(m_controller->alignment().pairs.size());
    for (const Alignment::Pair& p : m_controller->alignment().pairs)
        pairs.emplace_back(p.a, p.b);
    m_model->setDiffTable(nullptr);
    m_model->setModel(merged, tree);
    m_model->setSides(m_controller->modelA(), m_controller->modelB(), std::move(pairs));
    m_model->setDiffTable(m_controller->table());
    m_search->setModel(merged, tree);
    m_statsA->clear();
    m_statsB->clear();
    m_diffJob.cancel();
    m_diffStats.reset();
    m_diffHistogram->clear(tr("No pair selected"));
    m_progress->setValue(0);
    m_progress->show();
    updateHeader();
    applyRestriction();
    if (tree && tree->node(ModelTree::root()).children.size() <= 64)
        m_tree->expandToDepth(0);
    updateSummary();
}

void CompareWindow::onFinished(bool complete)
{
    m_model->diffUpdated();
    m_progress->setValue(1000);
    m_progress->setVisible(!complete);
    applyRestriction();
    // A sort by a comparison column took the numbers of its time: sort by the final ones.
    if (m_sortedByDiff)
        m_search->setSort(
            m_proxy->sortFor(m_tree->header()->sortIndicatorSection(), m_tree->header()->sortIndicatorOrder()));
    updateSummary();
    const QModelIndex cur = m_tree->currentIndex();
    if (cur.isValid())
        onCurrentChanged();
    Q_EMIT comparisonFinished(complete);
}

void CompareWindow::applyRestriction()
{
    const auto filter = StatusFilter(m_statusBox->currentIndex());
    const DiffTable* t = m_controller->table();
    if (filter == AllTensors || !t)
        m_search->setRestriction(nullptr);
    else
        m_search->setRestriction(std::make_shared<const std::vector<unsigned char>>(t->statusMask(statusBits(filter))));
    m_search->setQuery({MatchMode(m_modeBox->currentData().toInt()), m_searchEdit->text(), m_caseBox->isChecked()});
    m_search->run();
}

void CompareWindow::runSearch()
{
    m_search->setQuery({MatchMode(m_modeBox->currentData().toInt()), m_searchEdit->text(), m_caseBox->isChecked()});
}

void CompareWindow::setStatusFilter(StatusFilter filter)
{
    m_statusBox->setCurrentIndex(int(filter));
}

void CompareWindow::selectNode(int node)
{
    const QModelIndex idx = m_proxy->indexForNode(node);
    if (!idx.isValid())
        return;
    m_tree->scrollTo(idx);
    m_tree->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void CompareWindow::onCurrentChanged()
{
    const QModelIndex cur = m_proxy->mapToSource(m_tree->currentIndex());
    const int node = m_model->nodeForIndex(cur);
    const auto& tree = m_controller->tree();
    if (!tree || node <= 0 || tree->node(node).entry < 0) {
        m_statsA->clear();
        m_statsB->clear();
        updateSideBySide();
        m_diffJob.cancel();
        m_diffHistogram->clear(tr("Select a tensor"));
        m_titleEntry = -1;
        m_pairTitle->setText(tr("Select a tensor to see both sides and the histogram of b − a."));
        return;
    }
    showPair(tree->node(node).entry);
}

QString CompareWindow::pairTitle(int entry) const
{
    const Alignment::Pair& p = m_controller->alignment().pairs[size_t(entry)];
    const PairDiff& d = m_controller->table()->pair(entry);
    QString title = QStringLiteral("<b>%1</b> — %2")
                        .arg(QString::fromStdString(p.key).toHtmlEscaped(), diffStatusTitle(d.status).toHtmlEscaped());
    if (d.compared())
        title += tr(": max |b−a| %1, rel. change %2, cosine %3, %4% of elements changed")
                     .arg(QString::number(d.maxAbsDiff, 'g', 4), QString::number(d.relL2(), 'g', 4),
                          std::isnan(d.cosine()) ? QStringLiteral("—") : QString::number(d.cosine(), 'g', 6),
                          QString::number(100.0 * d.changedFraction(), 'g', 3));
    if (d.nanAppeared + d.infAppeared)
        title += tr("; <span style='color:%3'>%1 NaN and %2 Inf appeared in B</span>")
                     .arg(d.nanAppeared)
                     .arg(d.infAppeared)
                     .arg(toneColor(QGuiApplication::palette(), Tone::Alert).name());
    if (d.status == DiffStatus::Failed)
        title += QStringLiteral(": ") + d.error.toHtmlEscaped();
    return title;
}

void CompareWindow::showPair(int entry)
{
    const Alignment& al = m_controller->alignment();
    if (entry < 0 || size_t(entry) >= al.pairs.size())
        return;
    const Alignment::Pair& p = al.pairs[size_t(entry)];
    const auto a = m_controller->modelA(), b = m_controller->modelB();
    const DiffTable* t = m_controller->table();
    const PairDiff& d = t->pair(entry);
    m_titleEntry = entry;
    m_pairTitle->setText(pairTitle(entry));
    auto caption = [](const char* side, const ModelIndex& m, int i) {
        const TensorEntry& e = m.entries[size_t(i)];
        return QStringLiteral("%1: %2  %3 %4")
            .arg(QLatin1String(side), QString::fromStdString(e.name), QLatin1String(dtypeName(e.dtype).data()),
                 formatShape(e.shape));
    };
    if (p.a >= 0) {
        m_captionA->setText(caption("A", *a, p.a));
        m_statsA->showTensor(a, p.a);
    } else {
        m_captionA->setText(tr("A: not in this model"));
        m_statsA->clear();
        updateSideBySide();
    }
    if (p.b >= 0) {
        m_captionB->setText(caption("B", *b, p.b));
        m_statsB->showTensor(b, p.b);
    } else {
        m_captionB->setText(tr("B: not in this model"));
        m_statsB->clear();
        updateSideBySide();
    }
    m_diffStats.reset();
    if (!d.compared()) {
        m_diffHeatmap->clear(tr("No values to compare (%1)").arg(diffStatusTitle(d.status)));
        m_diffJob.cancel();
        m_diffCaption->clear();
        m_diffHistogram->clear(d.status == DiffStatus::Pending
                                   ? tr("Not compared yet")
                                   : tr("No values to compare (%1)").arg(diffStatusTitle(d.status)));
        return;
    }
    m_diffHistogram->clear(tr("Computing the histogram of b − a…"));
    m_diffHeatmap->showDifference(a, p.a, b, p.b);
    m_diffCaption->setText(tr("Histogram of b − a"));
    const int ia = p.a, ib = p.b;
    m_diffJob.start([a, b, ia, ib](const JobHandle& job) { return diffValues(*a, ia, *b, ib, job.cancel); },
                    [this](DiffValues v) {
                        m_diffStats = v.stats;
                        m_diffCaption->setText(v.text);
                        if (v.stats)
                            m_diffHistogram->setStats(*v.stats);
                        else
                            m_diffHistogram->clear(v.text);
                        Q_EMIT diffHistogramShown();
                    });
}

QString CompareWindow::alignmentText() const
{
    const Alignment& al = m_controller->alignment();
    QStringList parts;
    if (!al.stripA.empty())
        parts << tr("'%1' stripped from A's names").arg(QString::fromStdString(al.stripA));
    if (!al.stripB.empty())
        parts << tr("'%1' stripped from B's names").arg(QString::fromStdString(al.stripB));
    for (const NameMapping& m : al.map)
        parts << tr("A's '%1' read as '%2'").arg(QString::fromStdString(m.from), QString::fromStdString(m.to));
    if (parts.isEmpty())
        return tr("names compared as they are");
    return parts.join(QStringLiteral(", ")) + (al.detected ? tr(" (detected)") : QString());
}

void CompareWindow::updateHeader()
{
    const auto a = m_controller->modelA(), b = m_controller->modelB();
    if (!a || !b)
        return;
    const Alignment& al = m_controller->alignment();
    const QLocale loc;
    auto file = [&](const char* side, const ModelIndex& m) {
        return QStringLiteral("%1: <b>%2</b> (%3 tensors)")
            .arg(QLatin1String(side), QFileInfo(m.filePath).fileName().toHtmlEscaped(),
                 loc.toString(qlonglong(m.entries.size())));
    };
    m_header->setText(QStringLiteral("%1 &nbsp;↔&nbsp; %2<br>%3: %4 aligned, %5 only in A, %6 only in B")
                          .arg(file("A", *a), file("B", *b), alignmentText().toHtmlEscaped(),
                               loc.toString(al.matched()), loc.toString(al.onlyA()), loc.toString(al.onlyB())));
    m_header->setToolTip(QStringLiteral("A: %1\nB: %2").arg(a->filePath, b->filePath));
    const bool stripped = !al.stripA.empty() || !al.stripB.empty();
    if (stripped) {
        m_alignButton->setText(tr("Compare names as they are"));
        m_alignButton->show();
    } else if (!m_controller->alignOptions().detect) {
        m_alignButton->setText(tr("Strip a detected prefix"));
        m_alignButton->show();
    } else {
        m_alignButton->hide();
    }
}

void CompareWindow::updateSummary()
{
    const DiffTable* t = m_controller->table();
    if (!t) {
        m_summary->clear();
        return;
    }
    const NodeDiff& root = t->node(ModelTree::root());
    QStringList parts;
    const QLocale loc;
    for (int k = 0; k < kDiffStatuses; ++k) {
        if (root.counts[size_t(k)] == 0)
            continue;
        QString title = diffStatusTitle(DiffStatus(k));
        title[0] = title[0].toLower();  // "only in A", "dtype changed"
        parts << QStringLiteral("%1 %2").arg(loc.toString(root.counts[size_t(k)]), title);
    }
    const QString done = t->doneCount() < t->pairCount()
                             ? tr("Compared %1 of %2: ").arg(loc.toString(t->doneCount()), loc.toString(t->pairCount()))
                             : QString();
    const QString shown =
        m_proxy->isFiltering() ? tr(" — %1 shown").arg(loc.toString(m_proxy->matchCount())) : QString();
    m_summary->setText(done + parts.join(QStringLiteral(", ")) + shown);
}

QString CompareWindow::summaryText() const
{
    return m_summary->text();
}

void CompareWindow::updateSideBySide()
{
    const StatsPanel* panels[] = {m_statsA, m_statsB};
    for (int side = 0; side < 2; ++side) {
        const bool has = panels[side]->currentStats() != nullptr;
        for (int r = 0; r < int(std::size(kSideRows)); ++r) {
            const QString text = has ? panels[side]->valueText(QLatin1String(kSideRows[r].key)) : QString();
            auto* item = new QTableWidgetItem(text);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_sideBySide->setItem(r, side, item);
        }
    }
}

QString CompareWindow::sideBySideText(const QString& key, int side) const
{
    for (int r = 0; r < int(std::size(kSideRows)); ++r)
        if (key == QLatin1String(kSideRows[r].key)) {
            const QTableWidgetItem* item = m_sideBySide->item(r, side);
            return item ? item->text() : QString();
        }
    return {};
}

QString CompareWindow::diffHistogramText() const
{
    return m_diffCaption->text();
}

void CompareWindow::applyMapping()
{
    AlignOptions o = m_controller->alignOptions();
    o.map.clear();
    for (const QString& part : m_mapEdit->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        auto m = parseNameMapping(part.trimmed());
        if (!m) {
            setPaletteStyleSheet(m_mapEdit, [](const QPalette& palette) {
                return QStringLiteral("QLineEdit { border: 2px solid %1; }")
                    .arg(toneColor(palette, Tone::Alert).name());
            });
            m_mapEdit->setToolTip(tr("'%1' is not FROM=TO").arg(part.trimmed()));
            return;
        }
        o.map.push_back(*m);
    }
    setPaletteStyleSheet(m_mapEdit, nullptr);
    m_controller->setAlignOptions(o);
}

void CompareWindow::applyTolerance()
{
    bool okA = false, okR = false;
    const double atol = QLocale::c().toDouble(m_atolEdit->text(), &okA);
    const double rtol = QLocale::c().toDouble(m_rtolEdit->text(), &okR);
    if (!okA || !okR || atol < 0 || rtol < 0)
        return;
    if (atol == m_controller->atol() && rtol == m_controller->rtol())
        return;
    m_controller->setTolerance(atol, rtol);
}

}  // namespace paramscope
