#pragma once

// One measurement in a fresh child process, so its peak memory (ru_maxrss) is its own and
// nothing it allocates stays in the benchmark. The child's result comes back as text.

#include <cstdio>
#include <functional>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace paramscope::bench {

struct ChildRun {
    bool started = false;
    std::string text;  // what the child wrote
    int status = -1;   // as wait4 gives it
    long maxRssKb = 0;
};

/// Forks; the child runs `child(writeFd)` and writes what it returns to the pipe (a child that
/// execs a program hands it `writeFd` and lets it write instead). Waits for the child.
inline ChildRun runInChild(const std::function<std::string(int writeFd)>& child)
{
    ChildRun run;
    int fds[2];
    if (pipe(fds) != 0)
        return run;
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return run;
    }
    if (pid == 0) {
        close(fds[0]);
        const std::string out = child(fds[1]);
        std::fflush(stdout);
        if (write(fds[1], out.data(), out.size()) < 0)
            _exit(2);
        _exit(0);
    }
    run.started = true;
    close(fds[1]);
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        run.text.append(buf, size_t(n));
    close(fds[0]);
    struct rusage ru {};
    wait4(pid, &run.status, 0, &ru);
    run.maxRssKb = ru.ru_maxrss;
    return run;
}

}  // namespace paramscope::bench
