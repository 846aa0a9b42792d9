//! `postsource demo`: the project's main job on a built-in default.
//!
//! It starts the server in-process on a free port and runs the ordinary client path
//! — the very arguments a user would type, parsed by the same clap definitions — to
//! POST a prompt to the simulated OpenAI-compatible endpoint and stream the answer:
//! the stream opening, the tokens arriving, a clean end at `data: [DONE]`. Nothing in
//! it is demo-only, so it also exercises the whole stack in CI.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde_json::json;

use crate::args::{Cli, DemoArgs};
use crate::run::{self, Interrupt, Settings};
use crate::{request, serve};

/// Runs the demo and returns the exit status.
pub async fn run(demo: DemoArgs, interrupt: &mut Interrupt) -> i32 {
    let config = serve::Config {
        port: 0,
        pace: Duration::from_millis(demo.pace_ms),
        keep_alive: Duration::from_secs(15),
        replay: None,
        speed: 1.0,
        web: None,
        quiet: true,
    };
    let server = match serve::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("postsource demo: {e}");
            return 1;
        }
    };
    let url = format!("http://{}/v1/chat/completions", server.addr);
    let body = json!({
        "model": "postsource-sim",
        "stream": true,
        "messages": [{"role": "user", "content": demo.prompt}],
    })
    .to_string();
    let value_name = |v: &dyn Fn() -> Option<clap::builder::PossibleValue>| {
        v().map(|p| p.get_name().to_owned()).unwrap_or_default()
    };
    let mode = value_name(&|| demo.output.to_possible_value());
    let color = value_name(&|| demo.color.to_possible_value());
    let argv = [
        "postsource",
        "--json",
        &body,
        "--until-data",
        "[DONE]",
        "-o",
        &mode,
        "--color",
        &color,
        &url,
    ];
    eprintln!("postsource demo: simulated LLM at {url}");
    eprintln!(
        "postsource demo: postsource --json {} --until-data '[DONE]' {url}\n",
        shell_quote(&body)
    );
    let cli = Cli::parse_from(argv);
    let code = match request::from_args(&cli.client) {
        Ok(spec) => {
            let settings = Settings::from_args(&cli.client);
            run::run(&cli.client, spec, settings, interrupt).await
        }
        Err(e) => {
            eprintln!("postsource demo: {e}");
            2
        }
    };
    server.shutdown(Duration::from_secs(1)).await;
    code
}

/// `text` in single quotes for a POSIX shell, so that the command printed can be
/// pasted as it is: each `'` in it becomes `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn the_quoted_text_comes_back_whole_from_a_shell() {
        let text = r#"{"content":"it's a 'test' \ $HOME `x` "q""}"#;
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(text)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
    }
}
