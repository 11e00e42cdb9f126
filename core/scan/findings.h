#pragma once

// Findings of a whole-model scan: the tensors that look broken, each with what it is and why.
//
// The rules (documented for users in the README):
// - nan, inf: the tensor holds NaN / ±Inf values (errors: they poison everything they touch).
// - zeros: every element is 0 (more than one element).
// - constant: every element has the same finite, nonzero value (more than one element).
// - dead-rows: a tensor of two or more dimensions with rows (indices of its first dimension,
//   a layer's output units) whose elements are all 0, the tensor not all zeros.
// - dead-columns: the same for the columns (inputs) of a 2-D tensor.
// - outlier: among the tensors whose names differ only in their numeric parts
//   (`layers.*.mlp.up.weight`, at least kMinOutlierGroup of them), a tensor whose std or
//   max |x| lies more than max(10x, e^(5 robust deviations)) from the group's median on a
//   log scale: |log10 v - median| > max(1, 5 * 1.4826 * MAD of the log10 values).
// - fp16-limit: a float16 tensor whose max |x| reaches half of float16's largest finite
//   value (32,768 of 65,504): one doubling from overflowing to Inf.

#include "scan/scan.h"

#include <QString>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;

enum class FindingKind : std::uint8_t { NaN, Inf, AllZeros, Constant, DeadRows, DeadColumns, Outlier, Float16Limit };
constexpr int kFindingKinds = 8;
constexpr int kMinOutlierGroup = 4;
constexpr double kFloat16Max = 65504.0;

/// "nan", "inf", "zeros", "constant", "dead-rows", "dead-columns", "outlier", "fp16-limit"
QString findingKindId(FindingKind k);
std::optional<FindingKind> findingKindFromId(const QString& id);
/// "NaN values", "Infinite values", "All zeros", ...
QString findingKindTitle(FindingKind k);
/// NaN and Inf are errors; the rest are warnings.
bool findingIsError(FindingKind k);

struct Finding {
    int entry = -1;
    FindingKind kind = FindingKind::NaN;
    QString detail;  // what was found, with the numbers ("12 of 4,096 values are NaN")
};

/// The findings of one tensor from its own figures (every rule but outlier), appended to `out`.
void tensorFindings(const ModelIndex& index, int entry, const TensorScan& scan, std::vector<Finding>& out);
/// The outliers among sibling tensors (needs every tensor's figures), appended to `out`.
void outlierFindings(const ModelIndex& index, const std::vector<TensorScan>& scans, std::vector<Finding>& out);
/// Every finding of a finished scan, sorted by entry and then kind.
std::vector<Finding> allFindings(const ModelIndex& index, const std::vector<TensorScan>& scans);

/// The name with each all-digit segment replaced by `*` ("layers.3.mlp.up.weight" ->
/// "layers.*.mlp.up.weight").
std::string namePattern(std::string_view name);

}  // namespace paramscope
