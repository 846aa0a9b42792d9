//! The parsers of the `parse` benchmark agree: on small versions of every corpus, in
//! every chunking, each peer dispatches exactly the (event type, data, last event
//! id) sequence that postsource does — so the benchmark compares equal work.
//!
//! Where a peer deviates from the WHATWG rules, `deviations` pins down what it
//! actually does on a tiny input (and what postsource does instead), so a peer
//! release that fixes or changes it shows up here. Every run is bounded: adapters
//! stop after a few errors, turn panics into `Item::Panic`, and each run gets a
//! thread with a generous timeout.

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use postsource_bench::corpus;
use postsource_bench::peers::{Ev, Impl, Item};

/// "Must finish" bound for one parser run: generous for a loaded machine.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// `imp.collect(chunks)` (or `ready` with `open`) on its own thread, failing the
/// test instead of hanging it.
fn bounded(imp: Impl, chunks: &[Bytes], open: bool) -> Vec<Item> {
    let chunks = chunks.to_vec();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let items = if open {
            imp.ready(&chunks)
        } else {
            imp.collect(&chunks)
        };
        let _ = tx.send(items);
    });
    rx.recv_timeout(RUN_TIMEOUT)
        .unwrap_or_else(|_| panic!("{} did not finish in {RUN_TIMEOUT:?}", imp.name()))
}

fn events(items: &[Item]) -> Vec<Ev> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Event(ev) => Some(ev.clone()),
            _ => None,
        })
        .collect()
}

/// Dispatched events, found the obvious way: blocks between blank lines that hold a
/// `data` line (the corpora use one line-ending style each and no edge cases).
fn count_blocks_with_data(bytes: &[u8], blank: &str) -> usize {
    std::str::from_utf8(bytes)
        .unwrap()
        .split_inclusive(blank)
        .filter(|block| block.ends_with(blank) && block.contains("data:"))
        .count()
}

fn assert_all_agree(name: &str, bytes: &Bytes, sizes: &[usize], expected_events: usize) {
    for &size in sizes {
        let chunks = corpus::split(bytes, size);
        let reference = bounded(Impl::Postsource, &chunks, false);
        assert!(
            reference.iter().all(|item| matches!(item, Item::Event(_))),
            "{name}/{size}: postsource reported {:?}",
            reference
                .iter()
                .find(|item| !matches!(item, Item::Event(_)))
        );
        assert_eq!(
            reference.len(),
            expected_events,
            "{name}/{size}: postsource"
        );
        let reference = events(&reference);
        for peer in Impl::PEERS {
            let got = bounded(peer, &chunks, false);
            assert!(
                got.iter().all(|item| matches!(item, Item::Event(_))),
                "{name}/{size}: {} reported {:?}",
                peer.name(),
                got.iter().find(|item| !matches!(item, Item::Event(_)))
            );
            let got = events(&got);
            if got != reference {
                let at = got.iter().zip(&reference).position(|(a, b)| a != b);
                panic!(
                    "{name}/{size}: {} differs from postsource ({} vs {} events), first at {at:?}: {:?} vs {:?}",
                    peer.name(),
                    got.len(),
                    reference.len(),
                    at.map(|i| &got[i]),
                    at.map(|i| &reference[i]),
                );
            }
        }
    }
}

const SIZES: [usize; 5] = [1, 7, 64, 1024, 16 * 1024];

#[test]
fn llm_stream_agrees() {
    let bytes = corpus::llm(32 * 1024);
    let n = count_blocks_with_data(&bytes, "\n\n");
    assert!(n > 100);
    assert_all_agree("a-llm", &bytes, &SIZES, n);
}

#[test]
fn big_events_agree() {
    let bytes = corpus::big_events(3 * corpus::BIG_EVENT);
    let n = count_blocks_with_data(&bytes, "\n\n");
    assert!(n >= 3);
    assert_all_agree("b-big-events", &bytes, &SIZES, n);
}

#[test]
fn tiny_events_with_heartbeats_agree() {
    let bytes = corpus::tiny(16 * 1024);
    let n = count_blocks_with_data(&bytes, "\n\n");
    assert!(n > 100);
    assert_all_agree("c-tiny", &bytes, &SIZES, n);
}

#[test]
fn crlf_llm_stream_agrees() {
    let bytes = corpus::crlf(&corpus::llm(32 * 1024));
    let n = count_blocks_with_data(&bytes, "\r\n\r\n");
    assert!(n > 100);
    assert_all_agree("d-llm-crlf", &bytes, &SIZES, n);
}

#[test]
fn long_line_agrees() {
    // Small: one peer is quadratic on this shape, and tests run unoptimised.
    let bytes = corpus::long_line(8 * 1024);
    assert_all_agree("e-long-line", &bytes, &[4, 64, 16 * 1024], 1);
}

/// Edge cases every parser gets right, in one stream, in every chunking from 1 to
/// 16 bytes: CRLF split across chunks, ids that persist and reset, an id in a block
/// without data, the type reset after dispatch, colon-less fields, one space
/// stripped, case-sensitive names, comments, empty data lines, NUL in data and in
/// an id, multi-byte UTF-8 split anywhere.
#[test]
fn edge_cases_all_parsers_get_right_agree() {
    let stream: &[u8] = b"data: a\r\ndata: b\r\n\r\n\
        id: 1\ndata: x\n\ndata: y\n\nid\ndata: z\n\nid: 9\n\nevent: a\n\n\
        data\ndata\n\ndata:  x\ndata:y\n\nData: x\ndata: y\n\n: c\n\n\
        data: x\n: c\ndata: y\n\ndata:\n\ndata: x\ndata:\n\n data: x\ndata: y\n\n\
        data: a\0b\n\ndata: x\n\r\nevent: ping\ndata: caf\xC3\xA9 \xF0\x9F\x98\x80\n\n\
        id: a\0b\ndata: n\n\nevent:\ndata: m\n\n";
    let bytes = Bytes::from_static(stream);
    let sizes: Vec<usize> = (1..=16).chain([stream.len()]).collect();
    assert_all_agree("edge", &bytes, &sizes, 16);
    let expected = [
        Ev::new("message", "a\nb", ""),
        Ev::new("message", "x", "1"),
        Ev::new("message", "y", "1"),
        Ev::new("message", "z", ""),
        Ev::new("message", "\n", "9"),
        Ev::new("message", " x\ny", "9"),
        Ev::new("message", "y", "9"),
        Ev::new("message", "x\ny", "9"),
        Ev::new("message", "", "9"),
        Ev::new("message", "x\n", "9"),
        Ev::new("message", "y", "9"),
        Ev::new("message", "a\0b", "9"),
        Ev::new("message", "x", "9"),
        Ev::new("ping", "caf\u{e9} \u{1f600}", "9"),
        Ev::new("message", "n", "9"),
        Ev::new("message", "m", "9"),
    ];
    assert_eq!(
        events(&bounded(Impl::Postsource, &[bytes], false)),
        expected
    );
}

/// Each peer's actual behaviour where it departs from the spec, next to
/// postsource's (the spec's). Inputs are tiny; the comment on each cites the rule.
mod deviations {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::from_static(p)).collect()
    }

    fn msg(data: &str) -> Item {
        Item::Event(Ev::new("message", data, ""))
    }

    fn run(imp: Impl, parts: &[&'static [u8]]) -> Vec<Item> {
        bounded(imp, &chunks(parts), false)
    }

    /// The stream is still open after `parts`: what a live client has seen so far.
    fn seen_while_open(imp: Impl, parts: &[&'static [u8]]) -> Vec<Item> {
        bounded(imp, &chunks(parts), true)
    }

    /// Spec: "One leading U+FEFF BYTE ORDER MARK character must be ignored if any
    /// are present." eventsource-stream strips it with `&string[1..]`, a byte index
    /// inside the 3-byte BOM: it panics on every stream that starts with a BOM.
    #[test]
    fn bom_panics_eventsource_stream() {
        let inputs: [&[&[u8]]; 3] = [
            &[b"\xEF\xBB\xBFdata: x\n\n"],
            &[b"\xEF", b"\xBB\xBFdata: x\n\n"],
            &[b"", b"\xEF\xBB\xBFdata: x\n\n"],
        ];
        for parts in inputs {
            let got = run(Impl::EventsourceStream, parts);
            assert!(
                matches!(&got[..], [Item::Panic(m)] if m.contains("is not a char boundary")),
                "{got:?}"
            );
            for imp in [Impl::Postsource, Impl::SseStream, Impl::Sseer] {
                assert_eq!(run(imp, parts), [msg("x")], "{}", imp.name());
            }
        }
    }

    /// Spec: the stream is decoded as UTF-8 with replacement (U+FFFD), so a bad byte
    /// changes one character and nothing else. Peers lose events instead.
    #[test]
    fn invalid_utf8_loses_events_in_every_peer() {
        let parts: &[&[u8]] = &[b"data: a\xFFb\n\ndata: next\n\n"];
        assert_eq!(
            run(Impl::Postsource, parts),
            [msg("a\u{FFFD}b"), msg("next")]
        );
        // eventsource-stream: its UTF-8 layer holds every byte from the bad one on,
        // forever: nothing more is dispatched while the stream is open (it stalls),
        // and at EOF the whole held tail is one error.
        assert_eq!(seen_while_open(Impl::EventsourceStream, parts), []);
        let got = run(Impl::EventsourceStream, parts);
        assert!(
            matches!(&got[..], [Item::Error(e)] if e.starts_with("Utf8(")),
            "{got:?}"
        );
        // sse-stream: an error, then the stream ends: later events are lost too.
        let got = run(Impl::SseStream, parts);
        assert!(
            matches!(&got[..], [Item::Error(e)] if e.contains("utf8")),
            "{got:?}"
        );
        // sseer: an error for the line; that event is lost, the next one arrives.
        let got = run(Impl::Sseer, parts);
        assert!(
            matches!(&got[..], [Item::Error(e), next] if e.starts_with("Utf8Error") && *next == msg("next")),
            "{got:?}"
        );
    }

    /// Spec: lines end in CRLF, LF or CR. With CR-only line endings
    /// eventsource-stream never dispatches the last event of the stream: its final
    /// CR waits for a possible LF, and EOF does not release it.
    #[test]
    fn cr_only_last_event_lost_by_eventsource_stream() {
        let parts: &[&[u8]] = &[b"data: a\r\rdata: b\r\r"];
        assert_eq!(run(Impl::EventsourceStream, parts), [msg("a")]);
        for imp in [Impl::Postsource, Impl::SseStream, Impl::Sseer] {
            assert_eq!(run(imp, parts), [msg("a"), msg("b")], "{}", imp.name());
        }
    }

    /// Spec: a CR ends the line at once (a following LF is then skipped). When the
    /// blank line that ends an event is a CR at the end of what has arrived,
    /// eventsource-stream and sseer hold the event back until another byte comes:
    /// on a live stream (CR-only endings, or a chunk boundary inside CRLF CRLF)
    /// the event is late by a whole server write.
    #[test]
    fn trailing_cr_delays_dispatch_in_eventsource_stream_and_sseer() {
        let inputs: [&[&[u8]]; 3] = [&[b"data: a\r\r"], &[b"data: a\n\r"], &[b"data: a\r\n\r"]];
        for parts in inputs {
            for imp in [Impl::Postsource, Impl::SseStream] {
                assert_eq!(seen_while_open(imp, parts), [msg("a")], "{}", imp.name());
            }
            for imp in [Impl::EventsourceStream, Impl::Sseer] {
                assert_eq!(seen_while_open(imp, parts), [], "{}", imp.name());
            }
        }
    }

    /// Spec: "If the field value consists of only ASCII digits" — `+5` is not.
    /// eventsource-stream and sseer use `u64::from_str`, which accepts a sign.
    #[test]
    fn retry_with_plus_sign_accepted_by_eventsource_stream_and_sseer() {
        let parts: &[&[u8]] = &[b"retry: +5\ndata: x\n\n"];
        for imp in [Impl::Postsource, Impl::SseStream] {
            assert_eq!(run(imp, parts), [msg("x")], "{}", imp.name());
        }
        for imp in [Impl::EventsourceStream, Impl::Sseer] {
            assert_eq!(
                run(imp, parts),
                [Item::Retry(5), msg("x")],
                "{}",
                imp.name()
            );
        }
        // Digits only are accepted by everyone.
        for imp in Impl::PARSERS {
            assert_eq!(
                run(imp, &[b"retry: 5\ndata: x\n\n"]),
                [Item::Retry(5), msg("x")],
                "{}",
                imp.name()
            );
        }
    }

    /// Spec: `retry` sets the reconnection time when the field is read, not at
    /// dispatch. eventsource-stream and sseer only report it on a dispatched event,
    /// so a `retry:` in a block without data (a common "hello" block) is lost.
    #[test]
    fn retry_without_data_lost_by_eventsource_stream_and_sseer() {
        let parts: &[&[u8]] = &[b"retry: 7\n\ndata: x\n\n"];
        for imp in [Impl::Postsource, Impl::SseStream] {
            assert_eq!(
                run(imp, parts),
                [Item::Retry(7), msg("x")],
                "{}",
                imp.name()
            );
        }
        for imp in [Impl::EventsourceStream, Impl::Sseer] {
            assert_eq!(run(imp, parts), [msg("x")], "{}", imp.name());
        }
    }

    /// Spec: a line without a colon is a field with an empty value, so `event`
    /// alone empties the event type buffer (the event is a `message`). sseer ignores
    /// it and keeps the earlier `event: a`.
    #[test]
    fn event_without_colon_ignored_by_sseer() {
        let parts: &[&[u8]] = &[b"event: a\nevent\ndata: x\n\n"];
        for imp in [Impl::Postsource, Impl::EventsourceStream, Impl::SseStream] {
            assert_eq!(run(imp, parts), [msg("x")], "{}", imp.name());
        }
        assert_eq!(
            run(Impl::Sseer, parts),
            [Item::Event(Ev::new("a", "x", ""))]
        );
    }

    /// Not a bug but a different contract: sse-stream yields raw blocks. Ids are not
    /// carried to later events and blocks without data are yielded, so its users
    /// must rebuild EventSource's last-event-id and dispatch rules themselves (the
    /// adapter does).
    #[test]
    fn sse_stream_yields_raw_blocks() {
        let input = futures::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from_static(
            b"id: 1\ndata: x\n\ndata: y\n\nid: 2\n\n",
        ))]);
        let blocks: Vec<sse_stream::Sse> = futures::executor::block_on(async {
            use futures::StreamExt;
            sse_stream::SseByteStream::new(input)
                .map(|block| block.unwrap())
                .collect()
                .await
        });
        let shape: Vec<(Option<&str>, Option<&str>)> = blocks
            .iter()
            .map(|b| (b.id.as_deref(), b.data.as_deref()))
            .collect();
        assert_eq!(
            shape,
            [(Some("1"), Some("x")), (None, Some("y")), (Some("2"), None)]
        );
    }

    /// Spec rules every peer follows (so the deviations above are the whole list
    /// for these inputs): a CRLF split across chunks is one line ending, and an
    /// event not ended by a blank line at EOF is not dispatched.
    #[test]
    fn split_crlf_and_unterminated_event_handled_by_every_parser() {
        for imp in Impl::PARSERS {
            assert_eq!(
                run(imp, &[b"data: a\r", b"\ndata: b\r\n", b"\r\n"]),
                [msg("a\nb")],
                "{}",
                imp.name()
            );
            for end in [&b"data: x\n"[..], b"data: x", b"data: x\r"] {
                assert_eq!(
                    run(imp, &[b"data: 1\n\n", end]),
                    [msg("1")],
                    "{}",
                    imp.name()
                );
            }
        }
    }
}
