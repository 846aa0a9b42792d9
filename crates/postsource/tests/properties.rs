//! Property tests (proptest) for the parser and the encoder.
//!
//! - Chunking never matters: any byte stream, cut anywhere (empty chunks and one-byte chunks
//!   included), gives exactly the frames, end state, last event id and retry of feeding it
//!   whole — also across `finish()` and a second stream.
//! - The encoder round-trips: every `Message` it accepts parses back to exactly that event
//!   (data line breaks normalised to LF, an empty type read as `message`), and every message
//!   it refuses leaves the output buffer untouched.
//!
//! Streams are built from SSE-shaped tokens (field names and case variants, `:`, spaces, tabs,
//! CR, LF, CRLF, BOM bytes and their prefixes, multi-byte and invalid UTF-8, NUL, digits) so
//! that most cases reach the interesting states; uniform bytes would almost never form a field.
//! Case counts are bounded so the file runs in seconds in debug builds. Failures are not
//! persisted to a regressions file (it would land outside the files this suite owns); proptest
//! prints the minimal failing input instead.

mod reference;

use bytes::BytesMut;
use postsource::encode::Message;
use postsource::parse::Parser;
use proptest::collection::vec;
use proptest::prelude::*;
use reference::{End, Options, Out, adapter};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The fixed tokens: field names, separators, line breaks, BOM pieces, odd UTF-8.
const FIXED: &[&[u8]] = &[
    b"data",
    b"data:",
    b"data: ",
    b"event:",
    b"event: ",
    b"id:",
    b"id: ",
    b"id",
    b"retry:",
    b"retry: ",
    b"Data:",
    b"ID:",
    b"event",
    b":",
    b": ",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\xEF\xBB\xBF",
    b"\xEF",
    b"\xEF\xBB",
    b"\xBB",
    b"\xBF",
    b"\xFF",
    b"\xE2\x82",
    b"\xC3",
    b"\x80",
    b"\x00",
    "é".as_bytes(),
    "€".as_bytes(),
    "😀".as_bytes(),
    "\u{FEFF}".as_bytes(),
];

/// One SSE-shaped piece of a stream.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::sample::select(FIXED).prop_map(<[u8]>::to_vec),
        2 => "[0-9]{1,4}".prop_map(String::into_bytes),
        2 => "[a-z]{1,5}".prop_map(String::into_bytes),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

/// A stream of tokens, with whole field lines mixed in so events actually dispatch.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        proptest::sample::select(&["data", "event", "id", "retry", ""][..]),
        vec(token(), 0..4),
        proptest::sample::select(&["\n", "\r", "\r\n", "\n\n", "\r\n\r\n"][..]),
    )
        .prop_map(|(name, value, end)| {
            let mut out = name.as_bytes().to_vec();
            out.extend_from_slice(b": ");
            out.extend(value.concat());
            out.extend_from_slice(end.as_bytes());
            out
        });
    vec(prop_oneof![3 => token(), 2 => line], 0..40).prop_map(|parts| parts.concat())
}

/// Cut positions (possibly repeated, giving empty chunks) for a stream of up to `len` bytes.
fn cuts() -> impl Strategy<Value = Vec<usize>> {
    vec(0usize..400, 0..12)
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn chunking_never_changes_the_output(
        stream in stream(),
        cuts in cuts(),
        comments in any::<bool>(),
    ) {
        let options = Options { comments, ..Options::default() };
        let whole = adapter::run_cut(&mut adapter::parser(&options), &stream, &[]);
        let chunked = adapter::run_cut(&mut adapter::parser(&options), &stream, &cuts);
        prop_assert_eq!(&chunked, &whole);
        let every: Vec<usize> = (1..stream.len()).collect();
        let bytewise = adapter::run_cut(&mut adapter::parser(&options), &stream, &every);
        prop_assert_eq!(&bytewise, &whole);
    }

    #[test]
    fn chunking_never_changes_the_output_across_streams(
        first in stream(),
        second in stream(),
        cuts_a in cuts(),
        cuts_b in cuts(),
    ) {
        let options = Options { comments: true, ..Options::default() };
        let mut whole = adapter::parser(&options);
        let mut chunked = adapter::parser(&options);
        for (s, c) in [(&first, &cuts_a), (&second, &cuts_b)] {
            let a = adapter::run_cut(&mut whole, s, &[]);
            let b = adapter::run_cut(&mut chunked, s, c);
            prop_assert_eq!(a, b);
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// With small limits the errors, the dropped events and what survives them must not depend
    /// on where the chunks end either (a limit crossed inside a chunk, at its end, or by a
    /// line spread over many chunks is the same limit).
    #[test]
    fn chunking_never_changes_the_output_under_limits(
        stream in stream(),
        cuts in cuts(),
        max_line in 0usize..24,
        max_event in 0usize..32,
    ) {
        let parser = || {
            Parser::new()
                .with_comments(true)
                .with_max_line_len(max_line)
                .with_max_event_size(max_event)
        };
        let whole = adapter::run_cut(&mut parser(), &stream, &[]);
        let chunked = adapter::run_cut(&mut parser(), &stream, &cuts);
        prop_assert_eq!(&chunked, &whole);
        let every: Vec<usize> = (1..stream.len()).collect();
        let bytewise = adapter::run_cut(&mut parser(), &stream, &every);
        prop_assert_eq!(&bytewise, &whole);
    }
}

/// Text for data: any characters, biased toward line breaks, spaces, colons and the BOM.
fn text() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            3 => proptest::sample::select(
                &["\r", "\n", "\r\n", " ", ":", "\t", "\0", "\u{FEFF}", "a", "é", "😀"][..]
            )
            .prop_map(str::to_string),
            2 => any::<char>().prop_map(String::from),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Text without CR or LF (and without NUL when `nul` is false).
fn field_text(nul: bool) -> impl Strategy<Value = String> {
    text().prop_map(move |t| {
        t.chars()
            .filter(|&c| c != '\r' && c != '\n' && (nul || c != '\0'))
            .collect()
    })
}

fn normalise_breaks(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

/// A message the encoder must accept: (data, event, id, retry).
fn accepted() -> impl Strategy<Value = (String, String, Option<String>, Option<u64>)> {
    (
        text(),
        field_text(true),
        proptest::option::of(field_text(false)),
        proptest::option::of(any::<u64>()),
    )
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn encoder_round_trips_every_accepted_message(
        messages in vec(accepted(), 1..5),
        cuts in cuts(),
    ) {
        let mut wire = BytesMut::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        for (data, event, id, retry) in &messages {
            let mut message = Message::new(data).event(event);
            if let Some(id) = id {
                message = message.id(id);
                last_id = id.clone();
            }
            if let Some(ms) = retry {
                message = message.retry(*ms);
                expected.push(Out::Retry(*ms));
            }
            prop_assert_eq!(message.validate(), Ok(()));
            message.encode_into(&mut wire).unwrap();
            expected.push(Out::Event {
                event: if event.is_empty() { "message".into() } else { event.clone() },
                data: normalise_breaks(data),
                id: last_id.clone(),
            });
        }
        let run = adapter::run_cut(&mut adapter::parser(&Options::default()), &wire, &cuts);
        prop_assert_eq!(run.outputs, expected);
        prop_assert_eq!(run.end, End::Clean);
        prop_assert_eq!(run.last_event_id, last_id);
    }

    #[test]
    fn encoder_writes_nothing_for_a_refused_message(
        data in text(),
        event in text(),
        id in proptest::option::of(text()),
    ) {
        let bad_event = event.contains(['\r', '\n']);
        let bad_id = id.as_deref().is_some_and(|id| id.contains(['\r', '\n', '\0']));
        let mut message = Message::new(&data).event(&event);
        if let Some(id) = &id {
            message = message.id(id);
        }
        let mut out = BytesMut::from(&b"prefix"[..]);
        let result = message.encode_into(&mut out);
        prop_assert_eq!(result.is_err(), bad_event || bad_id);
        if result.is_err() {
            prop_assert_eq!(&out[..], b"prefix");
            prop_assert!(message.to_bytes().is_err());
        } else {
            prop_assert!(out.starts_with(b"prefix"));
        }
    }
}
