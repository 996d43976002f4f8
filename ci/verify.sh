#!/usr/bin/env bash
# The conformance gate: every primitive x every check column, printed as a markdown matrix
# (also written to $SLOPE_MATRIX, default conformance.md); exits non-zero if any cell fails.
# SLOPE_PROFILE=dev|ci|thorough picks the Hypothesis profile (default ci: derandomized).
# The same cells run as pytest items in tests/properties (what .ci/run runs); this script is
# the stand-alone form for release checks: SLOPE_PROFILE=thorough ci/verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip install -q -e '.[test]'
python -m slope verify --jobs "$(nproc)" --output "${SLOPE_MATRIX:-conformance.md}" "$@"
