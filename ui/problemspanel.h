#pragma once

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTreeView;
class QSortFilterProxyModel;

namespace paramscope {

class FindingsModel;
class ScanController;
struct ScanProgress;
struct SearchMatches;

/// The Problems panel: the findings of the whole-model scan (what, which tensor, why),
/// the scan's progress with Scan / Cancel, a filter by kind and "only search matches".
/// Selecting a finding asks the window to select its tensor.
class ProblemsPanel : public QWidget {
    Q_OBJECT
public:
    ProblemsPanel(ScanController* scan, QWidget* parent = nullptr);

    /// The current search's matches (null: none), for "Only matches".
    void setMatches(std::shared_ptr<const SearchMatches> matches);
    /// Selects the first finding of `entry` when it has one (the tree's selection followed).
    void showEntry(int entry);

    FindingsModel* findings() const { return m_model; }
    QTreeView* view() const { return m_view; }
    QLabel* summaryLabel() const { return m_summary; }
    QPushButton* scanButton() const { return m_scanButton; }
    QComboBox* kindBox() const { return m_kindBox; }
    QCheckBox* onlyMatchesBox() const { return m_onlyMatches; }

Q_SIGNALS:
    /// A finding was chosen: select its tensor.
    void entryActivated(int entry);

private:
    void onTableChanged();
    void onProgress(const ScanProgress& p);
    void onFinished(bool complete);
    void updateSummary();
    void applyKindFilter();

    ScanController* m_scan;
    FindingsModel* m_model;
    QSortFilterProxyModel* m_sorted;
    std::shared_ptr<const SearchMatches> m_matches;
    QLabel* m_summary;
    QProgressBar* m_progress;
    QPushButton* m_scanButton;
    QComboBox* m_kindBox;
    QCheckBox* m_onlyMatches;
    QTreeView* m_view;
    bool m_syncing = false;
};

}  // namespace paramscope
