#pragma once

#include "model/loadtypes.h"
#include "model/search.h"
#include "ui/errorbanner.h"

#include <QMainWindow>

#include <memory>
#include <vector>

class QAction;
class QActionGroup;
class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QSettings;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QToolButton;
class QVBoxLayout;

namespace paramscope {

class CompareWindow;

class DetailsPanel;
class MetadataView;
class ModelIndex;
class ModelSession;
class ModelTree;
class ModelTreeModel;
class ModelTreeView;
class ProblemsPanel;
class ScanController;
class SearchController;
class StatsPanel;
class StartPage;
class SubtreeExpander;
class TreeFilterProxy;
class TreeLayout;
struct SearchMatches;

/// The main window: open a model, browse its module tree, search it, inspect a tensor.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Where settings (recent files, geometry, last folder, engine) live. Empty (the
    /// default) uses the platform's QSettings for ParamScope; tests pass a temporary file
    /// so they never touch the user's settings. Affects windows created afterwards.
    static void setSettingsFile(const QString& path);

    /// Starts loading `path` on a worker thread. The model already open stays open until
    /// the new one has loaded; a failure leaves it in place and shows an error.
    void openFile(const QString& path);
    /// Opens the demo model bundled in the application's resources.
    void openDemoModel();
    /// Shows a model that is already in memory (tests, embedding); the tree is built when
    /// not given. Not added to the recent files.
    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree = {});
    void cancelLoading();
    bool isLoading() const;

    std::shared_ptr<const ModelIndex> modelIndex() const;
    std::shared_ptr<const ModelTree> modelTree() const;
    /// The file the open model came from (empty when none).
    QString currentFile() const;
    /// What Export… would write: the selected tensors, every tensor under a selected
    /// module (only the matching ones while a search filters the tree), or, with nothing
    /// selected and a search active, every match. File order, no duplicates.
    std::vector<int> exportCandidates() const;
    /// A base name for the export file of `entries`: the tensor's name for one tensor, the
    /// selected module's name, or the model file's name (+ "_matches" for a search).
    QString exportSuggestedBaseName(const std::vector<int>& entries) const;
    /// Exporting `entries` (exportCandidates()) leaves out tensors the search hides: the
    /// search's matches with nothing selected, or a selected module of which only the
    /// matches are exported. The export dialog's title then says so.
    bool exportLeavesOutUnmatched(const std::vector<int>& entries) const;

    LoaderEngine engine() const { return m_engine; }
    void setEngine(LoaderEngine engine);
    QStringList recentFiles() const;

    /// Selects and scrolls to a tree node / a tensor entry.
    void selectNode(int node);
    /// Every keyboard shortcut of the window, "Keys\tWhat it does" (Help > Keyboard shortcuts).
    QStringList shortcutList() const;
    /// File > Compare with…: a comparison window of the open model (A) against `fileB`,
    /// shown and deleted when closed; null with no model open.
    CompareWindow* compareWith(const QString& fileB);
    void selectEntry(int entry);
    /// Moves the selection to the next / previous search match (in the view's order).
    void findNext();
    void findPrevious();

    /// Starts the whole-model scan of the open model (Scan → Scan model).
    void startScan();
    /// Files up to this many MB are scanned when opened (0: never); a preference.
    static int autoScanLimitMB();
    static void setAutoScanLimitMB(int mb);

    // For tests and the screenshot tool.
    ModelSession* session() const { return m_session; }
    ScanController* scanController() const { return m_scan; }
    ProblemsPanel* problemsPanel() const { return m_problems; }
    QAction* problemsOnlyAction() const { return m_problemsOnlyAction; }
    SearchController* searchController() const { return m_search; }
    ModelTreeModel* treeModel() const { return m_model; }
    TreeFilterProxy* filterProxy() const { return m_proxy; }
    SubtreeExpander* subtreeExpander() const { return m_expander; }
    ModelTreeView* treeView() const { return m_tree; }
    DetailsPanel* detailsPanel() const { return m_details; }
    MetadataView* metadataView() const { return m_metadata; }
    /// The tabs beside each other on the left: the tensor tree and the Metadata view.
    QTabWidget* browserTabs() const { return m_tabs; }
    /// The line naming the classes the file pickles that were never imported (hidden when none).
    QLabel* foreignClassesLabel() const { return m_foreignClasses; }
    /// The Open dialog's file-type filter.
    static QString openDialogFilter();
    /// Answers exportRequested with the export dialog (the application does this; tests
    /// check the request itself and drive the dialog in tst_exportjob).
    void enableExportDialog();
    QLineEdit* searchEdit() const { return m_searchEdit; }
    QComboBox* searchModeBox() const { return m_modeBox; }
    QToolButton* caseSensitiveButton() const { return m_caseButton; }
    QLabel* matchCountLabel() const { return m_matchLabel; }
    QLabel* searchErrorLabel() const { return m_searchError; }
    QWidget* errorBanner() const { return m_errorBanner; }
    QString errorBannerText() const;
    /// Runs a pending debounced search now (tests, screenshots).
    void flushSearch();

    /// Tensors by kind, parameter elements trainable and frozen, buffer elements, tied names
    /// and bytes by dtype (shared data counted once), one a line; empty with no model.
    QString modelSummaryText() const;

Q_SIGNALS:
    /// Export… was triggered with these entries (never empty). Connect the export dialog.
    void exportRequested(std::vector<int> entries);
    void modelLoaded(const QString& path);
    void loadFailed(const QString& path, const QString& message);
    /// A search has been applied to the tree (or rejected as invalid).
    void searchApplied();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void createActions();
    void createMenus();
    /// Help: About and the keyboard shortcuts (the last menu).
    void createHelpMenu();
    QWidget* createBrowserPage();
    void createSearchBar(QWidget* left, QVBoxLayout* layout);
    void createStatusBar();
    /// The model summary (View > Model summary, the status bar's button): a dialog of
    /// modelSummaryText() and the loader's warnings, one a line.
    void showModelSummary();
    void connectSession();
    void connectSearch();
    void restoreSettings();
    void createScanUi();  // mainwindow_scan.cpp
    void fillStatColumnsMenu(QMenu* menu);
    void setStatColumnShown(int column, bool shown);
    void scanIfSmall();
    void updateProblemsFilter();
    void updateScanActions();
    void showScanPreferences();

    void onLoadProgress(double fraction, const QString& stage);
    void onLoadFailed(const QString& path, const QString& displayName, const QString& message);
    void setLoadingUi(bool loading, const QString& path = {});
    void showModel();
    void showWhatIsNotATensor();  // the Metadata view, the classes line, the empty tree's reason
    void updateMetadataTab();
    void showError(const QString& message);
    void hideError();

    void rebuildRecentMenu();
    void updateStatusLabel();
    void updateActions();

    SearchQuery currentQuery() const;
    void queryChanged();
    void applyView(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout);
    void showSearchError(const NameMatcher& matcher);
    void expandMatches();
    void restoreDefaultExpansion();
    void updateMatchLabel();
    void findMatch(bool forward);

    void onCurrentChanged();
    int currentNode() const;
    void selectProxyIndex(const QModelIndex& index);
    void copyName();
    void copySnippet();
    void expandSubtree();
    void collapseSubtree();
    void triggerExport();
    void showTreeContextMenu(const QPoint& pos);

    // Model and views.
    ModelSession* m_session = nullptr;
    SearchController* m_search = nullptr;
    ScanController* m_scan = nullptr;
    ModelTreeModel* m_model = nullptr;
    TreeFilterProxy* m_proxy = nullptr;
    SubtreeExpander* m_expander = nullptr;
    bool m_restoringView = false;
    int m_pendingSelection = -1;  // a node selectNode() jumps to once the search is cleared  // applyView puts the
                                  // current row back: no details update meanwhile
    QStackedWidget* m_pages = nullptr;
    StartPage* m_emptyPage = nullptr;
    QWidget* m_browserPage = nullptr;
    ModelTreeView* m_tree = nullptr;
    DetailsPanel* m_details = nullptr;
    QScrollArea* m_detailsScroll = nullptr;  // holds m_details; never narrower than its layout
    void fitDetailsWidth();
    StatsPanel* m_stats = nullptr;
    QSplitter* m_leftSplit = nullptr;     // the tabs above, the Problems panel below
    QSplitter* m_browserSplit = nullptr;  // the tree's side and the details
    ProblemsPanel* m_problems = nullptr;
    QTabWidget* m_tabs = nullptr;
    MetadataView* m_metadata = nullptr;
    QLabel* m_foreignClasses = nullptr;
    ErrorBanner* m_errorBanner = nullptr;

    // Search bar.
    QLineEdit* m_searchEdit = nullptr;
    QComboBox* m_modeBox = nullptr;
    QToolButton* m_caseButton = nullptr;
    QToolButton* m_problemsOnlyButton = nullptr;
    QLabel* m_matchLabel = nullptr;
    QLabel* m_searchError = nullptr;

    // Status bar.
    QLabel* m_statusLabel = nullptr;
    QToolButton* m_summaryButton = nullptr;  // "Summary" or "⚠ N warnings": the summary dialog
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancelButton = nullptr;

    // Actions.
    QAction* m_openAction = nullptr;
    QAction* m_openDemoAction = nullptr;
    QAction* m_exportAction = nullptr;
    QAction* m_compareAction = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_copyNameAction = nullptr;
    QAction* m_copySnippetAction = nullptr;
    QAction* m_findAction = nullptr;
    QAction* m_findNextAction = nullptr;
    QAction* m_findPreviousAction = nullptr;
    QAction* m_expandSubtreeAction = nullptr;
    QAction* m_collapseSubtreeAction = nullptr;
    QAction* m_modelOrderAction = nullptr;
    QAction* m_scanAction = nullptr;
    QAction* m_cancelScanAction = nullptr;
    QAction* m_showProblemsAction = nullptr;
    QAction* m_problemsOnlyAction = nullptr;
    QMenu* m_scanMenu = nullptr;
    QMenu* m_statColumnsMenu = nullptr;
    QActionGroup* m_engineGroup = nullptr;
    QMenu* m_recentMenu = nullptr;

    LoaderEngine m_engine = LoaderEngine::Auto;
};

}  // namespace paramscope
