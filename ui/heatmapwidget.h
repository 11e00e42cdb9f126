#pragma once

#include "heatmap/heatmap.h"
#include "session/jobtracker.h"

#include <QTimer>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPColorScale;
class QCPGraph;
class QCPItemPixmap;
class QLabel;
class QPushButton;
class QSpinBox;
class QHBoxLayout;

namespace paramscope {

class ModelIndex;

/// A tensor (or a comparison's b − a) as a heatmap: rows and columns as in the tensor (1-D
/// one row, N-D dim 0 x the rest or a chosen [:, :, i, j…] slice), reduced in core off the
/// GUI thread to about the plot's pixels (max |x| pooling by default, mean as an option) and
/// refined for the visible region as the user zooms and pans; a colour bar (diverging about
/// 0, or sequential for non-negative data), limits clamped to quantiles (p1–p99 by default),
/// NaN and ±Inf in their own colours, the element and its row and column norms under the
/// mouse, save as PNG. The picture is core's (renderRgb), the same as paramscope-cli
/// heatmap draws.
class HeatmapWidget : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapWidget(QWidget* parent = nullptr);
    ~HeatmapWidget() override;

    /// Shows entry `entry` of `index` (computed when the widget is visible).
    void showTensor(std::shared_ptr<const ModelIndex> index, int entry);
    /// Shows b − a of two tensors of one shape.
    void showDifference(std::shared_ptr<const ModelIndex> a, int entryA, std::shared_ptr<const ModelIndex> b,
                        int entryB);
    void clear(const QString& message = QString());

    /// What is on screen (null while computing or with nothing shown).
    const Heatmap* heatmap() const { return m_heatmap.get(); }
    const ColorLimits& limits() const { return m_limits; }
    QString message() const;
    /// The text the mouse at matrix element (row, col) shows ("" outside the matrix).
    QString hoverText(std::int64_t row, std::int64_t col) const;
    /// Shows matrix rows [r0, r1) x columns [c0, c1) (as a zoom does) and recomputes them.
    void setVisibleRegion(double r0, double r1, double c0, double c1);
    void setPooling(Pooling p);
    /// The fixed indices of the dimensions after the first two (rank >= 3 only), or none for
    /// the flattened dim 0 x the rest.
    void setSlice(const std::vector<std::int64_t>& fixed);
    int computeCount() const { return m_computed; }
    /// The norm strips' points (key: first row / column of a band, value: its smallest norm).
    int rowStripPoints() const;
    double rowStripMin() const;
    QCustomPlot* plot() const { return m_plot; }
    /// Saves the picture as PNG through a temporary file renamed over `path`.
    bool savePng(const QString& path, int width, int height, QString* error = nullptr) const;

Q_SIGNALS:
    /// A heatmap (or a message instead of one) is on screen.
    void heatmapShown();

protected:
    void showEvent(QShowEvent* event) override;
    /// A new palette (a light or dark theme): the plot takes its colours.
    void changeEvent(QEvent* event) override;

private:
    struct Source;
    void compute(bool wholeMatrix);
    void display(const std::shared_ptr<const Heatmap>& h);
    void rebuildSliceBoxes();
    void onRangeChanged();
    void onMouseMove(QMouseEvent* event);

    std::shared_ptr<Source> m_source;
    std::shared_ptr<const Heatmap> m_heatmap;
    ColorLimits m_limits;
    JobTracker m_jobs{this};
    QTimer m_refine;  // zoom settled: compute the visible region
    bool m_pending = false;
    bool m_settingRange = false;
    int m_computed = 0;

    QCustomPlot* m_plot = nullptr;
    QCPItemPixmap* m_pixmap = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPAxisRect* m_rowRect = nullptr;
    QCPAxisRect* m_colRect = nullptr;
    QCPGraph* m_rowNorms = nullptr;
    QCPGraph* m_colNorms = nullptr;
    QLabel* m_message = nullptr;
    QLabel* m_hover = nullptr;
    QComboBox* m_poolingBox = nullptr;
    QComboBox* m_clampBox = nullptr;
    QComboBox* m_scaleBox = nullptr;
    QCheckBox* m_sliceBox = nullptr;
    QHBoxLayout* m_sliceRow = nullptr;
    std::vector<QSpinBox*> m_sliceSpins;
    QPushButton* m_saveButton = nullptr;
};

}  // namespace paramscope
