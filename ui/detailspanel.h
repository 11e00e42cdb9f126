#pragma once

#include "model/modelindex.h"
#include "session/jobtracker.h"

#include <QLabel>
#include <QPointer>
#include <QWidget>

#include <memory>

class QFormLayout;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTableWidget;
class QVBoxLayout;

namespace paramscope {

class ModelTree;

/// A label that elides its text in the middle when too narrow and shows the whole text
/// as a tooltip: long dotted names keep both their start and their leaf visible.
class ElidedLabel : public QLabel {
    Q_OBJECT
public:
    explicit ElidedLabel(QWidget* parent = nullptr);
    void setFullText(const QString& text);
    QString fullText() const { return m_full; }
    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void updateElided();
    QString m_full;
};

/// Shows the selected tensor (name, kind, dtype, shape, strides, sizes, sharing, the
/// parameter it belongs to, its shard, a Python snippet) or module (class, totals and its
/// largest children).
class DetailsPanel : public QWidget {
    Q_OBJECT
public:
    explicit DetailsPanel(QWidget* parent = nullptr);

    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree);
    /// Shows a tree node: a tensor page for a tensor, a module page for a module (the root
    /// shows the whole model). -1 shows nothing.
    void showNode(int node);
    void clear();
    int currentNode() const { return m_node; }

    /// Puts the statistics widget at the bottom of the tensor page (owned by the panel).
    void setStatsWidget(QWidget* widget);
    QWidget* statsContainer() const { return m_statsContainer; }

    /// The module page's totals (an HTML table) for tree node `node` of the model shown: per
    /// kind the tensors and their elements, parameters trainable and frozen, all elements,
    /// size, children; tied names counted once.
    QString moduleTotalsText(int node) const;
    /// Modules with more tensors than this under them (and the whole model past it) get their
    /// totals counted on a worker: the page shows at once, with "counting" until they arrive.
    void setSyncTotalsLimit(std::int64_t tensors) { m_syncTotalsLimit = tensors; }
    static constexpr std::int64_t kSyncTotalsLimit = 20000;
    /// True while a module's totals are being counted on a worker.
    bool countingTotals() const { return m_totalsJob.isRunning(); }

Q_SIGNALS:
    /// The user asked to go to another node (shared-with or belongs-to link, a largest child).
    void nodeActivated(int node);
    /// A tensor page is now shown: the statistics panel should follow.
    void tensorShown(std::shared_ptr<const ModelIndex> index, int entry);
    /// No tensor is shown any more.
    void tensorCleared();

private:
    void createTensorPage();
    void createModulePage();
    QFont titleFont() const;  // the tensor's or module's name above its page
    void showTensor(int node);
    void showModule(int node);
    QLabel* addValueRow(QFormLayout* form, const QString& label, const char* objectName);
    /// The module page's totals for `totals` (null: still being counted).
    QString totalsText(int node, const ModelIndex::Totals* totals) const;

    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    int m_node = -1;

    QStackedWidget* m_stack = nullptr;
    QWidget* m_emptyPage = nullptr;
    // Tensor page.
    QWidget* m_tensorPage = nullptr;
    ElidedLabel* m_tensorName = nullptr;
    QLabel* m_kind = nullptr;
    QLabel* m_dtype = nullptr;
    QLabel* m_shape = nullptr;
    QLabel* m_strides = nullptr;
    QLabel* m_offset = nullptr;
    QLabel* m_elements = nullptr;
    QLabel* m_bytes = nullptr;
    QLabel* m_requiresGrad = nullptr;
    QLabel* m_sharedWith = nullptr;
    QLabel* m_storage = nullptr;
    QLabel* m_belongsTo = nullptr;  // a link to the parameter an optimizer entry belongs to
    QLabel* m_shard = nullptr;      // the shard file of a sharded checkpoint's tensor
    QFormLayout* m_tensorForm = nullptr;
    QPlainTextEdit* m_snippet = nullptr;
    QPushButton* m_copySnippet = nullptr;
    QWidget* m_statsContainer = nullptr;
    QVBoxLayout* m_statsLayout = nullptr;
    QPointer<QWidget> m_statsWidget;
    // Module page.
    QWidget* m_modulePage = nullptr;
    ElidedLabel* m_moduleName = nullptr;
    QLabel* m_moduleClass = nullptr;  // the module's class, when the file names it
    QLabel* m_moduleTotals = nullptr;
    QTableWidget* m_largest = nullptr;
    QLabel* m_sharesNote = nullptr;  // why the shares add up to more than 100 %, when they do
    std::int64_t m_syncTotalsLimit = kSyncTotalsLimit;
    JobTracker m_totalsJob{this};  // a large module's totals (last: destroyed first, it waits for the worker)
};

}  // namespace paramscope
