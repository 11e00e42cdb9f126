// HeatmapWidget: the reduction runs as a job (session/jobtracker.h), the picture is core's
// renderRgb drawn as one pixmap item over the matrix's coordinates (columns along x, rows
// down y), a QCPColorScale beside it with the same stops; zoom and pan move the axes, and
// once they settle the visible region is reduced again at the plot's resolution.
#include "ui/heatmapwidget.h"

#include "ui/plotpalette.h"

#include "model/modelindex.h"
#include "stats/decode.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace paramscope {

/// What is shown: one tensor, or b − a of two.
struct HeatmapWidget::Source {
    std::shared_ptr<const ModelIndex> a, b;
    int entryA = -1, entryB = -1;
    std::vector<std::int64_t> shape;
    std::vector<std::int64_t> fixed;  // slice indices of dims 2.. (empty: dim 0 x the rest)
    Pooling pooling = Pooling::MaxAbs;
    // The region to compute next (matrix coordinates; -1: the whole matrix).
    std::int64_t r0 = 0, r1 = -1, c0 = 0, c1 = -1;
    std::int64_t rows = 0, cols = 0;
};

namespace {

QColor rgb(std::uint32_t c)
{
    return QColor(int(c >> 16) & 0xff, int(c >> 8) & 0xff, int(c) & 0xff);
}

Result<Matrix> matrixFor(const ModelIndex& index, int entry, const std::vector<std::int64_t>& fixed)
{
    auto v = index.view(entry);
    if (!v)
        return Result<Matrix>::failure(v.error());
    MatrixChoice choice;
    if (!fixed.empty()) {
        choice.rowDim = 0;
        choice.colDim = 1;
        choice.fixed.assign(2, 0);
        choice.fixed.insert(choice.fixed.end(), fixed.begin(), fixed.end());
    }
    return matrixOf(v.value(), choice);
}

struct Computed {
    std::shared_ptr<const Heatmap> heatmap;
    QString error;
};

}  // namespace

HeatmapWidget::HeatmapWidget(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* controls = new QHBoxLayout;
    m_poolingBox = new QComboBox(this);
    m_poolingBox->addItem(tr("Max |x| of each block"), int(Pooling::MaxAbs));
    m_poolingBox->addItem(tr("Mean of each block"), int(Pooling::Mean));
    m_poolingBox->setToolTip(tr("How a block of elements becomes one cell when the matrix is larger than the plot"));
    m_clampBox = new QComboBox(this);
    m_clampBox->addItem(tr("Limits p1–p99"), QPointF(0.01, 0.99));
    m_clampBox->addItem(tr("Limits p0.1–p99.9"), QPointF(0.001, 0.999));
    m_clampBox->addItem(tr("Limits min–max"), QPointF(0, 1));
    m_scaleBox = new QComboBox(this);
    m_scaleBox->addItem(tr("Auto scale"), -1);
    m_scaleBox->addItem(tr("Diverging (0 centred)"), int(ColorScale::Diverging));
    m_scaleBox->addItem(tr("Sequential"), int(ColorScale::Sequential));
    m_sliceBox = new QCheckBox(tr("Slice [:, :, …]"), this);
    m_sliceBox->setToolTip(
        tr("For 3-D and larger tensors: one 2-D slice, the other indices chosen at the right; "
           "unchecked: dimension 0 by all the others"));
    m_sliceRow = new QHBoxLayout;
    m_saveButton = new QPushButton(tr("Save…"), this);
    // Two rows, and combo boxes that give up width (eliding; the list shows the whole
    // text), so a narrow details pane fits the controls without scrolling sideways.
    for (QComboBox* box : {m_poolingBox, m_clampBox, m_scaleBox}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(4);
        controls->addWidget(box, 1);
    }
    auto* controls2 = new QHBoxLayout;
    controls2->addWidget(m_sliceBox);
    controls2->addLayout(m_sliceRow);
    controls2->addStretch(1);
    controls2->addWidget(m_saveButton);
    layout->addLayout(controls);
    layout->addLayout(controls2);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    layout->addWidget(m_message);

    m_plot = new QCustomPlot(this);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->yAxis->setRangeReversed(true);  // row 0 at the top, as the tensor prints
    m_plot->xAxis->setLabel(tr("column"));
    m_plot->yAxis->setLabel(tr("row"));
    m_plot->setMinimumHeight(160);
    m_pixmap = new QCPItemPixmap(m_plot);
    m_pixmap->setScaled(true, Qt::IgnoreAspectRatio, Qt::FastTransformation);
    m_pixmap->topLeft->setType(QCPItemPosition::ptPlotCoords);
    m_pixmap->bottomRight->setType(QCPItemPosition::ptPlotCoords);
    m_pixmap->setClipToAxisRect(true);
    // Thin strips beside the map: each row's and each column's L2 norm (the smallest in a
    // cell's band, so a dead row or column shows as a drop to 0), on the map's own axes.
    m_rowRect = new QCPAxisRect(m_plot);
    m_rowRect->setMinimumSize(64, 0);
    m_rowRect->setMaximumSize(64, QWIDGETSIZE_MAX);
    m_rowRect->axis(QCPAxis::atLeft)->setRangeReversed(true);
    m_rowRect->axis(QCPAxis::atLeft)->setTickLabels(false);
    m_rowRect->axis(QCPAxis::atBottom)->setLabel(tr("row norm"));
    m_rowRect->axis(QCPAxis::atBottom)->ticker()->setTickCount(2);
    m_rowNorms = new QCPGraph(m_rowRect->axis(QCPAxis::atLeft), m_rowRect->axis(QCPAxis::atBottom));
    m_colRect = new QCPAxisRect(m_plot);
    m_colRect->setMinimumSize(0, 56);
    m_colRect->setMaximumSize(QWIDGETSIZE_MAX, 56);
    m_colRect->axis(QCPAxis::atBottom)->setTickLabels(false);
    m_colRect->axis(QCPAxis::atLeft)->setLabel(tr("col norm"));
    m_colRect->axis(QCPAxis::atLeft)->ticker()->setTickCount(2);
    m_colNorms = new QCPGraph(m_colRect->axis(QCPAxis::atBottom), m_colRect->axis(QCPAxis::atLeft));
    for (QCPGraph* g : {m_rowNorms, m_colNorms}) {
        g->setLineStyle(QCPGraph::lsStepLeft);
        g->setPen(QPen(palette().color(QPalette::Text)));
    }
    connect(m_plot->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), m_rowRect->axis(QCPAxis::atLeft),
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), m_colRect->axis(QCPAxis::atBottom),
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    m_scale = new QCPColorScale(m_plot);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(10);
    m_plot->plotLayout()->addElement(0, 1, m_rowRect);
    m_plot->plotLayout()->addElement(0, 2, m_scale);
    m_plot->plotLayout()->addElement(1, 0, m_colRect);
    // The strips line up with the map.
    auto* group = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_colRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    auto* rows = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, rows);
    m_rowRect->setMarginGroup(QCP::msTop | QCP::msBottom, rows);
    layout->addWidget(m_plot, 1);
    m_hover = new QLabel(this);
    m_hover->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_hover);

    m_refine.setSingleShot(true);
    m_refine.setInterval(150);
    connect(&m_refine, &QTimer::timeout, this, [this] { compute(false); });
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &HeatmapWidget::onRangeChanged);
    connect(m_plot->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &HeatmapWidget::onRangeChanged);
    connect(m_plot, &QCustomPlot::mouseMove, this, &HeatmapWidget::onMouseMove);
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        if (m_source)
            compute(true);  // back to the whole matrix
    });
    auto recompute = [this] {
        if (m_source) {
            m_source->pooling = Pooling(m_poolingBox->currentData().toInt());
            compute(false);
        }
    };
    connect(m_poolingBox, &QComboBox::currentIndexChanged, this, recompute);
    connect(m_clampBox, &QComboBox::currentIndexChanged, this, [this] {
        if (m_heatmap)
            display(m_heatmap);
    });
    connect(m_scaleBox, &QComboBox::currentIndexChanged, this, [this] {
        if (m_heatmap)
            display(m_heatmap);
    });
    connect(m_sliceBox, &QCheckBox::toggled, this, [this](bool on) {
        for (QSpinBox* s : m_sliceSpins)
            s->setEnabled(on);
        if (!m_source)
            return;
        m_source->fixed.clear();
        if (on)
            for (QSpinBox* s : m_sliceSpins)
                m_source->fixed.push_back(s->value());
        compute(true);
    });
    connect(m_saveButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save heatmap"), QStringLiteral("heatmap.png"),
                                                          tr("PNG images (*.png)"));
        if (!path.isEmpty())
            savePng(path, std::max(800, m_plot->width()), std::max(600, m_plot->height()));
    });
    applyPalette(m_plot, palette());
    clear();
}

HeatmapWidget::~HeatmapWidget() = default;

void HeatmapWidget::clear(const QString& message)
{
    m_jobs.cancel();
    m_source.reset();
    m_heatmap.reset();
    m_pixmap->setVisible(false);
    m_message->setText(message);
    m_hover->clear();
    m_saveButton->setEnabled(false);
    m_sliceBox->setVisible(false);
    rebuildSliceBoxes();
    m_plot->replot();
}

QString HeatmapWidget::message() const
{
    return m_message->text();
}

void HeatmapWidget::showTensor(std::shared_ptr<const ModelIndex> index, int entry)
{
    showDifference(nullptr, -1, std::move(index), entry);
}

void HeatmapWidget::showDifference(std::shared_ptr<const ModelIndex> a, int entryA, std::shared_ptr<const ModelIndex> b,
                                   int entryB)
{
    clear();
    if (!b || entryB < 0 || size_t(entryB) >= b->entries.size())
        return;
    auto s = std::make_shared<Source>();
    s->a = std::move(a);
    s->b = std::move(b);
    s->entryA = entryA;
    s->entryB = entryB;
    const TensorEntry& e = s->b->entries[size_t(entryB)];
    s->shape.assign(e.shape.begin(), e.shape.end());
    s->pooling = Pooling(m_poolingBox->currentData().toInt());
    m_source = s;
    const bool slicable = s->shape.size() >= 3;
    m_sliceBox->setVisible(slicable);
    m_sliceBox->setChecked(false);
    rebuildSliceBoxes();
    m_message->setText(tr("Computing the heatmap…"));
    if (isVisible())
        compute(true);
    else
        m_pending = true;
}

void HeatmapWidget::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyPalette(m_plot, palette());
        const QColor text = palette().color(QPalette::Text);
        for (QCPGraph* g : {m_rowNorms, m_colNorms})
            g->setPen(QPen(text));
    }
}

void HeatmapWidget::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (m_pending && m_source) {
        m_pending = false;
        compute(true);
    }
}

void HeatmapWidget::rebuildSliceBoxes()
{
    for (QSpinBox* s : m_sliceSpins)
        delete s;
    m_sliceSpins.clear();
    if (!m_source || m_source->shape.size() < 3)
        return;
    for (size_t d = 2; d < m_source->shape.size(); ++d) {
        auto* spin = new QSpinBox(this);
        spin->setRange(0, int(std::min<std::int64_t>(m_source->shape[d] - 1, 1 << 30)));
        spin->setPrefix(tr("dim %1: ").arg(d));
        spin->setEnabled(m_sliceBox->isChecked());
        connect(spin, &QSpinBox::valueChanged, this, [this] {
            if (!m_source || !m_sliceBox->isChecked())
                return;
            m_source->fixed.clear();
            for (QSpinBox* x : m_sliceSpins)
                m_source->fixed.push_back(x->value());
            compute(true);
        });
        m_sliceRow->addWidget(spin);
        m_sliceSpins.push_back(spin);
    }
}

void HeatmapWidget::setSlice(const std::vector<std::int64_t>& fixed)
{
    if (!m_source)
        return;
    if (fixed.empty()) {
        m_sliceBox->setChecked(false);
        return;
    }
    const QSignalBlocker block(m_sliceBox);
    m_sliceBox->setChecked(true);
    for (size_t k = 0; k < m_sliceSpins.size() && k < fixed.size(); ++k) {
        const QSignalBlocker b2(m_sliceSpins[k]);
        m_sliceSpins[k]->setEnabled(true);
        m_sliceSpins[k]->setValue(int(fixed[k]));
    }
    m_source->fixed = fixed;
    compute(true);
}

void HeatmapWidget::setPooling(Pooling p)
{
    m_poolingBox->setCurrentIndex(m_poolingBox->findData(int(p)));
}

void HeatmapWidget::compute(bool wholeMatrix)
{
    if (!m_source)
        return;
    auto s = std::make_shared<Source>(*m_source);
    if (wholeMatrix) {
        s->r0 = s->c0 = 0;
        s->r1 = s->c1 = -1;
        m_source->r0 = m_source->c0 = 0;
        m_source->r1 = m_source->c1 = -1;
    }
    HeatmapOptions o;
    o.width = std::max(64, m_plot->axisRect()->width());
    o.height = std::max(64, m_plot->axisRect()->height());
    o.pooling = s->pooling;
    o.rowBegin = s->r0;
    o.rowEnd = s->r1;
    o.colBegin = s->c0;
    o.colEnd = s->c1;
    m_jobs.start(
        [s, o](const JobHandle& job) mutable {
            Computed out;
            o.cancel = job.cancel;
            auto mb = matrixFor(*s->b, s->entryB, s->fixed);
            if (!mb) {
                out.error = mb.error();
                return out;
            }
            Result<Heatmap> h = Result<Heatmap>::failure(QString());
            if (s->a) {
                auto ma = matrixFor(*s->a, s->entryA, s->fixed);
                if (!ma) {
                    out.error = ma.error();
                    return out;
                }
                h = reduceDifference(ma.value(), mb.value(), o);
            } else {
                h = reduceMatrix(mb.value(), o);
            }
            if (!h)
                out.error = h.error();
            else
                out.heatmap = std::make_shared<const Heatmap>(std::move(h.value()));
            return out;
        },
        [this](Computed c) {
            ++m_computed;
            if (!c.heatmap) {
                m_pixmap->setVisible(false);
                m_message->setText(c.error);
                m_plot->replot();
                Q_EMIT heatmapShown();
                return;
            }
            display(c.heatmap);
            Q_EMIT heatmapShown();
        });
}

void HeatmapWidget::display(const std::shared_ptr<const Heatmap>& h)
{
    m_heatmap = h;
    m_source->rows = h->rows;
    m_source->cols = h->cols;
    const QPointF clamp = m_clampBox->currentData().toPointF();
    const int scale = m_scaleBox->currentData().toInt();
    m_limits =
        colorLimits(*h, clamp.x(), clamp.y(), scale < 0 ? std::nullopt : std::optional<ColorScale>(ColorScale(scale)));
    const std::vector<std::uint8_t> pixels = renderRgb(*h, m_limits, h->width, h->height);
    const QImage image(pixels.data(), h->width, h->height, h->width * 3, QImage::Format_RGB888);
    m_pixmap->setPixmap(QPixmap::fromImage(image.copy()));
    m_pixmap->topLeft->setCoords(double(h->colBegin), double(h->rowBegin));
    m_pixmap->bottomRight->setCoords(double(h->colEnd), double(h->rowEnd));
    m_pixmap->setVisible(true);
    QCPColorGradient g;
    g.clearColorStops();
    for (const auto& [at, c] : colorStops(m_limits.scale))
        g.setColorStopAt(at, rgb(c));
    m_scale->setGradient(g);
    m_scale->setDataRange(QCPRange(m_limits.low, m_limits.high));
    // The norm strips: per cell band the smallest norm of its rows / columns.
    auto strip = [](QCPGraph* graph, const std::vector<double>& norms, std::int64_t begin, int cells) {
        QVector<double> keys, values;
        const auto n = std::int64_t(norms.size());
        double top = 0;
        for (int k = 0; k < cells && n > 0; ++k) {
            const std::int64_t a = std::int64_t(k) * n / cells, b = std::max(a + 1, std::int64_t(k + 1) * n / cells);
            double lo = norms[size_t(a)];
            for (std::int64_t q = a; q < b && q < n; ++q)
                lo = std::min(lo, norms[size_t(q)]);
            keys << double(begin + a);
            values << lo;
            top = std::max(top, lo);
        }
        if (!keys.isEmpty()) {
            keys << double(begin + n);
            values << values.last();
        }
        graph->setData(keys, values, true);
        graph->valueAxis()->setRange(0, top > 0 ? top * 1.05 : 1);
    };
    strip(m_rowNorms, h->rowNorms, h->rowBegin, h->height);
    strip(m_colNorms, h->colNorms, h->colBegin, h->width);
    m_rowRect->axis(QCPAxis::atLeft)->setRange(m_plot->yAxis->range());
    m_colRect->axis(QCPAxis::atBottom)->setRange(m_plot->xAxis->range());
    // A new whole-matrix picture sets the axes; a refined region keeps the user's zoom.
    if (h->rowBegin == 0 && h->colBegin == 0 && h->rowEnd == h->rows && h->colEnd == h->cols && m_source->r1 < 0) {
        m_settingRange = true;
        m_plot->xAxis->setRange(0, double(h->cols));
        m_plot->yAxis->setRange(0, double(h->rows));
        m_settingRange = false;
    }
    const bool pooled = h->width < h->colEnd - h->colBegin || h->height < h->rowEnd - h->rowBegin;
    QString what = tr("%1 × %2 matrix").arg(h->rows).arg(h->cols);
    if (m_source->a)
        what = tr("b − a, ") + what;
    if (pooled)
        what += tr(", shown as %1 × %2 cells (%3 of each block)")
                    .arg(h->height)
                    .arg(h->width)
                    .arg(h->pooling == Pooling::Mean ? tr("mean") : tr("max |x|"));
    what += tr("; colours %1 to %2; NaN magenta, +Inf dark red, −Inf dark blue; double-click: whole matrix")
                .arg(QString::number(m_limits.low, 'g', 4), QString::number(m_limits.high, 'g', 4));
    m_message->setText(what);
    m_saveButton->setEnabled(true);
    m_plot->replot();
}

int HeatmapWidget::rowStripPoints() const
{
    return m_rowNorms->dataCount();
}

double HeatmapWidget::rowStripMin() const
{
    bool found = false;
    const QCPRange r = m_rowNorms->getValueRange(found);
    return found ? r.lower : std::nan("");
}

void HeatmapWidget::onRangeChanged()
{
    if (m_settingRange || !m_source || !m_heatmap)
        return;
    m_refine.start();
    // Where the refined region will be: what the axes show, inside the matrix.
    const QCPRange x = m_plot->xAxis->range(), y = m_plot->yAxis->range();
    const std::int64_t rows = m_heatmap->rows, cols = m_heatmap->cols;
    m_source->c0 = std::clamp<std::int64_t>(std::int64_t(std::floor(x.lower)), 0, cols);
    m_source->c1 = std::clamp<std::int64_t>(std::int64_t(std::ceil(x.upper)), m_source->c0, cols);
    m_source->r0 = std::clamp<std::int64_t>(std::int64_t(std::floor(y.lower)), 0, rows);
    m_source->r1 = std::clamp<std::int64_t>(std::int64_t(std::ceil(y.upper)), m_source->r0, rows);
    if (m_source->c1 <= m_source->c0 || m_source->r1 <= m_source->r0)
        m_refine.stop();
}

void HeatmapWidget::setVisibleRegion(double r0, double r1, double c0, double c1)
{
    m_plot->xAxis->setRange(c0, c1);
    m_plot->yAxis->setRange(r0, r1);
    m_refine.stop();
    compute(false);
}

QString HeatmapWidget::hoverText(std::int64_t row, std::int64_t col) const
{
    if (!m_source || !m_heatmap || row < 0 || col < 0 || row >= m_heatmap->rows || col >= m_heatmap->cols)
        return {};
    // The element itself, decoded here (one element: no work for the GUI thread).
    auto element = [&](const ModelIndex& m, int entry) -> double {
        auto mx = matrixFor(m, entry, m_source->fixed);
        if (!mx)
            return std::nan("");
        const ValueDecoder d(mx->view);
        double v = std::nan("");
        const std::int64_t at = row * mx->cols + col;
        if (d.ok() && at < d.numel())
            d.decode(at, at + 1, &v);
        return v;
    };
    double v = element(*m_source->b, m_source->entryB);
    if (m_source->a)
        v -= element(*m_source->a, m_source->entryA);
    QString text = tr("[%1, %2] = %3").arg(row).arg(col).arg(QString::number(v, 'g', 7));
    if (m_source->a)
        text = tr("b − a ") + text;
    const Heatmap& h = *m_heatmap;
    const int i = h.cellRow(row), j = h.cellCol(col);
    if (i >= 0 && j >= 0) {
        const std::int64_t rb = h.cellRowBegin(i), re = i + 1 < h.height ? h.cellRowBegin(i + 1) : h.rowEnd;
        const std::int64_t cb = h.cellColBegin(j), ce = j + 1 < h.width ? h.cellColBegin(j + 1) : h.colEnd;
        if (re - rb > 1 || ce - cb > 1)
            text += tr("; its cell (rows %1–%2, columns %3–%4): %5 %6")
                        .arg(rb)
                        .arg(re - 1)
                        .arg(cb)
                        .arg(ce - 1)
                        .arg(h.pooling == Pooling::Mean ? tr("mean") : tr("max |x|"))
                        .arg(QString::number(h.value(i, j), 'g', 5));
        const std::uint8_t f = h.flag(i, j);
        if (f)
            text += tr(" (holds %1)")
                        .arg(QStringList{f & Heatmap::kHasNaN ? tr("NaN") : QString(),
                                         f & Heatmap::kHasPosInf ? tr("+Inf") : QString(),
                                         f & Heatmap::kHasNegInf ? tr("−Inf") : QString()}
                                 .filter(QRegularExpression(QStringLiteral(".")))
                                 .join(QStringLiteral(", ")));
        if (row >= h.rowBegin && row < h.rowEnd && col >= h.colBegin && col < h.colEnd)
            text += tr("; row norm %1, column norm %2")
                        .arg(QString::number(h.rowNorms[size_t(row - h.rowBegin)], 'g', 4),
                             QString::number(h.colNorms[size_t(col - h.colBegin)], 'g', 4));
    }
    return text;
}

void HeatmapWidget::onMouseMove(QMouseEvent* event)
{
    if (!m_heatmap)
        return;
    const double x = m_plot->xAxis->pixelToCoord(event->position().x());
    const double y = m_plot->yAxis->pixelToCoord(event->position().y());
    m_hover->setText(hoverText(std::int64_t(std::floor(y)), std::int64_t(std::floor(x))));
}

bool HeatmapWidget::savePng(const QString& path, int width, int height, QString* error) const
{
    const QFileInfo info(path);
    const QString tmp = info.dir().filePath(QStringLiteral(".%1.tmp.png").arg(info.fileName()));
    if (!m_plot->savePng(tmp, width, height)) {
        QFile::remove(tmp);
        if (error)
            *error = tr("could not write '%1'").arg(path);
        return false;
    }
    QFile::remove(path);
    if (!QFile::rename(tmp, path)) {
        QFile::remove(tmp);
        if (error)
            *error = tr("could not write '%1'").arg(path);
        return false;
    }
    return true;
}

}  // namespace paramscope
