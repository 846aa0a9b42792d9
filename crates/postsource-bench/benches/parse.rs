//! The `parse` benchmark: postsource and its peers side by side, in the same run,
//! on the generated corpora of `postsource_bench::corpus`, fed as pre-split
//! `Bytes` chunks (the split happens outside the timed loop).
//!
//! Groups (criterion ids `<corpus>/<parser>/<chunk size>`):
//! - `a-llm`, `b-big-events`, `c-tiny`, `d-llm-crlf`, each in 64 B, 1 KiB and 16 KiB
//!   chunks;
//! - `e-long-line`: one event whose data is a single line, in 4-byte chunks, at
//!   32 KiB and 64 KiB (every parser) and at 4 MiB and 8 MiB (parsers that stay
//!   linear; a parser known or found to be quadratic is skipped with a note).
//!
//! Beside the parsers run three baselines: the memchr newline count (the least
//! work a parser could do on the bytes), the UTF-8 check (the least a parser that
//! decodes as the spec says must do on them) and the chunk handoff (each chunk
//! cloned and dropped, the least work it could do per chunk).
//!
//! Throughput is in bytes, so criterion reports MB/s. The byte and event counts of
//! every corpus go to `<criterion home>/parse-corpora.json`, from which
//! `scripts/bench-table.py` derives events/s.
//!
//! Criterion times one benchmark after another, so on a shared machine a burst of
//! someone else's build can land on one parser and not the next. After the
//! criterion groups, an *interleaved* pass runs the parsers in turn on each corpus
//! and chunk size, round after round (bounded in time), and keeps each one's
//! fastest round in `<criterion home>/parse-interleaved.json`: the ratios between
//! parsers from it are the ones to trust under load.
//!
//! Run it all with `scripts/bench-parse.sh`; a subset with
//! `cargo bench -p postsource-bench --bench parse -- <filter>` (a filter skips the
//! interleaved pass unless it is `interleaved`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use postsource_bench::corpus;
use postsource_bench::peers::Impl;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const CHUNKS: [(usize, &str); 3] = [(64, "64B"), (KIB, "1KiB"), (16 * KIB, "16KiB")];

/// Quadratic on one long line in small chunks (it re-parses its whole buffer on
/// every chunk), so it only runs the short lines of (e): at 8 MiB it would take
/// hours.
const QUADRATIC_ON_LONG_LINES: [Impl; 1] = [Impl::EventsourceStream];

/// A parser not in [`QUADRATIC_ON_LONG_LINES`] that needs longer than this for one
/// pass over a 1 MiB line is skipped on the 4 and 8 MiB lines.
const PILOT_LIMIT: Duration = Duration::from_secs(2);

fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/criterion"
    ))
}

struct Corpus {
    name: &'static str,
    bytes: Bytes,
    events: u64,
}

impl Corpus {
    fn new(name: &'static str, bytes: Bytes) -> Self {
        let events = Impl::Postsource.tally(std::slice::from_ref(&bytes)).events;
        Corpus {
            name,
            bytes,
            events,
        }
    }
}

fn write_meta(corpora: &[&Corpus]) {
    let entries: Vec<String> = corpora
        .iter()
        .map(|c| {
            format!(
                "  \"{}\": {{\"bytes\": {}, \"events\": {}}}",
                c.name,
                c.bytes.len(),
                c.events
            )
        })
        .collect();
    let home = criterion_home();
    let path = home.join("parse-corpora.json");
    let written = std::fs::create_dir_all(&home)
        .and_then(|()| std::fs::write(&path, format!("{{\n{}\n}}\n", entries.join(",\n"))));
    if let Err(err) = written {
        eprintln!("note: could not write {}: {err}", path.display());
    }
}

/// Runs each parser once, untimed, and says where a peer disagrees with postsource
/// on how many events there are (the agreement tests check the events themselves).
fn check_counts(corpus: &str, label: &str, chunks: &[Bytes], impls: &[Impl]) {
    let expected = Impl::Postsource.tally(chunks).events;
    for &imp in impls {
        if imp.is_baseline() || imp == Impl::Postsource {
            continue;
        }
        let got = imp.tally(chunks).events;
        if got != expected {
            eprintln!(
                "note: {corpus}/{label}: {} dispatched {got} events, postsource {expected}",
                imp.name()
            );
        }
    }
}

fn bench_chunked(c: &mut Criterion, corpus: &Corpus) {
    let mut group = c.benchmark_group(corpus.name);
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Bytes(corpus.bytes.len() as u64));
    for (size, label) in CHUNKS {
        let chunks = corpus::split(&corpus.bytes, size);
        check_counts(corpus.name, label, &chunks, &Impl::ALL);
        for imp in Impl::ALL {
            group.bench_with_input(BenchmarkId::new(imp.name(), label), &chunks, |b, chunks| {
                b.iter(|| black_box(imp.tally(black_box(chunks))));
            });
        }
    }
    group.finish();
}

fn bench_long_line(c: &mut Criterion, lines: &[Corpus]) {
    let mut group = c.benchmark_group("e-long-line");
    group.sampling_mode(SamplingMode::Flat);
    let pilot = corpus::split(&corpus::long_line(MIB), 4);
    for line in lines {
        let chunks = corpus::split(&line.bytes, 4);
        let label = line.name.trim_start_matches("e-long-line-");
        let long = line.bytes.len() > 256 * KIB;
        let mut impls = Vec::new();
        for imp in Impl::ALL {
            if long && QUADRATIC_ON_LONG_LINES.contains(&imp) {
                eprintln!(
                    "note: e-long-line/{label}: {} skipped (quadratic on a long line in \
                     small chunks; see its 32KiB and 64KiB runs)",
                    imp.name()
                );
                continue;
            }
            if long {
                let start = Instant::now();
                black_box(imp.tally(&pilot));
                if start.elapsed() > PILOT_LIMIT {
                    eprintln!(
                        "note: e-long-line/{label}: {} skipped (a 1 MiB line took {:?})",
                        imp.name(),
                        start.elapsed()
                    );
                    continue;
                }
            }
            impls.push(imp);
        }
        check_counts("e-long-line", label, &chunks, &impls);
        group.throughput(Throughput::Bytes(line.bytes.len() as u64));
        for imp in impls {
            group.bench_with_input(BenchmarkId::new(imp.name(), label), &chunks, |b, chunks| {
                b.iter(|| black_box(imp.tally(black_box(chunks))));
            });
        }
    }
    group.finish();
}

/// Time spent on each corpus × chunk size in the interleaved pass.
const INTERLEAVED_BUDGET: Duration = Duration::from_millis(1500);
const INTERLEAVED_MAX_ROUNDS: usize = 200;

/// The criterion filter on the command line, if any (its first non-flag argument).
fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

/// The interleaved pass (see the module docs): per corpus and chunk size, each
/// parser's fastest time for one run, in nanoseconds.
fn interleaved(chunked: &[Corpus]) {
    let mut entries = Vec::new();
    for corpus in chunked {
        for (size, label) in CHUNKS {
            let chunks = corpus::split(&corpus.bytes, size);
            let mut best = [Duration::MAX; Impl::ALL.len()];
            let start = Instant::now();
            let mut rounds = 0;
            while rounds < INTERLEAVED_MAX_ROUNDS
                && (rounds < 3 || start.elapsed() < INTERLEAVED_BUDGET)
            {
                // Rotate who goes first, so none always follows the slowest.
                for k in 0..Impl::ALL.len() {
                    let i = (k + rounds) % Impl::ALL.len();
                    let t = Instant::now();
                    black_box(Impl::ALL[i].tally(black_box(&chunks)));
                    best[i] = best[i].min(t.elapsed());
                }
                rounds += 1;
            }
            let times: Vec<String> = Impl::ALL
                .iter()
                .zip(best)
                .map(|(imp, t)| format!("\"{}\": {}", imp.name(), t.as_nanos()))
                .collect();
            eprintln!("interleaved {}/{label}: {rounds} rounds", corpus.name);
            entries.push(format!(
                "  \"{}/{label}\": {{\"bytes\": {}, \"rounds\": {rounds}, {}}}",
                corpus.name,
                corpus.bytes.len(),
                times.join(", ")
            ));
        }
    }
    let path = criterion_home().join("parse-interleaved.json");
    let written = std::fs::create_dir_all(criterion_home())
        .and_then(|()| std::fs::write(&path, format!("{{\n{}\n}}\n", entries.join(",\n"))));
    if let Err(err) = written {
        eprintln!("note: could not write {}: {err}", path.display());
    }
}

fn parse(c: &mut Criterion) {
    let llm = corpus::llm(4 * MIB);
    let chunked = [
        Corpus::new("d-llm-crlf", corpus::crlf(&llm)),
        Corpus::new("a-llm", llm),
        Corpus::new("b-big-events", corpus::big_events(4 * MIB)),
        Corpus::new("c-tiny", corpus::tiny(2 * MIB)),
    ];
    let lines = [32 * KIB, 64 * KIB, 4 * MIB, 8 * MIB].map(|len| {
        let name = match len {
            l if l >= MIB => format!("e-long-line-{}MiB", l / MIB),
            l => format!("e-long-line-{}KiB", l / KIB),
        };
        Corpus::new(name.leak(), corpus::long_line(len))
    });
    write_meta(&chunked.iter().chain(&lines).collect::<Vec<_>>());
    if filter().as_deref() == Some("interleaved") {
        interleaved(&chunked);
        return;
    }
    for corpus in &chunked {
        bench_chunked(c, corpus);
    }
    bench_long_line(c, &lines);
    if filter().is_none() {
        interleaved(&chunked);
    }
}

fn config() -> Criterion {
    // Modest settings: about 70 benchmarks must fit in a few minutes on a shared
    // 2-core machine; Flat sampling suits the slow (tens of ms) iterations.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .nresamples(10_000)
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse
}
criterion_main!(benches);
