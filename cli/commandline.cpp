// paramscope-cli's entry: the command table, the dispatch on the first argument and the
// usage text. Each command lives in its own file (listcommand.cpp, treecommand.cpp,
// statscommand.cpp, exportcommand.cpp, scancommand.cpp,
// diffcommand.cpp, heatmapcommand.cpp); the options they share are in options.cpp.
#include "cli/commandline.h"

#include "cli/commandline_p.h"

#include <functional>
#include <map>

namespace paramscope {

namespace {

using namespace cli;

const char* kUsage =
    "Usage: paramscope-cli COMMAND [options]\n"
    "\n"
    "Look inside PyTorch model files (TorchScript archives, torch.save checkpoints, safetensors).\n"
    "\n"
    "Commands:\n"
    "  list FILE [--exact S | --contains S | --glob S | --regex S] [--ignore-case] [--all]\n"
    "       [--table | --tsv | --json]\n"
    "                      List tensors: name, kind, dtype, shape, elements (on a terminal or\n"
    "                      --table: an aligned table with sizes and totals; piped or --tsv:\n"
    "                      tab-separated); --all adds the values that are not tensors.\n"
    "  tree FILE [--depth N] [--natural-sort]\n"
    "                      The module tree with element counts and sizes.\n"
    "  stats FILE [NAME | --exact S | --contains S | --glob S | --regex S] [--ignore-case]\n"
    "        [--bins N] [--threads N] [--json]\n"
    "                      Statistics and histogram of one tensor; of a module or a search's\n"
    "                      matches one row per tensor (min, max, mean, std, NaN, Inf, zeros).\n"
    "  export FILE [NAME | --exact S | --contains S | --glob S | --regex S] -o OUT\n"
    "         [--format npy|pt|safetensors|csv]\n"
    "                      Write tensors to OUT (format from its extension unless --format).\n"
    "  scan FILE [--json | --csv] [--problems-only] [--fail-on KINDS|errors|any] [--threads N]\n"
    "                      Statistics of every tensor and the findings (NaN, Inf, all zeros,\n"
    "                      constant, dead rows/columns, outliers, float16 near overflow).\n"
    "  diff A B [--json] [--atol X] [--rtol Y] [--map FROM=TO]... [--strip-prefix P] [--changed-only]\n"
    "                      Compare two models tensor by tensor (exit 0 same, 1 different, 2 trouble).\n"
    "  heatmap FILE NAME -o OUT.png [--size WxH] [--clamp p1,p99|minmax] [--pooling maxabs|mean]\n"
    "          [--scale auto|diverging|sequential] [--slice ROWDIM,COLDIM,index...]\n"
    "                      Render a tensor as a heatmap picture.\n"
    "\n"
    "Every command takes --engine auto|native|libtorch and --help; --version prints the version.\n"
    "Plain-text output shows names with control and other non-printable characters escaped\n"
    "(\\n, \\t, \\x1b, \\u2028, \\ufeff, ...) and the backslash as \\\\; --json keeps them exact.\n"
    "Exit codes: 0 success, 1 the file could not be read, 2 wrong usage, 3 (scan --fail-on) a\n"
    "finding of the kinds given exists; diff: 0 same, 1 different, 2 trouble. A --regex search\n"
    "that cannot decide some names (backtracking limit) names them on stderr and still exits 0.\n";

}  // namespace

int runCommandLine(const QStringList& args, QTextStream& out, QTextStream& err)
{
    using Command = std::function<int(const QStringList&, QTextStream&, QTextStream&)>;
    static const std::map<QString, Command> commands{
        {QStringLiteral("list"), cmdList},
        {QStringLiteral("tree"), cmdTree},
        {QStringLiteral("stats"), cli::cmdStats},
        {QStringLiteral("export"), cli::cmdExport},
        {QStringLiteral("scan"), cli::cmdScan},
        {QStringLiteral("diff"), cli::cmdDiff},
        {QStringLiteral("heatmap"), cli::cmdHeatmap},
    };
    if (args.isEmpty()) {
        err << kUsage;
        return kExitUsage;
    }
    const QString cmd = args.first();
    if (cmd == QLatin1String("--help") || cmd == QLatin1String("-h") || cmd == QLatin1String("--help-all") ||
        cmd == QLatin1String("help")) {
        out << kUsage;
        return kExitOk;
    }
    auto it = commands.find(cmd);
    if (it == commands.end()) {
        err << "paramscope-cli: unknown command '" << shown(cmd) << "'\n\n" << kUsage;
        return kExitUsage;
    }
    return it->second(args.mid(1), out, err);
}

}  // namespace paramscope
