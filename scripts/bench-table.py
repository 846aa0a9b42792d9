#!/usr/bin/env python3
"""Turns the criterion results of the `parse` benchmark into Markdown tables.

Reads <criterion home>/**/new/benchmark.json (ids, throughput) and, beside it,
sample.json (the fastest sample's time per iteration: the default, because the
build machine is shared and the fastest sample is the one least disturbed by
other jobs) or estimates.json (criterion's median, with --stat median), plus
parse-corpora.json (bytes and events per corpus, written by the benchmark), and
prints:

- per corpus x chunk size: MB/s (10^6 bytes/s) of every parser, postsource's
  speed-up over the fastest peer, how many times slower than the memchr newline
  scan it is, and its events/s, with the issue's targets checked; then two
  floors: the chunk handoff (each chunk cloned and dropped, which every parser
  pays before reading a byte) as a share of the time that 2x the fastest peer
  allows, and the UTF-8 check (which the spec's decoding needs) as a share of the
  time that 3x the memchr scan allows;
- for the long line (e): time per run and the scaling from one size to the next
  (linear means 2.0x time for 2x the line; the target is checked on the MiB
  lines, the KiB ones show which parsers are quadratic).

Usage: scripts/bench-table.py [--stat min|median] [criterion home]
       (default: --stat min, target/criterion)
"""

import json
import pathlib
import sys

PARSERS = ["postsource", "eventsource-stream", "sse-stream", "sseer"]
PEERS = PARSERS[1:]
BASELINE = "memchr-scan"
HANDOFF = "chunk-handoff"
UTF8 = "utf8-check"
FLOORS = [UTF8, HANDOFF]
CHUNKED = ["a-llm", "b-big-events", "c-tiny", "d-llm-crlf"]
CHUNK_ORDER = ["64B", "1KiB", "16KiB"]
LINE_GROUP = "e-long-line"


def load(home, stat):
    """{(group, function, value): (ns per iteration, bytes per iteration)}"""
    results = {}
    for bench in home.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        if stat == "median":
            est = json.loads((bench.parent / "estimates.json").read_text())
            ns = est["median"]["point_estimate"]
        else:
            sample = json.loads((bench.parent / "sample.json").read_text())
            ns = min(t / i for t, i in zip(sample["times"], sample["iters"]))
        throughput = (meta.get("throughput") or {}).get("Bytes")
        key = (meta["group_id"], meta.get("function_id"), meta.get("value_str"))
        results[key] = (ns, throughput)
    return results


def load_interleaved(home):
    """The interleaved pass, in the shape of load(): fastest round per parser."""
    path = home / "parse-interleaved.json"
    if not path.exists():
        return {}, {}
    results, rounds = {}, {}
    for case, entry in json.loads(path.read_text()).items():
        corpus, chunk = case.split("/")
        rounds[case] = entry["rounds"]
        for name in PARSERS + [BASELINE] + FLOORS:
            if name in entry:
                results[(corpus, name, chunk)] = (entry[name], entry["bytes"])
    return results, rounds


def mbps(ns, nbytes):
    return nbytes / (ns * 1e-9) / 1e6


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_events(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.1f}"


def chunked_table(results, corpora):
    head = (
        ["corpus", "chunk"]
        + [f"{p} MB/s" for p in PARSERS]
        + [
            f"{BASELINE} MB/s",
            f"{UTF8} MB/s",
            "vs fastest peer (≥2x)",
            "memchr / postsource (≤3x @16KiB)",
            "postsource events/s",
            f"{HANDOFF} / 2x-peer budget",
            f"{UTF8} / 3x-memchr budget",
        ]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    misses = []
    for corpus in CHUNKED:
        for chunk in CHUNK_ORDER:
            row = [corpus, chunk]
            rates = {}
            times = {}
            for name in PARSERS + [BASELINE, UTF8]:
                r = results.get((corpus, name, chunk))
                if r is None:
                    row.append("–")
                    continue
                ns, nbytes = r
                times[name] = ns
                rates[name] = mbps(ns, nbytes)
                row.append(fmt_rate(rates[name]))
            if "postsource" not in rates:
                continue
            peers = {p: rates[p] for p in PEERS if p in rates}
            if peers:
                best = max(peers, key=peers.get)
                ratio = rates["postsource"] / peers[best]
                ok = ratio >= 2.0
                row.append(f"{ratio:.2f}x ({best}) {'✓' if ok else '✗'}")
                if not ok:
                    misses.append(f"{corpus}/{chunk}: {ratio:.2f}x the fastest peer ({best})")
            else:
                row.append("–")
            if BASELINE in rates:
                slower = rates[BASELINE] / rates["postsource"]
                mark = ""
                if chunk == "16KiB":
                    ok = slower <= 3.0
                    mark = " ✓" if ok else " ✗"
                    if not ok:
                        misses.append(f"{corpus}/{chunk}: {slower:.2f}x slower than the memchr scan")
                row.append(f"{slower:.2f}x{mark}")
            else:
                row.append("–")
            events = corpora.get(corpus, {}).get("events")
            row.append(fmt_events(events / (times["postsource"] * 1e-9)) if events else "–")
            # The time 2x the fastest peer allows, and how much of it the chunk
            # handoff alone takes: the parsing has to fit in the rest.
            handoff = results.get((corpus, HANDOFF, chunk))
            if peers and handoff:
                budget = times[best] / 2
                row.append(f"{handoff[0] / budget:.0%}")
            else:
                row.append("–")
            # Likewise the UTF-8 check against 3x the memchr scan's time.
            if UTF8 in times and BASELINE in times:
                row.append(f"{times[UTF8] / (3 * times[BASELINE]):.0%}")
            else:
                row.append("–")
            lines.append("| " + " | ".join(row) + " |")
    return lines, misses


def size_bytes(label):
    n = int("".join(c for c in label if c.isdigit()))
    return n * (1024 * 1024 if label.endswith("MiB") else 1024)


def line_table(results):
    values = sorted(
        {v for (g, _, v) in results if g == LINE_GROUP and v}, key=size_bytes
    )
    head = ["parser"] + [f"{v}: ms (MB/s)" for v in values] + ["time ratio per 2x line"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    misses = []
    for name in PARSERS + [BASELINE] + FLOORS:
        row = [name]
        got = []
        for v in values:
            r = results.get((LINE_GROUP, name, v))
            if r is None:
                row.append("skipped")
                continue
            ns, nbytes = r
            got.append((v, ns))
            row.append(f"{ns / 1e6:,.2f} ({fmt_rate(mbps(ns, nbytes))})")
        ratios = []
        for (va, a), (vb, b) in zip(got, got[1:]):
            if size_bytes(vb) == 2 * size_bytes(va):
                ratios.append(f"{va}→{vb}: {b / a:.2f}x")
                # Only lines of MiBs count: short ones fit in cache and take ~0.1 ms.
                if name == "postsource" and size_bytes(va) >= 1024 * 1024 and b / a > 2.6:
                    misses.append(f"e-long-line {va}→{vb}: {b / a:.2f}x time for 2x the line")
        row.append(", ".join(ratios) or "–")
        lines.append("| " + " | ".join(row) + " |")
    return lines, misses


def main():
    args = sys.argv[1:]
    stat = "min"
    if args[:1] == ["--stat"]:
        stat, args = args[1], args[2:]
    if stat not in ("min", "median"):
        sys.exit("--stat is min or median")
    home = pathlib.Path(args[0] if args else "target/criterion")
    results = load(home, stat)
    if not results:
        sys.exit(f"no criterion results under {home}")
    meta = home / "parse-corpora.json"
    corpora = json.loads(meta.read_text()) if meta.exists() else {}
    label = "fastest of the criterion samples" if stat == "min" else "criterion's median"
    print(f"### Chunked corpora, criterion ({label}; MB = 10^6 bytes)\n")
    chunked, misses = chunked_table(results, corpora)
    print("\n".join(chunked))
    inter, rounds = load_interleaved(home)
    if inter:
        n = f"{min(rounds.values())}–{max(rounds.values())}"
        print(f"\n### Chunked corpora, interleaved pass (parsers in turn, fastest of {n} rounds each)\n")
        print("These ratios are the ones to trust on a loaded machine; the targets below use them.\n")
        table, misses = chunked_table(inter, corpora)
        print("\n".join(table))
    print("\n### (e) one long line in 4-byte chunks\n")
    lines, line_misses = line_table(results)
    print("\n".join(lines))
    misses += line_misses
    print("\n### Targets\n")
    if misses:
        print("Missed:\n" + "\n".join(f"- {m}" for m in misses))
    else:
        print("All targets met (≥2x the fastest peer everywhere, ≤3x the memchr scan at 16 KiB, (e) linear).")
    if corpora:
        print("\nCorpora: " + ", ".join(
            f"{k} {v['bytes'] / 1e6:.2f} MB / {v['events']:,} events" for k, v in corpora.items()
        ))


if __name__ == "__main__":
    main()
