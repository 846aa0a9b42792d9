#!/usr/bin/env python3
"""Black-box conformance suite for the `postsource` CLI contract (shared/contract-cli.md).

It drives target/release/postsource (or $POSTSOURCE_BIN) with `-o jsonl` against
purpose-built misbehaving servers from harness.py and checks what the contract
promises, line by line: the jsonl shapes, every error kind, close reason and exit
code, request building (-X/-d/--json/@FILE/@-/-H), reconnection policy and
Last-Event-ID, retries, timeouts, limits, SIGINT, usage errors, redirects and the
WHATWG parsing rules. It ends with a seeded differential check against the
reference parser in whatwg_ref.py. Independent of the Rust code on purpose: it
knows only the contract and the spec. Stdlib only; the whole run stays < 3 min.

    python3 tests/interop/conformance.py [--seed N] [--streams N] [--only SUBSTR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import random
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True  # keep the source tree clean (also for child Pythons)
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, Checks, Server, cli, free_port, shape_problems  # noqa: E402
from whatwg_ref import parse as ref_parse, reconnection_time  # noqa: E402

C = Checks()
S: Server = None  # type: ignore[assignment]
J = ["-o", "jsonl"]
NEVER = ["--reconnect", "never"]


# --------------------------------------------------------------------------- helpers

def shape(name: str, run) -> None:
    p = shape_problems(run)
    C.check(f"{name}: jsonl shapes", not p, "; ".join(p[:4]) + " :: " + run.brief())


def ends(name: str, run, rc: int, reason: str | None, error_kind: str | None = None) -> None:
    """The common tail: shapes ok, exit code, close reason, and the error line before it."""
    shape(name, run)
    C.check(f"{name}: exit {rc}", run.rc == rc, run.brief())
    C.check(f"{name}: close reason {reason}", run.close_reason() == reason, run.brief())
    if error_kind is not None:
        errs = run.of("error")
        ok = bool(errs) and errs[-1].get("kind") == error_kind and len(run.lines) >= 2 \
            and run.lines[-2].get("type") == "error"
        C.check(f"{name}: error kind {error_kind} right before close", ok, run.brief())


def seq(*bodies):
    """A route answering request k with bodies[min(k, last)] (bytes/str/list or a callable)."""
    def h(c):
        b = bodies[min(c.index, len(bodies) - 1)]
        if callable(b):
            b(c)
        else:
            c.sse(b)
    return h


def ev(events) -> list[tuple]:
    return [tuple(e) for e in events]


# --------------------------------------------------------------------------- open / shapes / headers

def t_open():
    url = S.route("/open", lambda c: c.sse("data: hi\n\n", headers=[("X-Custom-Header", "Yes")]))
    url += "?a=1&b=two"
    r = cli(J + NEVER + [url])
    ends("open", r, 0, "eof")
    C.check("open: line order open,event,close", r.types() == ["open", "event", "close"], r.brief())
    o = (r.of("open") or [{}])[0]
    C.check("open: status 200", o.get("status") == 200, str(o))
    C.check("open: url is the requested url", o.get("url") == url, f"{o.get('url')!r} != {url!r}")
    h = o.get("headers") or {}
    C.check("open: headers content-type", h.get("content-type") == "text/event-stream", str(h))
    C.check("open: custom header lowercased", h.get("x-custom-header") == "Yes", str(h))
    C.check("open: event message/hi/''", r.events() == [("message", "hi", "")], str(r.events()))
    q = S.requests("/open")
    C.check("request: query string kept", bool(q) and q[0].target.endswith("?a=1&b=two"), str([x.target for x in q]))


def t_default_headers():
    url = S.route("/hdr", seq("data: x\n\n"))
    r = cli(J + NEVER + [url])
    q = S.requests("/hdr")
    C.check("default: one GET request", len(q) == 1 and q[0].method == "GET", str([x.method for x in q]))
    if q:
        C.check("default: Accept: text/event-stream", q[0].header_all("accept") == ["text/event-stream"], str(q[0].headers))
        C.check("default: Cache-Control: no-cache", q[0].header_all("cache-control") == ["no-cache"], str(q[0].headers))
        C.check("default: no Last-Event-ID", q[0].header("last-event-id") is None, str(q[0].headers))
        C.check("default: empty body", q[0].body == b"", repr(q[0].body))
    ends("default", r, 0, "eof")


def t_header_override():
    url = S.route("/hdr2", seq("data: x\n\n"))
    r = cli(J + NEVER + ["-H", "Accept: application/json", "-H", "cache-control: max-age=0",
                         "-H", "X-Thing: a: b", "-H", "X-Empty:", url])
    q = S.requests("/hdr2")
    if C.check("-H: request made", len(q) == 1, r.brief()):
        C.check("-H: Accept overridden (one value)", q[0].header_all("accept") == ["application/json"], str(q[0].headers))
        C.check("-H: Cache-Control overridden case-insensitively", q[0].header_all("cache-control") == ["max-age=0"], str(q[0].headers))
        C.check("-H: value with colon kept", q[0].header("x-thing") == "a: b", str(q[0].headers))
        C.check("-H: empty value allowed", q[0].header("x-empty") == "", str(q[0].headers))


def t_bodies():
    tmp = tempfile.mkdtemp(prefix="ps-interop-")
    raw = b"line1\nline2\r\n\x00\xff tail\n"
    f = os.path.join(tmp, "body.bin")
    with open(f, "wb") as fh:
        fh.write(raw)
    jf = os.path.join(tmp, "req.json")
    with open(jf, "wb") as fh:
        fh.write(b'{"k": [1, 2]}\n')
    cases = [
        ("-d TEXT", ["-d", "hello world"], None, "POST", b"hello world", None),
        ("-X PUT -d", ["-X", "PUT", "-d", "x=1"], None, "PUT", b"x=1", None),
        ("-X DELETE no body", ["-X", "DELETE"], None, "DELETE", b"", None),
        ("-X GET explicit", ["-X", "GET"], None, "GET", b"", None),
        ("--json TEXT", ["--json", '{"a":1}'], None, "POST", b'{"a":1}', "application/json"),
        ("-d @FILE as is", ["-d", "@" + f], None, "POST", raw, None),
        ("-d @- stdin", ["-d", "@-"], raw, "POST", raw, None),
        ("--json @FILE", ["--json", "@" + jf], None, "POST", b'{"k": [1, 2]}\n', "application/json"),
        ("--json @- stdin", ["--json", "@-"], b'{"s":true}', "POST", b'{"s":true}', "application/json"),
        ("-X PATCH --json", ["-X", "PATCH", "--json", "[]"], None, "PATCH", b"[]", "application/json"),
    ]
    for i, (name, args, stdin, method, body, ctype) in enumerate(cases):
        path = f"/body{i}"
        url = S.route(path, seq("data: x\n\n"))
        r = cli(J + NEVER + args + [url], stdin=stdin)
        q = S.requests(path)
        if not C.check(f"{name}: one request", len(q) == 1, r.brief()):
            continue
        C.check(f"{name}: method {method}", q[0].method == method, q[0].method)
        C.check(f"{name}: body sent as is", q[0].body == body, f"{q[0].body[:80]!r} != {body[:80]!r}")
        if ctype:
            C.check(f"{name}: Content-Type {ctype}", (q[0].header("content-type") or "").split(";")[0].strip() == ctype,
                    str(q[0].header("content-type")))
        C.check(f"{name}: exit 0", r.rc == 0, r.brief())


def t_last_event_id_first():
    url = S.route("/lei", seq("data: x\n\n"))
    r = cli(J + NEVER + ["--last-event-id", "41", url])
    q = S.requests("/lei")
    C.check("--last-event-id: sent on first request", bool(q) and q[0].header_all("last-event-id") == ["41"],
            str(q[0].headers if q else r.brief()))
    # The given id is the stream's last event id until the server sends one.
    C.check("--last-event-id: events without an id report it", r.events() == [("message", "x", "41")], str(r.events()))


# --------------------------------------------------------------------------- reconnection

def t_reconnect_get_auto():
    url = S.route("/rc1", seq("id: 5\ndata: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "50", "-n", "2", url])
    q = S.requests("/rc1")
    ends("auto GET reconnect", r, 0, "max_events")
    C.check("auto GET: reconnected after EOF", len(q) == 2, f"{len(q)} requests")
    if len(q) == 2:
        C.check("auto GET: Last-Event-ID 5 on reconnect", q[1].header_all("last-event-id") == ["5"], str(q[1].headers))
        C.check("auto GET: default headers on reconnect", q[1].header("accept") == "text/event-stream", str(q[1].headers))
    C.check("auto GET: id persists across reconnection", ev(r.events()) == [("message", "a", "5"), ("message", "b", "5")],
            str(r.events()))
    rec = r.of("reconnect")
    C.check("auto GET: reconnect attempt 1 delay_ms 50", [(x.get("attempt"), x.get("delay_ms")) for x in rec] == [(1, 50)],
            str(rec))
    C.check("auto GET: two opens", len(r.of("open")) == 2, r.brief())


def t_reconnect_id_reset():
    url = S.route("/rc2", seq("id: 7\ndata: a\n\n", "id\ndata: b\n\n", "data: c\n\n"))
    r = cli(J + ["--retry", "30", "-n", "3", url])
    q = S.requests("/rc2")
    ends("id reset", r, 0, "max_events")
    if C.check("id reset: three requests", len(q) == 3, f"{len(q)}"):
        C.check("id reset: 2nd request Last-Event-ID 7", q[1].header_all("last-event-id") == ["7"], str(q[1].headers))
        C.check("id reset: 3rd request has no Last-Event-ID", q[2].header("last-event-id") is None, str(q[2].headers))
    C.check("id reset: event ids 7,'',''", [e[2] for e in r.events()] == ["7", "", ""], str(r.events()))


def t_reconnect_lei_seed():
    url = S.route("/rc3", seq("data: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", "--last-event-id", "9", url])
    q = S.requests("/rc3")
    C.check("--last-event-id 9, no id from the server: the reconnect still sends 9",
            len(q) == 2 and q[1].header_all("last-event-id") == ["9"], f"{[x.header('last-event-id') for x in q]} {r.brief()}")


def t_reconnect_post():
    url = S.route("/rc4", seq("data: a\n\n"))
    r = cli(J + ["--retry", "30", "-d", "body", url], timeout=10)
    time.sleep(0.3)
    ends("auto POST no id", r, 0, "eof")
    C.check("auto POST without id: no reconnect", len(S.requests("/rc4")) == 1 and not r.of("reconnect"),
            f"{len(S.requests('/rc4'))} requests; {r.brief()}")

    # The id is the user's, not the server's: still a POST without ids.
    url = S.route("/rc4b", seq("data: a\n\n"))
    r = cli(J + ["--retry", "30", "-d", "body", "--last-event-id", "9", url], timeout=10)
    time.sleep(0.3)
    ends("auto POST, --last-event-id only", r, 0, "eof")
    q = S.requests("/rc4b")
    C.check("auto POST with only --last-event-id: sent, no reconnect",
            len(q) == 1 and q[0].header("last-event-id") == "9" and not r.of("reconnect"),
            f"{len(q)} requests; {r.brief()}")

    url = S.route("/rc5", seq("id: 1\ndata: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", "-d", "body", url])
    q = S.requests("/rc5")
    ends("auto POST with id", r, 0, "max_events")
    if C.check("auto POST after an id: reconnects", len(q) == 2, f"{len(q)} requests"):
        C.check("auto POST reconnect: method POST, same body, Last-Event-ID 1",
                q[1].method == "POST" and q[1].body == b"body" and q[1].header("last-event-id") == "1",
                f"{q[1].method} {q[1].body!r} {q[1].headers}")

    url = S.route("/rc6", seq("data: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", "--reconnect", "always", "-d", "body", url])
    ends("always POST", r, 0, "max_events")
    C.check("--reconnect always: POST without id reconnects", len(S.requests("/rc6")) == 2, r.brief())

    url = S.route("/rc7", seq("id: 1\ndata: a\n\n"))
    r = cli(J + ["--retry", "30", "--reconnect", "never", url])
    time.sleep(0.3)
    ends("never GET", r, 0, "eof")
    C.check("--reconnect never: GET with id does not reconnect", len(S.requests("/rc7")) == 1, r.brief())

    for m in ("PUT", "DELETE"):
        path = f"/rc8{m}"
        url = S.route(path, seq("data: a\n\n", "data: b\n\n"))
        r = cli(J + ["--retry", "30", "-n", "2", "-X", m, url])
        C.check(f"auto {m} (idempotent): reconnects", len(S.requests(path)) == 2 and r.rc == 0, r.brief())

    url = S.route("/rc9", seq(lambda c: (c.head(), c.write("id: 3\ndata: a\n\n"), time.sleep(0.05), c.reset()),
                              "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", url])
    q = S.requests("/rc9")
    C.check("auto GET: reconnects after a network error (RST)", len(q) == 2 and r.rc == 0
            and ev(r.events()) == [("message", "a", "3"), ("message", "b", "3")], r.brief())


def t_reconnect_parser_reset():
    # Each connection is a new stream: no partial line, data, event type carried over; BOM stripped again.
    url = S.route("/prs", seq("id: 1\ndata: a\n\nevent: x\ndata: pending\ndata: par",
                              b"\xef\xbb\xbftial\n\ndata: b\n\n"))
    r = cli(J + ["--retry", "20", "-n", "2", url])
    C.check("reconnect: parser state reset per connection (partial line, data, event type; BOM stripped)",
            r.events() == [("message", "a", "1"), ("message", "b", "1")] and r.rc == 0, r.brief())


def t_max_retries():
    def empty(c):
        c.sse("")
    url = S.route("/mr1", seq("data: e0\n\n", empty, "data: e2\n\n", empty))
    r = cli(J + ["--retry", "20", "--max-retries", "2", url], timeout=15)
    q = S.requests("/mr1")
    ends("--max-retries 2", r, 1, "error")
    C.check("--max-retries 2: errors line before close", len(r.lines) >= 2 and r.lines[-2].get("type") == "error", r.brief())
    C.check("--max-retries 2: 5 requests (event resets the count)", len(q) == 5, f"{len(q)} requests")
    C.check("--max-retries 2: attempts 1,2,1,2", [x.get("attempt") for x in r.of("reconnect")] == [1, 2, 1, 2],
            str(r.of("reconnect")))
    C.check("--max-retries 2: both events", [e[1] for e in r.events()] == ["e0", "e2"], str(r.events()))

    port = free_port()
    r = cli(J + ["--retry", "20", "--max-retries", "2", f"http://127.0.0.1:{port}/"], timeout=15)
    ends("--max-retries 2 connect refused", r, 1, "error")
    C.check("--max-retries 2 connect refused: attempts 1,2", [x.get("attempt") for x in r.of("reconnect")] == [1, 2],
            r.brief())
    errs = r.of("error")
    C.check("--max-retries connect refused: error kind connect", bool(errs) and errs[-1].get("kind") == "connect", r.brief())


def t_retry_delays():
    url = S.route("/rt1", seq("data: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "400", "-n", "2", url])
    q = S.requests("/rt1")
    rec = r.of("reconnect")
    C.check("--retry 400: delay_ms 400", [x.get("delay_ms") for x in rec] == [400], str(rec))
    if len(q) == 2:
        gap = q[1].t - q[0].t
        C.check("--retry 400: waited about 400 ms", 0.35 <= gap <= 2.5, f"gap {gap:.3f}s")

    url = S.route("/rt2", seq("retry: 120\ndata: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "5000", "-n", "2", url], timeout=10)
    rec = r.of("reconnect")
    C.check("server retry: 120 overrides --retry 5000", [x.get("delay_ms") for x in rec] == [120], str(rec) + r.brief())
    q = S.requests("/rt2")
    C.check("server retry: reconnect happened fast", len(q) == 2 and q[1].t - q[0].t < 2.0,
            f"{[round(x.t - q[0].t, 3) for x in q]}")

    url = S.route("/rt3", seq("retry: 12a\ndata: a\n\nretry: -5\ndata: a2\n\nretry:\ndata: a3\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "150", "-n", "4", url])
    rec = r.of("reconnect")
    C.check("invalid retry: values ignored (delay stays 150)", [x.get("delay_ms") for x in rec] == [150], str(rec))

    url = S.route("/rt4", seq("retry: 0\ndata: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "5000", "-n", "2", url], timeout=10)
    rec = r.of("reconnect")
    C.check("server retry: 0 is valid (delay_ms 0)", [x.get("delay_ms") for x in rec] == [0], str(rec) + r.brief())


# --------------------------------------------------------------------------- errors and statuses

def t_status_errors():
    url = S.route("/st500", lambda c: (c.head(500, ctype="application/json"), c.write('{"error":"boom"}')))
    r = cli(J + ["--retry", "30", url])
    time.sleep(0.3)
    ends("status 500", r, 1, "error", "status")
    e = (r.of("error") or [{}])[-1]
    C.check("status 500: error.status 500", e.get("status") == 500, str(e))
    C.check("status 500: error.body is the response body", e.get("body") == '{"error":"boom"}', str(e))
    C.check("status 500: no open line", not r.of("open"), r.brief())
    C.check("status 500: no reconnect (auto GET)", len(S.requests("/st500")) == 1, f"{len(S.requests('/st500'))} requests")

    for code in (201, 202, 205, 206, 210, 299):
        path = f"/st{code}"
        url = S.route(path, lambda c, code=code: c.sse("data: x\n\n", status=code))
        r = cli(J + ["--retry", "30", url])
        time.sleep(0.2)
        ends(f"status {code} event-stream", r, 1, "error", "status")
        e = (r.of("error") or [{}])[-1]
        C.check(f"status {code}: error.status {code}", e.get("status") == code, str(e))
        C.check(f"status {code}: no events, no reconnect", not r.events() and len(S.requests(path)) == 1, r.brief())

    for code in (404, 503):
        path = f"/st{code}"
        url = S.route(path, lambda c, code=code: (c.head(code, ctype="text/plain"), c.write("nope " * 3)))
        r = cli(J + [url])
        ends(f"status {code}", r, 1, "error", "status")

    big = "E" * 100_000
    url = S.route("/stbig", lambda c: (c.head(500, ctype="text/plain"), c.write(big)))
    r = cli(J + NEVER + [url])
    e = (r.of("error") or [{}])[-1]
    b = e.get("body") or ""
    C.check("status 500 huge body: body is a bounded prefix", 0 < len(b) < 100_000 and big.startswith(b), f"len {len(b)}")

    url = S.route("/st204", lambda c: c.head(204, ctype=None, headers=[("Content-Length", "0")]))
    r = cli(J + ["--retry", "30", url])
    time.sleep(0.3)
    ends("204", r, 0, "no_content")
    C.check("204: only a close line", r.types() == ["close"], r.brief())
    C.check("204: no reconnect", len(S.requests("/st204")) == 1, f"{len(S.requests('/st204'))}")


def t_content_types():
    url = S.route("/ct1", lambda c: c.sse("data: x\n\n", ctype="text/plain"))
    r = cli(J + ["--retry", "30", url])
    time.sleep(0.3)
    ends("content-type text/plain", r, 1, "error", "content_type")
    e = (r.of("error") or [{}])[-1]
    C.check("content_type: error.status 200", e.get("status") == 200, str(e))
    C.check("content_type: no reconnect", len(S.requests("/ct1")) == 1, f"{len(S.requests('/ct1'))}")

    url = S.route("/ct2", lambda c: (c.head(200, ctype=None), c.write("data: x\n\n")))
    r = cli(J + NEVER + [url])
    ends("no content-type", r, 1, "error", "content_type")

    for i, ct in enumerate(["text/event-stream; charset=utf-8", "Text/Event-Stream", "TEXT/EVENT-STREAM;charset=UTF-8",
                            "text/event-stream ; foo=bar", "text/event-stream;", "text/event-stream;charset=windows-1252",
                            "text/event-stream; foo"]):
        path = f"/ct3_{i}"
        url = S.route(path, lambda c, ct=ct: c.sse("data: ok \u00e9\n\n", ctype=ct))
        r = cli(J + NEVER + [url])
        C.check(f"content-type {ct!r} accepted (and decoded as UTF-8)", r.rc == 0
                and r.events() == [("message", "ok \u00e9", "")], r.brief())
    for i, ct in enumerate(["text/exvent-stream", "text/event-stream-x", "application/event-stream", "text/plain; x=text/event-stream"]):
        path = f"/ct5_{i}"
        url = S.route(path, lambda c, ct=ct: c.sse("data: ok\n\n", ctype=ct))
        r = cli(J + NEVER + [url])
        C.check(f"content-type {ct!r} rejected", r.rc == 1 and bool(r.of("error"))
                and r.of("error")[-1].get("kind") == "content_type", r.brief())

    url = S.route("/ct4", lambda c: c.sse("data: x\n\n", ctype="text/event-streams"))
    r = cli(J + NEVER + [url])
    C.check("content-type text/event-streams rejected", r.rc == 1 and bool(r.of("error"))
            and r.of("error")[-1].get("kind") == "content_type", r.brief())


def t_connect_errors():
    port = free_port()
    r = cli(J + NEVER + [f"http://127.0.0.1:{port}/x"])
    ends("connect refused", r, 1, "error", "connect")
    e = (r.of("error") or [{}])[-1]
    C.check("connect: no status in error (or null)", e.get("status") is None, str(e))

    # A listener with a full backlog that never accepts: the TCP handshake hangs.
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    p = lsock.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", p))
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.2)
    r = cli(J + NEVER + ["--connect-timeout", "1", f"http://127.0.0.1:{p}/"], timeout=12)
    shape("connect-timeout", r)
    e = (r.of("error") or [{}])[-1]
    C.check("--connect-timeout 1: exit 1, close error", r.rc == 1 and r.close_reason() == "error", r.brief())
    C.check("--connect-timeout 1: error kind timeout or connect", e.get("kind") in ("timeout", "connect"), str(e))
    C.check("--connect-timeout 1: gave up in about 1 s", 0.8 <= r.elapsed <= 4.0, f"{r.elapsed:.2f}s")
    if e.get("kind"):
        C.note(f"--connect-timeout reports error kind {e.get('kind')!r}")
    for s in fillers:
        s.close()
    lsock.close()

    url = S.route("/cto", lambda c: c.sse([f"data: {i}\n\n" for i in range(4)], delay=0.5))
    r = cli(J + NEVER + ["--connect-timeout", "1", url])
    C.check("--connect-timeout does not cut a long stream", r.rc == 0 and len(r.events()) == 4, r.brief())


def t_timeouts():
    url = S.route("/to1", lambda c: (c.sse("data: a\n\n"), c.wait_gone(8)))
    r = cli(J + ["--timeout", "1", url], timeout=10)
    ends("--timeout 1", r, 1, "error", "timeout")
    C.check("--timeout 1: event before the timeout", r.events() == [("message", "a", "")], r.brief())
    C.check("--timeout 1: ended in about 1 s", 0.8 <= r.elapsed <= 3.5, f"{r.elapsed:.2f}s")

    url = S.route("/to2", seq("data: a\n\n"))
    r = cli(J + ["--timeout", "1", "--retry", "5000", url], timeout=10)
    C.check("--timeout covers the reconnect wait", r.rc == 1 and r.elapsed <= 3.5 and r.close_reason() == "error",
            f"{r.elapsed:.2f}s {r.brief()}")

    url = S.route("/to3", lambda c: (c.wait_gone(8),))  # never sends a head
    r = cli(J + NEVER + ["--timeout", "1", url], timeout=10)
    ends("--timeout 1 before headers", r, 1, "error", "timeout")

    url = S.route("/id1", lambda c: (c.sse("data: a\n\n"), c.wait_gone(8)))
    r = cli(J + NEVER + ["--idle-timeout", "1", url], timeout=10)
    ends("--idle-timeout 1 never", r, 1, "error", "idle_timeout")
    C.check("--idle-timeout 1: fired in about 1 s", 0.8 <= r.elapsed <= 3.5, f"{r.elapsed:.2f}s")

    url = S.route("/id0", lambda c: c.wait_gone(6))  # accepts, never sends a response head
    r = cli(J + NEVER + ["--idle-timeout", "1", url], timeout=10)
    ends("--idle-timeout 1 while waiting for the response head", r, 1, "error", "idle_timeout")
    C.check("--idle-timeout 1 while waiting for the response head: fired in about 1 s", r.elapsed <= 3.0,
            f"{r.elapsed:.2f}s")

    url = S.route("/id2", lambda c: (c.sse("id: 1\ndata: a\n\n" if c.index == 0 else ""), c.wait_gone(8)))
    r = cli(J + ["--idle-timeout", "1", "--retry", "20", "--max-retries", "1", url], timeout=12)
    q = S.requests("/id2")
    C.check("--idle-timeout (auto GET): reconnected with Last-Event-ID", len(q) == 2 and q[1].header("last-event-id") == "1",
            f"{len(q)} requests {r.brief()}")
    ends("--idle-timeout then retries used up", r, 1, "error")

    url = S.route("/id3", lambda c: c.sse([": ka\n"] * 6 + ["data: done\n\n"], delay=0.3))
    r = cli(J + NEVER + ["--idle-timeout", "1", url], timeout=10)
    C.check("--idle-timeout: comments keep the stream alive", r.rc == 0 and r.events() == [("message", "done", "")],
            r.brief())


def t_limits():
    big = "x" * 1000
    url = S.route("/big1", seq(f"data: small\n\ndata: {big}\n\ndata: after\n\n"))
    r = cli(J + ["--max-event-size", "100", url])
    ends("--max-event-size 100", r, 1, "error", "too_large")
    C.check("--max-event-size: earlier event kept", r.events()[:1] == [("message", "small", "")], r.brief())
    C.check("--max-event-size: no oversize event emitted", all(len(e[1]) <= 100 for e in r.events()), r.brief())

    url = S.route("/big2", seq("data: " + "y" * 50 + "\n\n"))
    r = cli(J + NEVER + ["--max-event-size", "100", url])
    C.check("--max-event-size: event under the limit passes", r.rc == 0 and len(r.events()) == 1, r.brief())

    url = S.route("/big3", seq("".join(f"data: {'z' * 30}\n" for _ in range(10)) + "\n"))
    r = cli(J + NEVER + ["--max-event-size", "100", url])
    C.check("--max-event-size counts all data lines of an event", r.rc == 1 and r.of("error")
            and r.of("error")[-1].get("kind") == "too_large", r.brief())


def t_io_errors():
    def trunc_chunked(c):
        c.head(200, headers=[("Transfer-Encoding", "chunked")])
        c.write(b"d\r\ndata: first\n\n\r\n20\r\ndata: cut")
        c.sock.shutdown(socket.SHUT_WR)
    url = S.route("/io1", trunc_chunked)
    r = cli(J + NEVER + [url])
    ends("truncated chunked body", r, 1, "error", "io")
    C.check("truncated body: complete event kept", r.events() == [("message", "first", "")], r.brief())

    def short_len(c):
        c.head(200, headers=[("Content-Length", "500")])
        c.write("data: first\n\ndata: cut")
        c.sock.shutdown(socket.SHUT_WR)
    url = S.route("/io2", short_len)
    r = cli(J + NEVER + [url])
    ends("body shorter than Content-Length", r, 1, "error", "io")

    url = S.route("/io3", lambda c: (c.head(), c.write("data: first\n\n"), time.sleep(0.05), c.reset()))
    r = cli(J + NEVER + [url])
    ends("connection reset mid-stream", r, 1, "error", "io")

    url = S.route("/io4", lambda c: c.reset())
    r = cli(J + NEVER + [url])
    shape("reset before response", r)
    C.check("reset before response: exit 1 with error", r.rc == 1 and bool(r.of("error")) and r.close_reason() == "error",
            r.brief())

    url = S.route("/mid", seq("data: one\n\ndata: half"))
    r = cli(J + NEVER + [url])
    ends("close mid-event", r, 0, "eof")
    C.check("close mid-event: half event dropped", r.events() == [("message", "one", "")], r.brief())


# --------------------------------------------------------------------------- ending

def t_ending():
    def many(c):
        c.head()
        for i in range(10):
            c.write(f"id: {i}\ndata: {i}\n\n")
            time.sleep(0.03)
        c.wait_gone(8)
    url = S.route("/n3", many)
    r = cli(J + ["-n", "3", url])
    ends("-n 3", r, 0, "max_events")
    C.check("-n 3: exactly 3 events", [e[1] for e in r.events()] == ["0", "1", "2"], r.brief())
    time.sleep(0.3)
    gone = S.gone.get("/n3") or [None]
    C.check("-n 3: server sees the disconnect", gone[0] is not None, str(gone))

    url = S.route("/n3l", seq("data: a\n\ndata: b\n\n"))
    r = cli(J + ["--max-events", "3", "--retry", "30", url])
    C.check("--max-events counts across reconnections", r.rc == 0 and [e[1] for e in r.events()] == ["a", "b", "a"]
            and r.close_reason() == "max_events", r.brief())

    url = S.route("/ud", lambda c: (c.sse("data: a\n\ndata: [DONE] \n\ndata: [DONE]\n\ndata: after\n\n"), c.wait_gone(5)))
    r = cli(J + ["--until-data", "[DONE]", url])
    ends("--until-data", r, 0, "until_data")
    C.check("--until-data: exact match only, sentinel event printed, nothing after",
            [e[1] for e in r.events()] == ["a", "[DONE] ", "[DONE]"], r.brief())

    url = S.route("/ud2", seq("data: x\n\n"))
    r = cli(J + NEVER + ["--until-data", "[DONE]", url])
    ends("--until-data never seen, eof", r, 0, "eof")


def t_sigint():
    url = S.route("/sig1", lambda c: (c.sse("data: a\n\n"), c.wait_gone(10)))
    r = cli(J + [url], timeout=10, sigint_when=lambda ls: any(o.get("type") == "event" for o in ls))
    ends("SIGINT mid-stream", r, 130, "aborted")
    dt = (r.t0 + r.elapsed - r.sigint_at) if r.sigint_at else 99
    C.check("SIGINT mid-stream: exits within 1 s", dt <= 1.0, f"{dt:.2f}s")
    time.sleep(0.2)
    C.check("SIGINT mid-stream: server sees the disconnect", (S.gone.get("/sig1") or [None])[0] is not None,
            str(S.gone.get("/sig1")))

    url = S.route("/sig2", lambda c: c.wait_gone(10))  # no head: still "connecting"
    r = cli(J + [url], timeout=10, sigint_after=0.7)
    ends("SIGINT before the response", r, 130, "aborted")
    dt = (r.t0 + r.elapsed - r.sigint_at) if r.sigint_at else 99
    C.check("SIGINT before the response: exits within 1 s", dt <= 1.0, f"{dt:.2f}s")

    url = S.route("/sig3", seq("data: a\n\n"))
    r = cli(J + ["--retry", "20000", url], timeout=10,
            sigint_when=lambda ls: any(o.get("type") == "reconnect" for o in ls))
    ends("SIGINT while waiting to reconnect", r, 130, "aborted")
    dt = (r.t0 + r.elapsed - r.sigint_at) if r.sigint_at else 99
    C.check("SIGINT while waiting to reconnect: exits within 1 s", dt <= 1.0, f"{dt:.2f}s")


def t_flush():
    def slow(c):
        c.head()
        time.sleep(0.8)
        c.write("data: a\n\n")
        time.sleep(1.2)
        c.write("data: b\n\n")
    url = S.route("/fl", slow)
    r = cli(J + NEVER + [url])
    ok = r.types() == ["open", "event", "event", "close"] and len(r.times) == 4
    C.check("flush: lines arrive as they happen", ok and r.times[1] - r.times[0] >= 0.5 and r.times[2] - r.times[1] >= 0.8,
            f"{[round(t - r.t0, 2) for t in r.times]} {r.brief()}")


def t_usage():
    tmp = tempfile.mkdtemp(prefix="ps-usage-")
    url = S.route("/usage", seq("data: x\n\n"))
    cases = [
        ("unknown option", ["--bogus-option", url]),
        ("-H without colon", ["-H", "NoColon", url]),
        ("-H empty name", ["-H", ": v", url]),
        ("missing -d @file", ["-d", "@" + os.path.join(tmp, "missing.txt"), url]),
        ("missing --json @file", ["--json", "@" + os.path.join(tmp, "missing.json"), url]),
        ("bad --reconnect", ["--reconnect", "sometimes", url]),
        ("bad -n", ["-n", "abc", url]),
        ("bad -o", ["-o", "xml", url]),
        ("bad --max-retries", ["--max-retries", "-1", url]),
        ("bad --timeout", ["--timeout", "soon", url]),
        ("bad --retry", ["--retry", "fast", url]),
        ("bad --max-event-size", ["--max-event-size", "big", url]),
        ("missing URL", ["-o", "jsonl"]),
        ("bad URL", ["-o", "jsonl", "not a url"]),
        ("bad URL scheme", ["-o", "jsonl", "ftp://127.0.0.1/x"]),
        ("option missing value", [url, "-H"]),
    ]
    for name, args in cases:
        r = cli(args, timeout=10)
        C.check(f"usage: {name}: exit 2", r.rc == 2, r.brief())
        C.check(f"usage: {name}: message on stderr, no jsonl", bool(r.stderr.strip()) and not r.lines, r.brief())
    time.sleep(0.2)
    C.check("usage errors: no request was sent", not S.requests("/usage"), f"{len(S.requests('/usage'))} requests")


def t_redirects():
    for code in (301, 302, 303, 307, 308):
        src, dst = f"/redir{code}", f"/redir{code}/target"
        S.route(src, lambda c, dst=dst, code=code: (c.head(code, [("Location", dst), ("Content-Length", "0")], ctype=None)))
        target = S.route(dst, seq("data: ok\n\n"))
        r = cli(J + NEVER + ["-d", "payload", "-H", "X-Keep: 1", S.url(src)])
        q = S.requests(dst)
        o = (r.of("open") or [{}])[0]
        C.check(f"redirect {code}: open.url is the final url", o.get("url") == target, f"{o.get('url')} {r.brief()}")
        if not C.check(f"redirect {code}: followed", len(q) == 1 and r.rc == 0, r.brief()):
            continue
        if code in (307, 308):
            C.check(f"redirect {code}: POST and body kept", q[0].method == "POST" and q[0].body == b"payload",
                    f"{q[0].method} {q[0].body!r}")
        else:
            C.check(f"redirect {code}: POST becomes GET without body (fetch rules)",
                    q[0].method == "GET" and q[0].body == b"", f"{q[0].method} {q[0].body!r}")
        C.check(f"redirect {code}: headers kept", q[0].header("x-keep") == "1"
                and q[0].header("accept") == "text/event-stream", str(q[0].headers))
    S.route("/redir-get", lambda c: c.head(302, [("Location", "/redir-get2"), ("Content-Length", "0")], ctype=None))
    S.route("/redir-get2", lambda c: c.head(307, [("Location", S.url("/redir-get3")), ("Content-Length", "0")], ctype=None))
    final = S.route("/redir-get3", seq("data: ok\n\n"))
    r = cli(J + NEVER + [S.url("/redir-get")])
    o = (r.of("open") or [{}])[0]
    C.check("redirect chain (GET): open.url final", o.get("url") == final and r.rc == 0, r.brief())


# --------------------------------------------------------------------------- WHATWG parsing through the CLI

PARSE_CASES = [
    ("BOM stripped", [b"\xef\xbb\xbfdata: a\n\n"], [("message", "a", "")]),
    ("second BOM is not stripped", [b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n"], [("message", "b", "")]),
    ("BOM split across writes", [b"\xef", b"\xbb", b"\xbfdata: a\n\n"], [("message", "a", "")]),
    ("CRLF", [b"data: a\r\ndata: b\r\n\r\n"], [("message", "a\nb", "")]),
    ("CR only", [b"data: a\rdata: b\r\r"], [("message", "a\nb", "")]),
    ("split CRLF across writes", [b"data: a\r", b"\n", b"data: b\r", b"\n\r", b"\n"], [("message", "a\nb", "")]),
    ("CR then LF-only blank", [b"data: a\r", b"\ndata: b\n", b"\n"], [("message", "a\nb", "")]),
    ("mixed endings", [b"data: a\n\rdata: b\r\n\n"], [("message", "a", ""), ("message", "b", "")]),
    ("trailing CR at EOF dispatches", [b"data: a\n\r"], [("message", "a", "")]),
    ("comments", [b": hi\ndata: a\n:x\n\n:\n\n"], [("message", "a", "")]),
    ("NUL in id ignored", [b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"], [("message", "a", "1"), ("message", "b", "1")]),
    ("NUL in data kept", [b"data: a\x00b\n\n"], [("message", "a\x00b", "")]),
    ("invalid UTF-8 -> U+FFFD", [b"data: a\xffb\xc3(\n\n"], [("message", "a\ufffdb\ufffd(", "")]),
    ("UTF-8 split across writes", [b"data: \xc3", b"\xa9 \xe2\x82", b"\xac \xf0\x9f", b"\x98\x80\n\n"],
     [("message", "\u00e9 \u20ac \U0001F600", "")]),
    ("truncated UTF-8 before LF", [b"data: a\xe2\x82\n\n"], [("message", "a\ufffd", "")]),
    ("unterminated last event dropped", [b"data: a\n\ndata: b\n"], [("message", "a", "")]),
    ("unterminated last line dropped", [b"data: a\n\ndata: b"], [("message", "a", "")]),
    ("multi-line data", [b"data: a\ndata:\ndata:  b\n\n"], [("message", "a\n\n b", "")]),
    ("empty data dispatched", [b"data\n\ndata:\n\n"], [("message", "", ""), ("message", "", "")]),
    ("no data: not dispatched", [b"event: x\n\nid: 4\n\ndata: a\n\n"], [("message", "a", "4")]),
    ("event type, reset after dispatch", [b"event: foo\ndata: a\n\ndata: b\n\n"], [("foo", "a", ""), ("message", "b", "")]),
    ("empty event type -> message", [b"event:\ndata: a\n\n"], [("message", "a", "")]),
    ("event last wins", [b"event: x\nevent: y\ndata: a\n\n"], [("y", "a", "")]),
    ("only one space stripped", [b"data:  two\nid:  3 \n\n"], [("message", " two", " 3 ")]),
    ("no space after colon", [b"data:x\nevent:e\n\n"], [("e", "x", "")]),
    ("colon in value", [b"data: a:b: c\n\n"], [("message", "a:b: c", "")]),
    ("unknown and case-variant fields ignored", [b"Data: no\nDATA: no\nfoo: bar\ndata : no\ndata: yes\n\n"],
     [("message", "yes", "")]),
    ("id persists, empty id resets", [b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid:\ndata: d\n\n"],
     [("message", "a", "1"), ("message", "b", "1"), ("message", "c", ""), ("message", "d", "")]),
    ("id of undispatched block persists", [b"id: 9\n\ndata: a\n\n"], [("message", "a", "9")]),
    ("id set after data in same block", [b"data: a\nid: 2\n\n"], [("message", "a", "2")]),
    ("unicode id and event", [b"id: \xc3\xa9\nevent: \xe2\x82\xac\ndata: x\n\n"], [("\u20ac", "x", "\u00e9")]),
    ("many blank lines", [b"\n\n\n\ndata: a\n\n\n\n"], [("message", "a", "")]),
    ("byte-by-byte drip", [bytes([b]) for b in b"id: 1\r\nevent: t\r\ndata: x\r\n: c\r\n\r\ndata: y\r\r"],
     [("t", "x", "1"), ("message", "y", "1")]),
    ("data with JSON", [b'data: {"a": [1, "\\n"]}\n\n'], [("message", '{"a": [1, "\\n"]}', "")]),
    ("WPT format-field-parsing", [b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n"],
     [("message", "\x00\n 2\n1\n3\n\n4", "")]),
    ("WPT format-data-before-final-empty-line", [b"retry:1000\ndata:test1\n\nid:test\ndata:test2"], [("message", "test1", "")]),
    ("long line 64 KiB", [b"data: " + b"q" * 65536 + b"\n\n"], [("message", "q" * 65536, "")]),
]


def t_parse_cases():
    for i, (name, parts, expected) in enumerate(PARSE_CASES):
        path = f"/parse{i}"
        url = S.route(path, lambda c, parts=parts: (c.head(), c.chunks(parts, delay=0.02)))
        r = cli(J + NEVER + [url], timeout=10)
        ref = ref_parse(b"".join(parts))
        if ref != expected:  # the reference itself is checked against the hand-written expectation
            C.check(f"parse: {name}: reference agrees", False, f"ref {ref!r} != {expected!r}")
        got = r.events()
        C.check(f"parse: {name}", got == expected and r.rc == 0 and r.close_reason() == "eof",
                f"got {str(got)[:300]} expected {str(expected)[:300]} {r.brief()[:300]}")


# --------------------------------------------------------------------------- randomized differential

SOUP = [b"\r", b"\n", b"\r\n", b":", b" ", b"data", b"id", b"event", b"retry", b"d", b"a", b"1", b"\x00", b"\xff",
        b"\xef\xbb\xbf", b"\xc3", b"\xa9", b"\xe2\x82\xac", b"\n\n", b"data:", b"data: ", b"id:", b"event:"]


def gen_soup(rng: random.Random) -> bytes:
    """Token soup: near-miss field names, stray CR/LF/colons, broken UTF-8."""
    return b"".join(rng.choice(SOUP) for _ in range(rng.randint(0, 60)))


def gen_stream(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return gen_soup(rng)
    names = [b"data", b"data", b"data", b"event", b"id", b"retry", b"", b"dat", b"Data", b"data ", b" data",
             b"\xef\xbb\xbfdata", b"x"]
    vals = [b"", b"a", b"b c", b" lead", b"  two", b":", b"a:b", b"\x00", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff",
            b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"123", b"1a", b"\xef\xbb\xbf", b"{\"k\":1}", b"\t"]
    ends = [b"\n", b"\n", b"\r\n", b"\r"]
    out = bytearray()
    if rng.random() < 0.15:
        out += b"\xef\xbb\xbf"
    for _ in range(rng.randint(0, 25)):
        x = rng.random()
        if x < 0.2:
            out += rng.choice(ends)  # blank line: dispatch
        elif x < 0.3:
            out += b":" + rng.choice(vals) + rng.choice(ends)
        else:
            name = rng.choice(names)
            sep = rng.choice([b":", b": ", b": ", b":  ", b""])
            val = b"".join(rng.choice(vals) for _ in range(rng.randint(0, 3)))
            out += name + sep + (val if sep else b"") + rng.choice(ends)
    tail = rng.random()
    if tail < 0.2:
        out += b"data: unterminated"
    elif tail < 0.3:
        out += b"data: x\n"
    elif tail < 0.5:
        out += b"\n"
    return bytes(out)


def split_random(rng: random.Random, data: bytes) -> list[bytes]:
    if not data:
        return []
    if len(data) < 40 and rng.random() < 0.3:
        return [data[i:i + 1] for i in range(len(data))]
    cuts = sorted(set(rng.randrange(1, len(data) + 1) for _ in range(rng.randint(0, 6)))) if len(data) > 1 else []
    parts, prev = [], 0
    for cut in cuts + [len(data)]:
        if cut > prev:
            parts.append(data[prev:cut])
            prev = cut
    return parts


def t_differential(seed: int, count: int):
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        data = gen_stream(rng)
        cases.append((i, data, split_random(rng, data)))
    mismatches = []
    lock = threading.Lock()

    def one(case):
        i, data, parts = case
        path = f"/diff{i}"
        if i % 2:  # half the streams as HTTP/1.1 chunked, one HTTP chunk per write
            url = S.route(path, lambda c: (c.head(headers=[("Transfer-Encoding", "chunked")]),
                                           c.chunks([b"%x\r\n%s\r\n" % (len(p), p) for p in parts] + [b"0\r\n\r\n"],
                                                    delay=0.003)))
        else:
            url = S.route(path, lambda c: (c.head(), c.chunks(parts, delay=0.003)))
        r = cli(J + NEVER + [url], timeout=15)
        want = ref_parse(data)
        got = r.events()
        if got != want or r.rc != 0 or r.close_reason() != "eof" or shape_problems(r):
            with lock:
                mismatches.append((i, data, parts, want, got, r.brief()))
        if i % 4 == 0:  # the other machine-facing modes on a quarter of the streams
            for mode, expect in (("raw", data), ("data", "".join(e[1] + "\n" for e in want).encode())):
                p = subprocess.run([BIN, "-o", mode, "--reconnect", "never", url], capture_output=True, timeout=15)
                if p.stdout != expect or p.returncode != 0:
                    with lock:
                        mismatches.append((i, data, parts, f"-o {mode} {expect!r}", p.stdout, f"rc={p.returncode}"))

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(one, cases))
    mismatches.sort()
    for i, data, parts, want, got, brief in mismatches[:5]:
        C.note(f"differential #{i}: stream={data!r} parts={[len(p) for p in parts]} want={want!r} got={got!r} {brief[:300]}")
    C.check(f"differential: {count} random streams (seed {seed}) match the WHATWG reference", not mismatches,
            f"{len(mismatches)} mismatches, first ids {[m[0] for m in mismatches[:10]]}")


# --------------------------------------------------------------------------- other output modes and odd corners

def t_output_modes():
    body = [b": c\r\n", b"id: 1\r\ndata: a\r\ndata: b\r\n\r\n", b"event: e\ndata: {\"k\": 1}\n\n", b"data: half"]
    url = S.route("/om_raw", lambda c: (c.head(), c.chunks(body, delay=0.02)))
    r = cli(["-o", "raw"] + NEVER + [url])
    got = "\n".join(r.raw) + "\n"
    C.check("-o raw: body bytes exactly as received", got.encode() == b"".join(body) + b"\n" or
            got.encode()[:-1] == b"".join(body), repr(got[:200]))
    url = S.route("/om_data", seq("data: one\n\nevent: x\ndata: {\"k\": 1}\n\ndata: three\n\n"))
    r = cli(["-o", "data"] + NEVER + [url])
    C.check("-o data: one data per line", r.raw == ["one", '{"k": 1}', "three"] and r.rc == 0, r.brief())

    def slow(c):
        c.head()
        c.write("data: a\n\n")
        time.sleep(1.0)
        c.write("data: b\n\n")
    url = S.route("/om_flush", slow)
    r = cli(["-o", "data"] + NEVER + [url])
    C.check("-o data: flushed per event", len(r.times) == 2 and r.times[1] - r.times[0] >= 0.7,
            f"{[round(t - r.t0, 2) for t in r.times]}")


def t_corners():
    url = S.route("/uni_id", seq("id: \u00e9t\u00e9\ndata: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", url])
    q = S.requests("/uni_id")
    want = "\u00e9t\u00e9".encode().decode("latin-1")
    C.check("non-ASCII id: reconnect sends it UTF-8 encoded", len(q) == 2 and q[1].header("last-event-id") == want,
            f"{[x.header('last-event-id') for x in q]} {r.brief()}")

    for opt in ("--timeout", "--idle-timeout", "--connect-timeout"):
        url = S.route(f"/frac{opt}", seq("data: a\n\n"))
        r = cli(J + NEVER + [opt, "2.5", url])
        C.check(f"{opt} 2.5 (fractional seconds) accepted", r.rc == 0 and len(r.events()) == 1, r.brief())

    port = free_port()
    r = cli(J + ["-d", "x", "--retry", "20", f"http://127.0.0.1:{port}/"], timeout=10)
    ends("auto POST connect refused", r, 1, "error", "connect")
    C.check("auto POST connect refused: no reconnect", not r.of("reconnect"), r.brief())

    url = S.route("/idemHEAD", seq("data: a\n\n"))  # a HEAD answer has no body: EOF at once
    r = cli(J + ["--retry", "30", "--max-retries", "1", "-X", "HEAD", url], timeout=10)
    C.check("auto HEAD (idempotent): reconnects, then retries run out", len(S.requests("/idemHEAD")) == 2
            and r.rc == 1 and r.close_reason() == "error", f"{len(S.requests('/idemHEAD'))} {r.brief()}")
    url = S.route("/idemOPTIONS", seq("data: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "30", "-n", "2", "-X", "OPTIONS", url], timeout=10)
    C.check("auto OPTIONS (idempotent): reconnects", len(S.requests("/idemOPTIONS")) == 2 and r.rc == 0, r.brief())

    url = S.route("/ct_err_body", lambda c: (c.head(200, ctype="application/json"), c.write('{"not":"sse"}')))
    r = cli(J + NEVER + [url])
    e = (r.of("error") or [{}])[-1]
    C.check("content_type error: body is the response body", e.get("body") == '{"not":"sse"}', str(e))

    def gz(c):
        import zlib
        c.head(headers=[("Content-Encoding", "gzip")])
        z = zlib.compressobj(wbits=31)
        for i in range(3):
            c.write(z.compress(f"data: {i}\n\n".encode()) + z.flush(zlib.Z_SYNC_FLUSH))
            time.sleep(0.2)
        c.write(z.flush())
    url = S.route("/gz", gz)
    r = cli(J + NEVER + ["--compressed", url])
    q = S.requests("/gz")
    C.check("--compressed: asks for gzip, decodes a streamed gzip body incrementally",
            r.rc == 0 and [e[1] for e in r.events()] == ["0", "1", "2"] and "gzip" in (q[-1].header("accept-encoding") or "")
            and len(r.times) == 5 and r.times[3] - r.times[1] >= 0.3, f"{[round(t - r.t0, 2) for t in r.times]} {r.brief()}")

    url = S.route("/lei_hdr", seq("data: a\n\n"))
    r = cli(J + NEVER + ["-H", "Last-Event-ID: 77", url])
    q = S.requests("/lei_hdr")
    C.check("-H Last-Event-ID is sent (once)", bool(q) and q[0].header_all("last-event-id") == ["77"],
            str(q[0].headers if q else r.brief()))


# --------------------------------------------------------------------------- robustness

def t_robustness():
    import subprocess
    n = 20000
    body = "".join(f"id: {i}\ndata: {i}\n\n" for i in range(n))
    url = S.route("/many", lambda c: c.sse([body[i:i + 8192] for i in range(0, len(body), 8192)]))
    r = cli(J + NEVER + [url], timeout=60)
    got = r.events()
    C.check(f"{n} events, none lost, in order", len(got) == n and all(e[1] == str(i) == e[2] for i, e in enumerate(got))
            and r.rc == 0, f"{len(got)} events rc={r.rc}")

    url = S.route("/dup", lambda c: c.sse("data: x\n\n", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
                                                                   ("X-UPPER", "V")]))
    r = cli(J + NEVER + [url])
    h = ((r.of("open") or [{}])[0].get("headers") or {})
    C.check("open: repeated header kept (joined or last)", isinstance(h.get("set-cookie"), str) and "b=2" in h["set-cookie"]
            and h.get("x-upper") == "V" and not shape_problems(r), str(h))

    # One endless line without --max-event-size: the CLI must stay bounded (a default
    # limit error, or at least no unbounded growth), not buffer tens of MB.
    def endless(c):
        c.head()
        c.write("data: ")
        chunk = b"y" * 65536
        for _ in range(4096):  # 256 MiB at most
            if not c.write(chunk):
                return
    url = S.route("/endless", endless)
    p = subprocess.Popen([BIN] + J + NEVER + ["--timeout", "30", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)  # wait4: the child's own peak RSS
    rss_mb = ru.ru_maxrss / 1024
    tail = p.stdout.read().decode(errors="replace")[-300:]
    C.check("endless line without a limit: memory stays bounded (< 128 MiB RSS of 256 MiB sent)", rss_mb < 128, f"max RSS {rss_mb:.0f} MiB; {tail}")
    C.note(f"endless 256 MiB line, no --max-event-size: max RSS {rss_mb:.0f} MiB, output tail {tail.strip()[-200:]!r}")

    # A reader that goes away (| head -1): no panic, prompt exit.
    url = S.route("/pipe", lambda c: (c.head(), [c.write(f"data: {i}\n\n") or time.sleep(0.01) for i in range(300)]))
    p = subprocess.Popen([BIN] + J + NEVER + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    try:
        p.wait(timeout=8)
        err = p.stderr.read().decode(errors="replace")
        C.check("stdout closed early: exits without a panic", "panicked" not in err, err[-300:])
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        C.check("stdout closed early: exits without a panic", False, "still running after 8 s")

    r = cli(["--help"])
    helptext = "\n".join(r.raw)
    missing = [o for o in ("--method", "--header", "--data", "--json", "--last-event-id", "--reconnect", "--max-retries",
                           "--retry", "--timeout", "--connect-timeout", "--idle-timeout", "--max-event-size",
                           "--max-events", "--until-data", "--output") if o not in helptext]
    C.check("--help: exit 0 and lists every contract option", r.rc == 0 and not missing, f"rc={r.rc} missing={missing}")
    r = cli(["--version"])
    C.check("--version: exit 0", r.rc == 0 and bool(r.raw), r.brief())


# --------------------------------------------------------------------------- the CLI against `postsource serve`

def t_serve_endpoints():
    import subprocess
    p = subprocess.Popen([BIN, "serve", "--port", "0", "--pace-ms", "5", "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    try:
        port = int(line.strip().rsplit(":", 1)[1].strip("/ "))
    except (ValueError, IndexError):
        p.kill()
        p.wait()
        C.check("serve: first stdout line 'listening on http://127.0.0.1:PORT'", False, repr(line))
        return
    C.check("serve: first stdout line 'listening on http://127.0.0.1:PORT'", line.startswith("listening on http://127.0.0.1:"),
            repr(line))
    b = f"http://127.0.0.1:{port}"
    try:
        r = cli(J + [f"{b}/ticks?interval_ms=10&count=2&total=5&retry=30"], timeout=20)
        ends("serve /ticks total=5", r, 0, "no_content")
        C.check("serve /ticks: ticks 1..5 across reconnects", [e[1] for e in r.events()] == ["1", "2", "3", "4", "5"]
                and [e[0] for e in r.events()] == ["tick"] * 5, r.brief())
        r = cli(J + ["--last-event-id", "41", "-n", "2", f"{b}/ticks?interval_ms=10"], timeout=20)
        C.check("serve /ticks --last-event-id 41: starts at 42", [e[1] for e in r.events()] == ["42", "43"], r.brief())
        r = cli(J + [f"{b}/test/status/503"])
        ends("serve /test/status/503", r, 1, "error", "status")
        e = (r.of("error") or [{}])[-1]
        C.check("serve /test/status/503: status and JSON body", e.get("status") == 503 and (e.get("body") or "").startswith("{"),
                str(e))
        r = cli(J + [f"{b}/test/no-content"])
        ends("serve /test/no-content", r, 0, "no_content")
        r = cli(J + [f"{b}/test/content-type?type=application/json"])
        ends("serve /test/content-type", r, 1, "error", "content_type")
        r = cli(J + NEVER + ["-d", "hi", f"{b}/test/redirect?to=/echo&status=307"])
        o = (r.of("open") or [{}])[0]
        C.check("serve /test/redirect 307: POST kept, open.url is /echo", o.get("url") == f"{b}/echo" and
                ("method", "POST") in [(x[0], x[1]) for x in r.events()] and r.rc == 0, r.brief())
        r = cli(J + NEVER + [f"{b}/test/drip?delay_ms=1"], timeout=20)
        C.check("serve /test/drip", r.events() == [("message", "caf\u00e9 \U0001F600", "1"), ("named", "two\nlines", "1"),
                                                  ("message", "last", "3")] and r.rc == 0, r.brief())
        r = cli(J + NEVER + [f"{b}/test/close-mid-event"])
        ends("serve /test/close-mid-event", r, 0, "eof")
        C.check("serve /test/close-mid-event: one event", len(r.events()) == 1 and r.events()[0][2] == "1", r.brief())
        r = cli(J + NEVER + [f"{b}/test/abort?events=2"])
        shape("serve /test/abort", r)
        C.check("serve /test/abort never: 2 events then an error, exit 1", len(r.events()) == 2 and r.rc == 1
                and r.close_reason() == "error", r.brief())
        r = cli(J + ["--retry", "30", "-n", "4", f"{b}/test/abort?events=2"])
        C.check("serve /test/abort auto: reconnects (server sent ids)", len(r.events()) == 4 and r.rc == 0, r.brief())
        r = cli(J + ["--max-event-size", "1000", f"{b}/test/large?bytes=100000"])
        ends("serve /test/large --max-event-size 1000", r, 1, "error", "too_large")
        C.check("serve /test/large: event before kept", [e[1] for e in r.events()][:1] == ["before"], r.brief())
        r = cli(J + NEVER + [f"{b}/test/large?bytes=100000"])
        C.check("serve /test/large without limit: all three", [len(e[1]) >= 100000 for e in r.events()] == [False, True, False]
                and r.rc == 0, r.brief()[:300])
        r = cli(J + NEVER + ["--idle-timeout", "1", f"{b}/test/stall?events=1"], timeout=10)
        ends("serve /test/stall --idle-timeout 1", r, 1, "error", "idle_timeout")
        r = cli(J + ["--timeout", "1", f"{b}/test/slow?delay_ms=3000"], timeout=10)
        ends("serve /test/slow --timeout 1", r, 1, "error", "timeout")
        r = cli(J + NEVER + [f"{b}/test/events"])
        ends("serve /test/events", r, 0, "eof")
        C.check("serve /test/events: parsed", len(r.events()) >= 4, r.brief())
        chat = '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
        r = cli(J + ["--json", chat, "--until-data", "[DONE]", f"{b}/v1/chat/completions"], timeout=20)
        ends("serve chat --until-data [DONE]", r, 0, "until_data")
        C.check("serve chat: ids on every event, [DONE] last", bool(r.events()) and all(e[2] for e in r.events())
                and r.events()[-1][1] == "[DONE]", r.brief())
        r = cli(J + ["--json", "{bad json", f"{b}/v1/chat/completions"])
        ends("serve chat bad JSON", r, 1, "error", "status")
        e = (r.of("error") or [{}])[-1]
        C.check("serve chat bad JSON: 400 with OpenAI-shaped error", e.get("status") == 400 and '"error"' in (e.get("body") or ""),
                str(e))
        r = cli(["-o", "data", "--json", chat, "--until-data", "[DONE]", f"{b}/v1/chat/completions"], timeout=20)
        C.check("serve chat -o data: JSON lines then [DONE]", r.rc == 0 and r.raw[-1:] == ["[DONE]"] and len(r.raw) > 2, r.brief())
    finally:
        p.send_signal(2)
        try:
            p.wait(timeout=5)
            C.check("serve: Ctrl-C shuts down gracefully (exit 0 or 130)", p.returncode in (0, 130), f"rc={p.returncode}")
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            C.check("serve: Ctrl-C shuts down gracefully", False, "still running after 5 s")

    t0 = time.monotonic()
    r = cli(["demo"], timeout=30)
    C.check("demo: exit 0 without a terminal, in a few seconds", r.rc == 0 and time.monotonic() - t0 < 15 and bool(r.raw),
            f"{time.monotonic() - t0:.1f}s {r.brief()[:300]}")


# --------------------------------------------------------------------------- more corners: statuses on reconnect, combos

def t_more():
    import subprocess
    url = S.route("/re500", seq("id: 1\ndata: a\n\n", lambda c: (c.head(500, ctype="text/plain"), c.write("down"))))
    r = cli(J + ["--retry", "30", url], timeout=10)
    time.sleep(0.3)
    ends("status 500 on a reconnect", r, 1, "error", "status")
    C.check("status 500 on a reconnect: no further reconnects", len(S.requests("/re500")) == 2, f"{len(S.requests('/re500'))}")

    url = S.route("/rect", seq("id: 1\ndata: a\n\n", lambda c: c.sse("data: b\n\n", ctype="text/html")))
    r = cli(J + ["--retry", "30", url], timeout=10)
    time.sleep(0.3)
    ends("wrong content type on a reconnect", r, 1, "error", "content_type")
    C.check("wrong content type on a reconnect: no further reconnects", len(S.requests("/rect")) == 2, "")

    for path, handler, rc in (("/al500", lambda c: (c.head(500, ctype="text/plain"), c.write("x")), 1),
                              ("/al204", lambda c: c.head(204, ctype=None, headers=[("Content-Length", "0")]), 0),
                              ("/alct", lambda c: c.sse("data: x\n\n", ctype="text/plain"), 1)):
        url = S.route(path, handler)
        r = cli(J + ["--reconnect", "always", "--retry", "20", "--max-retries", "3", url], timeout=8)
        time.sleep(0.2)
        C.check(f"--reconnect always: no reconnect after {path[3:]} (exit {rc})", len(S.requests(path)) == 1 and r.rc == rc,
                f"{len(S.requests(path))} requests {r.brief()}")

    url = S.route("/re204", seq("id: 1\ndata: a\n\n", lambda c: c.head(204, ctype=None, headers=[("Content-Length", "0")])))
    r = cli(J + ["--retry", "30", url], timeout=10)
    ends("204 on a reconnect", r, 0, "no_content")

    url = S.route("/getbody", seq("data: x\n\n"))
    r = cli(J + NEVER + ["-X", "GET", "-d", "q=1", url])
    q = S.requests("/getbody")
    C.check("-X GET -d: explicit method wins, body still sent", bool(q) and q[0].method == "GET" and q[0].body == b"q=1",
            f"{[(x.method, x.body) for x in q]}")

    url = S.route("/jsonacc", seq("data: x\n\n"))
    r = cli(J + NEVER + ["--json", "{}", url])
    q = S.requests("/jsonacc")
    C.check("--json keeps Accept: text/event-stream", bool(q) and q[0].header_all("accept") == ["text/event-stream"],
            str(q[0].headers if q else ""))

    for size, data, ok in ((10, "0123456789", True), (10, "0123456789A", False), (10, "01234\ndata: 5678", True)):
        path = f"/mes{size}_{len(data)}_{ok}"
        url = S.route(path, seq(f"data: {data}\n\n"))
        r = cli(J + NEVER + ["--max-event-size", str(size), url])
        C.check(f"--max-event-size {size}: data {data!r} {'accepted' if ok else 'too_large'}",
                (r.rc == 0 and len(r.events()) == 1) if ok else (r.rc == 1 and r.of("error")
                                                                 and r.of("error")[-1].get("kind") == "too_large"),
                r.brief())

    url = S.route("/verbose", seq("data: x\n\n"))
    r = cli(J + NEVER + ["-v", "-i", url])
    C.check("-v -i with -o jsonl: stdout stays pure jsonl", not r.bad_json and r.types() == ["open", "event", "close"],
            r.brief())

    url = S.route("/plain", seq("event: e\nid: 1\ndata: {\"k\": [1, 2]}\n\n"))
    r = cli(NEVER + [url])
    C.check("pretty mode piped: no ANSI escapes, exit 0", r.rc == 0 and not any("\x1b[" in x for x in r.raw) and r.raw,
            r.brief())

    url = S.route("/n2burst", lambda c: (c.sse("".join(f"data: {i}\n\n" for i in range(5))), c.wait_gone(5)))
    r = cli(J + ["-n", "2", url])
    C.check("-n 2 with 5 events in one write: exactly 2", [e[1] for e in r.events()] == ["0", "1"] and r.rc == 0, r.brief())

    url = S.route("/leiempty", seq("data: x\n\n"))
    r = cli(J + NEVER + ["--last-event-id", "", url])
    q = S.requests("/leiempty")
    C.check("--last-event-id '': no Last-Event-ID header", bool(q) and q[0].header("last-event-id") is None and r.rc == 0,
            str(q[0].headers if q else r.brief()))

    url = S.route("/retry0", seq("data: a\n\n", "data: b\n\n"))
    r = cli(J + ["--retry", "0", "-n", "2", url])
    C.check("--retry 0: immediate reconnect, delay_ms 0", [x.get("delay_ms") for x in r.of("reconnect")] == [0] and r.rc == 0,
            r.brief())

    big = random.Random(7).randbytes(1 << 20)
    tmp = tempfile.mkdtemp(prefix="ps-big-")
    f = os.path.join(tmp, "big.bin")
    with open(f, "wb") as fh:
        fh.write(big)
    url = S.route("/bigbody", seq("data: x\n\n"))
    r = cli(J + NEVER + ["-d", "@" + f, url])
    q = S.requests("/bigbody")
    C.check("-d @FILE 1 MiB binary: sent byte for byte", bool(q) and q[0].body == big, f"{len(q[0].body) if q else None}")

    # SIGINT while the body is still being read from a stdin that never closes.
    p = subprocess.Popen([BIN] + J + ["-d", "@-", S.url("/never")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(0.5)
    t = time.monotonic()
    p.send_signal(2)
    try:
        p.wait(timeout=5)
        dt = time.monotonic() - t
        C.check("SIGINT while reading -d @- from stdin: exit 130 within 1 s", p.returncode == 130 and dt <= 1.0,
                f"rc={p.returncode} {dt:.2f}s")
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        C.check("SIGINT while reading -d @- from stdin: exit 130 within 1 s", False, "hung")
    p.stdin.close()

    # --record, then serve --replay plays the same events back.
    tmp = tempfile.mkdtemp(prefix="ps-rec-")
    rec = os.path.join(tmp, "rec.jsonl")
    url = S.route("/rec", lambda c: (c.head(), c.chunks(["id: 1\nevent: a\ndata: one\n\n", ": c\n",
                                                           "retry: 500\ndata: two\ndata: lines\n\n",
                                                           "id: 3\ndata: three\n\n"], delay=0.3)))
    r1 = cli(J + NEVER + ["--record", rec, url])
    sp = subprocess.Popen([BIN, "serve", "--port", "0", "-q", "--replay", rec, "--speed", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    try:
        line = sp.stdout.readline().decode()
        port = int(line.strip().rsplit(":", 1)[1].strip("/ "))
        r2 = cli(J + NEVER + [f"http://127.0.0.1:{port}/replay"], timeout=15)
        C.check("--record then serve --replay: same events", r1.events() == r2.events() and len(r1.events()) == 3
                and r2.rc == 0, f"{r1.events()} vs {r2.events()} {r2.brief()[:200]}")
        r3 = cli(J + NEVER + ["--last-event-id", "1", f"http://127.0.0.1:{port}/replay"], timeout=15)
        sp2 = subprocess.Popen([BIN, "serve", "--port", "0", "-q", "--replay", rec], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        try:
            port2 = int(sp2.stdout.readline().decode().strip().rsplit(":", 1)[1].strip("/ "))
            r4 = cli(J + NEVER + [f"http://127.0.0.1:{port2}/replay"], timeout=15)
            ev_t = [t for t, o in zip(r4.times, r4.lines) if o.get("type") == "event"]
            span = ev_t[-1] - ev_t[0] if len(ev_t) == 3 else 0
            C.check("serve --replay (speed 1): recorded timing kept (0.6 s between first and last event)",
                    r4.events() == r1.events() and 0.4 <= span <= 2.0, f"span {span:.2f}s {r4.brief()[:200]}")
        finally:
            sp2.kill()
            sp2.wait()
        C.check("serve --replay resumes after Last-Event-ID", r3.events() == r1.events()[1:], f"{r3.events()}")
    except (ValueError, IndexError) as e:
        C.check("--record then serve --replay", False, repr(e))
    finally:
        sp.kill()
        sp.wait()


def t_retry_differential(seed: int):
    """Random `retry:` lines (valid, padded, signed, non-ASCII digits, in undispatched blocks):
    the first reconnect's delay_ms must be the last valid value (attempt 1 waits exactly that)."""
    rng = random.Random(seed + 1)
    vals = ["0", "7", "120", "0012", " 5", "5 ", "abc", "+5", "-5", "1e2", "\u0663", "3.5", "250", "99", ""]
    bad = []
    for k in range(16):
        lines = []
        for _ in range(rng.randint(1, 5)):
            v = rng.choice(vals)
            lines.append(rng.choice(["retry: ", "retry:", "retry"]) + v + rng.choice(["\n", "\r\n", "\r"]))
            if rng.random() < 0.5:
                lines.append("data: e\n\n")
        stream = ("".join(lines) + "\n").encode()
        want = reconnection_time(stream, 333)
        n = len(ref_parse(stream)) + 1
        path = f"/rdiff{k}"
        url = S.route(path, seq(stream, "data: end\n\n"))
        r = cli(J + ["--retry", "333", "-n", str(n), url], timeout=10)
        got = [x.get("delay_ms") for x in r.of("reconnect")]
        if got != [want] or r.rc != 0:
            bad.append(f"{stream!r}: want {want} got {got} rc={r.rc}")
    C.check("retry differential: first reconnect waits the last valid retry: value", not bad, "; ".join(bad[:3]))


# --------------------------------------------------------------------------- main

def main() -> int:
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=int(os.environ.get("INTEROP_SEED", "20261201")))
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    if not os.access(BIN, os.X_OK):
        print(f"FAIL binary: {BIN} not found or not executable")
        print("0 passed, 1 failed")
        return 1
    S = Server()
    tests = [t_open, t_default_headers, t_header_override, t_bodies, t_last_event_id_first, t_reconnect_get_auto,
             t_reconnect_id_reset, t_reconnect_lei_seed, t_reconnect_parser_reset, t_reconnect_post, t_max_retries, t_retry_delays,
             t_status_errors, t_content_types, t_connect_errors, t_timeouts, t_limits, t_io_errors, t_ending,
             t_sigint, t_flush, t_usage, t_redirects, t_parse_cases, t_output_modes, t_corners,
             t_robustness, t_serve_endpoints, t_more]
    t0 = time.monotonic()
    for t in tests:
        if a.only and a.only not in t.__name__:
            continue
        C.run(t.__name__, t)
    if not a.only or a.only in "t_retry_differential":
        C.run("t_retry_differential", t_retry_differential, a.seed)
    if not a.only or a.only in "t_differential":
        C.run("t_differential", t_differential, a.seed, a.streams)
    print(f"# conformance run took {time.monotonic() - t0:.1f}s", flush=True)
    S.close()
    return C.summary()


if __name__ == "__main__":
    sys.exit(main())
