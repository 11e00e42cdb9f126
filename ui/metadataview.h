#pragma once

// MetadataView: the tab beside the tensor tree listing what a file holds that is not a
// tensor (epoch, args.lr, a config's fields, the safetensors __metadata__): Name, Type,
// Value, sortable, filtered by the window's search; an explanation when there is nothing.

#include <QWidget>

#include <memory>

class QLabel;
class QStackedWidget;
class QTreeView;

namespace paramscope {

class MetadataFilterProxy;
class MetadataModel;
class ModelIndex;
class NameMatcher;
struct SearchMatches;

class MetadataView : public QWidget {
    Q_OBJECT
public:
    explicit MetadataView(QWidget* parent = nullptr);

    void setModel(std::shared_ptr<const ModelIndex> index);
    /// Shows only the values whose name the search matches: `matches`' metadataMatch,
    /// computed off the GUI thread (null shows every value).
    void setMatches(std::shared_ptr<const SearchMatches> matches);
    /// The same, matching the names on this thread.
    void setMatcher(const NameMatcher& matcher);

    /// Rows shown (after the search).
    int shownCount() const;
    int totalCount() const;
    /// The text shown instead of the table, or empty while the table is shown.
    QString emptyText() const;

    /// The selected rows in the order shown, one per line: name, type, value (exact, tab-separated).
    QString selectedText() const;

    QTreeView* view() const { return m_view; }
    MetadataModel* model() const { return m_model; }
    MetadataFilterProxy* proxy() const { return m_proxy; }

Q_SIGNALS:
    /// The number of rows shown changed (a new model, a new search).
    void countChanged();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void updateState();
    void applyNameWidth();  // the Name column's width for a new model, once the view is shown

    MetadataModel* m_model = nullptr;
    MetadataFilterProxy* m_proxy = nullptr;
    QStackedWidget* m_stack = nullptr;
    QTreeView* m_view = nullptr;
    QLabel* m_empty = nullptr;
    int m_nameWidth = 0;  // wanted for the model just set; 0 once applied
};

}  // namespace paramscope
