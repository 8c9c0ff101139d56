# Shared by scripts/demo and scripts/test. Sourced, not run.
set -euo pipefail

# System packages drctl builds against and runs with.
DRCTL_PACKAGES=(libarchive-dev libsqlite3-dev libcurl4-openssl-dev libzstd-dev pkg-config git age zstd libarchive-tools)
# Test-only (Tests/RunTests): `promtool check metrics` validates the metrics textfile; python3 serves the loopback webhook.
# Tests/ReportTests: chromium (+ fonts) screenshots the HTML drill report; libxml2 backs FoundationXML's XMLParser.
# python3-venv: the venv for moto_server and the aws CLI (Tests/S3Tests, ensure_python_tools).
# b3sum: the reference BLAKE3 tool that Tests/DRCoreTests/BLAKE3Tests checks digests against.
DRCTL_TEST_PACKAGES=(prometheus python3 python3-venv chromium fonts-liberation libxml2 b3sum)

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

# moto_server (S3 with SigV4 checking) and the aws CLI for Tests/S3Tests, from PyPI into a venv
# under .build (never committed). Idempotent: an existing venv with both tools is kept.
ensure_python_tools() {
  local venv="$ROOT/.build/pyenv"
  if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
    echo "==> installing moto[server] and awscli into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6' 'awscli>=1.36,<2'
  fi
  export DRCTL_MOTO_SERVER="$venv/bin/moto_server" DRCTL_AWS="$venv/bin/aws"
}

# Puts the Swift toolchain on PATH when it lives in /opt/swift.
ensure_swift() {
  if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  fi
  command -v swift >/dev/null 2>&1 || { echo "swift is not installed (expected Swift 6 in PATH or /opt/swift)" >&2; exit 1; }
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
