#!/usr/bin/env bash
# Runs the `parse` benchmark (postsource against its peers on the generated
# corpora) and prints the Markdown table of results.
#
# Usage: scripts/bench-parse.sh [criterion filter]
#   e.g. scripts/bench-parse.sh a-llm     # one corpus only
# The whole run takes about 5 minutes on a 2-core machine: the criterion groups,
# then an interleaved pass (parsers in turn) whose ratios hold up under load. It runs under `nice`
# (the machine is shared); set BENCH_NICE=0 to run at normal priority.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
export CRITERION_HOME="${CRITERION_HOME:-$target/criterion}"
nice_cmd=(nice -n 10)
if [[ "${BENCH_NICE:-1}" == 0 ]]; then nice_cmd=(); fi
# Old results of benchmarks this run skips must not leak into the table.
if [[ $# -eq 0 ]]; then
  for group in a-llm b-big-events c-tiny d-llm-crlf e-long-line; do
    rm -rf "${CRITERION_HOME:?}/$group"
  done
  rm -f "$CRITERION_HOME/parse-interleaved.json"
fi
"${nice_cmd[@]}" cargo bench -p postsource-bench --bench parse -- "$@"
python3 "$root/scripts/bench-table.py" "$CRITERION_HOME"
