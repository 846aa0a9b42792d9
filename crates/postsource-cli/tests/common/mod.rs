//! Shared test harness: run the real `postsource` binary with a deadline, start
//! `postsource serve --port 0` as a child process, start purpose-built axum servers
//! in a background runtime, and read jsonl output.
//!
//! Every wait here is bounded: a child that overruns its deadline is killed and the
//! test fails with what it printed, so a regression shows up as a clear failure, not
//! a hung test run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_postsource");

/// "Must happen" deadlines are generous: the machine is shared and loaded.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What a finished run printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout parsed as jsonl.
    pub fn lines(&self) -> Vec<Value> {
        parse_lines(&self.stdout)
    }

    /// The `type` of each jsonl line.
    pub fn types(&self) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l["type"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// The jsonl `event` lines.
    pub fn events(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "event")
            .collect()
    }

    /// The data of each event line.
    pub fn data(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["data"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The last jsonl line.
    pub fn last(&self) -> Value {
        self.lines().pop().unwrap_or(Value::Null)
    }
}

pub fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// Runs `postsource ARGS` to completion (killed after `DEADLINE`).
pub fn run(args: &[&str]) -> Output {
    run_with(args, None, &[])
}

/// Runs with optional stdin bytes and extra environment variables.
pub fn run_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn postsource");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).unwrap();
    }
    finish(child, DEADLINE)
}

/// Waits for `child` (killing it after `deadline`) and collects its output.
pub fn finish(mut child: Child, deadline: Duration) -> Output {
    let stdout = reader_thread(child.stdout.take());
    let stderr = reader_thread(child.stderr.take());
    let code = wait(&mut child, deadline);
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    if code.is_none() {
        panic!("postsource did not finish in {deadline:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
    Output {
        code: code.unwrap(),
        stdout,
        stderr,
    }
}

fn reader_thread<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// `Some(exit code)` (None inside = killed by a signal), or `None` on timeout (the
/// child is then killed).
pub fn wait(child: &mut Child, deadline: Duration) -> Option<Option<i32>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code());
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends SIGINT to a child.
pub fn sigint(child: &Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(rc, 0, "kill(SIGINT) failed");
}

/// Reads lines from a child's stdout on a thread, so tests can wait for a line
/// with a deadline.
pub struct Lines {
    rx: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn new<R: Read + Send + 'static>(pipe: R) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The next line, or None at EOF or after `deadline`.
    pub fn next(&mut self, deadline: Duration) -> Option<String> {
        let line = self.rx.recv_timeout(deadline).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Reads until a line contains `needle`; panics with what was seen otherwise.
    pub fn until(&mut self, needle: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            match self.next(DEADLINE - start.elapsed()) {
                Some(line) if line.contains(needle) => return line,
                Some(_) => {}
                None => break,
            }
        }
        panic!("no line containing {needle:?}; saw {:#?}", self.seen);
    }

    /// Everything left until EOF (bounded).
    pub fn rest(&mut self) -> Vec<String> {
        let start = Instant::now();
        let mut out = Vec::new();
        while start.elapsed() < DEADLINE {
            match self.next(Duration::from_secs(10)) {
                Some(line) => out.push(line),
                None => break,
            }
        }
        out
    }
}

/// A started client process whose stdout is read line by line.
pub struct Running {
    pub child: Child,
    pub lines: Lines,
    pub stderr: Option<ChildStderr>,
}

/// Starts `postsource ARGS` with stdout read by line.
pub fn spawn(args: &[&str]) -> Running {
    spawn_with_stdin(args, Stdio::null())
}

pub fn spawn_with_stdin(args: &[&str], stdin: Stdio) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn postsource");
    let stdout: ChildStdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take();
    Running {
        child,
        lines: Lines::new(stdout),
        stderr,
    }
}

/// `postsource serve --port 0 ...` as a child; killed on drop.
pub struct Serve {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Lines,
}

impl Serve {
    pub fn start(extra: &[&str]) -> Serve {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn postsource serve");
        let mut out = Lines::new(child.stdout.take().unwrap());
        let log = Lines::new(child.stderr.take().unwrap());
        let first = out.next(DEADLINE).expect("serve printed its address");
        let addr = first
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Serve { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Fails if the server has logged a panic. The log is read up to the line of a
    /// request made last, so everything before it has been written.
    pub fn assert_no_panic(&mut self) {
        let (status, headers, _) = http("GET", &self.url("/test/no-content?marker"), &[], "");
        assert_eq!(status, 204);
        let id = headers["x-request-id"].to_str().unwrap().to_owned();
        self.log
            .until(&format!("#{id} GET /test/no-content?marker"));
        let panics: Vec<&String> = self
            .log
            .seen
            .iter()
            .filter(|l| l.contains("panicked"))
            .collect();
        assert!(panics.is_empty(), "{panics:#?}");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A purpose-built axum server on 127.0.0.1:0, running on its own runtime thread
/// for the duration of a test.
pub struct TestServer {
    pub addr: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    pub fn start(router: axum::Router) -> TestServer {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let serve = axum::serve(listener, router);
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
            rt.shutdown_background();
        });
        TestServer {
            addr: addr_rx.recv_timeout(DEADLINE).unwrap(),
            _shutdown: stop_tx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A port with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An SSE response from a static body.
pub fn sse(body: &'static str) -> axum::response::Response {
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .body(axum::body::Body::from(body))
        .unwrap()
}

/// One plain HTTP exchange (reqwest, no SSE logic): status, headers, body.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = client
            .request(method.parse().unwrap(), url)
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = tokio::time::timeout(DEADLINE, req.send())
            .await
            .unwrap()
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = tokio::time::timeout(DEADLINE, resp.text())
            .await
            .unwrap()
            .unwrap();
        (status, headers, text)
    })
}
