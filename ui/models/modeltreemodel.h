#pragma once

#include "model/subtreedtype.h"

#include <QAbstractItemModel>
#include <QIcon>

#include <memory>
#include <string>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;
class ScanTable;
struct TensorEntry;

/// The module tree of one opened model as an item model. Every QModelIndex carries its
/// tree node id, and each node knows its parent and row, so index() and parent() are
/// O(1) at any width (no indexOf over siblings).
class ModelTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column {
        NameColumn,
        TypeColumn,  // module rows: the class the file names (short name; qualified in the tooltip)
        ShapeColumn,
        DTypeColumn,
        ElementsColumn,
        SizeColumn,
        BelongsToColumn,  // the parameter an optimizer state entry belongs to
        ShardColumn,      // the shard file a tensor is read from
        // A whole-model scan's statistics (hidden until chosen; empty until scanned), in
        // the order of ScanColumn: a tensor's own figures, a module's aggregate.
        MinColumn,
        MaxColumn,
        MeanColumn,
        StdColumn,
        MaxAbsColumn,
        L2Column,
        ZerosColumn,
        NaNColumn,
        InfColumn,
        ProblemsColumn,
        ColumnCount
    };
    static constexpr int kFirstScanColumn = MinColumn;
    static bool isScanColumn(int column) { return column >= MinColumn && column <= ProblemsColumn; }
    enum Role {
        EntryRole = Qt::UserRole + 1,  // int: tensor entry, or -1 for a pure module
        NodeRole,                      // int: tree node id
        FullNameRole,                  // QString: dotted path
        SortRole,                      // raw value for sorting (numbers as qint64)
        KindRole,                      // int: NodeKind
    };
    enum class NodeKind { Module, Parameter, Buffer, Tensor };

    explicit ModelTreeModel(QObject* parent = nullptr);
    ~ModelTreeModel() override;

    /// Replaces the whole model with one reset. Builds the tree when `tree` is null (the
    /// window builds it on its loading thread instead).
    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree = {});
    void clear();
    /// The scan results the statistic columns show (null: none); the table must outlive its
    /// use here (the scan controller owns it and replaces it through this call).
    void setScanTable(const ScanTable* table);
    const ScanTable* scanTable() const { return m_scan; }
    /// New figures are in the scan table: repaints the statistic columns and the marks (every
    /// column of the model, those a subclass adds too).
    void scanUpdated();
    /// Per tree node, the numbers a column sorts by (TreeSort::Field::Numeric; NaN sorts
    /// last), or null when it sorts some other way. Here: the scan's statistic columns;
    /// a model with columns of its own adds theirs.
    virtual std::shared_ptr<const std::vector<double>> numericSortKeys(int column) const;

    const std::shared_ptr<const ModelIndex>& modelIndex() const { return m_index; }
    const std::shared_ptr<const ModelTree>& tree() const { return m_tree; }

    /// Index (column 0) of tree node `node`, or invalid for the root / out of range.
    QModelIndex indexForNode(int node, int column = 0) const;
    QModelIndex indexForEntry(int entry, int column = 0) const;
    int nodeForIndex(const QModelIndex& index) const;  // root (0) for an invalid index
    NodeKind kindOf(int node) const;
    /// The qualified class name of a module node, or null when the file names none.
    const std::string* moduleType(int node) const;
    /// Whether the open model has anything for the optional columns (the window hides them
    /// otherwise).
    bool hasModuleTypes() const { return m_hasTypes; }
    bool hasBelongsTo() const { return m_hasBelongsTo; }
    bool hasShards() const { return m_hasShards; }

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    bool hasChildren(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    /// Icons shared with the details panel's legend.
    static QIcon kindIcon(NodeKind kind);
    /// A short legend ("● parameter  ◆ buffer ...") for tooltips.
    static QString legendText();

private:
    QVariant displayData(int node, int column) const;
    QVariant sortData(int node, int column) const;
    QString toolTip(int node) const;

    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    QString shardName(const TensorEntry& e) const;
    QString belongsToName(const TensorEntry& e) const;

    const ScanTable* m_scan = nullptr;
    SubtreeDTypes m_subtree;  // per node, computed once per model
    // Per node, the module's class in ModelIndex::moduleTypes (empty when it names none).
    std::vector<const std::string*> m_types;
    bool m_hasTypes = false, m_hasBelongsTo = false, m_hasShards = false;
};

}  // namespace paramscope
