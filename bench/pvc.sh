#!/usr/bin/env bash
# Volume-archive benchmark: drctl vs restic vs `tar | zstd -T0`, side by side, in one run.
#
#   bench/pvc.sh [--mb 1024] [--runs 3] [--work DIR]   full benchmark (release build)
#   bench/pvc.sh --smoke                                 CI smoke: 16 MiB, 1 run, debug build
#
# Per tool and run (fresh repository each run): full backup, unchanged re-backup, backup
# after `make-corpus --mutate 5`, full restore. Before every timed command the page cache
# is dropped (when run as root) and exactly the command's input is read back into it
# (the volume for backups, the repository for restores): each tool starts from the same
# warm-input, clean-cache state, whatever the tools before it wrote or deleted. Restores
# also wait until deleted trees are older than the filesystem's inode-reuse window
# (below; docs/PERFORMANCE.md, "Measuring on this machine"). Reports the median wall
# time and CPU seconds (user + system), the ratios to drctl's, peak RSS and every run's
# wall time, as Markdown.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/lib.sh"
MB=1024 RUNS=3 SMOKE=0 WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) MB="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --smoke) SMOKE=1; MB=16; RUNS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
ensure_packages "${DRCTL_PACKAGES[@]}" restic time
ensure_swift
MAKE_CORPUS="$ROOT/../shared/bench/make-corpus"
[ -x "$MAKE_CORPUS" ] || MAKE_CORPUS="python3 $MAKE_CORPUS"
cd "$ROOT"
if [ "$SMOKE" = 1 ]; then
  swift build --product drctl >/dev/null
  DRCTL="$ROOT/.build/debug/drctl"
else
  swift build -c release --product drctl >/dev/null
  DRCTL="$ROOT/.build/release/drctl"
fi
WORK="${WORK:-$(mktemp -d /tmp/drctl-bench.XXXXXX)}"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$WORK/restic-cache"
CORPUS="$WORK/corpus"
echo "==> corpus: $MB MiB" >&2
$MAKE_CORPUS "$CORPUS" --mb "$MB" 2>&2

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
DROP=0
if [ "$SMOKE" = 1 ]; then :
elif [ -w /proc/sys/vm/drop_caches ]; then DROP=1
else echo "warning: not root, so the page cache is not dropped between commands; timings are noisier" >&2
fi
# settle PATH...: flushes dirty pages, drops the page cache and reads PATHs back in.
settle() {
  sync
  if [ "$DROP" = 1 ]; then echo 3 2>/dev/null > /proc/sys/vm/drop_caches || DROP=0; fi
  find "$@" -type f -exec cat {} + >/dev/null 2>&1 || true
  # The programs and their shared libraries, as a warm machine has them.
  "$DRCTL" --version >/dev/null; restic version >/dev/null; zstd --version >/dev/null; tar --version >/dev/null
}
# remove PATH...: deletes trees and notes when. On ext4 without a journal, creating a file
# skips inodes freed within the last dirty_expire_centisecs (30 s), scanning past every
# one of them: a restore that starts right after a large tree was deleted runs several
# times slower, by chance of timing. Restores therefore start once the deletions are older.
DELETED_AT=0
remove() { rm -rf "$@"; DELETED_AT=$(date +%s); }
after_deletions() {
  local window=$(( $(cat /proc/sys/vm/dirty_expire_centisecs 2>/dev/null || echo 3000) / 100 + 1 ))
  local age=$(( $(date +%s) - DELETED_AT ))
  if [ "$SMOKE" = 0 ] && [ "$age" -lt "$window" ]; then sleep $(( window - age )); fi
}
# measure TOOL OP RUN INPUT... -- command...: settles the INPUT paths, then records wall
# seconds, CPU seconds (user + system) and peak RSS (KiB).
measure() {
  local tool=$1 op=$2 run=$3 input=()
  shift 3
  while [ "$1" != "--" ]; do input+=("$1"); shift; done
  shift
  if [ "$op" = restore ]; then after_deletions; fi
  settle "${input[@]}"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
  t1=$(date +%s.%N)
  local user sys kib
  read -r user sys kib < <(tail -1 "$WORK/rss")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$op" "$run" "$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")" \
    "$(awk "BEGIN { printf \"%.2f\", $user + $sys }")" "$kib" >> "$RESULTS"
}

for run in $(seq 1 "$RUNS"); do
  echo "==> run $run/$RUNS" >&2
  for tool in drctl restic tar; do
    VOL="$WORK/vol" REPO="$WORK/repo-$tool" OUT="$WORK/out"
    remove "$VOL" "$REPO" "$OUT" "$WORK/setup"
    cp -a "$CORPUS" "$VOL"
    case $tool in
      drctl)
        "$DRCTL" init "$WORK/setup" >/dev/null
        sed -i "s|^sources: \[\]|sources:\n  - name: vol\n    kind: pvc-archive\n    path: $VOL|" "$WORK/setup/drctl.yaml"
        export DRCTL_CONFIG="$WORK/setup/drctl.yaml"
        measure drctl full "$run" "$VOL" "$WORK/setup" -- "$DRCTL" backup
        measure drctl unchanged "$run" "$VOL" "$WORK/setup" -- "$DRCTL" backup
        $MAKE_CORPUS "$VOL" --mutate 5 2>/dev/null
        measure drctl mutate5 "$run" "$VOL" "$WORK/setup" -- "$DRCTL" backup
        ID=$("$DRCTL" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
        measure drctl restore "$run" "$WORK/setup" -- "$DRCTL" snapshots extract "$ID" --to "$OUT"
        ;;
      restic)
        restic init -r "$REPO" >/dev/null 2>&1
        measure restic full "$run" "$VOL" "$REPO" -- restic -r "$REPO" backup --quiet "$VOL"
        measure restic unchanged "$run" "$VOL" "$REPO" "$WORK/restic-cache" -- restic -r "$REPO" backup --quiet "$VOL"
        $MAKE_CORPUS "$VOL" --mutate 5 2>/dev/null
        measure restic mutate5 "$run" "$VOL" "$REPO" "$WORK/restic-cache" -- restic -r "$REPO" backup --quiet "$VOL"
        measure restic restore "$run" "$REPO" "$WORK/restic-cache" -- restic -r "$REPO" restore latest --target "$OUT"
        ;;
      tar)
        mkdir -p "$REPO" "$OUT"
        measure tar full "$run" "$VOL" -- sh -c "tar -C '$VOL' -cf - . | zstd -3 -T0 -q > '$REPO/vol.tar.zst'"
        measure tar restore "$run" "$REPO" -- sh -c "zstd -dc '$REPO/vol.tar.zst' | tar -C '$OUT' -xf -"
        ;;
    esac
    remove "$VOL" "$OUT"
  done
done

python3 - "$RESULTS" "$MB" "$RUNS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
data = {}
for tool, op, run, wall, cpu, rss in rows:
    data.setdefault((tool, op), []).append((float(wall), float(cpu), int(rss)))
def med(tool, op):
    v = data.get((tool, op))
    return (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v), max(r for _, _, r in v)) if v else None
print(f"Corpus: make-corpus --mb {sys.argv[2]}; median of {sys.argv[3]} run(s).\n")
for title, k in [("Wall seconds (peak RSS)", 0), ("CPU seconds, user + system", 1)]:
    print(f"{title}:\n")
    print("| operation | drctl | restic | tar \\| zstd -T0 | drctl / restic | drctl / tar |")
    print("|---|---|---|---|---|---|")
    for op in ["full", "unchanged", "mutate5", "restore"]:
        d, r, t = med("drctl", op), med("restic", op), med("tar", op)
        cell = lambda m: "—" if not m else f"{m[k]:.2f} s ({m[2] / 1024:.0f} MiB)" if k == 0 else f"{m[k]:.2f} s"
        ratio = lambda a, b: f"{a[k] / b[k]:.2f}×" if a and b and b[k] > 0 else "—"
        print(f"| {op} | {cell(d)} | {cell(r)} | {cell(t)} | {ratio(d, r)} | {ratio(d, t)} |")
    print()
print("Every run, wall seconds:\n")
for (tool, op), v in sorted(data.items()):
    print(f"- {tool} {op}: " + ", ".join(f"{w:.2f}" for w, _, _ in v))
print()
PY
echo
echo "tools: $("$DRCTL" --version), $(restic version | head -1), $(tar --version | head -1), $(zstd --version)"
