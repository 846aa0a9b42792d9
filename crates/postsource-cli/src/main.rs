//! The `postsource` binary: curl for Server-Sent Events, plus `serve` and `demo`.
//!
//! A thin shell in the ripgrep manner: `args` defines the command line, `request`
//! checks it (usage errors exit 2 before anything is sent), `run` drives the
//! library's client and maps its items onto the `output` writers, `record` is the
//! recording format, `serve` is the local test server and `demo` ties the two
//! together. The process-wide decisions — SIGINT handling, exit codes, never
//! waiting on blocked threads at exit — are made here.

mod args;
mod demo;
mod output;
mod record;
mod request;
mod run;
mod serve;

use std::io::Write;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};

fn main() {
    // SIGINT is taken over before anything else, so that a Ctrl-C however early
    // still ends in a `close` line and exit 130, never the default termination.
    let runtime = runtime();
    let interrupt = runtime.block_on(async { run::Interrupt::install() });
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Completions { shell }) => {
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut Cli::command(), "postsource", &mut out);
            let _ = out.flush();
            0
        }
        Some(Command::Serve(serve_args)) => {
            let config = serve::Config {
                port: serve_args.port,
                pace: Duration::from_millis(serve_args.pace_ms),
                keep_alive: serve_args.keep_alive,
                replay: serve_args.replay,
                speed: serve_args.speed,
                web: serve_args.web,
                quiet: serve_args.quiet,
            };
            // `serve` waits for Ctrl-C itself (tokio hands the signal to every listener).
            drop(interrupt);
            runtime.block_on(serve::run(config))
        }
        Some(Command::Demo(demo_args)) => match interrupt {
            Ok(mut interrupt) => runtime.block_on(demo::run(demo_args, &mut interrupt)),
            Err(e) => fatal(&e),
        },
        None => match (request::from_args(&cli.client), interrupt) {
            (Err(e), _) => {
                eprintln!("postsource: {e}");
                eprintln!("Run `postsource --help` for usage and examples.");
                2
            }
            (Ok(_), Err(e)) => fatal(&e),
            (Ok(spec), Ok(mut interrupt)) => runtime.block_on(async {
                let settings = run::Settings::from_args(&cli.client);
                run::run(&cli.client, spec, settings, &mut interrupt).await
            }),
        },
    };
    // Every line has been flushed already; exiting here (instead of dropping the
    // runtime) never waits for a thread blocked on stdin or a slow socket.
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("postsource: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    }
}

fn fatal(e: &std::io::Error) -> i32 {
    eprintln!("postsource: cannot handle Ctrl-C: {e}");
    1
}
