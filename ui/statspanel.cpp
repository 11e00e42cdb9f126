#include "ui/statspanel.h"

#include "scan/scantable.h"

#include "ui/heatmapwidget.h"
#include "ui/histogramwidget.h"
#include "model/modelindex.h"

#include <algorithm>

#include <QFontDatabase>
#include <QFontMetrics>
#include <QGridLayout>
#include <QLocale>
#include <QLabel>
#include <QProgressBar>
#include <QResizeEvent>
#include <QTabWidget>
#include <QVBoxLayout>

namespace paramscope {

namespace {

/// What a background computation hands back to the GUI thread.
struct StatsJob {
    int entry = -1;
    int bins = 0;
    std::shared_ptr<const TensorStats> stats;
    QString error;
};

constexpr size_t kMaxCached = 1024;

QString number(double v)
{
    return QString::number(v, 'g', 7);
}
QString fullNumber(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

// Rows of the three columns: key, label.
const std::vector<std::vector<std::pair<const char*, const char*>>> kColumns{
    {{"elements", "Elements"},
     {"finite", "Finite"},
     {"zeros", "Zeros"},
     {"nan", "NaN"},
     {"pos_inf", "+Inf"},
     {"neg_inf", "-Inf"}},
    {{"min", "Min"},
     {"max", "Max"},
     {"mean", "Mean"},
     {"std", "Std (pop.)"},
     {"l1", "L1"},
     {"l2", "L2"},
     {"max_abs", "Max |x|"}},
    {{"p1", "p1"}, {"p25", "p25"}, {"median", "Median"}, {"p75", "p75"}, {"p99", "p99"}},
};

}  // namespace

StatsPanel::StatsPanel(QWidget* parent) : QWidget(parent)
{
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(8);
    m_progress->setVisible(false);

    m_grid = new QWidget(this);
    m_gridLayout = new QGridLayout(m_grid);
    m_gridLayout->setContentsMargins(0, 0, 0, 0);
    m_gridLayout->setHorizontalSpacing(8);
    m_gridLayout->setVerticalSpacing(2);
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (const auto& group : kColumns) {
        m_cells.emplace_back();
        for (const auto& [key, label] : group) {
            auto* name = new QLabel(tr(label), m_grid);
            auto* value = new QLabel(QStringLiteral("—"), m_grid);
            value->setFont(mono);
            value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
            value->setTextInteractionFlags(Qt::TextSelectableByMouse);
            // The pane decides the width: a narrow one stacks the groups (resizeEvent)
            // instead of the panel scrolling sideways.
            value->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
            m_cells.back().emplace_back(name, value);
            m_values.insert(QLatin1String(key), value);
        }
    }
    layoutGrid(true);

    m_histogram = new HistogramWidget(this);
    m_heatmap = new HeatmapWidget(this);
    m_views = new QTabWidget(this);
    m_views->addTab(m_histogram, tr("Histogram"));
    m_views->addTab(m_heatmap, tr("Heatmap"));
    m_views->setDocumentMode(true);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_status);
    layout->addWidget(m_progress);
    layout->addWidget(m_grid);
    layout->addWidget(m_views, 1);

    connect(m_histogram, &HistogramWidget::binsRequested, this, [this](int bins) {
        m_bins = bins;
        if (m_index && m_entry >= 0)
            start();
    });
    clear();
}

// m_jobs cancels the running computation and waits for it (cancel is checked every chunk).
StatsPanel::~StatsPanel() = default;

void StatsPanel::showTensor(std::shared_ptr<const ModelIndex> index, int entry)
{
    if (index != m_index) {
        m_cache.clear();  // keyed by entry: valid for one model only
        m_index = std::move(index);
    }
    if (m_jobs.isRunning() && entry == m_entry)
        return;  // already on its way
    m_entry = entry;
    m_heatmap->showTensor(m_index, entry);  // computed once its tab is shown
    if (m_index && entry >= 0 && size_t(entry) < m_index->entries.size())
        m_histogram->setTitle(QString::fromStdString(m_index->entries[size_t(entry)].name));
    start();
}

void StatsPanel::clear()
{
    m_jobs.cancel();
    m_entry = -1;
    m_current.reset();
    for (auto* v : std::as_const(m_values)) {
        v->setText(QStringLiteral("—"));
        v->setToolTip(QString());
    }
    showStatus(QString(), false);
    m_histogram->clear();
    m_heatmap->clear();
}

void StatsPanel::start()
{
    m_jobs.cancel();
    if (!m_index || m_entry < 0 || size_t(m_entry) >= m_index->entries.size()) {
        clear();
        return;
    }
    if (auto it = m_cache.find(Key{m_entry, m_bins}); it != m_cache.end()) {
        display(it->second);
        Q_EMIT statsShown();
        return;
    }
    m_current.reset();
    for (auto* v : std::as_const(m_values)) {
        v->setText(QStringLiteral("…"));
        v->setToolTip(QString());
    }
    showStatus(tr("Computing…"), true);
    if (m_scan && m_scan->index() == m_index && m_scan->tensor(m_entry).done()) {
        // The scan's figures now; quantiles and the histogram when computed.
        const TensorScan& t = m_scan->tensor(m_entry);
        auto s = std::make_shared<TensorStats>();
        s->elements = t.elements;
        s->finite = t.finite;
        s->nan = t.nan;
        s->posInf = t.posInf;
        s->negInf = t.negInf;
        s->zeros = t.zeros;
        s->zerosPercent = t.elements ? 100.0 * double(t.zeros) / double(t.elements) : 0.0;
        s->min = t.min, s->max = t.max, s->mean = t.mean, s->std = t.std;
        s->l1 = t.l1, s->l2 = t.l2, s->maxAbs = t.maxAbs;
        s->minExact = t.minExact, s->maxExact = t.maxExact;
        s->values = t.values;
        s->quantiles.computed = false;
        display(s);
        m_current.reset();
        showStatus(tr("From the scan; computing quantiles and histogram…"), true);
    }
    m_histogram->clear(tr("Computing…"));

    m_jobs.start(
        [this, index = m_index, entry = m_entry, bins = m_bins](const JobHandle& handle) {
            StatsOptions o;
            o.bins = bins;
            o.cancel = handle.cancel;
            // Called at most once per percent by core; queued to the GUI thread.
            o.progress = [this, id = handle.id](double f) {
                m_jobs.post(id, [this, f] { m_progress->setValue(int(f * 1000)); });
            };
            StatsJob job;
            job.entry = entry;
            job.bins = bins;
            auto r = computeStats(*index, entry, o);
            if (r)
                job.stats = std::make_shared<const TensorStats>(std::move(r.value()));
            else
                job.error = r.error();
            return job;
        },
        [this](const StatsJob& job) {
            if (!job.stats) {
                showStatus(job.error, false);
                m_histogram->clear(job.error);
                for (auto* v : std::as_const(m_values))
                    v->setText(QStringLiteral("—"));
                return;
            }
            if (m_cache.size() >= kMaxCached)
                m_cache.clear();  // a few KB each; a crude bound beats unbounded growth
            m_cache[Key{job.entry, job.bins}] = job.stats;
            display(job.stats);
            Q_EMIT statsShown();
        });
}

void StatsPanel::showStatus(const QString& text, bool busy)
{
    m_status->setText(text);
    m_status->setVisible(!text.isEmpty());
    m_progress->setValue(0);
    m_progress->setVisible(busy);
}

void StatsPanel::setValue(const QString& key, const QString& text, const QString& tip)
{
    if (QLabel* l = m_values.value(key)) {
        l->setText(text);
        l->setToolTip(tip);
    }
}

void StatsPanel::display(const std::shared_ptr<const TensorStats>& sp)
{
    m_current = sp;
    const TensorStats& s = *sp;
    setValue(QStringLiteral("elements"), formatCount(s.elements));
    setValue(QStringLiteral("finite"), formatCount(s.finite));
    setValue(QStringLiteral("zeros"),
             QStringLiteral("%1 (%2%)").arg(formatCount(s.zeros)).arg(s.zerosPercent, 0, 'g', 3));
    setValue(QStringLiteral("nan"), formatCount(s.nan));
    setValue(QStringLiteral("pos_inf"), formatCount(s.posInf));
    setValue(QStringLiteral("neg_inf"), formatCount(s.negInf));
    const bool f = s.hasFinite();
    auto put = [&](const char* key, double v) {
        setValue(QLatin1String(key), f ? number(v) : QStringLiteral("—"), f ? fullNumber(v) : QString());
    };
    // int64/uint64: min, max and integer quantiles exactly (a double would round them
    // beyond 2^53); mean, std and norms stay doubles.
    auto putExact = [&](const char* key, double v, const std::optional<StatsInteger>& exact) {
        if (f && exact)
            setValue(QLatin1String(key), exact->toString(), exact->toString());
        else
            put(key, v);
    };
    putExact("min", s.min, s.minExact);
    putExact("max", s.max, s.maxExact);
    put("mean", s.mean);
    put("std", s.std);
    put("l1", s.l1);
    put("l2", s.l2);
    put("max_abs", s.maxAbs);
    const char* q[] = {"p1", "p25", "median", "p75", "p99"};
    for (size_t i = 0; i < 5; ++i) {
        const double v = s.quantiles.values[i];
        if (!f || !s.quantiles.computed)
            setValue(QLatin1String(q[i]), QStringLiteral("—"));
        else if (s.quantiles.approximate)  // "≈": the note above the grid gives the error bound
            setValue(QLatin1String(q[i]), QStringLiteral("≈") + number(v),
                     tr("Approximate (counted in cells of a fine histogram): %1, error at most %2")
                         .arg(fullNumber(v), fullNumber(s.quantiles.errorBound)));
        else if (s.quantiles.exact[i])
            setValue(QLatin1String(q[i]), s.quantiles.exact[i]->toString(), s.quantiles.exact[i]->toString());
        else
            setValue(QLatin1String(q[i]), number(v), fullNumber(v));
    }

    QStringList notes;
    if (s.empty)
        notes << tr("Empty tensor (shape %1): no values.").arg(formatShape(s.shape));
    else if (s.scalar)
        notes << tr("0-d tensor (a single value).");
    if (!s.empty && !f)
        notes << tr("No finite values: statistics need at least one.");
    if (s.values == StatsValues::Magnitude)
        notes << tr("Complex tensor: statistics of the magnitude |z|.");
    else if (s.values == StatsValues::Dequantized)
        notes << tr("Quantized tensor: statistics of the dequantized values.");
    if (f && s.quantiles.approximate)
        notes << tr("Quantiles approximate (tensor above %1 values), error ≤ ±%2.")
                     .arg(formatCount(StatsOptions().exactQuantileLimit),
                          QString::number(s.quantiles.errorBound, 'g', 2));
    if (f && (s.nan || s.posInf || s.negInf))
        notes << tr("Min, max, mean, std, norms and quantiles are over the finite values.");
    showStatus(notes.join(QLatin1Char(' ')), false);
    m_histogram->setStats(s);
    m_histogram->setRequestedBins(m_bins);
}

QString StatsPanel::valueText(const QString& key) const
{
    const QLabel* l = m_values.value(key);
    return l ? l->text() : QString();
}

QString StatsPanel::statusText() const
{
    return m_status->text();
}

}  // namespace paramscope

namespace paramscope {

void StatsPanel::layoutGrid(bool sideBySide)
{
    m_sideBySide = sideBySide;
    for (int c = 0; c < m_gridLayout->columnCount(); ++c) {
        m_gridLayout->setColumnStretch(c, 0);
        m_gridLayout->setColumnMinimumWidth(c, 0);
    }
    int row = 0;
    for (size_t g = 0; g < m_cells.size(); ++g) {
        const int col = sideBySide ? int(g) * 3 : 0;
        if (sideBySide)
            row = 0;
        for (auto [name, value] : m_cells[g]) {
            m_gridLayout->addWidget(name, row, col);  // moves a widget already in the layout
            m_gridLayout->addWidget(value, row, col + 1);
            ++row;
        }
        if (sideBySide && g + 1 < m_cells.size())
            m_gridLayout->setColumnMinimumWidth(col + 2, 12);  // gap between the groups
        m_gridLayout->setColumnStretch(col + 1, 1);
    }
}

int StatsPanel::sideBySideWidth() const
{
    // Each group as wide as its widest name and widest value could be ("-1.2345678901234567e-05").
    const int valueWidth = QFontMetrics(QFontDatabase::systemFont(QFontDatabase::FixedFont))
                               .horizontalAdvance(QStringLiteral("-0.012345678901234567"));
    int width = 0;
    for (const auto& group : m_cells) {
        int names = 0;
        for (const auto& cell : group)
            names = std::max(names, cell.first->sizeHint().width());
        width += names + m_gridLayout->horizontalSpacing() + valueWidth;
    }
    return width + (int(m_cells.size()) - 1) * (12 + 2 * m_gridLayout->horizontalSpacing());
}

void StatsPanel::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    const bool side = event->size().width() >= sideBySideWidth();
    if (side != m_sideBySide)
        layoutGrid(side);
}

}  // namespace paramscope
