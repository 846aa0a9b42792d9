"""Shared black-box test machinery for the interop suites (Python 3.11 stdlib only).

It owns three things the suites need and nothing else: a scriptable threaded HTTP
server on 127.0.0.1 that writes raw bytes (so a test can send any status, header
and body, drip bytes, stall, cut the connection, redirect, and see every request
with its headers and body); a runner for the `postsource` binary that timestamps
each stdout line as it arrives (to prove lines are flushed) and can send SIGINT;
and a tiny check registry that prints one line per check and the closing
`N passed, M failed` line. The server is hand-rolled on purpose: the point is to
misbehave in ways a real framework refuses to.
"""

from __future__ import annotations

import http.server
import json
import os
import select
import signal
import socket
import socketserver
import struct
import subprocess
import threading
import time
import traceback
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("POSTSOURCE_BIN", os.path.join(ROOT, "target", "release", "postsource"))


# --------------------------------------------------------------------------- checks

class Checks:
    """Collects results; every check prints exactly one line as it completes."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        with self.lock:
            if ok:
                self.passed += 1
                print(f"PASS {name}", flush=True)
            else:
                self.failed += 1
                line = f"FAIL {name}: {detail}"
                self.failures.append(line)
                print(line, flush=True)
        return ok

    def skip(self, name: str, why: str) -> None:
        with self.lock:
            print(f"SKIPPED: {name} ({why})", flush=True)

    def note(self, text: str) -> None:
        with self.lock:
            print(f"NOTE {text}", flush=True)

    def run(self, name: str, fn, *args) -> None:
        """Runs one test function; an exception is one failed check, not a crash."""
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - a broken test must be reported, not fatal
            tb = traceback.format_exc().strip().splitlines()[-3:]
            self.check(name, False, f"exception {e!r} | {' / '.join(tb)}")

    def summary(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


# --------------------------------------------------------------------------- server

@dataclass
class Req:
    """One request as the server received it."""

    method: str
    path: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    t: float

    def header(self, name: str) -> str | None:
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[-1] if vals else None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Conn:
    """What a route handler gets: raw writes on the accepted socket."""

    def __init__(self, handler: "_Handler", req: Req, index: int) -> None:
        self.h = handler
        self.sock: socket.socket = handler.connection
        self.req = req
        self.index = index  # 0-based count of earlier requests to this path
        self.disconnected_at: float | None = None

    def write(self, data: bytes | str) -> bool:
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def head(self, status: int = 200, headers: list[tuple[str, str]] | None = None,
             reason: str = "X", ctype: str | None = "text/event-stream") -> None:
        hs = list(headers or [])
        if ctype is not None and not any(k.lower() == "content-type" for k, _ in hs):
            hs.insert(0, ("Content-Type", ctype))
        # One request per connection: say so, or a keep-alive client races our close.
        if not any(k.lower() == "connection" for k, _ in hs):
            hs.append(("Connection", "close"))
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in hs]
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunks(self, parts: list[bytes | str], delay: float = 0.0) -> bool:
        for p in parts:
            if not self.write(p):
                return False
            if delay:
                time.sleep(delay)
        return True

    def sse(self, body: bytes | str | list, delay: float = 0.0, status: int = 200,
            ctype: str = "text/event-stream", headers=None) -> None:
        self.head(status, headers, ctype=ctype)
        self.chunks(body if isinstance(body, list) else [body], delay)

    def wait_gone(self, max_s: float) -> bool:
        """Blocks (bounded) until the client closes its side; True if it did."""
        end = time.monotonic() + max_s
        while time.monotonic() < end:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.05)
                if r:
                    got = self.sock.recv(4096, socket.MSG_PEEK)
                    if not got:
                        self.disconnected_at = time.monotonic()
                        return True
                    self.sock.recv(4096)
            except OSError:
                self.disconnected_at = time.monotonic()
                return True
        return False

    def reset(self) -> None:
        """Drops the connection with a TCP RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a) -> None:  # quiet
        pass

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._dispatch()
        except (ConnectionError, OSError):
            pass
        self.close_connection = True  # one request per connection keeps counting simple

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _dispatch(self) -> None:
        srv: Server = self.server.owner  # type: ignore[attr-defined]
        body = self._read_body()
        path = urlsplit(self.path).path
        req = Req(self.command, path, self.path, list(self.headers.items()), body, time.monotonic())
        with srv.lock:
            idx = len([r for r in srv.log if r.path == path])
            srv.log.append(req)
            route = srv.routes.get(path)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(self, req, idx)
        if route is None:
            c.head(404, ctype="text/plain")
            c.write("no route")
            return
        route(c)
        with srv.lock:
            srv.gone.setdefault(path, []).append(c.disconnected_at)


class _TServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class Server:
    """A scriptable server: `route(path, fn)` where fn(conn) writes the response."""

    def __init__(self) -> None:
        self.routes: dict = {}
        self.log: list[Req] = []
        self.gone: dict = {}
        self.lock = threading.Lock()
        self.httpd = _TServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def route(self, path: str, fn) -> str:
        with self.lock:
            self.routes[path] = fn
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str) -> list[Req]:
        with self.lock:
            return [r for r in self.log if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# --------------------------------------------------------------------------- CLI runner

@dataclass
class Run:
    rc: int | None
    lines: list[dict]
    raw: list[str]
    times: list[float]
    stderr: str
    elapsed: float
    t0: float
    bad_json: list[str] = field(default_factory=list)
    sigint_at: float | None = None

    def of(self, typ: str) -> list[dict]:
        return [o for o in self.lines if o.get("type") == typ]

    def events(self) -> list[tuple]:
        return [(o.get("event"), o.get("data"), o.get("id")) for o in self.of("event")]

    def types(self) -> list[str]:
        return [o.get("type") for o in self.lines]

    def close_reason(self) -> str | None:
        c = self.of("close")
        return c[-1].get("reason") if c else None

    def brief(self) -> str:
        out = " | ".join(self.raw[:8])
        if len(self.raw) > 8:
            out += f" | ...(+{len(self.raw) - 8})"
        err = self.stderr.strip().replace("\n", " / ")[:200]
        return f"rc={self.rc} stdout=[{out[:900]}] stderr=[{err}]"


def cli(args: list[str], timeout: float = 20.0, stdin: bytes | None = None,
        sigint_when=None, sigint_after: float | None = None, env=None) -> Run:
    """Runs the binary; `sigint_when(lines)` or `sigint_after` seconds triggers SIGINT."""
    t0 = time.monotonic()
    p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    raw: list[str] = []
    times: list[float] = []
    lines: list[dict] = []
    bad: list[str] = []
    errbuf: list[bytes] = []

    def rd_out() -> None:
        for b in iter(p.stdout.readline, b""):
            s = b.decode("utf-8", "replace").rstrip("\n")
            times.append(time.monotonic())
            raw.append(s)
            try:
                o = json.loads(s)
                lines.append(o if isinstance(o, dict) else {"type": None, "_value": o})
            except ValueError:
                bad.append(s)

    def rd_err() -> None:
        errbuf.append(p.stderr.read())

    to = threading.Thread(target=rd_out, daemon=True)
    te = threading.Thread(target=rd_err, daemon=True)
    to.start()
    te.start()
    if stdin is not None:
        try:
            p.stdin.write(stdin)
            p.stdin.close()
        except OSError:
            pass
    sig_at = None
    deadline = t0 + timeout
    if sigint_when is not None or sigint_after is not None:
        while time.monotonic() < deadline and p.poll() is None:
            if sigint_after is not None and time.monotonic() - t0 >= sigint_after:
                break
            if sigint_when is not None and sigint_when(list(lines)):
                break
            time.sleep(0.01)
        if p.poll() is None:
            sig_at = time.monotonic()
            p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = None
    to.join(2)
    te.join(2)
    return Run(rc, lines, raw, times, b"".join(errbuf).decode("utf-8", "replace"),
               time.monotonic() - t0, t0, bad, sig_at)


# --------------------------------------------------------------------------- jsonl shapes

ERROR_KINDS = {"connect", "timeout", "idle_timeout", "status", "content_type", "too_large", "io"}
CLOSE_REASONS = {"eof", "aborted", "max_events", "until_data", "no_content", "error"}


def shape_problems(run: Run) -> list[str]:
    """Every deviation of the jsonl output from the contract's line shapes and order."""
    probs: list[str] = []
    if run.bad_json:
        probs.append(f"non-JSON stdout line(s): {run.bad_json[:2]}")
    for i, o in enumerate(run.lines):
        t = o.get("type")
        keys = set(o)
        if t == "open":
            if keys != {"type", "status", "url", "headers"}:
                probs.append(f"open keys {sorted(keys)}")
            if not isinstance(o.get("status"), int) or isinstance(o.get("status"), bool):
                probs.append("open.status not int")
            if not isinstance(o.get("url"), str):
                probs.append("open.url not str")
            h = o.get("headers")
            if not isinstance(h, dict):
                probs.append("open.headers not object")
            else:
                for k, v in h.items():
                    if k != k.lower():
                        probs.append(f"open header name not lowercase: {k}")
                    if not isinstance(v, str):
                        probs.append(f"open header {k} value not str")
        elif t == "event":
            if keys != {"type", "event", "data", "id"}:
                probs.append(f"event keys {sorted(keys)}")
            for k in ("event", "data", "id"):
                if not isinstance(o.get(k), str):
                    probs.append(f"event.{k} not str")
        elif t == "reconnect":
            if keys != {"type", "attempt", "delay_ms"}:
                probs.append(f"reconnect keys {sorted(keys)}")
            for k in ("attempt", "delay_ms"):
                if not isinstance(o.get(k), int):
                    probs.append(f"reconnect.{k} not int")
        elif t == "error":
            if not {"type", "kind", "message"} <= keys or not keys <= {"type", "kind", "message", "status", "body"}:
                probs.append(f"error keys {sorted(keys)}")
            if o.get("kind") not in ERROR_KINDS:
                probs.append(f"error.kind {o.get('kind')!r}")
            if not isinstance(o.get("message"), str):
                probs.append("error.message not str")
        elif t == "close":
            if keys != {"type", "reason"}:
                probs.append(f"close keys {sorted(keys)}")
            if o.get("reason") not in CLOSE_REASONS:
                probs.append(f"close.reason {o.get('reason')!r}")
            if i != len(run.lines) - 1:
                probs.append("close is not the last line")
        else:
            probs.append(f"unknown line type {t!r}")
    if len(run.of("close")) > 1:
        probs.append("more than one close line")
    return probs
