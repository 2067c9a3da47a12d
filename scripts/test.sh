#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then the whole Swift test suite (unit tests
# per stage and the end-to-end corpus, which loads programs into the running kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh
swift build
swift test
