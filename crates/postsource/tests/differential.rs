//! Differential test: `postsource::parse::Parser` against the spec-text reference in
//! `tests/reference`, on many generated streams and chunkings.
//!
//! A fixed-seed generator (so a failure always reproduces, and the run is the same on every
//! machine) builds streams from SSE-shaped tokens — field names and case variants, colons,
//! spaces, tabs, every line ending, BOM bytes and BOM prefixes, multi-byte and invalid UTF-8,
//! NUL, digits — cuts each into random chunks (empty and one-byte chunks included), and
//! compares everything reported: events, comments, retry frames, the end state, the last event
//! id and the retry value. Two streams run through one parser with `finish()` between them, to
//! cover reconnection (BOM again, last id kept). On a mismatch the failing stream is shrunk
//! (greedy byte removal) before it is reported.

mod reference;

use reference::{Options, Run, adapter};

/// xorshift64*: tiny, deterministic, good enough to pick tokens.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"data",
    b"data:",
    b"data: ",
    b"event:",
    b"event: ",
    b"event",
    b"id:",
    b"id: ",
    b"id",
    b"retry:",
    b"retry: ",
    b"Data:",
    b"DATA",
    b"Id:",
    b"foo:",
    b":",
    b": ",
    b" ",
    b"  ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\r\n\r\n",
    b"\xEF\xBB\xBF",
    b"\xEF",
    b"\xEF\xBB",
    b"\xBB\xBF",
    b"\xBF",
    b"\xFF",
    b"\xFE",
    b"\xE2\x82",
    b"\xE2\x82\xAC",
    b"\xC3",
    b"\xC3\xA9",
    b"\x80",
    b"\xF0\x9F\x98",
    b"\xF0\x9F\x98\x80",
    b"\xED\xA0\x80",
    b"\xC0\xAF",
    b"\x00",
    b"0",
    b"7",
    b"42",
    b"18446744073709551616",
    b"-1",
    b"x",
    b"hello",
    b"message",
];

fn gen_stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    let parts = rng.below(48);
    for _ in 0..parts {
        match rng.below(10) {
            // A whole field line, so that events really dispatch.
            0..=2 => {
                out.extend_from_slice(
                    [&b"data: "[..], b"event: ", b"id: ", b"retry: ", b": "][rng.below(5)],
                );
                for _ in 0..rng.below(4) {
                    out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                }
                out.extend_from_slice([&b"\n"[..], b"\r", b"\r\n", b"\n\n"][rng.below(4)]);
            }
            3 => out.push(rng.next() as u8),
            _ => out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]),
        }
    }
    out
}

fn gen_cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    match rng.below(4) {
        0 => Vec::new(),
        1 => (1..len).collect(),
        _ => (0..rng.below(10)).map(|_| rng.below(len + 1)).collect(),
    }
}

/// Parser and reference over two streams in a row; `None` when they agree.
fn mismatch(streams: [&[u8]; 2], cuts: [&[usize]; 2], options: &Options) -> Option<String> {
    let expected = reference::interpret_streams(&streams, options);
    let mut parser = adapter::parser(options);
    for i in 0..2 {
        let got: Run = adapter::run_cut(&mut parser, streams[i], cuts[i]);
        if got != expected[i] {
            return Some(format!(
                "stream {i} of {streams:?}\ncuts {cuts:?}, comments {}\nparser:    {got:?}\nreference: {:?}",
                options.comments, expected[i]
            ));
        }
    }
    None
}

/// Removes bytes while the mismatch persists, for a readable report (cuts are clamped).
fn shrink(mut streams: [Vec<u8>; 2], cuts: [Vec<usize>; 2], options: &Options) -> String {
    for which in 0..2 {
        let mut i = 0;
        while i < streams[which].len() {
            let mut candidate = streams.clone();
            candidate[which].remove(i);
            if mismatch(
                [&candidate[0], &candidate[1]],
                [&cuts[0], &cuts[1]],
                options,
            )
            .is_some()
            {
                streams = candidate;
            } else {
                i += 1;
            }
        }
    }
    mismatch([&streams[0], &streams[1]], [&cuts[0], &cuts[1]], options)
        .unwrap_or_else(|| "shrinking lost the mismatch".into())
}

#[test]
fn parser_matches_reference_on_generated_streams() {
    let mut rng = Rng(0x0005_EED0_F5EE);
    let cases = 6_000;
    for case in 0..cases {
        let streams = [gen_stream(&mut rng), gen_stream(&mut rng)];
        let cuts = [
            gen_cuts(&mut rng, streams[0].len()),
            gen_cuts(&mut rng, streams[1].len()),
        ];
        let options = Options {
            comments: rng.below(2) == 0,
            last_event_id: if rng.below(4) == 0 {
                "seed".into()
            } else {
                String::new()
            },
            retry: None,
        };
        if let Some(report) = mismatch([&streams[0], &streams[1]], [&cuts[0], &cuts[1]], &options) {
            panic!(
                "case {case}: parser != reference:\n{report}\nshrunk:\n{}",
                shrink(streams, cuts, &options)
            );
        }
    }
}

#[test]
fn parser_matches_reference_on_uniform_bytes() {
    // Uniform bytes over a small alphabet that still contains every separator.
    let alphabet = b"dataeventidretry: \r\n\xEF\xBB\xBF\xFF\x00";
    let mut rng = Rng(0xB17E5);
    for case in 0..3_000 {
        let len = rng.below(80);
        let stream: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let cuts = gen_cuts(&mut rng, len);
        let options = Options {
            comments: true,
            ..Options::default()
        };
        if let Some(report) = mismatch([&stream, b"data: after\n\n"], [&cuts, &[]], &options) {
            panic!(
                "case {case}: parser != reference:\n{report}\nshrunk:\n{}",
                shrink(
                    [stream, b"data: after\n\n".to_vec()],
                    [cuts, Vec::new()],
                    &options
                )
            );
        }
    }
}

#[test]
fn parser_matches_reference_on_known_tricky_streams() {
    // Streams that broke other SSE parsers, plus WPT eventsource format-* cases.
    let streams: &[&[u8]] = &[
        b"data: a\r\n\r\n",
        b"data:\xEF\xBB\xBF\n\n",
        b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n",
        b"\xFF\xFEdata: 1\n\ndata: 2\n\n",
        b"\xFE\xFFdata: 1\n\ndata: 2\n\n",
        b"data: 1\r\rdata: 2\r\n\r\n",
        b"data:\n\ndata\n\ndata \n\n",
        b"id: 1\ndata: a\n\nid\ndata: b\n\nid: \x00\ndata: c\n\n",
        b"retry: 1000\nretry: 1000x\nretry\nretry:  1\ndata: x\n\n",
        b"event: e\ndata: 1\n\n:comment\nevent\ndata: 2\n\n",
        b"data: \xC3\n\xA9\n\n",
        b"field without colon\ndata:ok\n\n",
        b"data:x\n\n\n\n\ndata:y",
        b"data: trailing\n\ndata: unterminated",
    ];
    for options in [
        Options::default(),
        Options {
            comments: true,
            ..Options::default()
        },
    ] {
        for stream in streams {
            for cuts in [Vec::new(), (1..stream.len()).collect()] {
                if let Some(report) = mismatch([stream, stream], [&cuts, &cuts], &options) {
                    panic!("{report}");
                }
            }
        }
    }
}
