#pragma once

#include "session/jobtracker.h"
#include "stats/stats.h"

#include <QMap>
#include <QString>
#include <QWidget>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

class QGridLayout;
class QLabel;
class QProgressBar;
class QTabWidget;

namespace paramscope {

class HeatmapWidget;
class HistogramWidget;
class ModelIndex;
class ScanTable;

/// Statistics and histogram of one tensor, computed off the GUI thread and cached per
/// (model, tensor, bin count). Selecting another tensor cancels the running computation
/// and discards its result.
class StatsPanel : public QWidget {
    Q_OBJECT
public:
    explicit StatsPanel(QWidget* parent = nullptr);
    ~StatsPanel() override;

    /// Shows entry `entry` of `index`: at once from the cache, else after a background
    /// computation (a "Computing…" state meanwhile).
    void showTensor(std::shared_ptr<const ModelIndex> index, int entry);
    /// Shows nothing; cancels any running computation.
    void clear();
    /// A whole-model scan's results: a tensor it has figures for shows them at once while
    /// its quantiles and histogram are computed (null: none; must outlive its use here).
    void setScanTable(const ScanTable* table) { m_scan = table; }

    bool isComputing() const { return m_jobs.isRunning(); }
    /// The text shown for a statistic: "elements", "finite", "nan", "pos_inf", "neg_inf",
    /// "zeros", "min", "max", "mean", "std", "l1", "l2", "max_abs", "p1", "p25", "median",
    /// "p75", "p99".
    QString valueText(const QString& key) const;
    /// "Computing…", an error, or a note (magnitude, dequantized, approximate quantiles).
    QString statusText() const;
    /// The statistics on display (null while computing or when nothing is shown).
    std::shared_ptr<const TensorStats> currentStats() const { return m_current; }
    HistogramWidget* histogram() const { return m_histogram; }
    HeatmapWidget* heatmap() const { return m_heatmap; }
    /// The tabs the histogram and the heatmap are in.
    QTabWidget* views() const { return m_views; }
    /// The statistics' groups side by side (true) or one below the other (a narrow pane).
    bool isGridSideBySide() const { return m_sideBySide; }
    int cachedCount() const { return int(m_cache.size()); }

Q_SIGNALS:
    /// The shown tensor's statistics are on screen (from the cache or a computation).
    void statsShown();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void layoutGrid(bool sideBySide);
    int sideBySideWidth() const;
    using Key = std::tuple<int, int>;  // entry, bins (the cache holds one model at a time)
    void start();
    void display(const std::shared_ptr<const TensorStats>& s);
    void showStatus(const QString& text, bool busy);
    void setValue(const QString& key, const QString& text, const QString& tip = QString());

    std::shared_ptr<const ModelIndex> m_index;
    const ScanTable* m_scan = nullptr;
    int m_entry = -1;
    int m_bins = 0;
    JobTracker m_jobs{this};  // one computation at a time; a newer request drops the older
    std::map<Key, std::shared_ptr<const TensorStats>> m_cache;
    std::shared_ptr<const TensorStats> m_current;

    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
    QWidget* m_grid = nullptr;
    QGridLayout* m_gridLayout = nullptr;
    std::vector<std::vector<std::pair<QLabel*, QLabel*>>> m_cells;  // per group: name, value
    bool m_sideBySide = false;
    QMap<QString, QLabel*> m_values;
    HistogramWidget* m_histogram = nullptr;
    HeatmapWidget* m_heatmap = nullptr;
    QTabWidget* m_views = nullptr;
};

}  // namespace paramscope
