#include "ui/models/modeltreemodel.h"
#include "base/textutil.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "scan/findings.h"
#include "scan/scantable.h"
#include "ui/plotpalette.h"

#include <QApplication>
#include <QFileInfo>
#include <QFont>
#include <QGuiApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>
#include <QtNumeric>

namespace paramscope {

namespace {

// Distinct in hue and in shape, so kinds stay apart for colour-blind users too.
const QColor kParameterColor(0x2f, 0x6f, 0xdb);
const QColor kBufferColor(0xc7, 0x7c, 0x0e);
const QColor kTensorColor(0x1f, 0x9d, 0x55);
const QColor kModuleColor(0x80, 0x80, 0x80);

QIcon makeIcon(ModelTreeModel::NodeKind kind)
{
    QIcon icon;
    for (int size : {16, 32}) {
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        const qreal s = size;
        const qreal m = s * 0.18;
        const QRectF r(m, m, s - 2 * m, s - 2 * m);
        switch (kind) {
            case ModelTreeModel::NodeKind::Module:
                p.setPen(QPen(kModuleColor, s / 10.0));
                p.setBrush(Qt::NoBrush);
                p.drawRoundedRect(r, s / 8.0, s / 8.0);
                p.drawLine(QPointF(r.left(), r.top() + r.height() / 3), QPointF(r.right(), r.top() + r.height() / 3));
                break;
            case ModelTreeModel::NodeKind::Parameter:  // filled disc
                // A light rim keeps the filled shapes visible on a selected (blue) row.
                p.setPen(QPen(QColor(255, 255, 255, 200), s / 16.0));
                p.setBrush(kParameterColor);
                p.drawEllipse(r.adjusted(s * 0.05, s * 0.05, -s * 0.05, -s * 0.05));
                break;
            case ModelTreeModel::NodeKind::Buffer: {  // hollow diamond
                QPainterPath path;
                path.moveTo(r.center().x(), r.top());
                path.lineTo(r.right(), r.center().y());
                path.lineTo(r.center().x(), r.bottom());
                path.lineTo(r.left(), r.center().y());
                path.closeSubpath();
                p.setPen(QPen(kBufferColor, s / 8.0));
                p.setBrush(Qt::NoBrush);
                p.drawPath(path);
                break;
            }
            case ModelTreeModel::NodeKind::Tensor:  // filled square
                p.setPen(QPen(QColor(255, 255, 255, 200), s / 16.0));
                p.setBrush(kTensorColor);
                p.drawRect(r.adjusted(s * 0.08, s * 0.08, -s * 0.08, -s * 0.08));
                break;
        }
        p.end();
        icon.addPixmap(pm);
    }
    return icon;
}

QString kindLabel(ModelTreeModel::NodeKind k)
{
    switch (k) {
        case ModelTreeModel::NodeKind::Module:
            return QStringLiteral("module");
        case ModelTreeModel::NodeKind::Parameter:
            return QStringLiteral("parameter");
        case ModelTreeModel::NodeKind::Buffer:
            return QStringLiteral("buffer");
        case ModelTreeModel::NodeKind::Tensor:
            return QStringLiteral("tensor");
    }
    return {};
}

// Not QString::fromUtf8: it drops a leading U+FEFF, and two names would look the same.
QString u8(std::string_view s)
{
    return utf8ToQString(s);
}

QString dtypeText(DType t)
{
    const auto n = dtypeName(t);
    return QString::fromLatin1(n.data(), qsizetype(n.size()));
}

}  // namespace

ModelTreeModel::ModelTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

ModelTreeModel::~ModelTreeModel() = default;

void ModelTreeModel::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
{
    beginResetModel();
    m_index = std::move(index);
    m_tree = std::move(tree);
    if (m_index && !m_tree)
        m_tree = std::make_shared<const ModelTree>(ModelTree::build(m_index));
    m_subtree = m_index && m_tree ? SubtreeDTypes::compute(*m_index, *m_tree) : SubtreeDTypes{};
    m_types.clear();
    m_hasTypes = m_hasBelongsTo = m_hasShards = false;
    if (m_index && m_tree) {
        if (!m_index->moduleTypes.empty()) {
            // One lookup per module node, through one reused key buffer.
            m_types.assign(size_t(m_tree->size()), nullptr);
            std::string key;
            for (int i = 0; i < m_tree->size(); ++i) {
                const TreeNode& n = m_tree->node(i);
                if (!n.isModule())
                    continue;
                key.assign(n.fullName);
                const auto it = m_index->moduleTypes.find(key);
                if (it != m_index->moduleTypes.end() && !it->second.empty()) {
                    m_types[size_t(i)] = &it->second;
                    m_hasTypes = true;
                }
            }
        }
        for (const TensorEntry& e : m_index->entries) {
            m_hasBelongsTo = m_hasBelongsTo || e.belongsTo >= 0;
            m_hasShards = m_hasShards || e.sourceFile >= 0;
        }
    }
    endResetModel();
}

void ModelTreeModel::clear()
{
    setModel(nullptr, nullptr);
}

QModelIndex ModelTreeModel::indexForNode(int node, int column) const
{
    if (!m_tree || node <= 0 || node >= m_tree->size())
        return {};
    return createIndex(m_tree->node(node).row, column, quintptr(node));
}

QModelIndex ModelTreeModel::indexForEntry(int entry, int column) const
{
    return m_tree ? indexForNode(m_tree->nodeForEntry(entry), column) : QModelIndex();
}

int ModelTreeModel::nodeForIndex(const QModelIndex& index) const
{
    return index.isValid() ? int(index.internalId()) : ModelTree::root();
}

ModelTreeModel::NodeKind ModelTreeModel::kindOf(int node) const
{
    const TreeNode& n = m_tree->node(node);
    if (n.entry < 0)
        return NodeKind::Module;
    switch (m_index->entries[size_t(n.entry)].kind) {
        case TensorKind::Parameter:
            return NodeKind::Parameter;
        case TensorKind::Buffer:
            return NodeKind::Buffer;
        case TensorKind::Tensor:
        case TensorKind::Array:
            return NodeKind::Tensor;
    }
    return NodeKind::Tensor;
}

const std::string* ModelTreeModel::moduleType(int node) const
{
    return node >= 0 && size_t(node) < m_types.size() ? m_types[size_t(node)] : nullptr;
}

QString ModelTreeModel::shardName(const TensorEntry& e) const
{
    if (e.sourceFile < 0 || e.sourceFile >= m_index->sourceFiles.size())
        return {};
    return QFileInfo(m_index->sourceFiles[e.sourceFile]).fileName();
}

QString ModelTreeModel::belongsToName(const TensorEntry& e) const
{
    if (e.belongsTo < 0 || size_t(e.belongsTo) >= m_index->entries.size())
        return {};
    return u8(m_index->entries[size_t(e.belongsTo)].name);
}

QModelIndex ModelTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (!m_tree || row < 0 || column < 0 || column >= columnCount())
        return {};
    if (parent.isValid() && parent.column() != 0)
        return {};
    const TreeNode& p = m_tree->node(nodeForIndex(parent));
    if (size_t(row) >= p.children.size())
        return {};
    return createIndex(row, column, quintptr(p.children[size_t(row)]));
}

QModelIndex ModelTreeModel::parent(const QModelIndex& child) const
{
    if (!m_tree || !child.isValid())
        return {};
    return indexForNode(m_tree->node(int(child.internalId())).parent);
}

int ModelTreeModel::rowCount(const QModelIndex& parent) const
{
    if (!m_tree || (parent.isValid() && parent.column() != 0))
        return 0;
    return int(m_tree->node(nodeForIndex(parent)).children.size());
}

int ModelTreeModel::columnCount(const QModelIndex&) const
{
    return ColumnCount;
}

std::shared_ptr<const std::vector<double>> ModelTreeModel::numericSortKeys(int column) const
{
    if (!isScanColumn(column) || !m_scan)
        return nullptr;
    return m_scan->sortKeys(ScanColumn(column - kFirstScanColumn));
}

bool ModelTreeModel::hasChildren(const QModelIndex& parent) const
{
    return rowCount(parent) > 0;
}

Qt::ItemFlags ModelTreeModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (m_tree->node(int(index.internalId())).children.empty())
        f |= Qt::ItemNeverHasChildren;
    return f;
}

void ModelTreeModel::setScanTable(const ScanTable* table)
{
    m_scan = table;
    scanUpdated();
}

void ModelTreeModel::scanUpdated()
{
    // One range over the top level: the view repaints every visible row from it.
    const int rows = rowCount();
    if (rows > 0)
        Q_EMIT dataChanged(index(0, 0), index(rows - 1, columnCount() - 1));
}

QVariant ModelTreeModel::displayData(int node, int column) const
{
    const TreeNode& n = m_tree->node(node);
    if (isScanColumn(column))
        return m_scan ? m_scan->text(node, ScanColumn(column - kFirstScanColumn)) : QString();
    if (column == NameColumn)
        return u8(n.name());
    if (column == TypeColumn) {
        const std::string* type = moduleType(node);
        return type ? shortClassName(*type) : QString();
    }
    if (n.entry >= 0) {
        const TensorEntry& e = m_index->entries[size_t(n.entry)];
        switch (column) {
            case BelongsToColumn:
                return belongsToName(e);
            case ShardColumn:
                return shardName(e);
            case ShapeColumn:
                return formatShape(e.shape);
            case DTypeColumn:
                return dtypeText(e.dtype);
            case ElementsColumn:
                return entryNumelText(e);
            case SizeColumn:
                return entryBytesText(e);
        }
        return {};
    }
    switch (column) {
        case ShapeColumn:
            return {};
        case DTypeColumn:
            if (m_subtree.mixed[size_t(node)])
                return QStringLiteral("mixed");
            return m_subtree.dtype[size_t(node)] == DType::Unknown ? QString()
                                                                   : dtypeText(m_subtree.dtype[size_t(node)]);
        case ElementsColumn:
            return formatSize(n.numel, false);
        case SizeColumn:
            return formatSize(n.bytes, true);
        default:
            break;
    }
    return {};
}

QVariant ModelTreeModel::sortData(int node, int column) const
{
    if (isScanColumn(column))
        return m_scan ? m_scan->value(node, ScanColumn(column - kFirstScanColumn)) : qQNaN();
    const TreeNode& n = m_tree->node(node);
    const TensorEntry* e = n.entry >= 0 ? &m_index->entries[size_t(n.entry)] : nullptr;
    switch (column) {
        case NameColumn:
            return u8(n.name());
        case ShapeColumn:
            return e ? qint64(e->shape.size()) : qint64(-1);
        case TypeColumn:
        case DTypeColumn:
        case BelongsToColumn:
        case ShardColumn:
            return displayData(node, column);
        case ElementsColumn:
            return qint64(e ? e->numel : n.numel);
        case SizeColumn:
            return qint64(e ? e->bytes : n.bytes);
    }
    return {};
}

QString ModelTreeModel::toolTip(int node) const
{
    const TreeNode& n = m_tree->node(node);
    const QString full = u8(n.fullName).toHtmlEscaped();
    if (n.entry >= 0) {
        const TensorEntry& e = m_index->entries[size_t(n.entry)];
        QString tip = QStringLiteral("<b>%1</b><br>%2 · %3 · %4<br>%5 elements · %6")
                          .arg(full, kindLabel(kindOf(node)), dtypeText(e.dtype), formatShape(e.shape),
                               entryNumelText(e), entryBytesText(e));
        if (e.sharedWith >= 0)
            tip += QStringLiteral("<br>shares its data with <i>%1</i>")
                       .arg(u8(m_index->entries[size_t(e.sharedWith)].name).toHtmlEscaped());
        if (const QString b = belongsToName(e); !b.isEmpty())
            tip += QStringLiteral("<br>belongs to <i>%1</i>").arg(b.toHtmlEscaped());
        if (const QString f = shardName(e); !f.isEmpty())
            tip += QStringLiteral("<br>read from shard <i>%1</i>").arg(f.toHtmlEscaped());
        if (m_scan)
            for (const Finding* f : m_scan->findingsOf(n.entry))
                tip += QStringLiteral("<br><span style='color:%1'>⚠ %2:</span> %3")
                           .arg(toneColor(QGuiApplication::palette(),
                                          findingIsError(f->kind) ? Tone::Alert : Tone::Warning)
                                    .name(),
                                findingKindTitle(f->kind).toHtmlEscaped(), f->detail.toHtmlEscaped());
        return tip + QStringLiteral("<hr>") + legendText();
    }
    QString counts = QStringLiteral("%1 parameters, %2 buffers").arg(formatCount(n.parameters), formatCount(n.buffers));
    if (const std::string* type = moduleType(node))
        counts = u8(*type).toHtmlEscaped() + QStringLiteral("<br>") + counts;
    if (n.tensors > 0)
        counts += QStringLiteral(", %1 tensors").arg(formatCount(n.tensors));
    return QStringLiteral("<b>%1</b><br>module · %2<br>%3 elements · %4 (shared data counted once)<hr>%5")
        .arg(full, counts, formatSize(n.numel, false), formatSize(n.bytes, true), legendText());
}

QVariant ModelTreeModel::data(const QModelIndex& index, int role) const
{
    if (!m_tree || !index.isValid())
        return {};
    const int node = int(index.internalId());
    const int column = index.column();
    switch (role) {
        case Qt::DisplayRole:
            return displayData(node, column);
        case Qt::ToolTipRole:
            return toolTip(node);
        case Qt::TextAlignmentRole:
            if (column == ElementsColumn || column == SizeColumn || (isScanColumn(column) && column != ProblemsColumn))
                return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
            return QVariant::fromValue(Qt::Alignment(Qt::AlignLeft | Qt::AlignVCenter));
        case Qt::DecorationRole:
            if (column == NameColumn)
                return kindIcon(kindOf(node));
            return {};
        case Qt::FontRole: {
            const NodeKind k = kindOf(node);
            if (k == NodeKind::Buffer) {
                QFont f;
                f.setItalic(true);
                return f;
            }
            return {};
        }
        case Qt::ForegroundRole:
            // A tensor with a finding is marked in its name and Problems cells: red for NaN/Inf,
            // amber for the rest.
            if (m_scan && (column == NameColumn || column == ProblemsColumn) && m_tree->node(node).entry >= 0) {
                const std::uint16_t kinds = m_scan->findingKinds(m_tree->node(node).entry);
                if (kinds)
                    return (kinds & ((1u << unsigned(FindingKind::NaN)) | (1u << unsigned(FindingKind::Inf))))
                               ? toneColor(QGuiApplication::palette(), Tone::Alert)
                               : toneColor(QGuiApplication::palette(), Tone::Warning);
            }
            // Buffers and module totals are secondary information: a blend towards the
            // background, taken from the palette so dark themes work too.
            if (kindOf(node) == NodeKind::Buffer ||
                (column != NameColumn && column != TypeColumn && kindOf(node) == NodeKind::Module)) {
                const QPalette pal = QGuiApplication::palette();
                const QColor t = pal.color(QPalette::Text), b = pal.color(QPalette::Base);
                return QColor((t.red() * 2 + b.red()) / 3, (t.green() * 2 + b.green()) / 3,
                              (t.blue() * 2 + b.blue()) / 3);
            }
            return {};
        case EntryRole:
            return m_tree->node(node).entry;
        case NodeRole:
            return node;
        case FullNameRole:
            return u8(m_tree->node(node).fullName);
        case SortRole:
            return sortData(node, column);
        case KindRole:
            return int(kindOf(node));
    }
    return {};
}

QVariant ModelTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
            case NameColumn:
                return tr("Name");
            case TypeColumn:
                return tr("Type");
            case BelongsToColumn:
                return tr("Belongs to");
            case ShardColumn:
                return tr("Shard");
            case ShapeColumn:
                return tr("Shape");
            case DTypeColumn:
                return tr("DType");
            case ElementsColumn:
                return tr("Elements");
            case SizeColumn:
                return tr("Size");
            default:
                if (isScanColumn(section))
                    return scanColumnTitle(ScanColumn(section - kFirstScanColumn));
        }
    } else if (role == Qt::TextAlignmentRole) {
        if (section == ElementsColumn || section == SizeColumn || (isScanColumn(section) && section != ProblemsColumn))
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    } else if (role == Qt::ToolTipRole) {
        if (section == NameColumn)
            return legendText();
        if (section == TypeColumn)
            return tr("The module's class, as the file names it (the tooltip of a row has the qualified name).");
        if (section == BelongsToColumn)
            return tr("The parameter an optimizer state entry belongs to (matched through param_groups' order).");
        if (section == ShardColumn)
            return tr("The shard file a tensor of a sharded checkpoint is read from.");
        if (section == ElementsColumn || section == SizeColumn)
            return tr("Module rows show their subtree's total; storage shared by tied tensors is counted once.");
        if (section == ProblemsColumn)
            return tr(
                "A tensor's findings from the last scan (Scan → Scan Model); a module's count of tensors "
                "with findings.");
        if (isScanColumn(section))
            return tr(
                "From the last scan (Scan → Scan Model), over the finite values. A module's row aggregates "
                "its tensors: the extremes, pooled mean and std, the norm of all of them, total counts.");
    }
    return {};
}

QIcon ModelTreeModel::kindIcon(NodeKind kind)
{
    static const QIcon icons[] = {makeIcon(NodeKind::Module), makeIcon(NodeKind::Parameter), makeIcon(NodeKind::Buffer),
                                  makeIcon(NodeKind::Tensor)};
    return icons[int(kind)];
}

QString ModelTreeModel::legendText()
{
    return QStringLiteral(
               "<span style='color:%1'>●</span> parameter &nbsp; "
               "<span style='color:%2'>◇</span> <i>buffer</i> &nbsp; "
               "<span style='color:%3'>■</span> tensor (kind not recorded) &nbsp; "
               "<span style='color:%4'>▭</span> module")
        .arg(kParameterColor.name(), kBufferColor.name(), kTensorColor.name(), kModuleColor.name());
}

}  // namespace paramscope
