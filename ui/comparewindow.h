#pragma once

#include "diff/diff.h"
#include "session/jobtracker.h"
#include "stats/stats.h"

#include <QMainWindow>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTabWidget;
class QTableWidget;

namespace paramscope {

class CompareController;
class DiffTreeModel;
class HeatmapWidget;
class HistogramWidget;
class ModelIndex;
class ModelTreeView;
class SearchController;
class StatsPanel;
class TreeFilterProxy;

/// Two models compared (File > Compare with…, `paramscope A B`): the merged tree of their
/// aligned names with each tensor's status and the figures of its change (sortable), a
/// status filter and the name search over it, the name alignment with the prefix it
/// stripped (undoable), the tolerance; the selected pair's statistics side by side and the
/// histogram of b − a.
class CompareWindow : public QMainWindow {
    Q_OBJECT
public:
    /// The status filter's choices, in the combo box's order.
    enum StatusFilter { AllTensors, Differences, OnlyChanged, OnlyClose, OnlyIdentical, OnlyRecast, OnlyOneSide };

    explicit CompareWindow(QWidget* parent = nullptr);
    ~CompareWindow() override;

    /// Loads both files and compares them.
    void openFiles(const QString& fileA, const QString& fileB);
    /// Compares a model already open (A) with a file.
    void compareAgainst(std::shared_ptr<const ModelIndex> a, const QString& fileB);
    /// Compares two models already open.
    void setModels(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b);

    CompareController* controller() const { return m_controller; }
    DiffTreeModel* model() const { return m_model; }
    TreeFilterProxy* proxy() const { return m_proxy; }
    ModelTreeView* treeView() const { return m_tree; }
    StatsPanel* statsA() const { return m_statsA; }
    StatsPanel* statsB() const { return m_statsB; }
    HistogramWidget* diffHistogram() const { return m_diffHistogram; }
    HeatmapWidget* diffHeatmap() const { return m_diffHeatmap; }
    QTabWidget* diffViews() const { return m_diffViews; }
    QLineEdit* searchEdit() const { return m_searchEdit; }
    /// "FROM=TO, FROM2=TO2": A's names starting with FROM read as starting with TO.
    QLineEdit* mappingEdit() const { return m_mapEdit; }
    QComboBox* statusFilterBox() const { return m_statusBox; }
    QString alignmentText() const;
    QString summaryText() const;
    QString diffHistogramText() const;
    /// The side-by-side table: its cell for statistic `key` (StatsPanel::valueText's keys)
    /// of side 0 (A) or 1 (B).
    QString sideBySideText(const QString& key, int side) const;
    /// The statistics of b − a on display (null while computing or with nothing selected).
    std::shared_ptr<const TensorStats> diffStats() const { return m_diffStats; }

    void setStatusFilter(StatusFilter filter);
    /// Selects (and scrolls to) merged tree node `node`.
    void selectNode(int node);

Q_SIGNALS:
    /// The comparison finished (complete or not) and the view shows it.
    void comparisonFinished(bool complete);
    /// A search, filter or sort was applied to the tree.
    void viewApplied();
    /// The histogram of b − a of the selected pair is on screen.
    void diffHistogramShown();
    void loadFailed(const QString& message);

private:
    void buildUi();
    void onModelsChanged();
    void onFinished(bool complete);
    void applyRestriction();
    void runSearch();
    void onCurrentChanged();
    void showPair(int entry);
    /// The title line of pair `entry`: its key, status and figures, NaN/Inf in the alert colour.
    QString pairTitle(int entry) const;
    void updateHeader();
    void updateSummary();
    void applyTolerance();
    void applyMapping();
    void updateSideBySide();

    CompareController* m_controller = nullptr;
    SearchController* m_search = nullptr;
    DiffTreeModel* m_model = nullptr;
    TreeFilterProxy* m_proxy = nullptr;
    ModelTreeView* m_tree = nullptr;
    StatsPanel* m_statsA = nullptr;
    StatsPanel* m_statsB = nullptr;
    HistogramWidget* m_diffHistogram = nullptr;
    HeatmapWidget* m_diffHeatmap = nullptr;
    QTabWidget* m_diffViews = nullptr;
    QLabel* m_header = nullptr;
    QPushButton* m_alignButton = nullptr;
    QLineEdit* m_mapEdit = nullptr;
    QLineEdit* m_searchEdit = nullptr;
    QComboBox* m_modeBox = nullptr;
    QCheckBox* m_caseBox = nullptr;
    QComboBox* m_statusBox = nullptr;
    QLineEdit* m_atolEdit = nullptr;
    QLineEdit* m_rtolEdit = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_pairTitle = nullptr;
    int m_titleEntry = -1;  // the pair the title shows (-1: none)
    QLabel* m_captionA = nullptr;
    QLabel* m_captionB = nullptr;
    QTableWidget* m_sideBySide = nullptr;
    QLabel* m_diffCaption = nullptr;
    JobTracker m_diffJob{this};
    std::shared_ptr<const TensorStats> m_diffStats;
    bool m_sortedByDiff = false;
};

}  // namespace paramscope
