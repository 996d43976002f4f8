#!/usr/bin/env bash
# The thorough verification job (release checks, nightly; not part of every .ci/run):
#   1. the conformance matrix, primitives and public ops, with many random examples;
#   2. 2,000 random whole programs against the NumPy oracle;
#   3. the harness's mutation score on a seeded sample of planted bugs.
# Each step writes its report under ${SLOPE_REPORTS:-reports}/ and the job fails if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 SLOPE_PROFILE=thorough
pip install -q -e '.[test]'
out="${SLOPE_REPORTS:-reports}"
mkdir -p "$out"
python -m slope verify --ops --jobs "$(nproc)" --output "$out/conformance.md"
python -m slope.testing.programs --n 2000 | tee "$out/programs.txt"
python ci/mutation.py --sample "${SLOPE_MUTANTS:-80}" --seed "${SLOPE_MUTATION_SEED:-0}" --jobs "$(nproc)" \
    --output "$out/mutation.md" --min-score "${SLOPE_MIN_MUTATION_SCORE:-0.9}"
