#pragma once

#include "stats/stats.h"

#include <QString>
#include <QWidget>

#include <cstdint>
#include <vector>

class QCheckBox;
class QCustomPlot;
class QCPBars;
class QLabel;
class QMouseEvent;
class QSpinBox;
class QStackedWidget;
class QToolButton;

namespace paramscope {

/// Draws a histogram computed by core (computeStats): bars over the finite values, the
/// NaN/+Inf/-Inf counts beside the plot, linear or log count axis, zoom and pan, a hover
/// tooltip per bin, save as PNG/PDF. It draws only what core computed.
class HistogramWidget : public QWidget {
    Q_OBJECT
public:
    explicit HistogramWidget(QWidget* parent = nullptr);

    /// Shows the histogram of `s` (copied). Special cases (empty, no finite value, constant,
    /// bool) get a text label.
    void setStats(const TensorStats& s);
    /// No histogram; `message` (if any) is shown in its place.
    void clear(const QString& message = QString());

    void setLogScale(bool on);
    bool logScale() const;
    /// The bin count shown in the spin box (0: automatic). Does not emit binsRequested.
    void setRequestedBins(int bins);
    int requestedBins() const;

    int barCount() const { return int(m_counts.size()); }
    QString message() const;        // the label above the plot ("" when none)
    QString nonFiniteText() const;  // the NaN/Inf counts beside the plot
    QCustomPlot* plot() const { return m_plot; }
    /// Text of the tooltip for the bin under plot x-coordinate `x` ("" outside every bin).
    QString binToolTip(double x) const;

    /// Saves the plot as PDF (".pdf") or PNG (anything else), through a temporary file in
    /// the same folder renamed over `path`, so a failure leaves no partial file.
    bool saveImage(const QString& path, QString* error = nullptr);
    /// Shows the whole histogram again after a zoom or pan (double-click, right-click).
    void resetZoom();
    /// The title a saved picture gets (the tensor's name); empty: none.
    void setTitle(const QString& title);

Q_SIGNALS:
    /// The user changed the bin count (0: automatic): the owner recomputes.
    void binsRequested(int bins);

protected:
    /// A new palette (a light or dark theme): the plot takes its colours.
    void changeEvent(QEvent* event) override;

private:
    QString m_title;
    void onMouseMove(QMouseEvent* event);
    void onSaveClicked();
    void applyScale();
    void rescale();

    QCustomPlot* m_plot = nullptr;
    QCPBars* m_bars = nullptr;
    QSpinBox* m_bins = nullptr;
    QCheckBox* m_log = nullptr;
    QToolButton* m_save = nullptr;
    QLabel* m_message = nullptr;
    QLabel* m_nonFinite = nullptr;
    QLabel* m_placeholder = nullptr;
    QStackedWidget* m_stack = nullptr;

    std::vector<double> m_edges;
    std::vector<std::int64_t> m_counts;
    bool m_integerAligned = false;
    bool m_bool = false;
};

}  // namespace paramscope
