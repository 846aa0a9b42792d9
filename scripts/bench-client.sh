#!/usr/bin/env bash
# Runs the client benchmarks over loopback: events/s and CPU per event on an
# LLM-like stream (benches/client.rs), then memory per open idle stream with
# 1,000 concurrent streams per client (benches/idle_memory.rs). Each prints its
# own Markdown table. About 2 minutes after the build; runs under `nice`
# (set BENCH_NICE=0 to run at normal priority).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
nice_cmd=(nice -n 10)
if [[ "${BENCH_NICE:-1}" == 0 ]]; then nice_cmd=(); fi
"${nice_cmd[@]}" cargo bench -p postsource-bench --bench client
"${nice_cmd[@]}" cargo bench -p postsource-bench --bench idle_memory
