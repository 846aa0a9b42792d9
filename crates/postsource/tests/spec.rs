//! Spec vectors for the event-stream parser and the encoder, one group per rule of the WHATWG
//! HTML standard, § 9.2.5 "Parsing an event stream" and § 9.2.6 "Interpreting an event stream"
//! (with the browser steps to "dispatch the event"). Each test quotes the sentence it checks.
//!
//! Expected values are written out by hand here, never computed by the reference, so these
//! tests stand on their own. Many run every two-way split and the one-byte chunking too, since
//! chunk boundaries (a BOM, a CRLF or a UTF-8 sequence cut in two) are where parsers break.
//!
//! The limit tests count allocations with a per-thread counting global allocator, so that
//! "memory stays bounded" and "no quadratic copying" are checked without timing.

mod reference;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use postsource::encode::{self, EncodeError, Message};
use postsource::parse::{Frame, ParseError, Parser, StreamEnd};
use reference::{End, Options, Out, Run, adapter};

// ---------------------------------------------------------------------------------------------
// Helpers

fn ev(event: &str, data: &str, id: &str) -> Out {
    Out::Event {
        event: event.into(),
        data: data.into(),
        id: id.into(),
    }
}

fn msg(data: &str) -> Out {
    ev("message", data, "")
}

fn run_opts(options: &Options, chunks: &[&[u8]]) -> Run {
    adapter::run_chunks(&mut adapter::parser(options), chunks.iter().copied())
}

fn run(chunks: &[&[u8]]) -> Run {
    run_opts(&Options::default(), chunks)
}

fn with_comments() -> Options {
    Options {
        comments: true,
        ..Options::default()
    }
}

/// Asserts the outputs and end of `stream` fed whole, split in two at every position, and fed
/// one byte at a time.
///
/// The reference must agree with the hand-written expectation too: that keeps the reference
/// (which the differential test and the fuzzer trust) honest on every vector here.
fn check_opts(options: &Options, stream: &[u8], outputs: &[Out], end: End) {
    let reference = reference::interpret(stream, options);
    assert_eq!(reference.outputs, outputs, "reference on {stream:?}");
    assert_eq!(reference.end, end, "reference end on {stream:?}");
    let whole = run_opts(options, &[stream]);
    assert_eq!(whole.outputs, outputs, "whole stream {stream:?}");
    assert_eq!(whole.end, end, "end of whole stream {stream:?}");
    for cut in 0..=stream.len() {
        let split = adapter::run_cut(&mut adapter::parser(options), stream, &[cut]);
        assert_eq!(split, whole, "stream {stream:?} split at {cut}");
    }
    let every: Vec<usize> = (1..stream.len()).collect();
    let bytewise = adapter::run_cut(&mut adapter::parser(options), stream, &every);
    assert_eq!(bytewise, whole, "stream {stream:?} fed byte by byte");
}

fn check(stream: &[u8], outputs: &[Out]) {
    check_opts(&Options::default(), stream, outputs, End::Clean);
}

/// Every frame the parser has ready (errors included).
fn frames(parser: &mut Parser) -> Vec<Result<Frame, ParseError>> {
    parser.by_ref().collect()
}

// ---------------------------------------------------------------------------------------------
// UTF-8 decoding and the BOM.
// § 9.2.6: "Streams must be decoded using the UTF-8 decode algorithm." UTF-8 decode (Encoding
// standard): "1. Let buffer be the result of peeking three bytes from ioQueue ... 2. If buffer
// is 0xEF 0xBB 0xBF, then read three bytes from ioQueue." — one leading BOM only.

#[test]
fn bom_at_start_is_stripped() {
    check(b"\xEF\xBB\xBFdata: a\n\n", &[msg("a")]);
}

#[test]
fn bom_split_over_chunks_is_stripped() {
    for chunks in [
        &[&b"\xEF"[..], b"\xBB", b"\xBFdata: a\n\n"][..],
        &[b"\xEF\xBB", b"\xBFdata: a\n\n"],
        &[b"\xEF", b"\xBB\xBF", b"data: a\n\n"],
        &[b"\xEF", b"", b"\xBB", b"", b"\xBF", b"data: a\n\n"],
    ] {
        assert_eq!(run(chunks).outputs, [msg("a")], "{chunks:?}");
    }
}

#[test]
fn bom_after_empty_chunk_is_stripped() {
    let r = run(&[b"", b"\xEF\xBB\xBFdata: a\n\n"]);
    assert_eq!(r.outputs, [msg("a")]);
    let r = run(&[b"", b"", b"\xEF\xBB\xBF", b"data: a\n\n"]);
    assert_eq!(r.outputs, [msg("a")]);
}

#[test]
fn only_one_bom_is_stripped() {
    // The second U+FEFF is part of the first line: field name "\u{FEFF}data", ignored.
    check(
        "\u{FEFF}\u{FEFF}data: a\n\ndata: b\n\n".as_bytes(),
        &[msg("b")],
    );
}

#[test]
fn bom_mid_stream_is_kept() {
    // Not at the start of the stream: U+FEFF is an ordinary character of the line.
    check(
        "data: a\n\n\u{FEFF}data: b\n\ndata: \u{FEFF}c\n\n".as_bytes(),
        &[msg("a"), msg("\u{FEFF}c")],
    );
}

#[test]
fn bom_prefix_followed_by_other_bytes_is_decoded_not_dropped() {
    // EF BB followed by 'd' is an invalid sequence: one U+FFFD (maximal subpart), which makes
    // the field name "\u{FFFD}data" and the line is ignored.
    check(b"\xEF\xBBdata: a\n\ndata: b\n\n", &[msg("b")]);
    check(b"\xEFdata: a\n\ndata: b\n\n", &[msg("b")]);
    // A lone EF BB line: one U+FFFD as a field name, ignored; then a blank line.
    check(b"\xEF\xBB\n\ndata: b\n\n", &[msg("b")]);
    // The held-back bytes reach the data when they are data.
    check(b"\xEF\xBB\xBFdata: \xEF\xBB\n\n", &[msg("\u{FFFD}")]);
}

#[test]
fn bom_only_stream_is_clean() {
    check(b"\xEF\xBB\xBF", &[]);
    check(b"", &[]);
}

#[test]
fn partial_bom_at_end_of_stream_is_a_partial_line() {
    // EF BB then EOF decodes to U+FFFD: an unterminated line, discarded.
    check_opts(&Options::default(), b"\xEF\xBB", &[], End::Truncated);
}

#[test]
fn partial_bom_is_not_completed_by_the_next_stream() {
    // Each stream is decoded on its own: EF BB at the end of one and BF at the start of the
    // next are two invalid sequences, not a BOM. "\u{FFFD}data" is then an unknown field.
    let mut parser = Parser::new();
    let _ = adapter::run_chunks(&mut parser, [&b"\xEF\xBB"[..]]);
    let r = adapter::run_chunks(&mut parser, [&b"\xBFdata: x\n\n"[..]]);
    assert_eq!(r.outputs, []);
}

#[test]
fn utf8_split_across_chunks() {
    // Every split of every multi-byte sequence must decode to the same text.
    check("data: é€😀\n\n".as_bytes(), &[msg("é€😀")]);
    check(
        "event: ü\nid: ∑\ndata: x\n\n".as_bytes(),
        &[ev("ü", "x", "∑")],
    );
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    // UTF-8 decode with error mode "replacement": one U+FFFD per maximal invalid subpart.
    check(b"data: \xFF\n\n", &[msg("\u{FFFD}")]);
    check(b"data: a\xE2\x82b\n\n", &[msg("a\u{FFFD}b")]);
    check(b"data: \xF0\x9F\x98x\n\n", &[msg("\u{FFFD}x")]);
    // Overlong and surrogate encodings: each byte is its own maximal subpart.
    check(b"data: \xC0\xAF\n\n", &[msg("\u{FFFD}\u{FFFD}")]);
    check(
        b"data: \xED\xA0\x80\n\n",
        &[msg("\u{FFFD}\u{FFFD}\u{FFFD}")],
    );
    // A truncated sequence ended by the line ending.
    check(b"data: \xE2\x82\ndata: b\n\n", &[msg("\u{FFFD}\nb")]);
    // Continuation bytes alone.
    check(b"data: \x80\xBF\n\n", &[msg("\u{FFFD}\u{FFFD}")]);
}

#[test]
fn invalid_utf8_in_field_name_and_id() {
    check(b"dat\xFF: x\n\ndata: y\n\n", &[msg("y")]);
    check(b"id: \xFF\ndata: x\n\n", &[ev("message", "x", "\u{FFFD}")]);
    check(b"event: \xC3\ndata: x\n\n", &[ev("\u{FFFD}", "x", "")]);
}

// ---------------------------------------------------------------------------------------------
// Line endings.
// § 9.2.6: "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single U+000A
// LINE FEED (LF) character not preceded by a U+000D CARRIAGE RETURN (CR) character, and a single
// U+000D CARRIAGE RETURN (CR) character not followed by a U+000A LINE FEED (LF) character being
// the ways in which a line can end."

#[test]
fn lf_crlf_and_cr_end_lines() {
    check(b"data: a\ndata: b\n\n", &[msg("a\nb")]);
    check(b"data: a\r\ndata: b\r\n\r\n", &[msg("a\nb")]);
    check(b"data: a\rdata: b\r\r", &[msg("a\nb")]);
    // Mixed: CR, then CRLF as the blank line.
    check(b"data: a\rdata: b\n\r\n", &[msg("a\nb")]);
    check(b"data: a\r\r\ndata: b\n\n", &[msg("a"), msg("b")]);
}

#[test]
fn cr_at_chunk_end_and_lf_at_next_start_are_one_line_ending() {
    // Two line endings here would make the LF a blank line and dispatch "a" alone.
    let r = run(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
    assert_eq!(r.outputs, [msg("a\nb")]);
    let r = run(&[b"data: a\r", b"", b"\ndata: b\r\n", b"\r", b"\n"]);
    assert_eq!(r.outputs, [msg("a\nb")]);
    assert_eq!(r.end, End::Clean);
}

#[test]
fn cr_then_cr_across_chunks_are_two_line_endings() {
    let r = run(&[b"data: a\r", b"\rdata: b\n\n"]);
    assert_eq!(r.outputs, [msg("a"), msg("b")]);
}

#[test]
fn cr_ended_event_is_dispatched_without_waiting_for_the_next_byte() {
    // A CR ends the line whatever follows (an LF after it only completes the same ending), so
    // an event of a CR-only server is complete at its second CR, not one chunk later.
    let mut parser = Parser::new();
    parser.feed_slice(b"data: a\r\r");
    let got = frames(&mut parser);
    assert_eq!(got.len(), 1, "{got:?}");
    let Ok(Frame::Event(event)) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(event.data, "a");
    parser.feed_slice(b"\ndata: b\r\r");
    // The LF paired with the CR before it: no extra blank line, no extra field.
    let got = frames(&mut parser);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

#[test]
fn lone_cr_at_end_of_stream_ends_the_line() {
    // "data: a" is a complete line (a CR at EOF is not followed by LF), so the block is
    // pending but no partial line remains.
    check_opts(&Options::default(), b"data: a\r", &[], End::Truncated);
    check_opts(&Options::default(), b"data: a\r\r", &[msg("a")], End::Clean);
    check_opts(&Options::default(), b":x\r", &[], End::Clean);
}

// ---------------------------------------------------------------------------------------------
// Fields.
// § 9.2.6: "If the line contains a U+003A COLON character (:) — Collect the characters on the
// line before the first U+003A COLON character (:), and let field be that string. Collect the
// characters on the line after the first U+003A COLON character (:), and let value be that
// string. If value starts with a U+0020 SPACE character, remove it from value."

#[test]
fn one_leading_space_is_stripped() {
    check(b"data:a\n\n", &[msg("a")]);
    check(b"data: a\n\n", &[msg("a")]);
    check(b"data:  a\n\n", &[msg(" a")]);
    check(b"data: \n\n", &[msg("")]);
    check(b"data:  \n\n", &[msg(" ")]);
    check(b"data: a \n\n", &[msg("a ")]);
}

#[test]
fn only_a_space_is_stripped_not_a_tab() {
    check(b"data:\ta\n\n", &[msg("\ta")]);
    check(b"data:\t a\n\n", &[msg("\t a")]);
    check(b"event:\tx\ndata: d\n\n", &[ev("\tx", "d", "")]);
    check(b"id:\t1\ndata: d\n\n", &[ev("message", "d", "\t1")]);
}

#[test]
fn the_space_rule_applies_to_every_field() {
    check(b"event:  x\ndata: d\n\n", &[ev(" x", "d", "")]);
    check(b"id:  1\ndata: d\n\n", &[ev("message", "d", " 1")]);
    // "retry:  5" has value " 5": not only digits, ignored.
    check(b"retry:  5\n", &[]);
    check(b"retry:5\nretry: 6\n", &[Out::Retry(5), Out::Retry(6)]);
}

#[test]
fn value_may_contain_colons() {
    // Only the first colon separates.
    check(b"data: a:b: c\n\n", &[msg("a:b: c")]);
    check(b"data:: x\n\n", &[msg(": x")]);
    check(b"event: a:b\ndata: x\n\n", &[ev("a:b", "x", "")]);
}

// § 9.2.6: "If the line starts with a U+003A COLON character (:) — Ignore the line."
// The parser reports such lines to callers who ask (`with_comments`), with one leading space
// removed like a field value; they never affect events.

#[test]
fn comments_are_reported_only_when_asked() {
    let stream: &[u8] = b": hello\n:world\n:  two\n:\ndata: x\n: mid\ndata: y\n\n";
    check_opts(
        &with_comments(),
        stream,
        &[
            Out::Comment("hello".into()),
            Out::Comment("world".into()),
            Out::Comment(" two".into()),
            Out::Comment("".into()),
            Out::Comment("mid".into()),
            msg("x\ny"),
        ],
        End::Clean,
    );
    check(stream, &[msg("x\ny")]);
}

#[test]
fn a_comment_that_looks_like_a_field_is_a_comment() {
    check_opts(
        &with_comments(),
        b": data: x\n\n",
        &[Out::Comment("data: x".into())],
        End::Clean,
    );
    check(b":data: x\n\n", &[]);
}

#[test]
fn comment_alone_at_end_of_stream_is_clean() {
    // A comment is no pending event data.
    check_opts(
        &with_comments(),
        b": ping\n",
        &[Out::Comment("ping".into())],
        End::Clean,
    );
    // An unterminated comment line is a partial line, discarded.
    check_opts(&with_comments(), b": ping", &[], End::Truncated);
}

// § 9.2.6: "Field names must be compared literally, with no case folding performed."
// "Otherwise — The field is ignored."

#[test]
fn unknown_fields_and_case_variants_are_ignored() {
    check(
        b"Data: a\nDATA: b\nEvent: e\nID: 1\nRetry: 5\nfoo: bar\ndata : c\n data: d\n\n",
        &[],
    );
    check(
        b"Data: a\ndata: x\nEVENT: y\nId: 3\n\n",
        &[ev("message", "x", "")],
    );
}

#[test]
fn unknown_field_block_dispatches_nothing_and_is_clean() {
    check(b"foo: bar\n\n", &[]);
    check_opts(&Options::default(), b"foo: bar\n", &[], End::Clean);
}

// § 9.2.6: "Otherwise, the string is not empty but does not contain a U+003A COLON character
// (:) — Process the field using the steps described below, using the whole line as the field
// name, and the empty string as the field value."

#[test]
fn a_line_without_colon_is_a_field_with_empty_value() {
    // "data" appends "" and an LF: the data buffer is "\n", not empty, so it dispatches "".
    check(b"data\n\n", &[msg("")]);
    check(b"data\ndata\n\n", &[msg("\n")]);
    check(b"data\ndata: x\n\n", &[msg("\nx")]);
    // "event" sets the type to "", which dispatches as "message".
    check(b"event: a\nevent\ndata: x\n\n", &[msg("x")]);
    // "id" resets the last event id.
    check(
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        &[ev("message", "a", "1"), ev("message", "b", "")],
    );
    // "retry" with "" is not all digits.
    check(b"retry\n", &[]);
}

// ---------------------------------------------------------------------------------------------
// data.
// § 9.2.6: "If the field name is "data" — Append the field value to the data buffer, then
// append a single U+000A LINE FEED (LF) character to the data buffer." Dispatch step 3: "If the
// data buffer's last character is a U+000A LINE FEED (LF) character, then remove the last
// character from the data buffer."

#[test]
fn data_lines_are_joined_with_lf_and_final_lf_removed() {
    check(b"data: a\ndata: b\ndata: c\n\n", &[msg("a\nb\nc")]);
    check(b"data: a\ndata:\n\n", &[msg("a\n")]);
    check(b"data:\ndata:\n\n", &[msg("\n")]);
    check(b"data:\n\n", &[msg("")]);
    check(
        b"data: first\n\ndata: second\n\n",
        &[msg("first"), msg("second")],
    );
}

#[test]
fn fields_may_come_in_any_order_within_a_block() {
    check(
        b"data: a\nid: 7\nevent: t\ndata: b\n\n",
        &[ev("t", "a\nb", "7")],
    );
}

// Dispatch steps 1-2: "Set the last event ID string of the event source to the value of the
// last event ID buffer." then "If the data buffer is an empty string, set the data buffer and
// the event type buffer to the empty string and return."

#[test]
fn empty_data_block_dispatches_nothing_but_updates_last_event_id() {
    let r = run(&[b"id: 5\n\n"]);
    assert_eq!(r.outputs, []);
    assert_eq!(r.last_event_id, "5");
    assert_eq!(r.end, End::Clean);
    check(b"id: 5\n\ndata: x\n\n", &[ev("message", "x", "5")]);
    // The event type is reset by the empty dispatch too.
    check(b"event: foo\n\ndata: x\n\n", &[msg("x")]);
    check(
        b"event: foo\nid: 2\n\n\ndata: x\n\n",
        &[ev("message", "x", "2")],
    );
}

#[test]
fn consecutive_blank_lines_dispatch_nothing_extra() {
    check(b"\n\n\ndata: x\n\n\n\n", &[msg("x")]);
}

// ---------------------------------------------------------------------------------------------
// event.
// § 9.2.6: "If the field name is "event" — Set the event type buffer to field value."
// Dispatch 5-7: type "message", changed to the event type buffer if that is not empty; then
// "Set the data buffer and the event type buffer to the empty string."

#[test]
fn event_type_defaults_to_message_and_resets_after_dispatch() {
    check(
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        &[ev("a", "1", ""), msg("2")],
    );
    check(b"event: a\nevent: b\ndata: x\n\n", &[ev("b", "x", "")]);
    check(b"event:\ndata: x\n\n", &[msg("x")]);
    check(b"event: message\ndata: x\n\n", &[msg("x")]);
}

// ---------------------------------------------------------------------------------------------
// id.
// § 9.2.6: "If the field name is "id" — If the field value does not contain U+0000 NULL, then
// set the last event ID buffer to the field value. Otherwise, ignore the field."
// Dispatch step 1: "The buffer does not get reset, so the last event ID string of the event
// source remains set to this value until the next time it is set by the server."

#[test]
fn id_with_nul_is_ignored() {
    check(
        b"id: 1\ndata: a\n\nid: a\x00b\ndata: b\n\n",
        &[ev("message", "a", "1"), ev("message", "b", "1")],
    );
    check(b"id: \x00\ndata: x\n\n", &[msg("x")]);
    let r = run(&[b"id: 1\n\nid: \x00\n\n"]);
    assert_eq!(r.last_event_id, "1");
}

#[test]
fn empty_id_resets_the_last_event_id() {
    check(
        b"id: 1\ndata: a\n\nid:\ndata: b\n\nid: 2\ndata: c\n\nid: \ndata: d\n\n",
        &[
            ev("message", "a", "1"),
            ev("message", "b", ""),
            ev("message", "c", "2"),
            ev("message", "d", ""),
        ],
    );
    let r = run(&[b"id: 1\n\nid\n\n"]);
    assert_eq!(r.last_event_id, "");
}

#[test]
fn last_event_id_persists_and_is_reported_with_every_event() {
    check(
        b"id: 1\ndata: a\n\ndata: b\n\nevent: t\ndata: c\n\nid: 2\ndata: d\n\n",
        &[
            ev("message", "a", "1"),
            ev("message", "b", "1"),
            ev("t", "c", "1"),
            ev("message", "d", "2"),
        ],
    );
    let r = run(&[b"id: 1\ndata: a\n\ndata: b\n\n"]);
    assert_eq!(r.last_event_id, "1");
}

#[test]
fn last_id_in_block_wins_and_applies_at_dispatch() {
    check(
        b"id: 1\nid: 2\ndata: a\nid: 3\n\n",
        &[ev("message", "a", "3")],
    );
}

#[test]
fn last_event_id_getter_reports_the_dispatched_id_not_the_pending_one() {
    let mut parser = Parser::new();
    parser.feed_slice(b"id: 1\ndata: a\n\nid: 2\ndata: b\n");
    let _ = frames(&mut parser);
    assert_eq!(parser.last_event_id(), "1");
    parser.feed_slice(b"\n");
    let _ = frames(&mut parser);
    assert_eq!(parser.last_event_id(), "2");
}

#[test]
fn with_last_event_id_seeds_the_id() {
    let options = Options {
        last_event_id: "seed".into(),
        ..Options::default()
    };
    check_opts(
        &options,
        b"data: a\n\nid: n\ndata: b\n\n",
        &[ev("message", "a", "seed"), ev("message", "b", "n")],
        End::Clean,
    );
}

#[test]
fn id_may_contain_spaces_colons_and_unicode() {
    check(
        "id: a b:c é\ndata: x\n\n".as_bytes(),
        &[ev("message", "x", "a b:c é")],
    );
}

// ---------------------------------------------------------------------------------------------
// retry.
// § 9.2.6: "If the field name is "retry" — If the field value consists of only ASCII digits,
// then interpret the field value as an integer in base ten, and set the event stream's
// reconnection time to that integer. Otherwise, ignore the field."
// Reading chosen: an empty value is ignored (WPT format-field-retry-empty, and browsers); a
// value too large for u64 saturates to u64::MAX (the lead's documented choice).

#[test]
fn retry_with_ascii_digits_is_reported_at_once() {
    let mut parser = Parser::new();
    parser.feed_slice(b"retry: 1000\n");
    assert_eq!(frames(&mut parser), [Ok(Frame::Retry(1000))]);
    assert_eq!(parser.retry(), Some(1000));
    // Reported where it appears, before the event of its block is dispatched.
    check(b"data: x\nretry: 5\n\n", &[Out::Retry(5), msg("x")]);
    check(b"retry: 007\n", &[Out::Retry(7)]);
    check(b"retry: 0\n", &[Out::Retry(0)]);
    check(b"retry:18446744073709551615\n", &[Out::Retry(u64::MAX)]);
}

#[test]
fn retry_that_is_not_only_ascii_digits_is_ignored() {
    for value in [
        "10a", "-1", "+5", "1.5", "1e3", " 5", "5 ", "", "\t5", "１", "٣", "0x10",
    ] {
        let stream = format!("retry: {value}\ndata: x\n\n");
        check(stream.as_bytes(), &[msg("x")]);
        let r = run(&[stream.as_bytes()]);
        assert_eq!(r.retry, None, "retry: {value:?}");
    }
}

#[test]
fn retry_overflowing_u64_saturates() {
    check(b"retry: 18446744073709551616\n", &[Out::Retry(u64::MAX)]);
    check(
        b"retry: 99999999999999999999999999999999999999\n",
        &[Out::Retry(u64::MAX)],
    );
}

#[test]
fn retry_alone_is_not_an_event_and_not_pending() {
    check(b"retry: 10\n\n", &[Out::Retry(10)]);
    check_opts(
        &Options::default(),
        b"retry: 10\n",
        &[Out::Retry(10)],
        End::Clean,
    );
}

#[test]
fn retry_is_kept_across_streams() {
    let mut parser = Parser::new();
    let r = adapter::run_chunks(&mut parser, [&b"retry: 42\n"[..]]);
    assert_eq!(r.retry, Some(42));
    let r = adapter::run_chunks(&mut parser, [&b"data: x\n\n"[..]]);
    assert_eq!(r.retry, Some(42));
    assert_eq!(parser.retry(), Some(42));
}

// ---------------------------------------------------------------------------------------------
// End of stream.
// § 9.2.6: "Once the end of the file is reached, any pending data must be discarded. (If the
// file ends in the middle of an event, before the final empty line, the incomplete event is not
// dispatched.)"

#[test]
fn unterminated_event_is_not_dispatched() {
    check_opts(&Options::default(), b"data: a\n", &[], End::Truncated);
    check_opts(&Options::default(), b"data: a", &[], End::Truncated);
    check_opts(
        &Options::default(),
        b"data: a\n\ndata: b\n",
        &[msg("a")],
        End::Truncated,
    );
    check_opts(&Options::default(), b"event: x\n", &[], End::Truncated);
    check_opts(&Options::default(), b"data\n", &[], End::Truncated);
}

#[test]
fn truncated_means_something_pending_was_discarded() {
    // Reading chosen (the spec has no "truncated"): the end is Truncated when EOF discards
    // something. An accepted id not yet applied counts, even an empty one.
    check_opts(&Options::default(), b"id\n", &[], End::Truncated);
    check_opts(&Options::default(), b"id: \x00\n", &[], End::Clean);
    // An empty event type buffer is the initial state: nothing is lost.
    check_opts(&Options::default(), b"event:\n", &[], End::Clean);
    check_opts(&Options::default(), b"event: x\nevent\n", &[], End::Clean);
    check_opts(
        &Options::default(),
        b"foo: bar\nretry: 1\n",
        &[Out::Retry(1)],
        End::Clean,
    );
}

#[test]
fn unterminated_event_id_is_not_applied() {
    let r = run(&[b"id: 1\ndata: a\n\nid: 2\ndata: b\n"]);
    assert_eq!(r.outputs, [ev("message", "a", "1")]);
    assert_eq!(r.end, End::Truncated);
    assert_eq!(r.last_event_id, "1");
    let r = run(&[b"id: 9\n"]);
    assert_eq!(r.end, End::Truncated);
    assert_eq!(r.last_event_id, "");
}

#[test]
fn terminated_stream_is_clean() {
    check(b"data: a\n\n", &[msg("a")]);
    check(b"data: a\r\n\r\n", &[msg("a")]);
}

#[test]
fn a_new_stream_after_finish_starts_fresh_but_keeps_the_last_id() {
    let mut parser = Parser::new();
    let r = adapter::run_chunks(
        &mut parser,
        [&b"\xEF\xBB\xBFid: 1\ndata: a\n\nid: 2\nevent: t\ndata: pending\n"[..]],
    );
    assert_eq!(r.outputs, [ev("message", "a", "1")]);
    assert_eq!(r.end, End::Truncated);
    // A BOM may lead the new stream again; the pending data, type and id are gone.
    let r = adapter::run_chunks(&mut parser, [&b"\xEF\xBB"[..], b"\xBFdata: b\n\n"]);
    assert_eq!(r.outputs, [ev("message", "b", "1")]);
    assert_eq!(r.end, End::Clean);
    // Only at the very start of each stream.
    let r = adapter::run_chunks(&mut parser, [&b"data: c\n\n\xEF\xBB\xBFdata: d\n\n"[..]]);
    assert_eq!(r.outputs, [ev("message", "c", "1")]);
}

#[test]
fn a_partial_line_does_not_leak_into_the_next_stream() {
    let mut parser = Parser::new();
    let r = adapter::run_chunks(&mut parser, [&b"data: a\n\nda"[..]]);
    assert_eq!(r.end, End::Truncated);
    let r = adapter::run_chunks(&mut parser, [&b"ta: b\n\n"[..]]);
    // "ta: b" is an unknown field, not the rest of "da".
    assert_eq!(r.outputs, []);
    // A CR pending at finish must not swallow the next stream's leading LF either.
    let r = adapter::run_chunks(&mut parser, [&b"data: c\r"[..]]);
    assert_eq!(r.end, End::Truncated);
    let r = adapter::run_chunks(&mut parser, [&b"\ndata: d\n\n"[..]]);
    assert_eq!(r.outputs, [msg("d")]);
}

#[test]
fn frames_stay_available_after_finish() {
    let mut parser = Parser::new();
    parser.feed_slice(b"data: a\n\n");
    assert_eq!(parser.finish(), StreamEnd::Clean);
    assert!(matches!(parser.next(), Some(Ok(Frame::Event(_)))));
    assert!(parser.next().is_none());
}

#[test]
fn undrained_frames_keep_their_order_across_finish() {
    let mut parser = Parser::new().with_comments(true);
    parser.feed_slice(b"data: 1\n\n: c\n");
    assert_eq!(parser.finish(), StreamEnd::Clean);
    parser.feed_slice(b"\xEF\xBB\xBFretry: 5\ndata: 2\n\n");
    assert_eq!(parser.finish(), StreamEnd::Clean);
    assert_eq!(
        parser.finish(),
        StreamEnd::Clean,
        "finishing twice is harmless"
    );
    let got: Vec<String> = frames(&mut parser)
        .into_iter()
        .map(|frame| match frame {
            Ok(Frame::Event(e)) => format!("event {}", e.data),
            Ok(Frame::Comment(c)) => format!("comment {c}"),
            Ok(Frame::Retry(ms)) => format!("retry {ms}"),
            Err(error) => format!("error {error}"),
        })
        .collect();
    assert_eq!(got, ["event 1", "comment c", "retry 5", "event 2"]);
}

#[test]
fn zero_copy_feed_of_slices_of_one_buffer() {
    // `feed(Bytes)` with slices that share one allocation, at odd offsets.
    let whole = Bytes::from_static(b"xxdata: abc\ndata: def\n\nid: 1\ndata: g\n\nyy");
    let body = whole.slice(2..whole.len() - 2);
    let mut parser = Parser::new();
    for (a, b) in [(0, 7), (7, 7), (7, 13), (13, 20), (20, body.len())] {
        parser.feed(body.slice(a..b));
    }
    let got: Vec<_> = frames(&mut parser);
    assert_eq!(got.len(), 2, "{got:?}");
    let Ok(Frame::Event(first)) = &got[0] else {
        panic!()
    };
    assert_eq!(first.data, "abc\ndef");
    let Ok(Frame::Event(second)) = &got[1] else {
        panic!()
    };
    assert_eq!((&*second.data, &*second.last_event_id), ("g", "1"));
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

// ---------------------------------------------------------------------------------------------
// Vectors after the web-platform-tests `eventsource/format-*` cases (the browsers' own
// conformance suite for § 9.2.6), with the blank line the test server adds.

#[test]
fn wpt_format_field_parsing() {
    check(
        b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
        &[msg("\0\n 2\n1\n3\n\n4")],
    );
}

#[test]
fn wpt_format_newlines_and_leading_space() {
    check(
        b"data:test\r\ndata\ndata:test\r\n\r",
        &[msg("test\n\ntest")],
    );
    check(
        b"data:\x20test\r\ndata\r\ndata:test\r\n\r\n",
        &[msg("test\n\ntest")],
    );
}

#[test]
fn wpt_format_comments() {
    let long = "x".repeat(2049);
    let stream =
        format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n\n");
    check(stream.as_bytes(), &[msg("1\n2\n3\n4")]);
}

#[test]
fn wpt_format_null_character_and_utf8() {
    check(b"data:\x00\n\n\n\n", &[msg("\0")]);
    check("data:ok\u{2026}\n\n".as_bytes(), &[msg("ok\u{2026}")]);
}

#[test]
fn wpt_format_field_event_and_id() {
    check(
        b"event: test\ndata: x\n\ndata: y\n\n",
        &[ev("test", "x", ""), msg("y")],
    );
    check(b"event: \ndata: data\n\n", &[msg("data")]);
    check(
        b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\nid\ndata: c\n\n",
        &[
            ev("message", "a", "1"),
            ev("message", "b", "1"),
            ev("message", "c", ""),
        ],
    );
}

#[test]
fn wpt_format_data_before_final_empty_line() {
    // "retry:1000\ndata:test1\n\nid:test\ndata:test2" then EOF: test2 is never dispatched.
    check_opts(
        &Options::default(),
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2",
        &[Out::Retry(1000), msg("test1")],
        End::Truncated,
    );
}

// ---------------------------------------------------------------------------------------------
// Limits (the parser's own: the spec asks UAs to "ensure that appropriate buffering is used").

#[test]
fn over_long_line_is_a_typed_error_and_parsing_goes_on() {
    let mut parser = Parser::new().with_max_line_len(16);
    parser.feed_slice(b"data: 0123456789\n\n"); // exactly 16 bytes: accepted
    parser.feed_slice(b"data: 0123456789A\n\ndata: ok\n\n");
    let got = frames(&mut parser);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(matches!(&got[0], Ok(Frame::Event(e)) if e.data == "0123456789"));
    assert_eq!(got[1], Err(ParseError::LineTooLong { limit: 16 }));
    assert!(matches!(&got[2], Ok(Frame::Event(e)) if e.data == "ok"));
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

#[test]
fn over_long_line_drops_its_event_and_is_reported_once() {
    let mut parser = Parser::new().with_max_line_len(8);
    for chunk in [
        &b"data: a\ndata: "[..],
        b"xxxxxxxxxxxxxxxxxxxx",
        b"xxxxxx",
        b"\ndata: b\n\ndata: ok\n\n",
    ] {
        parser.feed_slice(chunk);
    }
    let got = frames(&mut parser);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Err(ParseError::LineTooLong { limit: 8 }));
    assert!(matches!(&got[1], Ok(Frame::Event(e)) if e.data == "ok"));
}

#[test]
fn over_large_event_is_a_typed_error_and_parsing_goes_on() {
    let mut parser = Parser::new().with_max_event_size(10);
    parser.feed_slice(b"data: 0123456789\n\n"); // exactly 10 bytes of data: accepted
    parser.feed_slice(b"data: 01234\ndata: 56789\ndata: x\n\ndata: ok\n\n");
    let got = frames(&mut parser);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(matches!(&got[0], Ok(Frame::Event(e)) if e.data == "0123456789"));
    assert_eq!(got[1], Err(ParseError::EventTooLarge { limit: 10 }));
    assert!(matches!(&got[2], Ok(Frame::Event(e)) if e.data == "ok"));
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

#[test]
fn limit_errors_with_split_crlf_and_bom() {
    // The BOM is not part of the first line.
    let mut parser = Parser::new().with_max_line_len(8);
    parser.feed_slice(b"\xEF\xBB\xBFdata: ab\n\n");
    assert!(matches!(&frames(&mut parser)[..], [Ok(Frame::Event(e))] if e.data == "ab"));
    // A CRLF split after an over-long line is still one line ending: the LF is not a blank
    // line, so "b" still belongs to the dropped event.
    let mut parser = Parser::new().with_max_line_len(8);
    for chunk in [
        &b"data: a\ndata: toolong\r"[..],
        b"\n",
        b"data: b\n\ndata: ok\n\n",
    ] {
        parser.feed_slice(chunk);
    }
    let got = frames(&mut parser);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Err(ParseError::LineTooLong { limit: 8 }));
    assert!(matches!(&got[1], Ok(Frame::Event(e)) if e.data == "ok"));
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

#[test]
fn a_stream_ending_inside_an_over_long_line_is_truncated() {
    let mut parser = Parser::new().with_max_line_len(4);
    parser.feed_slice(b"data: way too long");
    assert_eq!(
        frames(&mut parser),
        [Err(ParseError::LineTooLong { limit: 4 })]
    );
    assert_eq!(parser.finish(), StreamEnd::Truncated);
    // The next stream is not affected.
    parser.feed_slice(b"data\n\n");
    assert!(matches!(&frames(&mut parser)[..], [Ok(Frame::Event(e))] if e.data.is_empty()));
    assert_eq!(parser.finish(), StreamEnd::Clean);
}

#[test]
fn limits_count_bytes_across_chunks() {
    // A 16-byte line arriving one byte at a time is within a 16-byte limit; 17 is not.
    for (line, ok) in [
        (&b"data: 0123456789"[..], true),
        (b"data: 0123456789A", false),
    ] {
        let mut parser = Parser::new().with_max_line_len(16).with_max_event_size(10);
        for byte in line.iter().chain(b"\n\n") {
            parser.feed_slice(&[*byte]);
        }
        let got = frames(&mut parser);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(matches!(got[0], Ok(Frame::Event(_))), ok, "{got:?}");
    }
}

#[test]
fn many_small_lines_in_tiny_chunks_do_not_go_quadratic() {
    // 1024 data lines of 4 KiB (one 4 MiB event), fed 3 bytes at a time: joining the lines
    // must not re-copy the data gathered so far for every new line.
    let mut stream = Vec::new();
    let mut line = b"data: ".to_vec();
    line.resize(4096, b'z');
    line.push(b'\n');
    for _ in 0..1024 {
        stream.extend_from_slice(&line);
    }
    stream.push(b'\n');
    let n = stream.len();
    let (got, _, total) = measure(|| {
        let mut parser = Parser::new();
        for piece in stream.chunks(3) {
            parser.feed_slice(piece);
        }
        frames(&mut parser)
    });
    assert_eq!(got.len(), 1);
    assert!(matches!(&got[0], Ok(Frame::Event(e)) if e.data.len() == 1024 * 4091 - 1));
    assert!(
        total < 40 * n,
        "allocated {total} bytes for a {n}-byte event"
    );
}

// A per-thread counting allocator: live and peak bytes, and bytes allocated, of this thread
// only, so tests running in parallel do not disturb each other's numbers.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static TOTAL: Cell<usize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        if delta > 0 {
            let _ = TOTAL.try_with(|total| total.set(total.get() + delta as usize));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the counters never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with (peak live bytes above the start, bytes allocated).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let total_start = TOTAL.with(Cell::get);
    let value = f();
    let peak = PEAK.with(Cell::get) - start;
    let total = TOTAL.with(Cell::get) - total_start;
    (value, peak.max(0) as usize, total)
}

const MIB: usize = 1024 * 1024;

/// Feeds `parser` one `data:` line of 64 MiB in chunks of `chunk` bytes (each copied in,
/// as a socket reader would), then a blank line and `data: ok`. Returns the index of the
/// chunk after which `error` came (it must come once), and the parser's peak memory; the
/// event after the line must come through whole.
fn one_huge_data_line(mut parser: Parser, chunk: usize, error: ParseError) -> (usize, usize) {
    let chunk = vec![b'x'; chunk];
    let ((error_at, after), peak, _) = measure(|| {
        parser.feed_slice(b"data: ");
        let mut error_at = None;
        for i in 0..(64 * MIB / chunk.len()) {
            parser.feed_slice(&chunk);
            for frame in parser.by_ref() {
                assert_eq!(frame, Err(error));
                assert!(error_at.is_none(), "the error is reported once");
                error_at = Some(i);
            }
        }
        parser.feed_slice(b"\n\ndata: ok\n\n");
        let after = frames(&mut parser);
        assert_eq!(parser.finish(), StreamEnd::Clean);
        (error_at, after)
    });
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(matches!(&after[0], Ok(Frame::Event(e)) if e.data == "ok"));
    (error_at.expect("the error was reported"), peak)
}

#[test]
fn a_huge_line_without_newline_does_not_grow_memory() {
    // A 1 MiB line limit: the error must come while the line is still arriving, and the
    // parser must never hold more than about the limit.
    let parser = Parser::new().with_max_line_len(MIB);
    let (error_at, peak) =
        one_huge_data_line(parser, 64 * 1024, ParseError::LineTooLong { limit: MIB });
    assert!(error_at <= 17, "reported after {error_at} chunks of 64 KiB");
    assert!(peak < 4 * MIB, "peak memory {peak} bytes for a 1 MiB limit");
}

#[test]
fn one_data_line_is_cut_at_the_event_limit_not_the_line_limit() {
    // The default 16 MiB line limit and a 64 KiB event limit: the event is lost as soon as
    // the line's value passes 64 KiB, so that is when the error comes, and the parser never
    // holds much more than the event limit.
    let parser = Parser::new().with_max_event_size(64 * 1024);
    let too_large = ParseError::EventTooLarge { limit: 64 * 1024 };
    let (error_at, peak) = one_huge_data_line(parser, 16 * 1024, too_large);
    // 4 chunks are exactly 64 KiB of value: the fifth goes over.
    assert_eq!(error_at, 4);
    assert!(
        peak < MIB,
        "peak memory {peak} bytes for a 64 KiB event limit"
    );
}

#[test]
fn an_unended_data_line_over_the_event_limit_is_reported_before_eof() {
    // However it is chunked, the line is reported when it crosses the limit, also when the
    // stream then ends without a line end (the event would not be dispatched anyway, but
    // its loss is not silent). The data before, in the same block, counts: 4 + 1 + 6 > 10.
    let stream = b"data: abcd\ndata: 123456";
    for size in [1, 3, stream.len()] {
        let mut parser = Parser::new().with_max_event_size(10);
        for piece in stream.chunks(size) {
            parser.feed_slice(piece);
        }
        assert_eq!(
            frames(&mut parser),
            [Err(ParseError::EventTooLarge { limit: 10 })],
            "chunks of {size}"
        );
        assert_eq!(parser.finish(), StreamEnd::Truncated);
    }
}

#[test]
fn a_huge_event_of_many_lines_does_not_grow_memory() {
    // 64 MiB of short data lines in one event with a 1 MiB event limit.
    let mut chunk = Vec::new();
    while chunk.len() < 64 * 1024 {
        chunk.extend_from_slice(b"data: 0123456789abcdef0123456789abcdef0123456789abcdef\n");
    }
    let ((errors, after), peak, _) = measure(|| {
        let mut parser = Parser::new().with_max_event_size(MIB);
        let mut errors = Vec::new();
        let mut fed = 0;
        while fed < 64 * MIB {
            parser.feed_slice(&chunk);
            fed += chunk.len();
            errors.extend(parser.by_ref().map(|frame| (fed, frame)));
        }
        parser.feed_slice(b"\ndata: ok\n\n");
        let after = frames(&mut parser);
        (errors, after)
    });
    assert_eq!(errors.len(), 1, "{:?}", &errors[..errors.len().min(3)]);
    assert_eq!(errors[0].1, Err(ParseError::EventTooLarge { limit: MIB }));
    assert!(
        errors[0].0 <= 2 * MIB,
        "reported after {} bytes",
        errors[0].0
    );
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(matches!(&after[0], Ok(Frame::Event(e)) if e.data == "ok"));
    assert!(peak < 4 * MIB, "peak memory {peak} bytes for a 1 MiB limit");
}

#[test]
fn a_4_mib_event_fed_3_bytes_at_a_time_is_linear() {
    // Quadratic buffering (re-copying the line so far on every chunk) would allocate on the
    // order of n²/3 bytes; a linear parser allocates a small multiple of n (chunk copies
    // included: feed_slice copies each 3-byte chunk once).
    let n = 4 * MIB;
    let mut stream = b"data: ".to_vec();
    stream.resize(n, b'y');
    stream.extend_from_slice(b"\n\n");
    let (got, _, total) = measure(|| {
        let mut parser = Parser::new();
        for piece in stream.chunks(3) {
            parser.feed_slice(piece);
        }
        let got = frames(&mut parser);
        assert_eq!(parser.finish(), StreamEnd::Clean);
        got
    });
    assert_eq!(got.len(), 1);
    assert!(matches!(&got[0], Ok(Frame::Event(e)) if e.data.len() == n - 6));
    assert!(
        total < 40 * n,
        "allocated {total} bytes for a {n}-byte event"
    );
}

// ---------------------------------------------------------------------------------------------
// Encoder. Its promise: whatever it accepts, the parser gives back exactly; values that would
// break the framing are refused and nothing is written.

fn parse_all(bytes: &[u8]) -> Run {
    run_opts(&with_comments(), &[bytes])
}

#[test]
fn encoder_splits_data_at_cr_lf_and_crlf() {
    let bytes = Message::new("a\rb\nc\r\nd").to_bytes().unwrap();
    assert_eq!(&bytes[..], b"data: a\ndata: b\ndata: c\ndata: d\n\n");
    assert_eq!(parse_all(&bytes).outputs, [msg("a\nb\nc\nd")]);
    let bytes = Message::new("a\n").to_bytes().unwrap();
    assert_eq!(parse_all(&bytes).outputs, [msg("a\n")]);
    let bytes = Message::new("\r\n\r").to_bytes().unwrap();
    assert_eq!(parse_all(&bytes).outputs, [msg("\n\n")]);
}

#[test]
fn encoder_round_trips_awkward_values() {
    for (data, event, id) in [
        ("", "", "1"),
        (" leading space", " t", " i"),
        ("  two", "a:b", "x:y"),
        (":colon", "message", ""),
        ("nul\0inside", "\t", "\t"),
        ("\u{FEFF}bom", "é", "∑"),
    ] {
        let bytes = Message::new(data).event(event).id(id).to_bytes().unwrap();
        let event = if event.is_empty() { "message" } else { event };
        let r = parse_all(&bytes);
        assert_eq!(r.outputs, [ev(event, data, id)], "{bytes:?}");
        assert_eq!(r.end, End::Clean);
        assert_eq!(r.last_event_id, id);
    }
}

#[test]
fn encoder_retry_and_comments_round_trip() {
    let bytes = Message::new("x").retry(1500).to_bytes().unwrap();
    assert_eq!(parse_all(&bytes).outputs, [Out::Retry(1500), msg("x")]);
    assert_eq!(
        parse_all(&encode::retry(u64::MAX)).outputs,
        [Out::Retry(u64::MAX)]
    );
    assert_eq!(
        parse_all(&encode::comment("a\nb\r\n c")).outputs,
        [
            Out::Comment("a".into()),
            Out::Comment("b".into()),
            Out::Comment(" c".into())
        ]
    );
    assert_eq!(
        parse_all(&encode::keep_alive()).outputs,
        [Out::Comment("keep-alive".into())]
    );
    // A comment never dispatches an event.
    assert_eq!(run(&[&encode::comment("data: x")]).outputs, []);
}

#[test]
fn encoder_rejects_framing_breaking_values_and_writes_nothing() {
    for (message, error) in [
        (
            Message::new("x").event("a\nb"),
            EncodeError::LineBreakInEvent,
        ),
        (
            Message::new("x").event("a\r"),
            EncodeError::LineBreakInEvent,
        ),
        (Message::new("x").id("a\nb"), EncodeError::LineBreakInId),
        (Message::new("x").id("\r"), EncodeError::LineBreakInId),
        (Message::new("x").id("a\0b"), EncodeError::NulInId),
    ] {
        assert_eq!(message.validate(), Err(error));
        assert_eq!(message.to_bytes(), Err(error));
        let mut out = bytes::BytesMut::from(&b"before"[..]);
        assert_eq!(message.encode_into(&mut out), Err(error));
        assert_eq!(&out[..], b"before", "nothing written for {message:?}");
    }
}
