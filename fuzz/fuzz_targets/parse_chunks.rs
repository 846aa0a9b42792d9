//! Fuzz target `parse_chunks`: arbitrary bytes in arbitrary chunks through
//! `postsource::parse::Parser`, checked against the spec-text reference in
//! `crates/postsource/tests/reference` (the same file the differential test uses).
//!
//! Input layout, so that libFuzzer mutates options, chunking and stream together:
//! - byte 0: flags — bit 0 reports comments; bit 1 feeds the stream a second time as a new
//!   stream after `finish()` (a reconnection: BOM allowed again, last id kept); bit 2 turns
//!   on small limits (see byte 1);
//! - byte 1: the limits when bit 2 is set: max line length `b & 31`, max event size
//!   `(b >> 5) * 8`;
//! - byte 2: how many cut positions follow (mod 32), each two bytes little-endian, taken
//!   modulo the stream length + 1 (repeats make empty chunks);
//! - the rest is the stream.
//!
//! Checks: without limits, the chunked run equals the reference. Always: the chunked run
//! equals the run with the whole stream in one chunk and the run fed one byte at a time
//! (chunking never changes frames, errors, end state, last id or retry). The adapter also
//! re-validates every `Utf8Bytes` the parser hands out.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postsource::parse::Parser;

#[path = "../../crates/postsource/tests/reference/mod.rs"]
mod reference;

use reference::{Options, adapter};

fuzz_target!(|input: &[u8]| {
    let [flags, limits, count, rest @ ..] = input else {
        return;
    };
    let count = usize::from(count % 32);
    let Some((cut_bytes, stream)) = rest.split_at_checked(count * 2) else {
        return;
    };
    let cuts: Vec<usize> = cut_bytes
        .chunks_exact(2)
        .map(|pair| usize::from(u16::from_le_bytes([pair[0], pair[1]])) % (stream.len() + 1))
        .collect();
    let options = Options {
        comments: flags & 1 != 0,
        ..Options::default()
    };
    let streams: Vec<&[u8]> = if flags & 2 != 0 {
        vec![stream, stream]
    } else {
        vec![stream]
    };
    let limited = flags & 4 != 0;
    let parser = || {
        let parser = adapter::parser(&options);
        if limited {
            parser
                .with_max_line_len(usize::from(limits & 31))
                .with_max_event_size(usize::from(limits >> 5) * 8)
        } else {
            parser
        }
    };

    let expected = reference::interpret_streams(&streams, &options);
    let (mut chunked, mut whole, mut bytewise): (Parser, Parser, Parser) =
        (parser(), parser(), parser());
    for (i, s) in streams.iter().enumerate() {
        let got = adapter::run_cut(&mut chunked, s, &cuts);
        if !limited {
            assert_eq!(
                got, expected[i],
                "parser != reference, stream {i}, cuts {cuts:?}"
            );
        }
        let got_whole = adapter::run_cut(&mut whole, s, &[]);
        assert_eq!(
            got_whole, got,
            "whole-stream run != chunked run, stream {i}, cuts {cuts:?}"
        );
        let every: Vec<usize> = (1..s.len()).collect();
        let got_bytewise = adapter::run_cut(&mut bytewise, s, &every);
        assert_eq!(
            got_bytewise, got,
            "byte-at-a-time run != chunked run, stream {i}"
        );
    }
});
