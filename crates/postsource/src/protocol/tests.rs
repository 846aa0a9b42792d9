//! The session's rules, driven with explicit time and no network.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;

const SSE: Option<&str> = Some("text/event-stream");

fn config(method: &str) -> Config {
    Config {
        jitter: false,
        ..Config::for_method(method)
    }
}

fn drain(s: &mut Session) -> Vec<Output> {
    core::iter::from_fn(|| s.poll()).collect()
}

fn open(s: &mut Session, now: u64) {
    assert!(matches!(s.poll(), Some(Output::Connect { .. })));
    assert_eq!(s.on_response(now, 200, SSE, None), Verdict::Open);
}

fn feed(s: &mut Session, now: u64, text: &'static str) -> Vec<Output> {
    s.on_bytes(now, Bytes::from_static(text.as_bytes()));
    drain(s)
}

#[test]
fn auto_does_not_resend_a_post_without_an_id() {
    let mut s = Session::new(config("POST"), 0);
    open(&mut s, 1);
    assert_eq!(feed(&mut s, 2, "data: a\n\n").len(), 1);
    s.connection_lost(3, Interruption::Eof);
    assert_eq!(drain(&mut s), [Output::Closed(End::Eof)]);
    assert_eq!(s.poll_timeout(), None);

    let mut s = Session::new(config("POST"), 0);
    open(&mut s, 1);
    s.connection_lost(3, Interruption::Io);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::Interrupted(Interruption::Io))]
    );
}

#[test]
fn auto_does_not_resend_a_post_whose_id_no_header_can_carry() {
    for (stream, resends) in [
        ("id: job\x7f1\ndata: a\n\n", false),
        ("id: job\x011\ndata: a\n\n", false),
        ("id: job\t\u{e9}1\ndata: a\n\n", true),
    ] {
        let mut s = Session::new(config("POST"), 0);
        open(&mut s, 1);
        s.on_bytes(2, Bytes::from(stream.as_bytes().to_vec()));
        assert_eq!(drain(&mut s).len(), 1, "{stream:?}");
        s.connection_lost(3, Interruption::Eof);
        let next = drain(&mut s);
        assert_eq!(
            matches!(next[..], [Output::Reconnecting { .. }]),
            resends,
            "{stream:?}: {next:?}"
        );
    }
}

#[test]
fn auto_does_not_resend_a_post_on_a_restored_id_alone() {
    // The id is the caller's (a saved state), and the server sends none of its own.
    let restored = || Config {
        resume: ResumeState {
            last_event_id: String::from("41"),
            retry_ms: None,
        },
        ..config("POST")
    };
    let mut s = Session::new(restored(), 0);
    open(&mut s, 1);
    assert_eq!(feed(&mut s, 2, "data: a\n\n").len(), 1);
    s.connection_lost(3, Interruption::Eof);
    assert_eq!(drain(&mut s), [Output::Closed(End::Eof)]);

    // An id-only block is the server's id all the same.
    let mut s = Session::new(restored(), 0);
    open(&mut s, 1);
    assert!(feed(&mut s, 2, "id: 42\n\n").is_empty());
    s.connection_lost(3, Interruption::Eof);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting { attempt: 1, .. }]
    ));
}

#[test]
fn auto_does_not_resend_a_post_after_the_server_cleared_its_id() {
    let mut s = Session::new(config("POST"), 0);
    open(&mut s, 1);
    // The last event id is empty again: there is nothing to resume from.
    assert_eq!(
        feed(&mut s, 2, "id: 1\ndata: a\n\nid\ndata: b\n\n").len(),
        2
    );
    s.connection_lost(3, Interruption::Eof);
    assert_eq!(drain(&mut s), [Output::Closed(End::Eof)]);
}

#[test]
fn auto_resumes_a_post_once_the_server_sent_an_id() {
    let mut s = Session::new(config("POST"), 0);
    open(&mut s, 1);
    // The partial event after the complete one is dropped, and its id is not applied.
    feed(&mut s, 2, "id: 1\ndata: a\n\nid: 2\ndata: b");
    s.connection_lost(3, Interruption::Eof);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting {
            attempt: 1,
            delay_ms: 3000,
            after: Interruption::Eof
        }]
    ));
    s.handle_timeout(3002);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(3003);
    assert_eq!(
        drain(&mut s),
        [Output::Connect {
            attempt: 1,
            last_event_id: "1".into()
        }]
    );
}

#[test]
fn never_and_always() {
    let mut s = Session::new(
        Config {
            reconnect: Reconnect::Never,
            ..config("GET")
        },
        0,
    );
    open(&mut s, 0);
    s.connection_lost(1, Interruption::Eof);
    assert_eq!(drain(&mut s), [Output::Closed(End::Eof)]);

    let mut s = Session::new(
        Config {
            reconnect: Reconnect::Always,
            ..config("POST")
        },
        0,
    );
    open(&mut s, 0);
    s.connection_lost(1, Interruption::Connect);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting { attempt: 1, .. }]
    ));
}

#[test]
fn ask_waits_for_the_answer() {
    let mut s = Session::new(
        Config {
            reconnect: Reconnect::Ask,
            ..config("POST")
        },
        0,
    );
    open(&mut s, 0);
    s.connection_lost(1, Interruption::Io);
    let out = drain(&mut s);
    let [Output::AskReconnect(info)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (info.attempt, info.auto, info.after),
        (1, false, Interruption::Io)
    );
    assert_eq!(s.poll_timeout(), None);
    s.answer_reconnect(5, true);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting { attempt: 1, .. }]
    ));

    let mut s = Session::new(
        Config {
            reconnect: Reconnect::Ask,
            ..config("GET")
        },
        0,
    );
    open(&mut s, 0);
    s.connection_lost(1, Interruption::Eof);
    drain(&mut s);
    s.answer_reconnect(5, false);
    assert_eq!(drain(&mut s), [Output::Closed(End::Eof)]);
}

#[test]
fn responses_that_do_not_open() {
    for (status, ct, expect) in [
        (204, SSE, Output::Closed(End::NoContent)),
        (500, SSE, Output::Failed(Failure::Status { status: 500 })),
        (201, SSE, Output::Failed(Failure::Status { status: 201 })),
        (
            200,
            Some("application/json"),
            Output::Failed(Failure::ContentType),
        ),
    ] {
        let mut s = Session::new(config("GET"), 0);
        drain(&mut s);
        s.on_response(1, status, ct, None);
        assert_eq!(drain(&mut s), [expect]);
        assert!(s.is_done());
        s.connection_lost(2, Interruption::Eof);
        assert!(
            drain(&mut s).is_empty(),
            "nothing after the terminal output"
        );
    }
}

#[test]
fn unavailable_is_retried_after_retry_after_when_enabled() {
    let mut s = Session::new(
        Config {
            retry_unavailable: true,
            max_retries: Some(1),
            ..config("POST")
        },
        0,
    );
    drain(&mut s);
    assert_eq!(s.on_response(1, 503, None, Some(2000)), Verdict::RetryLater);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting {
            attempt: 1,
            delay_ms: 2000,
            ..
        }]
    ));
    s.handle_timeout(2001);
    drain(&mut s);
    s.on_response(2002, 429, None, None);
    let out = drain(&mut s);
    assert!(
        matches!(
            out[..],
            [Output::Failed(Failure::GaveUp {
                limit: Limit::MaxRetries,
                attempts: 1,
                last: Interruption::Unavailable { status: 429 }
            })]
        ),
        "{out:?}"
    );
}

#[test]
fn server_retry_backoff_cap_and_reset_on_event() {
    let mut s = Session::new(
        Config {
            max_delay_ms: 1000,
            ..config("GET")
        },
        0,
    );
    open(&mut s, 0);
    assert_eq!(feed(&mut s, 1, "retry: 100\n\n"), [Output::Retry(100)]);
    let mut now = 1;
    let mut delays = Vec::new();
    for _ in 0..6 {
        s.connection_lost(now, Interruption::Connect);
        let Some(Output::Reconnecting { delay_ms, .. }) = s.poll() else {
            panic!()
        };
        delays.push(delay_ms);
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
        assert!(matches!(s.poll(), Some(Output::Connect { .. })));
    }
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(s.on_response(now, 200, SSE, None), Verdict::Open);
    feed(&mut s, now, "data: x\n\n");
    assert_eq!(s.attempts(), 0);
    s.connection_lost(now, Interruption::Eof);
    assert!(matches!(
        s.poll(),
        Some(Output::Reconnecting {
            attempt: 1,
            delay_ms: 100,
            ..
        })
    ));
}

#[test]
fn max_retries_counts_attempts_in_a_row_without_an_event() {
    let mut s = Session::new(
        Config {
            max_retries: Some(2),
            retry_ms: 10,
            ..config("GET")
        },
        0,
    );
    let mut now = 0;
    drain(&mut s);
    for round in 0..3 {
        // Each connection delivers one event, so the count never runs out.
        s.on_response(now, 200, SSE, None);
        feed(&mut s, now, "data: x\n\n");
        s.connection_lost(now, Interruption::Eof);
        assert!(
            matches!(s.poll(), Some(Output::Reconnecting { attempt: 1, .. })),
            "round {round}"
        );
        now += 10;
        s.handle_timeout(now);
        drain(&mut s);
    }
    for attempt in 2..=2 {
        s.connection_lost(now, Interruption::Connect);
        assert!(matches!(s.poll(), Some(Output::Reconnecting { attempt: a, .. }) if a == attempt));
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
        drain(&mut s);
    }
    s.connection_lost(now, Interruption::Connect);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::GaveUp {
            last: Interruption::Connect,
            attempts: 2,
            limit: Limit::MaxRetries
        })]
    );
}

#[test]
fn max_elapsed() {
    let mut s = Session::new(
        Config {
            max_elapsed_ms: Some(1000),
            retry_ms: 400,
            ..config("GET")
        },
        0,
    );
    drain(&mut s);
    let mut outs = Vec::new();
    for _ in 0..5 {
        let now = s.poll_timeout().unwrap_or(0);
        s.handle_timeout(now);
        drain(&mut s);
        s.connection_lost(now, Interruption::Connect);
        outs.extend(drain(&mut s));
        if s.is_done() {
            break;
        }
    }
    // Failures at 0, 400 (+400), 1200 (+800): the third is past 1000 ms of trying.
    assert_eq!(outs.len(), 3, "{outs:?}");
    assert!(matches!(
        outs[2],
        Output::Failed(Failure::GaveUp {
            limit: Limit::MaxElapsed,
            attempts: 2,
            ..
        })
    ));
}

#[test]
fn timeouts_are_deadlines() {
    let cfg = Config {
        response_timeout_ms: Some(50),
        idle_timeout_ms: Some(100),
        event_timeout_ms: Some(300),
        total_timeout_ms: Some(10_000),
        reconnect: Reconnect::Never,
        ..config("GET")
    };
    let mut s = Session::new(cfg.clone(), 0);
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(50));
    s.handle_timeout(50);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::Interrupted(
            Interruption::ResponseTimeout
        ))]
    );

    // Comments keep the idle deadline away but not the event deadline.
    let mut s = Session::new(
        Config {
            comments: true,
            ..cfg.clone()
        },
        0,
    );
    open(&mut s, 0);
    assert_eq!(s.poll_timeout(), Some(100));
    for t in [90, 180, 270] {
        assert_eq!(feed(&mut s, t, ":\n").len(), 1);
    }
    assert_eq!(s.poll_timeout(), Some(300));
    s.handle_timeout(300);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::Interrupted(
            Interruption::EventTimeout
        ))]
    );

    let mut s = Session::new(cfg.clone(), 0);
    open(&mut s, 0);
    feed(&mut s, 60, "data: x\n\n");
    s.handle_timeout(159);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(160);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::Interrupted(
            Interruption::IdleTimeout
        ))]
    );

    let mut s = Session::new(
        Config {
            idle_timeout_ms: None,
            event_timeout_ms: None,
            ..cfg
        },
        0,
    );
    open(&mut s, 0);
    assert_eq!(s.poll_timeout(), Some(10_000));
    s.handle_timeout(10_000);
    assert_eq!(drain(&mut s), [Output::Failed(Failure::TotalTimeout)]);
}

#[test]
fn idle_timeout_reconnects_per_policy() {
    let mut s = Session::new(
        Config {
            idle_timeout_ms: Some(100),
            retry_ms: 5,
            ..config("GET")
        },
        0,
    );
    open(&mut s, 0);
    s.handle_timeout(100);
    assert!(matches!(
        drain(&mut s)[..],
        [Output::Reconnecting {
            after: Interruption::IdleTimeout,
            ..
        }]
    ));
    assert_eq!(s.poll_timeout(), Some(105));
}

#[test]
fn until_data_ends_after_the_sentinel() {
    let mut s = Session::new(
        Config {
            until_data: Some(String::from("[DONE]")),
            ..config("POST")
        },
        0,
    );
    open(&mut s, 0);
    let out = feed(&mut s, 1, "data: {}\n\ndata: [DONE]\n\ndata: after\n\n");
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(matches!(&out[1], Output::Event(e) if e.data == "[DONE]"));
    assert_eq!(out[2], Output::Closed(End::UntilData));
    assert!(feed(&mut s, 2, "data: more\n\n").is_empty());
}

#[test]
fn too_large_is_terminal_after_the_complete_events() {
    let mut s = Session::new(
        Config {
            max_event_size: 8,
            ..config("GET")
        },
        0,
    );
    open(&mut s, 0);
    let out = feed(&mut s, 1, "data: ok\n\ndata: 0123456789\n\n");
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[1],
        Output::Failed(Failure::TooLarge(ParseError::EventTooLarge { limit: 8 }))
    );
}

#[test]
fn close_replaces_pending_outputs_and_is_final() {
    let mut s = Session::new(config("GET"), 0);
    open(&mut s, 0);
    s.on_bytes(1, Bytes::from_static(b"data: a\n\n"));
    s.close();
    assert_eq!(drain(&mut s), [Output::Closed(End::Aborted)]);
    s.close();
    s.handle_timeout(1_000_000);
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn resume_state_round_trips() {
    let cfg = Config {
        resume: ResumeState {
            last_event_id: String::from("41"),
            retry_ms: Some(250),
        },
        ..config("POST")
    };
    let mut s = Session::new(cfg, 0);
    assert_eq!(
        s.poll(),
        Some(Output::Connect {
            attempt: 0,
            last_event_id: "41".into()
        })
    );
    assert_eq!(s.retry_ms(), 250);
    s.on_response(0, 200, SSE, None);
    feed(&mut s, 0, "id: 42\nretry: 700\ndata: x\n\n");
    assert_eq!(
        s.resume_state(),
        ResumeState {
            last_event_id: String::from("42"),
            retry_ms: Some(700)
        }
    );
    // A POST with a restored id resumes under Auto.
    s.connection_lost(1, Interruption::Eof);
    assert!(matches!(
        s.poll(),
        Some(Output::Reconnecting { delay_ms: 700, .. })
    ));
}

#[test]
fn jitter_is_deterministic_per_seed() {
    let run = |seed| {
        let mut s = Session::new(
            Config {
                seed,
                jitter: true,
                retry_ms: 100,
                ..Config::for_method("GET")
            },
            0,
        );
        drain(&mut s);
        let mut delays = Vec::new();
        for _ in 0..5 {
            s.connection_lost(0, Interruption::Connect);
            let Some(Output::Reconnecting { delay_ms, .. }) = s.poll() else {
                panic!()
            };
            delays.push(delay_ms);
            s.handle_timeout(s.poll_timeout().unwrap());
            drain(&mut s);
        }
        delays
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    assert_eq!(run(1)[0], 100);
}

#[test]
fn idle_timeout_also_bounds_the_wait_for_the_response_head() {
    let cfg = Config {
        idle_timeout_ms: Some(100),
        reconnect: Reconnect::Never,
        ..config("GET")
    };
    let mut s = Session::new(cfg, 0);
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(100));
    s.handle_timeout(99);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(100);
    assert_eq!(
        drain(&mut s),
        [Output::Failed(Failure::Interrupted(
            Interruption::IdleTimeout
        ))]
    );
}

#[test]
fn events_are_parsed_as_polled_and_an_idle_session_holds_no_queue() {
    let mut s = Session::new(config("GET"), 0);
    open(&mut s, 1);
    let many: String = (0..1000).map(|i| alloc::format!("data: {i}\n\n")).collect();
    s.on_bytes(2, Bytes::from(many));
    assert!(matches!(s.poll(), Some(Output::Event(e)) if e.data == "0"));
    // The other 999 wait in the parser, not as queued outputs.
    assert!(s.out.is_empty());
    assert_eq!(drain(&mut s).len(), 999);
    assert_eq!(
        s.out.capacity(),
        0,
        "an idle session keeps room for outputs"
    );
}

#[test]
fn unpolled_events_still_come_before_the_ending() {
    let mut s = Session::new(config("POST"), 0);
    open(&mut s, 1);
    s.on_bytes(
        2,
        Bytes::from_static(b"data: a\n\ndata: b\n\ndata: [DONE]\n\ndata: c\n\n"),
    );
    s.connection_lost(3, Interruption::Eof);
    let out = drain(&mut s);
    assert_eq!(out.len(), 5, "{out:?}");
    assert!(matches!(&out[3], Output::Event(e) if e.data == "c"));
    assert_eq!(out[4], Output::Closed(End::Eof));

    let mut s = Session::new(
        Config {
            until_data: Some("[DONE]".into()),
            ..config("POST")
        },
        0,
    );
    open(&mut s, 1);
    s.on_bytes(
        2,
        Bytes::from_static(b"data: a\n\ndata: [DONE]\n\ndata: c\n\n"),
    );
    s.connection_lost(3, Interruption::Eof);
    let out = drain(&mut s);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[2], Output::Closed(End::UntilData));
}
