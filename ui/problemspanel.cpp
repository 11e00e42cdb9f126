#include "ui/problemspanel.h"

#include "model/modelindex.h"
#include "scan/findings.h"
#include "scan/scantable.h"
#include "session/scancontroller.h"
#include "ui/models/findingsmodel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace paramscope {

ProblemsPanel::ProblemsPanel(ScanController* scan, QWidget* parent)
    : QWidget(parent),
      m_scan(scan),
      m_model(new FindingsModel(this)),
      m_sorted(new QSortFilterProxyModel(this)),
      m_summary(new QLabel(this)),
      m_progress(new QProgressBar(this)),
      m_scanButton(new QPushButton(tr("Scan"), this)),
      m_kindBox(new QComboBox(this)),
      m_onlyMatches(new QCheckBox(tr("Only search matches"), this)),
      m_view(new QTreeView(this))
{
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 4, 0, 0);
    v->setSpacing(4);
    auto* bar = new QHBoxLayout;
    bar->setSpacing(6);
    auto* title = new QLabel(tr("<b>Problems</b>"), this);
    bar->addWidget(title);
    m_summary->setObjectName(QStringLiteral("problemsSummary"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    bar->addWidget(m_summary, 1);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumWidth(120);
    m_progress->hide();
    bar->addWidget(m_progress);
    m_kindBox->setObjectName(QStringLiteral("problemKindBox"));
    m_kindBox->addItem(tr("All problems"), -1);
    for (int k = 0; k < kFindingKinds; ++k)
        m_kindBox->addItem(findingKindTitle(FindingKind(k)), k);
    m_kindBox->setToolTip(tr("Show one kind of finding"));
    bar->addWidget(m_kindBox);
    m_onlyMatches->setObjectName(QStringLiteral("problemsOnlyMatches"));
    m_onlyMatches->setToolTip(tr("List only the findings of tensors the search box matches"));
    bar->addWidget(m_onlyMatches);
    m_scanButton->setObjectName(QStringLiteral("scanButton"));
    bar->addWidget(m_scanButton);
    v->addLayout(bar);

    m_sorted->setSourceModel(m_model);
    m_sorted->setSortRole(Qt::DisplayRole);
    m_view->setObjectName(QStringLiteral("problemsView"));
    m_view->setModel(m_sorted);
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSortingEnabled(true);
    m_view->header()->setSortIndicatorClearable(true);
    m_view->header()->setSortIndicator(-1, Qt::AscendingOrder);
    m_view->header()->setStretchLastSection(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    const int ch = fontMetrics().averageCharWidth();
    m_view->setColumnWidth(FindingsModel::KindColumn, ch * 22);
    m_view->setColumnWidth(FindingsModel::TensorColumn, ch * 34);
    v->addWidget(m_view, 1);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (m_syncing || !current.isValid())
                    return;
                const int entry = m_sorted->data(current, FindingsModel::EntryRole).toInt();
                if (entry >= 0)
                    Q_EMIT entryActivated(entry);
            });
    connect(m_kindBox, &QComboBox::currentIndexChanged, this, &ProblemsPanel::applyKindFilter);
    connect(m_onlyMatches, &QCheckBox::toggled, this, [this](bool on) {
        m_model->setMatches(on ? m_matches : nullptr);
        updateSummary();
    });
    connect(m_scanButton, &QPushButton::clicked, this, [this] {
        if (m_scan->isRunning())
            m_scan->cancel();
        else
            m_scan->start();
    });
    connect(m_scan, &ScanController::tableChanged, this, &ProblemsPanel::onTableChanged);
    connect(m_scan, &ScanController::started, this, [this] {
        m_progress->setValue(0);
        m_progress->show();
        m_scanButton->setText(tr("Cancel"));
        updateSummary();
    });
    connect(m_scan, &ScanController::tensorsScanned, this, [this] {
        m_model->refresh();
        updateSummary();
    });
    connect(m_scan, &ScanController::progressChanged, this, &ProblemsPanel::onProgress);
    connect(m_scan, &ScanController::finished, this, &ProblemsPanel::onFinished);
    onTableChanged();
}

void ProblemsPanel::setMatches(std::shared_ptr<const SearchMatches> matches)
{
    m_matches = std::move(matches);
    if (m_onlyMatches->isChecked()) {
        m_model->setMatches(m_matches);
        updateSummary();
    }
}

void ProblemsPanel::showEntry(int entry)
{
    const int row = m_model->rowOfEntry(entry);
    m_syncing = true;
    if (row < 0)
        m_view->selectionModel()->clearSelection();
    else
        m_view->setCurrentIndex(m_sorted->mapFromSource(m_model->index(row, 0)));
    m_syncing = false;
}

void ProblemsPanel::onTableChanged()
{
    m_model->setTable(m_scan->table());
    if (m_onlyMatches->isChecked())
        m_model->setMatches(m_matches);
    updateSummary();
}

void ProblemsPanel::onProgress(const ScanProgress& p)
{
    m_progress->setValue(int(p.fraction() * 1000));
    updateSummary();
}

void ProblemsPanel::onFinished(bool)
{
    m_progress->hide();
    m_scanButton->setText(m_scan->table() ? tr("Scan again") : tr("Scan"));
    m_model->refresh();
    updateSummary();
}

void ProblemsPanel::applyKindFilter()
{
    const int k = m_kindBox->currentData().toInt();
    m_model->setKinds(k < 0 ? std::uint16_t(0xffff) : std::uint16_t(1u << unsigned(k)));
    updateSummary();
}

void ProblemsPanel::updateSummary()
{
    const ScanTable* t = m_scan->table();
    if (!t) {
        m_summary->setText(tr("not scanned yet: Scan finds NaN, Inf, all-zero, constant and outlier tensors"));
        m_scanButton->setText(tr("Scan"));
        return;
    }
    const int errors = m_model->errorCount();
    const int total = m_model->totalCount();
    QString what = total == 0 ? tr("no problems found") : tr("%1 errors, %2 warnings").arg(errors).arg(total - errors);
    if (m_model->rowCount() != total)
        what += tr(" (%1 shown)").arg(m_model->rowCount());
    const ScanProgress p = m_scan->progress();
    if (m_scan->isRunning())
        m_summary->setText(tr("scanning… %1 of %2 tensors (%3%) · %4")
                               .arg(formatCount(p.tensorsDone), formatCount(p.tensorsTotal))
                               .arg(int(p.fraction() * 100))
                               .arg(what));
    else if (!t->isComplete())
        m_summary->setText(tr("scan cancelled: %1 of %2 tensors scanned · %3 (incomplete)")
                               .arg(formatCount(t->scannedCount()), formatCount(t->tensorCount()), what));
    else
        m_summary->setText(tr("%1 tensors scanned · %2").arg(formatCount(t->tensorCount()), what));
}

}  // namespace paramscope
