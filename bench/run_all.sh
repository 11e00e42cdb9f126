#!/usr/bin/env bash
# Runs every benchmark and prints one Markdown table of their figures: each beside its
# baseline measured in the same run, the ratio, the goal and whether it is met, with the
# machine at the top.
#
#   bash bench/run_all.sh [--build DIR] [--big] [--only NAME,...] [--keep-fixtures] [--verbose]
#
# Builds the bench targets in DIR (default build/, configured as scripts/deps.sh's
# paramscope_build does when it is not yet), writes the fixtures the benchmarks need into a
# temporary folder (removed at the end unless --keep-fixtures), runs every bench_* target
# of bench/CMakeLists.txt one after the other (a new one runs without arguments until it
# gets a line in bench_args below) and collects their ROW lines (bench/benchtable.h).
# Default sizes take a few minutes on 2 cores; --big uses the full-size fixtures and runs
# (a 2.7 GB and a 4.5 GB model, a 2.7 GB safetensors checkpoint, 2 GB exports, the full
# soak; about 15 GB of disk and much longer).
# Each benchmark's whole output is kept in DIR/bench-results/<time>/<name>.log, the table
# in table.md beside them. Exit status: 0 when every benchmark ran and exited 0.
set -euo pipefail

cd "$(dirname "$0")/.."
build=build
big=0
only=""
keep=0
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --big) big=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --keep-fixtures) keep=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# Every benchmark the build defines, in the order of bench/CMakeLists.txt.
mapfile -t benches < <(sed -n 's/^add_executable(\(bench_[A-Za-z0-9_]*\).*/\1/p' bench/CMakeLists.txt)
if [ -n "$only" ]; then
  IFS=, read -r -a wanted <<<"$only"
  for w in "${wanted[@]}"; do
    printf '%s\n' "${benches[@]}" | grep -qx "$w" ||
      { echo "run_all.sh: no benchmark '$w' in bench/CMakeLists.txt (${benches[*]})" >&2; exit 2; }
  done
  benches=("${wanted[@]}")
fi
[ ${#benches[@]} -gt 0 ] || { echo "run_all.sh: no benchmark to run" >&2; exit 2; }

# Build: configure once (as paramscope_build in scripts/deps.sh), then only what runs.
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
targets=("${benches[@]}")
# The .pt export and the LibTorch baselines load the LibTorch plug-in at run time.
if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^paramscope_torch:'; then
  targets+=(paramscope_torch)
fi
echo "== building ${targets[*]} in $build/"
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"

# Other work on the machine shows in every timing: note how busy it was when the run began.
load_at_start=$(cut -d' ' -f1 /proc/loadavg)
stamp=$(date -u +%Y%m%d-%H%M%S)
when=$(date -u "+%Y-%m-%d %H:%M")
results="$build/bench-results/$stamp"
mkdir -p "$results"
fixtures=$(mktemp -d "${TMPDIR:-/tmp}/paramscope-bench.XXXXXX")
cleanup() { [ "$keep" = 1 ] && echo "fixtures kept in $fixtures" || rm -rf "$fixtures"; }
trap cleanup EXIT

python=/usr/bin/python3
[ -x "$python" ] || python=python3

needs() { local b; for b in "${benches[@]}"; do [ "$b" = "$1" ] && return 0; done; return 1; }

# Fixtures, only for the benchmarks that run.
echo "== fixtures in $fixtures"
if needs bench_open || needs bench_scan || needs bench_diff; then
  if [ "$big" = 1 ]; then
    "$python" scripts/make_big_model.py "$fixtures/models" >"$results/fixture_models.log" 2>&1
  else
    "$python" scripts/make_big_model.py "$fixtures/models" --small-only >"$results/fixture_models.log" 2>&1
  fi
fi
if needs bench_diff; then
  diff_base="$fixtures/models/big_ts_350m.pt"
  [ "$big" = 1 ] && diff_base="$fixtures/models/big_sv_4g.pt"
  mkdir -p "$fixtures/diff"
  "$python" bench/make_diff_pair.py "$diff_base" "$fixtures/diff/$(basename "${diff_base%.pt}")_b.pt" \
    >"$results/fixture_diff.log" 2>&1
fi
if needs bench_safetensors_open || needs bench_scan; then
  layers=2
  [ "$big" = 1 ] && layers=24
  "$python" bench/make_big_safetensors.py "$fixtures/st" --layers "$layers" >"$results/fixture_safetensors.log" 2>&1
fi

# The arguments of each benchmark (one per line); unknown ones run without any.
bench_args() {
  case "$1" in
    bench_open) ls "$fixtures"/models/*.pt ;;
    bench_scan)
      if [ "$big" = 1 ]; then ls "$fixtures"/models/big_sv_4g.pt "$fixtures"/models/big_ts_350m.pt
      else ls "$fixtures"/models/*.pt; fi
      if [ -f "$fixtures/st/sharded/model.safetensors.index.json" ]; then
        echo "$fixtures/st/sharded/model.safetensors.index.json"
      fi ;;
    bench_diff)
      if [ "$big" = 1 ]; then b="$fixtures/models/big_sv_4g.pt"; else b="$fixtures/models/big_ts_350m.pt"; fi
      printf '%s\n' "$b" "$fixtures/diff/$(basename "${b%.pt}")_b.pt" ;;
    bench_safetensors_open)
      echo "$fixtures/st/big.safetensors"
      echo "$fixtures/st/sharded/model.safetensors.index.json" ;;
    bench_soak)
      if [ "$big" = 0 ]; then printf '%s\n' --cycles 200 --selections 2000; fi ;;
    bench_export)
      printf '%s\n' --dir "$fixtures"
      if [ "$big" = 1 ]; then printf '%s\n' --mb 2048; else printf '%s\n' --mb 512; fi ;;
    *) ;;
  esac
}

declare -A status seconds
for b in "${benches[@]}"; do
  exe="$build/bench/$b"
  if [ ! -x "$exe" ]; then
    echo "== $b: not built"
    status[$b]="not built"
    continue
  fi
  mapfile -t args < <(bench_args "$b")
  echo "== $b ${args[*]:-}"
  start=$(date +%s.%N)
  rc=0
  if [ "$verbose" = 1 ]; then
    QT_QPA_PLATFORM=offscreen timeout 3600 "$exe" "${args[@]}" 2>&1 | tee "$results/$b.log" || rc=${PIPESTATUS[0]}
  else
    QT_QPA_PLATFORM=offscreen timeout 3600 "$exe" "${args[@]}" >"$results/$b.log" 2>&1 || rc=$?
  fi
  end=$(date +%s.%N)
  seconds[$b]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  status[$b]=$rc
  echo "   exit $rc after ${seconds[$b]} s, $(grep -c '^ROW' "$results/$b.log" || true) rows ($results/$b.log)"
done

# The machine.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cores=$(nproc)
ram=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
vm=$(systemd-detect-virt --vm 2>/dev/null || true)
ct=$(systemd-detect-virt --container 2>/dev/null || true)
if [ -n "$vm" ] && [ "$vm" != none ]; then cpu="$cpu (virtual machine: $vm)"; fi
os="$os, Linux $(uname -r)"
if [ -n "$ct" ] && [ "$ct" != none ]; then os="$os, in a $ct container"; fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with local changes)"

summary="$results/summary.txt"
: >"$summary"
for b in "${benches[@]}"; do
  printf '%s\t%s\t%s\n' "$b" "${status[$b]}" "${seconds[$b]:-}" >>"$summary"
done

"$python" - "$results" "$summary" "$cpu" "$cores" "$ram" "$os" "$commit" "$big" "$load_at_start" "$when" <<'PY' | tee "$results/table.md"
import math, re, sys

results, summary, cpu, cores, ram, os_name, commit, big, load, stamp = sys.argv[1:11]
scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0,
         "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3}


def num(text):
    try:
        return float(text)
    except ValueError:
        return math.nan


def fmt(x):
    if math.isnan(x):
        return "?"
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def convert(value, unit, goal_unit):
    """value in `unit` expressed in `goal_unit` (same kind), or NaN."""
    if unit == goal_unit:
        return value
    if unit in scale and goal_unit in scale and (unit[-1] == goal_unit[-1] or {unit, goal_unit} <= {"ns", "us", "µs", "ms", "s"}):
        return value * scale[unit] / scale[goal_unit]
    return math.nan


def met(figure, unit, base, ratio, goal):
    """'yes', 'no' or '?' for a goal such as '<= 3x', '>= 10x', '<= 16 ms', '<= +16 MB'."""
    m = re.match(r"\s*(<=|>=|<|>)\s*(\+?)([0-9.]+)\s*(x|[A-Za-zµ/]+)?", goal)
    if not m:
        return "?"
    op, plus, limit, goal_unit = m.group(1), m.group(2), float(m.group(3)), m.group(4) or ""
    if goal_unit == "x":
        value = ratio
    elif plus:
        value = convert(figure - base, unit, goal_unit) if goal_unit else figure - base
    else:
        value = convert(figure, unit, goal_unit) if goal_unit else figure
    if math.isnan(value):
        return "?"
    ok = {"<=": value <= limit, "<": value < limit, ">=": value >= limit, ">": value > limit}[op]
    return "yes" if ok else "**no**"


def cell(text):
    return text.replace("|", "\\|")


runs = []
with open(summary) as f:
    for line in f:
        name, rc, secs = (line.rstrip("\n").split("\t") + ["", ""])[:3]
        runs.append((name, rc, secs))

print("## ParamScope benchmarks")
print()
print(f"Machine: {cpu}, {cores} cores, {ram} RAM, {os_name}; load average {load} when the run began. "
      f"Commit {commit}, run {stamp} UTC, {'full-size (--big)' if big == '1' else 'default'} fixtures.")
print()
print("| benchmark | figure | baseline | baseline figure | ratio | goal | met? |")
print("| --- | ---: | --- | ---: | ---: | --- | --- |")
notes = []
for name, rc, secs in runs:
    rows = []
    try:
        with open(f"{results}/{name}.log", errors="replace") as f:
            for line in f:
                if line.startswith("ROW\t"):
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) >= 8:
                        rows.append(parts[1:8])
    except OSError:
        pass
    if rc != "0":
        notes.append(f"`{name}` {'exited ' + rc if rc.isdigit() else rc}" + (f" after {secs} s" if secs else "")
                     + f" (see {name}.log)")
    if not rows:
        if rc == "0":
            notes.append(f"`{name}` ran ({secs} s) but prints no ROW line yet")
        continue
    print(f"| **{name}** ({secs} s) | | | | | | |")
    for what, figure, unit, baseline, base_figure, _ratio, goal in rows:
        fig, base = num(figure), num(base_figure)
        ratio = fig / base if base and not math.isnan(fig) and not math.isnan(base) else math.nan
        print(f"| {cell(what)} | {fmt(fig)} {cell(unit)} | {cell(baseline)} | {fmt(base)} {cell(unit)} | "
              f"{fmt(ratio)}x | {cell(goal)} | {met(fig, unit, base, ratio, goal)} |")
print()
for n in notes:
    print(f"- {n}")
PY

for b in "${benches[@]}"; do
  [ "${status[$b]}" = 0 ] || exit 1
done
exit 0
