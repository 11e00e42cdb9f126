#include "ui/detailspanel.h"
#include "base/checkedsize.h"
#include "base/textutil.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/snippet.h"
#include "ui/models/modeltreemodel.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QFontDatabase>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QResizeEvent>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace paramscope {

namespace {

// Not QString::fromUtf8: it drops a leading U+FEFF, and two names would look the same.
QString u8(std::string_view s)
{
    return utf8ToQString(s);
}

QString joinInts(const std::vector<std::int64_t>& v)
{
    QStringList parts;
    for (auto x : v)
        parts << QString::number(x);
    return QLatin1Char('(') + parts.join(QStringLiteral(", ")) +
           (v.size() == 1 ? QStringLiteral(",)") : QStringLiteral(")"));
}

QString bytesText(std::int64_t b)
{
    return QStringLiteral("%1 (%2 bytes)").arg(formatBytes(b), formatCount(b));
}

QLabel* heading(QWidget* parent, const QString& text)
{
    auto* l = new QLabel(text, parent);
    QFont f = l->font();
    f.setBold(true);
    l->setFont(f);
    return l;
}

}  // namespace

ElidedLabel::ElidedLabel(QWidget* parent) : QLabel(parent)
{
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    setTextFormat(Qt::PlainText);
}

void ElidedLabel::setFullText(const QString& text)
{
    m_full = text;
    setToolTip(text);
    updateElided();
}

QSize ElidedLabel::minimumSizeHint() const
{
    return QSize(fontMetrics().averageCharWidth() * 8, QLabel::minimumSizeHint().height());
}

void ElidedLabel::resizeEvent(QResizeEvent* event)
{
    QLabel::resizeEvent(event);
    updateElided();
}

void ElidedLabel::updateElided()
{
    QLabel::setText(fontMetrics().elidedText(m_full, Qt::ElideMiddle, qMax(20, contentsRect().width())));
}

DetailsPanel::DetailsPanel(QWidget* parent) : QWidget(parent)
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_stack = new QStackedWidget(this);
    outer->addWidget(m_stack);

    m_emptyPage = new QLabel(tr("Select a tensor or a module to see its details."), this);
    static_cast<QLabel*>(m_emptyPage)->setAlignment(Qt::AlignCenter);
    static_cast<QLabel*>(m_emptyPage)->setWordWrap(true);
    m_emptyPage->setEnabled(false);
    m_stack->addWidget(m_emptyPage);

    createTensorPage();
    createModulePage();
    m_stack->setCurrentWidget(m_emptyPage);
}

QFont DetailsPanel::titleFont() const
{
    QFont big = font();
    big.setBold(true);
    big.setPointSizeF(big.pointSizeF() * 1.15);
    return big;
}

void DetailsPanel::createTensorPage()
{
    m_tensorPage = new QWidget(this);
    m_tensorPage->setObjectName(QStringLiteral("tensorPage"));
    auto* tv = new QVBoxLayout(m_tensorPage);
    m_tensorName = new ElidedLabel(m_tensorPage);
    m_tensorName->setObjectName(QStringLiteral("tensorNameLabel"));
    m_tensorName->setFont(titleFont());
    tv->addWidget(m_tensorName);
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight);
    m_kind = addValueRow(form, tr("Kind"), "kindValue");
    m_dtype = addValueRow(form, tr("DType"), "dtypeValue");
    m_shape = addValueRow(form, tr("Shape"), "shapeValue");
    m_strides = addValueRow(form, tr("Strides"), "stridesValue");
    m_offset = addValueRow(form, tr("Storage offset"), "offsetValue");
    m_elements = addValueRow(form, tr("Elements"), "elementsValue");
    m_bytes = addValueRow(form, tr("Bytes"), "bytesValue");
    m_requiresGrad = addValueRow(form, tr("requires_grad"), "requiresGradValue");
    m_sharedWith = addValueRow(form, tr("Shares data with"), "sharedWithValue");
    m_sharedWith->setTextFormat(Qt::RichText);
    m_sharedWith->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_sharedWith->setWordWrap(true);
    const auto followEntryLink = [this](const QString& link) {
        bool ok = false;
        const int entry = link.mid(link.indexOf(QLatin1Char(':')) + 1).toInt(&ok);
        if (ok && m_tree)
            Q_EMIT nodeActivated(m_tree->nodeForEntry(entry));
    };
    connect(m_sharedWith, &QLabel::linkActivated, this, followEntryLink);
    m_storage = addValueRow(form, tr("Storage"), "storageValue");
    m_belongsTo = addValueRow(form, tr("Belongs to"), "belongsToValue");
    m_belongsTo->setTextFormat(Qt::RichText);
    m_belongsTo->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_belongsTo->setToolTip(
        tr("The parameter this optimizer state belongs to (param_groups' order): click to select it"));
    connect(m_belongsTo, &QLabel::linkActivated, this, followEntryLink);
    m_shard = addValueRow(form, tr("Shard"), "shardValue");
    m_tensorForm = form;
    tv->addLayout(form);

    tv->addWidget(heading(m_tensorPage, tr("Python")));
    auto* snippetRow = new QHBoxLayout;
    // Lines break only where Unicode allows (spaces, after a path's '/'), never inside an
    // identifier ("map_location", "layers.3.weight" stay whole); a token longer than the
    // line scrolls sideways inside the box.
    m_snippet = new QPlainTextEdit(m_tensorPage);
    m_snippet->setObjectName(QStringLiteral("snippetEdit"));
    m_snippet->setReadOnly(true);
    m_snippet->setWordWrapMode(QTextOption::WordWrap);
    m_snippet->setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_snippet->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_snippet->setFont(mono);
    m_snippet->setFixedHeight(QFontMetrics(mono).lineSpacing() * 5 + 2 * m_snippet->frameWidth() + 8);
    m_copySnippet = new QPushButton(tr("Copy"), m_tensorPage);
    m_copySnippet->setObjectName(QStringLiteral("copySnippetButton"));
    m_copySnippet->setToolTip(tr("Copy the snippet to the clipboard"));
    connect(m_copySnippet, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_snippet->toPlainText()); });
    snippetRow->addWidget(m_snippet, 1);
    snippetRow->addWidget(m_copySnippet, 0, Qt::AlignTop);
    tv->addLayout(snippetRow);

    // The statistics panel (setStatsWidget) goes here.
    m_statsContainer = new QWidget(m_tensorPage);
    m_statsContainer->setObjectName(QStringLiteral("statsContainer"));
    m_statsLayout = new QVBoxLayout(m_statsContainer);
    m_statsLayout->setContentsMargins(0, 6, 0, 0);
    tv->addWidget(m_statsContainer, 1);
    tv->addStretch(0);
    m_stack->addWidget(m_tensorPage);
}

void DetailsPanel::createModulePage()
{
    m_modulePage = new QWidget(this);
    m_modulePage->setObjectName(QStringLiteral("modulePage"));
    auto* mv = new QVBoxLayout(m_modulePage);
    m_moduleName = new ElidedLabel(m_modulePage);
    m_moduleName->setObjectName(QStringLiteral("moduleNameLabel"));
    m_moduleName->setFont(titleFont());
    mv->addWidget(m_moduleName);
    m_moduleClass = new QLabel(m_modulePage);
    m_moduleClass->setObjectName(QStringLiteral("moduleClassLabel"));
    m_moduleClass->setTextFormat(Qt::PlainText);
    m_moduleClass->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_moduleClass->setWordWrap(true);
    mv->addWidget(m_moduleClass);
    m_moduleTotals = new QLabel(m_modulePage);
    m_moduleTotals->setObjectName(QStringLiteral("moduleTotalsLabel"));
    m_moduleTotals->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_moduleTotals->setTextFormat(Qt::RichText);
    m_moduleTotals->setWordWrap(true);  // the pane reflows: long rows wrap rather than widen it
    mv->addWidget(m_moduleTotals);
    mv->addWidget(heading(m_modulePage, tr("Largest children")));
    m_largest = new QTableWidget(0, 4, m_modulePage);
    m_largest->setObjectName(QStringLiteral("largestChildrenTable"));
    m_largest->setHorizontalHeaderLabels({tr("Name"), tr("Size"), tr("Share"), tr("Elements")});
    m_largest->horizontalHeaderItem(2)->setToolTip(
        tr("Of this module's size, where data shared by tied tensors counts once: a tied tensor's row says "
           "\"tied\" rather than counting its size again"));
    m_largest->verticalHeader()->hide();
    m_largest->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_largest->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_largest->setShowGrid(false);
    m_largest->setAlternatingRowColors(true);
    m_largest->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c)
        m_largest->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_largest->setToolTip(tr("Double-click to go to a child"));
    connect(m_largest, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (auto* it = m_largest->item(row, 0))
            Q_EMIT nodeActivated(it->data(Qt::UserRole).toInt());
    });
    mv->addWidget(m_largest, 1);
    m_sharesNote = new QLabel(m_modulePage);
    m_sharesNote->setObjectName(QStringLiteral("sharesNoteLabel"));
    m_sharesNote->setWordWrap(true);
    m_sharesNote->hide();
    mv->addWidget(m_sharesNote);
    m_stack->addWidget(m_modulePage);
}

QLabel* DetailsPanel::addValueRow(QFormLayout* form, const QString& label, const char* objectName)
{
    auto* value = new QLabel(m_tensorPage);
    value->setObjectName(QString::fromLatin1(objectName));
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setTextFormat(Qt::PlainText);
    value->setWordWrap(true);  // a long kind or dtype (per-channel quantization) wraps, never widens the panel
    form->addRow(label + QLatin1Char(':'), value);
    return value;
}

void DetailsPanel::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
{
    m_index = std::move(index);
    m_tree = std::move(tree);
    clear();
}

void DetailsPanel::clear()
{
    m_totalsJob.cancel();
    const bool hadTensor = m_stack->currentWidget() == m_tensorPage;
    m_node = -1;
    m_stack->setCurrentWidget(m_emptyPage);
    if (hadTensor)
        Q_EMIT tensorCleared();
}

void DetailsPanel::showNode(int node)
{
    if (!m_index || !m_tree || node < 0 || node >= m_tree->size()) {
        clear();
        return;
    }
    m_totalsJob.cancel();
    if (m_tree->node(node).entry >= 0)
        showTensor(node);
    else
        showModule(node);
}

void DetailsPanel::showTensor(int node)
{
    m_node = node;
    const TreeNode& n = m_tree->node(node);
    const int entry = n.entry;
    const TensorEntry& e = m_index->entries[size_t(entry)];
    m_tensorName->setFullText(u8(e.name));
    QString kind = u8(std::string(tensorKindName(e.kind)));
    if (e.kind == TensorKind::Tensor)
        kind += tr(" (the file does not say parameter or buffer)");
    if (!n.children.empty())
        kind += tr("; also a module prefix of %n tensor(s)", nullptr, n.parameters + n.buffers + n.tensors - 1);
    m_kind->setText(kind);
    const auto dn = dtypeName(e.dtype);
    QString dtype = QString::fromLatin1(dn.data(), qsizetype(dn.size()));
    if (dtypeIsQuantized(e.dtype) && e.qChannels()) {
        const auto& qc = *e.qChannels();
        const auto [lo, hi] = std::minmax_element(qc.scales.begin(), qc.scales.end());
        dtype += qc.scales.empty() ? tr(" (per channel along dimension %1)").arg(qc.axis)
                                   : tr(" (per channel along dimension %1: %2 scales, %3 to %4)")
                                         .arg(qc.axis)
                                         .arg(qc.scales.size())
                                         .arg(QString::number(*lo, 'g', 4), QString::number(*hi, 'g', 4));
    } else if (dtypeIsQuantized(e.dtype)) {
        dtype += tr(" (scale %1, zero point %2)").arg(e.qScale()).arg(e.qZeroPoint());
    }
    m_dtype->setText(dtype + tr(", %n byte(s) per element", nullptr, dtypeItemSize(e.dtype)));
    m_shape->setText(formatShape(e.shape) + (e.shape.empty() ? tr("  (0-d scalar)") : QString()));
    QString strides = joinInts(e.strides);
    if (!e.shape.empty())
        strides += e.strides == contiguousStrides(e.shape) ? tr("  (contiguous)") : tr("  (not contiguous)");
    m_strides->setText(strides);
    m_offset->setText(formatCount(e.storageOffset));
    m_elements->setText(entryNumelText(e));
    m_bytes->setText(e.sizeOverflow ? entryBytesText(e) : bytesText(e.bytes));
    m_requiresGrad->setText(e.requiresGrad ? QStringLiteral("True") : QStringLiteral("False"));

    // Every other name living in the same storage, as links.
    QStringList shared;
    if (e.storage >= 0) {
        for (size_t i = 0; i < m_index->entries.size() && shared.size() < 20; ++i) {
            if (int(i) != entry && m_index->entries[i].storage == e.storage)
                shared << QStringLiteral("<a href=\"entry:%1\">%2</a>")
                              .arg(QString::number(i), u8(m_index->entries[i].name).toHtmlEscaped());
        }
    }
    m_sharedWith->setText(shared.isEmpty() ? tr("—") : shared.join(QStringLiteral("<br>")));
    if (e.storage >= 0 && size_t(e.storage) < m_index->storages.size()) {
        const StorageInfo& s = m_index->storages[size_t(e.storage)];
        m_storage->setText(tr("%1, %2").arg(u8(s.key), formatBytes(std::int64_t(s.byteSize))));
    } else {
        m_storage->setText(tr("—"));
    }
    const bool belongs = e.belongsTo >= 0 && size_t(e.belongsTo) < m_index->entries.size();
    m_belongsTo->setText(
        belongs ? QStringLiteral("<a href=\"entry:%1\">%2</a>")
                      .arg(QString::number(e.belongsTo), u8(m_index->entries[size_t(e.belongsTo)].name).toHtmlEscaped())
                : QString());
    m_tensorForm->setRowVisible(m_belongsTo, belongs);
    const bool sharded = e.sourceFile >= 0 && e.sourceFile < m_index->sourceFiles.size();
    m_shard->setText(sharded ? QFileInfo(m_index->sourceFiles[e.sourceFile]).fileName() : QString());
    m_shard->setToolTip(sharded ? QDir::toNativeSeparators(m_index->sourceFiles[e.sourceFile]) : QString());
    m_tensorForm->setRowVisible(m_shard, sharded);
    m_snippet->setPlainText(pythonSnippet(*m_index, entry));
    m_stack->setCurrentWidget(m_tensorPage);
    Q_EMIT tensorShown(m_index, entry);
}

namespace {

/// Per kind, as torchinfo sums them: the whole model from the index, a module from the
/// tensors under it. A worker's `job`, cancelled by a newer selection, stops between the walk
/// and the count.
ModelIndex::Totals moduleTotals(const ModelIndex& index, const ModelTree& tree, int node,
                                const JobHandle* job = nullptr)
{
    if (node == ModelTree::root())
        return index.totals();
    const std::vector<int> entries = tree.entriesUnder(node);
    return job && job->cancelled() ? ModelIndex::Totals() : index.totals(entries);
}

}  // namespace

QString DetailsPanel::moduleTotalsText(int node) const
{
    const ModelIndex::Totals t = moduleTotals(*m_index, *m_tree, node);
    return totalsText(node, &t);
}

QString DetailsPanel::totalsText(int node, const ModelIndex::Totals* totals) const
{
    const TreeNode& n = m_tree->node(node);
    const auto row = [](const QString& label, const QString& value) {
        return QStringLiteral("<tr><td>%1</td><td align=right>%2</td></tr>").arg(label, value);
    };
    const auto tensors = [](std::int64_t count, std::int64_t elements) {
        return (count == 1 ? tr("1 tensor") : tr("%1 tensors").arg(formatCount(count))) + QStringLiteral(" · ") +
               (elements == 1 ? tr("1 element") : tr("%1 elements").arg(formatSize(elements, false)));
    };
    QString text = QStringLiteral("<table cellspacing=3>");
    if (!totals) {
        text += row(tr("Parameters, buffers:"), tr("counting…"));
    } else if (const ModelIndex::Totals& t = *totals; t.parameters + t.buffers > 0 || t.tensors == 0) {
        text += row(tr("Parameters:"), tensors(t.parameters, t.parameterNumel));
        if (t.frozenNumel > 0)
            text += row(QString(), tr("trainable %1, frozen %2")
                                       .arg(formatSize(t.trainableNumel, false), formatSize(t.frozenNumel, false)));
        text += row(tr("Buffers:"), tensors(t.buffers, t.bufferNumel));
    }
    if (totals && totals->tensors > 0)
        text += row(totals->parameters + totals->buffers > 0 ? tr("Other tensors:") : tr("Tensors:"),
                    tensors(totals->tensors, totals->tensorNumel));
    text += row(tr("Elements:"), formatSize(n.numel, false)) +
            row(tr("Size:"),
                n.bytes == std::numeric_limits<std::int64_t>::max() ? formatSize(n.bytes, true) : bytesText(n.bytes)) +
            row(tr("Children:"), formatCount(qint64(n.children.size()))) + QStringLiteral("</table>");
    if (totals && totals->tied > 0)
        text += tr("<small>%1 tied to another tensor here: their storage is counted once.</small>")
                    .arg(totals->tied == 1 ? tr("1 name is") : tr("%1 names are").arg(formatCount(totals->tied)));
    else
        text += tr("<small>Storage shared by tied tensors is counted once.</small>");
    return text;
}

void DetailsPanel::showModule(int node)
{
    const bool hadTensor = m_stack->currentWidget() == m_tensorPage;
    m_node = node;
    const TreeNode& n = m_tree->node(node);
    m_moduleName->setFullText(node == ModelTree::root() ? tr("Whole model") : u8(n.fullName));
    const auto type = m_index->moduleTypes.find(std::string(n.fullName));
    const bool typed = type != m_index->moduleTypes.end() && !type->second.empty();
    m_moduleClass->setText(typed ? tr("%1  (%2)").arg(shortClassName(type->second), u8(type->second)) : QString());
    m_moduleClass->setVisible(typed);
    // A module of many tensors (or a large model) is counted on a worker: its page shows at
    // once, and the per-kind figures follow.
    const std::int64_t under = std::int64_t(n.parameters) + n.buffers + n.tensors;
    if (under <= m_syncTotalsLimit) {
        m_moduleTotals->setText(moduleTotalsText(node));
    } else {
        m_moduleTotals->setText(totalsText(node, nullptr));
        m_totalsJob.start([index = m_index, tree = m_tree,
                           node](const JobHandle& job) { return moduleTotals(*index, *tree, node, &job); },
                          [this, node](const ModelIndex::Totals& t) {
                              if (m_node == node && m_stack->currentWidget() == m_modulePage)
                                  m_moduleTotals->setText(totalsText(node, &t));
                          });
    }

    const std::vector<int> largest = m_tree->largestChildren(node, 10);
    m_largest->setRowCount(int(largest.size()));
    for (int r = 0; r < int(largest.size()); ++r) {
        const int c = largest[size_t(r)];
        const TreeNode& cn = m_tree->node(c);
        auto* name = new QTableWidgetItem(u8(cn.name()));
        name->setData(Qt::UserRole, c);
        name->setToolTip(u8(cn.fullName));
        ModelTreeModel::NodeKind kind = ModelTreeModel::NodeKind::Module;
        if (cn.entry >= 0) {
            switch (m_index->entries[size_t(cn.entry)].kind) {
                case TensorKind::Parameter:
                    kind = ModelTreeModel::NodeKind::Parameter;
                    break;
                case TensorKind::Buffer:
                    kind = ModelTreeModel::NodeKind::Buffer;
                    break;
                case TensorKind::Tensor:
                case TensorKind::Array:
                    kind = ModelTreeModel::NodeKind::Tensor;
                    break;
            }
        }
        name->setIcon(ModelTreeModel::kindIcon(kind));
        const std::int64_t bytes = cn.entry >= 0 ? m_index->entries[size_t(cn.entry)].bytes : cn.bytes;
        const std::int64_t numel = cn.entry >= 0 ? m_index->entries[size_t(cn.entry)].numel : cn.numel;
        auto* size = new QTableWidgetItem(formatBytes(bytes));
        // A tied tensor (its data is another tensor's) is counted once, at the first name:
        // its own row says so instead of adding its size a second time.
        const int tiedTo = cn.entry >= 0 ? m_index->entries[size_t(cn.entry)].sharedWith : -1;
        auto* share = new QTableWidgetItem(
            tiedTo >= 0   ? tr("tied")
            : n.bytes > 0 ? QStringLiteral("%1 %").arg(100.0 * double(bytes) / double(n.bytes), 0, 'f', 1)
                          : QString());
        if (tiedTo >= 0)
            share->setToolTip(tr("Shares its data with %1, where it is counted")
                                  .arg(QString::fromStdString(m_index->entries[size_t(tiedTo)].name)));
        auto* elems = new QTableWidgetItem(formatCount(numel));
        for (auto* it : {size, share, elems})
            it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_largest->setItem(r, 0, name);
        m_largest->setItem(r, 1, size);
        m_largest->setItem(r, 2, share);
        m_largest->setItem(r, 3, elems);
    }
    // Children that each hold the data of one tied pair count it each: say why the shares add
    // up to more than the whole.
    std::int64_t sum = 0;
    for (int c : n.children) {
        const TreeNode& cn = m_tree->node(c);
        if (cn.entry >= 0 && m_index->entries[size_t(cn.entry)].sharedWith >= 0)
            continue;  // its row says "tied"
        sum = saturatingAdd(sum, cn.entry >= 0 ? m_index->entries[size_t(cn.entry)].bytes : cn.bytes);
    }
    const double total = n.bytes > 0 ? 100.0 * double(sum) / double(n.bytes) : 0;
    m_sharesNote->setVisible(total > 100.05);
    if (total > 100.05)
        m_sharesNote->setText(tr("<small>The children's shares add up to %1 %: data tied between two children (a "
                                 "weight shared by an embedding and an output layer) counts in each of them, "
                                 "and once in this module's size.</small>")
                                  .arg(total, 0, 'f', 1));
    m_stack->setCurrentWidget(m_modulePage);
    if (hadTensor)
        Q_EMIT tensorCleared();
}

void DetailsPanel::setStatsWidget(QWidget* widget)
{
    if (m_statsWidget == widget)
        return;
    delete m_statsWidget;
    m_statsWidget = widget;
    if (widget)
        m_statsLayout->addWidget(widget);
}

}  // namespace paramscope
