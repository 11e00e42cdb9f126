#include "ui/histogramwidget.h"

#include "ui/plotpalette.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTemporaryFile>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

namespace paramscope {

namespace {

QString shortNumber(double v)
{
    return QString::number(v, 'g', 6);
}

/// Log axes cannot start at 0: bars start just under 1 so a bin of one value stays visible.
constexpr double kLogBase = 0.8;

}  // namespace

HistogramWidget::HistogramWidget(QWidget* parent) : QWidget(parent)
{
    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addWidget(new QLabel(tr("Bins:"), this));
    m_bins = new QSpinBox(this);
    m_bins->setRange(0, kMaxBins);
    m_bins->setSpecialValueText(tr("Auto"));
    m_bins->setToolTip(tr("Number of bins (Auto: Freedman–Diaconis, at most %1). Integer dtypes get bins a whole "
                          "number of integers wide.")
                           .arg(kMaxAutoBins));
    m_bins->setKeyboardTracking(false);  // recompute on Enter / arrows, not on every digit
    controls->addWidget(m_bins);
    m_log = new QCheckBox(tr("Log counts"), this);
    m_log->setToolTip(tr("Logarithmic count axis, so that bins holding a few outliers stay visible"));
    controls->addWidget(m_log);
    controls->addStretch(1);
    m_save = new QToolButton(this);
    m_save->setText(tr("Save…"));
    m_save->setToolTip(tr("Save the plot as PNG or PDF"));
    controls->addWidget(m_save);

    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setVisible(false);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumHeight(160);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Zoom and pan along the values only (the counts keep their scale); a double-click or a
    // right-click shows the whole histogram again.
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] { resetZoom(); });
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        if (e->button() == Qt::RightButton)
            resetZoom();
    });
    m_plot->setToolTip(tr("Wheel: zoom the values; drag: pan; double-click or right-click: the whole histogram"));
    m_plot->setMouseTracking(true);
    m_plot->xAxis->setLabel(tr("value"));
    m_plot->yAxis->setLabel(tr("count"));
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setWidthType(QCPBars::wtPlotCoords);
    m_bars->setPen(QPen(QColor(40, 90, 160)));
    m_bars->setBrush(QColor(70, 130, 200, 170));

    m_nonFinite = new QLabel(this);
    m_nonFinite->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_nonFinite->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_nonFinite->setContentsMargins(6, 4, 4, 4);
    m_nonFinite->setToolTip(tr("Values left out of the histogram"));

    // With nothing to plot, a centred text takes the plot's place instead of empty axes.
    m_placeholder = new QLabel(this);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setMinimumHeight(160);
    m_placeholder->setFrameShape(QFrame::StyledPanel);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_plot);
    m_stack->addWidget(m_placeholder);

    auto* plotRow = new QHBoxLayout;
    plotRow->setContentsMargins(0, 0, 0, 0);
    plotRow->addWidget(m_stack, 1);
    plotRow->addWidget(m_nonFinite);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(m_message);
    layout->addLayout(plotRow, 1);

    connect(m_bins, &QSpinBox::valueChanged, this, [this](int v) { Q_EMIT binsRequested(v); });
    connect(m_log, &QCheckBox::toggled, this, [this] {
        applyScale();
        m_plot->replot();
    });
    connect(m_save, &QToolButton::clicked, this, &HistogramWidget::onSaveClicked);
    connect(m_plot, &QCustomPlot::mouseMove, this, &HistogramWidget::onMouseMove);
    applyPalette(m_plot, palette());
    clear();
}

void HistogramWidget::clear(const QString& message)
{
    m_edges.clear();
    m_counts.clear();
    m_integerAligned = m_bool = false;
    m_bars->data()->clear();
    m_message->clear();
    m_message->setVisible(false);
    m_placeholder->setText(message);
    m_stack->setCurrentWidget(m_placeholder);
    m_nonFinite->clear();
    m_save->setEnabled(false);
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_plot->xAxis->setRange(0, 1);
    applyScale();
    m_plot->replot();
}

void HistogramWidget::setStats(const TensorStats& s)
{
    clear();
    m_edges = s.histogram.edges;
    m_counts = s.histogram.counts;
    m_integerAligned = s.histogram.integerAligned && (dtypeIsInteger(s.dtype) || s.dtype == DType::Bool);
    m_bool = s.dtype == DType::Bool;

    m_nonFinite->setText(tr("Not plotted\nNaN  %1\n+Inf %2\n-Inf %3").arg(s.nan).arg(s.posInf).arg(s.negInf));

    QString msg;
    if (s.empty)
        msg = tr("Empty tensor: no values to plot");
    else if (!s.hasFinite())
        msg = tr("No finite values (%1 NaN, %2 +Inf, %3 -Inf): nothing to plot").arg(s.nan).arg(s.posInf).arg(s.negInf);
    else if (s.elements == 1)
        msg = tr("A single value: %1").arg(s.minExact ? s.minExact->toString() : shortNumber(s.min));
    else if (m_bool)
        msg = tr("Boolean: %1 false, %2 true").arg(s.zeros).arg(s.finite - s.zeros);
    else if (s.constant())
        msg = tr("Constant: all %1 finite values are %2")
                  .arg(QString::number(s.finite), s.minExact ? s.minExact->toString() : shortNumber(s.min));
    else if (s.values == StatsValues::Magnitude)
        msg = tr("Histogram of the magnitudes |z|");
    else if (s.values == StatsValues::Dequantized)
        msg = tr("Histogram of the dequantized values");
    if (m_counts.empty()) {
        m_placeholder->setText(msg);
        return;
    }
    m_message->setText(msg);
    m_message->setVisible(!msg.isEmpty());
    m_stack->setCurrentWidget(m_plot);

    QVector<double> keys, values;
    keys.reserve(qsizetype(m_counts.size()));
    values.reserve(qsizetype(m_counts.size()));
    for (size_t i = 0; i < m_counts.size(); ++i) {
        keys.push_back((m_edges[i] + m_edges[i + 1]) / 2);
        values.push_back(double(m_counts[i]));
    }
    m_bars->setData(keys, values, true);
    m_bars->setWidth((m_edges.back() - m_edges.front()) / double(m_counts.size()));
    if (m_bool) {
        QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
        t->addTick(0, tr("false"));
        t->addTick(1, tr("true"));
        m_plot->xAxis->setTicker(t);
    } else if (m_integerAligned) {
        // Ticks on whole numbers only: bins are centred on (groups of) integers.
        QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
        t->setTickStep(1.0);
        t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        m_plot->xAxis->setTicker(t);
    }
    m_save->setEnabled(true);
    rescale();
    m_plot->replot();
}

void HistogramWidget::setLogScale(bool on)
{
    m_log->setChecked(on);
}
bool HistogramWidget::logScale() const
{
    return m_log->isChecked();
}

void HistogramWidget::setRequestedBins(int bins)
{
    const QSignalBlocker block(m_bins);
    m_bins->setValue(bins);
}

int HistogramWidget::requestedBins() const
{
    return m_bins->value();
}
QString HistogramWidget::message() const
{
    return m_stack->currentWidget() == m_placeholder ? m_placeholder->text() : m_message->text();
}
QString HistogramWidget::nonFiniteText() const
{
    return m_nonFinite->text();
}

void HistogramWidget::applyScale()
{
    const bool log = m_log->isChecked();
    m_plot->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog));
    else
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_bars->setBaseValue(log ? kLogBase : 0.0);
    rescale();
}

void HistogramWidget::resetZoom()
{
    rescale();
    m_plot->replot();
}

void HistogramWidget::rescale()
{
    if (m_counts.empty()) {
        m_plot->yAxis->setRange(m_log->isChecked() ? kLogBase : 0.0, m_log->isChecked() ? 10.0 : 1.0);
        return;
    }
    const double lo = m_edges.front(), hi = m_edges.back();
    const double pad = (hi - lo) * 0.02;
    m_plot->xAxis->setRange(lo - pad, hi + pad);
    const double top = double(*std::max_element(m_counts.begin(), m_counts.end()));
    if (m_log->isChecked())
        m_plot->yAxis->setRange(kLogBase, std::max(top * 2.0, 10.0));
    else
        m_plot->yAxis->setRange(0, std::max(top * 1.08, 1.0));
}

QString HistogramWidget::binToolTip(double x) const
{
    if (m_counts.empty() || !(x >= m_edges.front()) || !(x <= m_edges.back()))
        return {};
    auto it = std::upper_bound(m_edges.begin(), m_edges.end(), x);
    size_t i = size_t(it - m_edges.begin());
    i = std::min(i, m_counts.size()) - 1;
    const double a = m_edges[i], b = m_edges[i + 1];
    const std::int64_t n = m_counts[i];
    if (m_bool)
        return tr("%1: %2").arg(a < 0.5 ? tr("false") : tr("true")).arg(n);
    // Half-integer edges (see StatsHistogram); int64/uint64 bins beyond 2^51 have integer
    // edges only approximated by these doubles (and beyond int64): plain intervals then.
    if (m_integerAligned && std::fabs(a) < 0x1p51 && std::fabs(b) < 0x1p51) {
        const auto first = std::int64_t(std::ceil(a)), last = std::int64_t(std::floor(b));
        if (first == last)
            return tr("value %1: %2").arg(first).arg(n);
        return tr("values %1 … %2: %3").arg(first).arg(last).arg(n);
    }
    const bool lastBin = i + 1 == m_counts.size();
    return tr("[%1, %2%3: %4")
        .arg(shortNumber(a), shortNumber(b), lastBin ? QStringLiteral("]") : QStringLiteral(")"))
        .arg(n);
}

void HistogramWidget::onMouseMove(QMouseEvent* event)
{
    const QPoint pos = event->position().toPoint();
    if (!m_plot->axisRect()->rect().contains(pos)) {
        QToolTip::hideText();
        return;
    }
    const QString text = binToolTip(m_plot->xAxis->pixelToCoord(pos.x()));
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

bool HistogramWidget::saveImage(const QString& path, QString* error)
{
    auto fail = [&](const QString& why) {
        if (error)
            *error = tr("Could not save '%1': %2").arg(QFileInfo(path).fileName(), why);
        return false;
    };
    const QFileInfo fi(path);
    if (fi.isDir())
        return fail(tr("it is a folder"));
    const bool pdf = fi.suffix().compare(QLatin1String("pdf"), Qt::CaseInsensitive) == 0;
    QTemporaryFile tmp(fi.absolutePath() + QStringLiteral("/.%1.XXXXXX.part").arg(fi.fileName()));
    if (!tmp.open())
        return fail(tmp.errorString());
    const QString tmpName = tmp.fileName();
    tmp.close();
    // A picture for a report: at least 1200 x 675, with the tensor's name as its title.
    const int w = std::max(m_plot->width(), 1200);
    const int h = std::max(m_plot->height(), 675);
    QCPTextElement* title = nullptr;
    if (!m_title.isEmpty()) {
        m_plot->plotLayout()->insertRow(0);
        title = new QCPTextElement(m_plot, m_title, QFont(font().family(), font().pointSize() + 2, QFont::Bold));
        title->setTextColor(palette().color(QPalette::Text));
        m_plot->plotLayout()->addElement(0, 0, title);
    }
    const bool ok = pdf ? m_plot->savePdf(tmpName, w, h) : m_plot->savePng(tmpName, w, h);
    if (title) {
        m_plot->plotLayout()->remove(title);
        m_plot->plotLayout()->simplify();
        m_plot->replot();
    }
    if (!ok || QFileInfo(tmpName).size() == 0)
        return fail(tr("the image could not be written (disk full or read-only folder?)"));
    // The temporary file is private (0600): give the picture the mode any new file gets.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::chmod(QFile::encodeName(tmpName).constData(), 0666 & ~mask);
    // rename(2) replaces the destination atomically; QFile::rename refuses to overwrite.
    if (std::rename(QFile::encodeName(tmpName).constData(), QFile::encodeName(path).constData()) != 0)
        return fail(QString::fromLocal8Bit(std::strerror(errno)));
    tmp.setAutoRemove(false);
    return true;
}

void HistogramWidget::setTitle(const QString& title)
{
    m_title = title;
}

void HistogramWidget::onSaveClicked()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save histogram"), QStringLiteral("histogram.png"),
                                                      tr("PNG image (*.png);;PDF document (*.pdf)"));
    if (path.isEmpty())
        return;
    QString why;
    if (!saveImage(path, &why))
        QMessageBox::warning(this, tr("Save histogram"), why);
}

void HistogramWidget::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyPalette(m_plot, palette());
}

}  // namespace paramscope
