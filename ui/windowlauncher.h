#pragma once

// What the window's programs share on their command line: the files to open, --demo and
// --engine (an unknown engine is an error, as in paramscope-cli), and opening the files
// one after another into a MainWindow.

#include "model/loadtypes.h"

#include <QStringList>

#include <functional>
#include <optional>

class QCommandLineParser;

namespace paramscope {

class MainWindow;

/// Exit code for a command line that names no valid option value (as paramscope-cli).
constexpr int kExitUsage = 2;

struct WindowOptions {
    QStringList files;
    bool demo = false;
    std::optional<LoaderEngine> engine;  // unset: the engine in the settings
};

/// Adds [file...], --demo and --engine to `parser`.
void addWindowOptions(QCommandLineParser& parser);
/// Reads them back. An unknown --engine prints "<program>: unknown engine '…' (auto,
/// native, libtorch)" on stderr and gives nullopt (exit with kExitUsage).
std::optional<WindowOptions> readWindowOptions(const QCommandLineParser& parser, const char* program);

/// Sets the engine if given, then opens the demo (with --demo) and the files, each once the
/// one before has loaded or failed, so a later bad file shows its error over the model that
/// stays open. `done` (optional) runs after the last one.
void openInSequence(MainWindow* window, const WindowOptions& options, std::function<void()> done = {});

}  // namespace paramscope
