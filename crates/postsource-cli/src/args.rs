//! The command line, as clap derive types, and the help text that teaches it.
//!
//! The client options are exactly those of `shared/contract-cli.md` (names, values,
//! defaults), grouped under the same headings, plus curl-style extras that do not
//! change the contract's behaviour (`-i`, `-v`, `-A`, `--bearer`, `--compressed`,
//! `-k`, `--record`, `--color`). Values are parsed here into their final types so that
//! a bad value is a usage error (exit 2) before anything is sent; checks that need
//! more than one value, or the file system, live in `request`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::{ColorChoice, Mode};

const EXAMPLES: &str = "\
Examples:
  # Watch a stream (GET), laid out for reading:
  postsource http://127.0.0.1:8080/ticks

  # POST a prompt to an OpenAI-style endpoint, stop at the sentinel:
  postsource --json '{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' \\
      --until-data '[DONE]' http://127.0.0.1:8080/v1/chat/completions

  # The same, body from a file, only the data, into jq:
  postsource --json @request.json --until-data '[DONE]' -o data URL | jq .

  # Machine-readable lines (the stable format for scripts and tests):
  postsource -o jsonl -n 5 http://127.0.0.1:8080/ticks

  # Resume a stream, reconnect at most 3 times, give up after 30 s:
  postsource --last-event-id 41 --max-retries 3 --timeout 30 URL

  # Record a stream with its timing, and serve it back later:
  postsource --record chat.jsonl ... URL
  postsource serve --replay chat.jsonl      # then: postsource http://127.0.0.1:8080/replay

  # Call an MCP server (Streamable HTTP); it wants both types in Accept, and its
  # event ids must not make the POST be sent again:
  postsource -H 'Accept: application/json, text/event-stream' --reconnect never \\
      --json @request.json -o data http://127.0.0.1:8000/mcp

  # ... or resume its reply, if the connection breaks, as the transport does: by GET
  # with Last-Event-ID and the session header (serve's /mcp answers 204 once the
  # reply is complete, which ends the run):
  postsource -H 'Accept: application/json, text/event-stream' -H 'Mcp-Session-Id: ID' \\
      --resume-with-get --json @call.json -o data http://127.0.0.1:8080/mcp

  # A local server to try it all, and the one-command demo:
  postsource serve
  postsource demo

Output:
  pretty is the default. Colour is used only when stdout is a terminal and NO_COLOR is
  unset (or with --color always); otherwise the same layout is written as plain text.
  The status line (spinner, event count, time) is drawn on stderr only when stderr is
  a terminal.

Exit status:
  0 the stream ended normally (no reconnect), 204 No Content, -n or --until-data reached
  1 failure: connect, HTTP status, content type, timeout, retries exhausted, too large
  2 usage error (nothing was sent)
  130 interrupted (Ctrl-C); a `close` line with reason `aborted` is written first";

/// postsource: curl for Server-Sent Events, over any HTTP method.
#[derive(Debug, Parser)]
#[command(
    name = "postsource",
    version,
    about = "curl for Server-Sent Events: stream SSE from any HTTP method (GET, POST, ...)",
    long_about = "curl for Server-Sent Events: stream SSE from any HTTP method.\n\n\
        postsource sends one request, checks that the answer is an event stream \
        (status 200, content type text/event-stream), and prints the events as they \
        arrive. It reconnects the way a browser EventSource does (sending Last-Event-ID, \
        honouring retry:), but for any method, headers and body. Run \
        `postsource serve` for a local server to practise on, or `postsource demo`.",
    after_help = "Run `postsource --help` for examples.",
    after_long_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// A subcommand, instead of fetching a URL.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Fetching a URL.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a local SSE server for building and testing clients (see `serve --help`).
    Serve(ServeArgs),
    /// Start the server in-process and stream a simulated LLM answer from it.
    Demo(DemoArgs),
    /// Print a shell completion script: `postsource completions bash > ...`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `--reconnect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReconnectArg {
    /// After EOF or a network error, if the method is idempotent or the server sent an id.
    Auto,
    /// After every EOF or network error.
    Always,
    /// Never.
    Never,
}

/// Options for fetching a stream.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The URL (http or https).
    #[arg(required = true, value_name = "URL")]
    pub url: Option<String>,

    /// HTTP method. Default GET, or POST when a body is given.
    #[arg(short = 'X', long, value_name = "METHOD", help_heading = "Request")]
    pub method: Option<String>,
    /// A request header, 'Name: value'. Repeatable; overrides the defaults
    /// (Accept: text/event-stream, Cache-Control: no-cache).
    #[arg(
        short = 'H',
        long = "header",
        value_name = "'Name: value'",
        help_heading = "Request"
    )]
    pub headers: Vec<String>,
    /// Request body, sent as is: TEXT, @FILE, or @- for stdin.
    #[arg(
        short = 'd',
        long,
        value_name = "TEXT|@FILE|@-",
        help_heading = "Request",
        conflicts_with = "json"
    )]
    pub data: Option<String>,
    /// Request body with Content-Type: application/json: TEXT, @FILE, or @- for stdin.
    #[arg(long, value_name = "TEXT|@FILE|@-", help_heading = "Request")]
    pub json: Option<String>,
    /// Last-Event-ID for the first request.
    #[arg(long, value_name = "ID", help_heading = "Request")]
    pub last_event_id: Option<String>,
    /// Send Authorization: Bearer TOKEN.
    #[arg(long, value_name = "TOKEN", help_heading = "Request")]
    pub bearer: Option<String>,
    /// The User-Agent header [default: postsource/VERSION].
    #[arg(short = 'A', long, value_name = "NAME", help_heading = "Request")]
    pub user_agent: Option<String>,
    /// Ask for a compressed response (gzip, brotli, deflate) and decompress it.
    #[arg(long, help_heading = "Request")]
    pub compressed: bool,
    /// Accept any TLS certificate (for local testing only).
    #[arg(short = 'k', long, help_heading = "Request")]
    pub insecure: bool,

    /// auto (default): reconnect after EOF or a network error when the method is
    /// idempotent (GET, HEAD, PUT, DELETE, OPTIONS) or the server has sent an event id.
    /// always: after every EOF or network error. never: never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "auto|always|never",
        help_heading = "Reconnection",
        hide_possible_values = true,
        hide_default_value = true
    )]
    pub reconnect: ReconnectArg,
    /// Give up after N reconnection attempts in a row without an event.
    #[arg(long, value_name = "N", help_heading = "Reconnection")]
    pub max_retries: Option<u32>,
    /// Initial reconnection delay in milliseconds (the server's retry: overrides it).
    #[arg(long, value_name = "MS", help_heading = "Reconnection")]
    pub retry: Option<u64>,
    /// Send each reconnection as a GET without the body (or its Content-Type), with
    /// Last-Event-ID and the other headers: how MCP's Streamable HTTP resumes the
    /// reply to a POST. When to reconnect is unchanged (auto: a POST only after the
    /// server has sent an event id), so a reply that ended is asked for once more:
    /// `serve`'s /mcp answers 204, which ends the run; a server that holds that GET
    /// open keeps it going (bound it with -n or --timeout).
    #[arg(long, help_heading = "Reconnection")]
    pub resume_with_get: bool,

    /// Limit for the whole run, in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Limits and timeouts")]
    pub timeout: Option<Duration>,
    /// Limit for establishing each connection, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Limits and timeouts")]
    pub connect_timeout: Option<Duration>,
    /// No bytes for this long: the connection is dropped (and reconnected per policy).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Limits and timeouts")]
    pub idle_timeout: Option<Duration>,
    /// Largest event data accepted, in bytes (default 16 MiB); a larger event is an error
    /// (too_large), as soon as a data: line takes it over.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits and timeouts")]
    pub max_event_size: Option<u64>,

    /// Exit 0 after N events.
    #[arg(short = 'n', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Ending")]
    pub max_events: Option<u64>,
    /// Exit 0 after an event whose data equals TEXT, e.g. [DONE].
    #[arg(long, value_name = "TEXT", help_heading = "Ending")]
    pub until_data: Option<String>,

    /// Output mode [default: pretty].
    #[arg(
        short = 'o',
        long,
        value_enum,
        value_name = "pretty|jsonl|data|raw",
        help_heading = "Output"
    )]
    pub output: Option<Mode>,
    /// Show the response status and headers (pretty, data, raw).
    #[arg(short = 'i', long, help_heading = "Output")]
    pub include: bool,
    /// Show the request, the response head and reconnections on stderr.
    #[arg(short = 'v', long, help_heading = "Output")]
    pub verbose: bool,
    /// Colour in pretty mode: auto (when stdout is a terminal and NO_COLOR is unset),
    /// always or never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "auto|always|never",
        help_heading = "Output",
        hide_possible_values = true,
        hide_default_value = true
    )]
    pub color: ColorChoice,
    /// Save the stream with its timing to FILE (JSON lines), for `serve --replay`.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub record: Option<PathBuf>,
}

/// The endpoints of `postsource serve`, shown in `serve --help` and at `GET /`.
pub const SERVE_ENDPOINTS: &str = "\
Endpoints (every one answers CORS preflights; idle streams get a `: keep-alive`
comment line, without a blank line, so no client sees an empty event, and only
where a line has ended; request bodies are read up to 32 MiB, a larger one is 413
in the endpoint's own error shape):
  ANY  /echo                      the request streamed back: events `method`, `url`,
                                  one `header` per header, `body`, then `request` (all
                                  of it as JSON); then the stream ends
  POST /v1/chat/completions       OpenAI-compatible simulated model. \"stream\": true
                                  streams chat.completion.chunk JSON token by token
                                  (role delta, content deltas, finish_reason, ids on
                                  every event, then data: [DONE]); resumes after
                                  Last-Event-ID (204 once all was sent: stop);
                                  ?pace_ms=N or x-postsource-pace-ms: N
                                  set the pace; stream_options.include_usage adds a
                                  usage chunk. Without stream: a chat.completion JSON.
                                  Bad JSON: 400 with an OpenAI-shaped error.
  POST /v1/responses              the same model, as OpenAI's Responses API: named
                                  events response.created, response.in_progress,
                                  output_item/content_part added, one
                                  response.output_text.delta per token, the .done
                                  events, response.completed (response.incomplete
                                  when max_output_tokens cut it); sequence_number on
                                  each, no ids. Without stream: the response JSON.
  POST /v1/messages               the same model, Anthropic-compatible: named events
                                  message_start, content_block_start, ping, one
                                  content_block_delta per token, content_block_stop,
                                  message_delta, message_stop; no ids, like the API.
                                  Needs model and max_tokens; pace as above. Without
                                  stream: a message JSON. Errors Anthropic-shaped.
       ?error_after=N             on all three: the API's own in-stream error after N
                                  tokens, then the end (chat: the error chunk has no
                                  id, so a client that resumes gets the rest); a bad
                                  ?pace_ms= or ?error_after=, or a method other than
                                  POST (405), is refused in the API's error shape
  GET  /v1/models                 the simulated model's listing, read by the OpenAI
                                  and the Anthropic SDKs; /v1/models/{id} the model
  POST /mcp                       a Model Context Protocol server (Streamable HTTP,
                                  revisions 2024-11-05 to 2025-11-25): initialize opens
                                  a session (Mcp-Session-Id); tools `countdown` (a
                                  progress notification per step, paced, then the
                                  result) and `echo`; every reply an event stream with
                                  ids, led by a priming event (2025-11-25);
                                  notifications 202 (notifications/cancelled stops that
                                  reply, without a response). Clients must Accept both
                                  application/json and text/event-stream (else 406).
  GET  /mcp                       with Last-Event-ID: the rest of that reply (204 when
                                  all was sent); without: the server's quiet stream
  DELETE /mcp                     ends the session and its replies (its id then 404s)
       ?abort_after=N             each /mcp connection is cut after N messages (the
                                  reply goes on: resume it by GET)
  ANY  /ticks                     event `tick`, id N, data N; the first one carries
                                  retry:; goes on from Last-Event-ID + 1. ?interval_ms=1000
                                  ?count=N (end each connection after N events)
                                  ?total=N (after tick N, answer 204: stop)
                                  ?retry=2000 (the retry: value sent)
  ANY  /replay                    the --replay recording, with its timing (also served
                                  at the recorded request's path when that is free);
                                  resumes after Last-Event-ID (204 when nothing follows)
Test endpoints, for client conformance:
  ANY  /test/status/{code}        that status (200-999) with a JSON error body (none
                                  for 204, 205, 304)
  ANY  /test/no-content           204 No Content
  ANY  /test/content-type?type=T  200 with content type T (default text/plain)
  ANY  /test/redirect?to=/echo&status=307   a redirect (307/308 keep method and body)
  ANY  /test/drip?delay_ms=5      three events written one byte per write (CRLF, CR,
                                  a comment, multi-byte UTF-8, ids)
  ANY  /test/close-mid-event      event id 1, then half an event, then EOF
  ANY  /test/abort?events=2       N events (ids 1..N, N at most 100000), then the
                                  connection is cut
  ANY  /test/large?bytes=100000   events `before`, one of that many bytes, `after`
  ANY  /test/stall?events=1       N events (at most 100000), then silence (no
                                  keep-alive)
  ANY  /test/slow?delay_ms=2000   waits before the response headers, then one event
  ANY  /test/events               named events, multi-line and empty data, ids, an id
                                  reset, a comment, retry: (these two as blocks of
                                  their own, on purpose: a spec client ignores them)
  GET  /                          this list, or the --web folder's index.html";

/// `postsource serve`.
#[derive(Debug, Args)]
#[command(
    about = "Run a local SSE server for building and testing clients",
    long_about = "Run a local SSE server on 127.0.0.1 for building and testing clients.\n\n\
        The first line on stdout is `listening on http://127.0.0.1:PORT` (useful with \
        --port 0). One log line per request goes to stderr; a stream logs again when it \
        ends, saying whether it completed or the client disconnected (generation stops \
        at once). A connection that has not sent its request head within 30 s is \
        closed. Ctrl-C or SIGTERM shuts it down gracefully: open streams are ended, \
        then the server exits.",
    after_long_help = SERVE_ENDPOINTS
)]
pub struct ServeArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = crate::serve::DEFAULT_PORT)]
    pub port: u16,
    /// Delay between simulated LLM tokens, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 40)]
    pub pace_ms: u64,
    /// Send a `: keep-alive` comment after this many idle seconds (0: never).
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = parse_secs_or_zero)]
    pub keep_alive: Duration,
    /// Play back a recording made with `postsource --record FILE` at /replay.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Playback speed for --replay: 2 is twice as fast, 0 sends without delays.
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "replay", value_parser = parse_speed)]
    pub speed: f64,
    /// Serve the static files in DIR at / (e.g. the browser demo page).
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// No request log on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `postsource demo`.
#[derive(Debug, Args)]
#[command(
    long_about = "Starts `postsource serve` in-process on a free port and POSTs a \
    prompt to its simulated OpenAI-compatible endpoint, printing the streamed answer \
    in pretty mode: the stream opening, the tokens arriving, a clean end. The same as \
    running `postsource serve --port 0` and then\n\n  postsource --json \
    '{\"model\":\"postsource-sim\",\"stream\":true,\"messages\":[...]}' \
    --until-data '[DONE]' http://127.0.0.1:PORT/v1/chat/completions"
)]
pub struct DemoArgs {
    /// The prompt to send.
    #[arg(
        long,
        default_value = "Explain Server-Sent Events over POST in one paragraph."
    )]
    pub prompt: String,
    /// Delay between tokens, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 60)]
    pub pace_ms: u64,
    /// Output mode.
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "pretty",
        value_name = "pretty|jsonl|data|raw"
    )]
    pub output: Mode,
    /// Colour in pretty mode.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "auto|always|never"
    )]
    pub color: ColorChoice,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let d = parse_secs_or_zero(s)?;
    if d.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(d)
}

fn parse_secs_or_zero(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{s}` is not a valid duration"))
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a speed (a number, 0 or more)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_parse_with_fractions() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("x").is_err());
    }
}
