#!/usr/bin/env bash
# Catalog scale benchmark: a volume with many tiny files (make-corpus --tiny N).
#
#   bench/pvc-scale.sh [--files 1000000] [--work DIR]
#
# Measures the full backup, an unchanged re-backup (target: under 10 s at 1,000,000
# files) and a point lookup with `drctl snapshots find PATH` (target: under 50 ms,
# process start included), plus the catalog size.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/lib.sh"
FILES=1000000 WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
ensure_packages "${DRCTL_PACKAGES[@]}" time
ensure_swift
cd "$ROOT"
swift build -c release --product drctl >/dev/null
DRCTL="$ROOT/.build/release/drctl"
WORK="${WORK:-$(mktemp -d /tmp/drctl-scale.XXXXXX)}"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
MAKE_CORPUS="$ROOT/../shared/bench/make-corpus"
echo "==> corpus: $FILES tiny files" >&2
python3 "$MAKE_CORPUS" "$WORK/vol" --mb 8 --tiny "$FILES" 2>&2
"$DRCTL" init "$WORK/setup" >/dev/null
sed -i "s|^sources: \[\]|sources:\n  - name: vol\n    kind: pvc-archive\n    path: $WORK/vol|" "$WORK/setup/drctl.yaml"
export DRCTL_CONFIG="$WORK/setup/drctl.yaml"
run() { /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null; read -r s kib < "$WORK/t"; echo "$s s, $((kib / 1024)) MiB"; }
full=$(run "$DRCTL" backup)
unchanged=$(run "$DRCTL" backup)
target="wp-content/plugins/vendor/pkg-$(printf %04d $((FILES / 2 / 5000)))/src-$(printf %02d $(((FILES / 2 / 100) % 50)))/f$(printf %07d $((FILES / 2))).php"
lookup=$(run "$DRCTL" snapshots find "$target")
echo "| files | full backup | unchanged re-backup | point lookup (\`snapshots find\`) | catalog size |"
echo "|---|---|---|---|---|"
echo "| $FILES | $full | $unchanged | $lookup | $(du -h "$WORK/setup/catalog.db" | cut -f1) |"
