#pragma once

// One row of the benchmark table that bench/run_all.sh prints. Every benchmark prints its
// own human-readable report and, for each figure that has a goal, one machine-readable
// line:
//
//   ROW<TAB>benchmark<TAB>figure<TAB>unit<TAB>baseline<TAB>baseline figure<TAB>ratio<TAB>goal
//
// `baseline` names what the figure is compared with (measured in the same run, e.g.
// "std::string::find loop", "memcpy of the same bytes", "10-tensor model"); `ratio` is
// figure / baseline figure; `goal` is the target in words ("<= 3x", "<= 16 ms", "<= 200 B/tensor").
// run_all.sh collects the ROW lines of every benchmark into one Markdown table.

#include <cstdio>
#include <string>

namespace paramscope::bench {

inline void printRow(const std::string& benchmark, double figure, const std::string& unit, const std::string& baseline,
                     double baselineFigure, const std::string& goal)
{
    const double ratio = baselineFigure > 0 ? figure / baselineFigure : 0.0;
    std::printf("ROW\t%s\t%.3g\t%s\t%s\t%.3g\t%.2f\t%s\n", benchmark.c_str(), figure, unit.c_str(), baseline.c_str(),
                baselineFigure, ratio, goal.c_str());
    std::fflush(stdout);
}

}  // namespace paramscope::bench
