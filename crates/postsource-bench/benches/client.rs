//! The `client` benchmark: postsource's client, `reqwest-eventsource` and
//! LaunchDarkly's `eventsource-client` in the same run, each reading the same
//! LLM-like stream (one event per server write, ending with `[DONE]`) from an axum
//! server on 127.0.0.1. Criterion reports events/s (`Throughput::Elements`);
//! afterwards a fixed pass prints wall time and client CPU time per event (the
//! client runs on this thread's current-thread runtime, the server on its own
//! thread, so this thread's CPU time is the client's).
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

/// This thread's CPU time (user + system), from /proc, in clock ticks of 10 ms:
/// coarse, so the CPU pass runs long enough (about a second per client).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
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

    println!("\n| client | events/s (wall) | client CPU µs/event |\n|---|---|---|");
    for client in ClientKind::ALL {
        let (runs, start, cpu0) = (20u64, Instant::now(), thread_cpu());
        for _ in 0..runs {
            rt.block_on(read_llm(client, &url, &shared));
        }
        let wall = start.elapsed();
        let cpu = match (cpu0, thread_cpu()) {
            (Some(a), Some(b)) => format!(
                "{:.2}",
                (b - a).as_secs_f64() * 1e6 / (runs * events) as f64
            ),
            _ => "n/a".into(),
        };
        let rate = (runs * events) as f64 / wall.as_secs_f64();
        println!("| {} | {rate:.0} | {cpu} |", client.name());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots().nresamples(10_000);
    targets = clients
}
criterion_main!(benches);
