//! The `client` benchmark: postsource's client, `reqwest-eventsource` and
//! LaunchDarkly's `eventsource-client` in the same run, each reading the same
//! LLM-like stream (one event per server write, ending with `[DONE]`) from an axum
//! server on 127.0.0.1. Criterion reports events/s (`Throughput::Elements`);
//! afterwards an interleaved pass prints the median events/s and client CPU time
//! per event (the client runs on this thread's current-thread runtime, the
//! server on its own thread, so this thread's CPU time is the client's).
//!
//! Run: `cargo bench -p postsource-bench --bench client`.

mod common;

use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use common::ClientKind;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// One full `/llm` stream; returns the events seen (the `[DONE]` one included).
async fn read_llm(client: ClientKind, url: &str, shared: &reqwest012::Client) -> u64 {
    common::consume(client, url, shared, |data| {
        if data == "[DONE]" {
            ControlFlow::Break(())
        } else {
            black_box(data);
            ControlFlow::Continue(())
        }
    })
    .await
}

/// This thread's CPU time (user + system), to the nanosecond.
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| {
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    })
}

fn clients(c: &mut Criterion) {
    let base = common::spawn_server(1);
    let url = format!("{base}/llm");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let shared = reqwest012::Client::new();
    let events = rt.block_on(read_llm(ClientKind::Postsource, &url, &shared));
    for client in ClientKind::ALL {
        let got = rt.block_on(read_llm(client, &url, &shared));
        assert_eq!(
            got,
            events,
            "{} saw {got} events, expected {events}",
            client.name()
        );
    }

    let mut group = c.benchmark_group("client-llm");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(events));
    for client in ClientKind::ALL {
        group.bench_function(BenchmarkId::new(client.name(), events), |b| {
            b.iter(|| rt.block_on(read_llm(client, &url, &shared)));
        });
    }
    group.finish();

    // The clients take turns, round after round, and each figure is the median of
    // its rounds: the machine's load then weighs on all alike. The rate varies
    // a lot from run to run anyway, with how many events each read happens to
    // carry (the server writes one per event).
    const ROUNDS: usize = 15;
    const STREAMS_PER_ROUND: u64 = 3;
    let mut rounds: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ClientKind::ALL.len()];
    for _ in 0..ROUNDS {
        for (client, samples) in ClientKind::ALL.into_iter().zip(&mut rounds) {
            let (start, cpu0) = (Instant::now(), thread_cpu());
            for _ in 0..STREAMS_PER_ROUND {
                rt.block_on(read_llm(client, &url, &shared));
            }
            let n = (STREAMS_PER_ROUND * events) as f64;
            let cpu = match (cpu0, thread_cpu()) {
                (Some(a), Some(b)) => (b - a).as_secs_f64() * 1e6 / n,
                _ => f64::NAN,
            };
            samples.push((n / start.elapsed().as_secs_f64(), cpu));
        }
    }
    println!(
        "\n| client | events/s (wall, median of {ROUNDS} rounds) | client CPU µs/event (median) |\n|---|---|---|"
    );
    for (client, samples) in ClientKind::ALL.into_iter().zip(&rounds) {
        let median = |f: fn(&(f64, f64)) -> f64| {
            let mut v: Vec<f64> = samples.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "| {} | {:.0} | {:.2} |",
            client.name(),
            median(|s| s.0),
            median(|s| s.1)
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots().nresamples(10_000);
    targets = clients
}
criterion_main!(benches);
