# Shared by scripts/demo and scripts/test. Sourced, not run.
set -euo pipefail

# System packages drctl builds against and runs with.
DRCTL_PACKAGES=(libarchive-dev libsqlite3-dev libcurl4-openssl-dev libzstd-dev pkg-config git age zstd libarchive-tools)
# Test-only (Tests/RunTests): `promtool check metrics` validates the metrics textfile; python3 serves the loopback webhook.
# Tests/ReportTests: chromium (+ fonts) screenshots the HTML drill report; libxml2 backs FoundationXML's XMLParser.
DRCTL_TEST_PACKAGES=(prometheus python3 chromium fonts-liberation libxml2)

# Installs whichever of the given Debian packages are missing (apt-get update first).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing missing packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Puts the Swift toolchain on PATH when it lives in /opt/swift.
ensure_swift() {
  if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  fi
  command -v swift >/dev/null 2>&1 || { echo "swift is not installed (expected Swift 6 in PATH or /opt/swift)" >&2; exit 1; }
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
