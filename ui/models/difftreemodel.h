#pragma once

#include "ui/models/modeltreemodel.h"

namespace paramscope {

class DiffTable;

/// The merged tree of a comparison: the model tree of the aligned names (a ModelTreeModel
/// over the merged index, so the search, the filter proxy and its layouts work unchanged)
/// with the comparison's columns after the model's own: status (coloured), max |b-a|,
/// mean |b-a|, ||b-a||/||a||, cosine similarity, the changed fraction and NaN/Inf that
/// appeared, each sortable by its number. DType and Shape show "A -> B" where they differ.
class DiffTreeModel : public ModelTreeModel {
    Q_OBJECT
public:
    enum DiffColumnIndex {
        StatusColumn = ModelTreeModel::ColumnCount,
        MaxAbsDiffColumn,
        MeanAbsDiffColumn,
        RelL2Column,
        CosineColumn,
        ChangedColumn,
        NewNonFiniteColumn,
        DiffColumnCount
    };
    static bool isDiffColumn(int column) { return column >= StatusColumn && column < DiffColumnCount; }

    explicit DiffTreeModel(QObject* parent = nullptr);

    /// The comparison shown (its merged index and tree must be what setModel was given); the
    /// table must outlive its use here. Null: none.
    void setDiffTable(const DiffTable* table);
    const DiffTable* diffTable() const { return m_diff; }
    /// The A and B entries of each merged entry, for the "A -> B" dtype and shape.
    void setSides(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b,
                  std::vector<std::pair<int, int>> pairs);
    /// New pairs are in the table: repaints the comparison's columns.
    void diffUpdated();

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    std::shared_ptr<const std::vector<double>> numericSortKeys(int column) const override;

private:
    QString sideText(int entry, bool shape) const;

    const DiffTable* m_diff = nullptr;
    std::shared_ptr<const ModelIndex> m_a, m_b;
    std::vector<std::pair<int, int>> m_pairs;
};

}  // namespace paramscope
