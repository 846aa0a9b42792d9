//! The generated corpora of the `parse` benchmark, deterministic (a fixed seed, no
//! clock) so that every run and every parser sees the same bytes:
//!
//! - (a) [`llm`]: an LLM token stream, `data: {json}` events of 150–300 bytes shaped
//!   like OpenAI `chat.completion.chunk`s, ending with `data: [DONE]`;
//! - (b) [`big_events`]: 64 KiB events, each over many `data:` lines;
//! - (c) [`tiny`]: small events with `event:` and `id:`, and `: heartbeat` comments;
//! - (d) [`crlf`] of (a): the same stream with CRLF line endings;
//! - (e) [`long_line`]: one event whose data is a single line of any length.
//!
//! [`split`] cuts a corpus into `Bytes` chunks (zero-copy slices) outside the timed
//! loop.

use bytes::Bytes;

/// SplitMix64: a tiny, well-known generator; enough for varied but reproducible text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }
}

/// Token-like text for the `content` of a chunk: mostly ASCII words, with JSON
/// escapes and multi-byte UTF-8 now and then, as real model output has.
const WORDS: &[&str] = &[
    " the",
    " model",
    " stream",
    "ing",
    " token",
    ",",
    ".",
    " and",
    " of",
    " to",
    " a",
    " in",
    " is",
    " that",
    " for",
    " it",
    " with",
    " as",
    " on",
    " server",
    " event",
    "\\n",
    "\\n\\n",
    "\\\"",
    " caf\u{e9}",
    " na\u{ef}ve",
    " \u{65e5}\u{672c}\u{8a9e}",
    " \u{1f600}",
    " fn",
    " main",
    "()",
    " {",
    " }",
    " =>",
    " 42",
    " 2024",
    "-",
    "'s",
];

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn alnum(rng: &mut Rng, out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(char::from(ALNUM[rng.range(0, ALNUM.len() - 1)]));
    }
}

/// Text of exactly `len` bytes (or one less, to stay on a char boundary) from [`WORDS`].
fn content(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 8);
    while s.len() < len {
        let w = rng.pick(WORDS);
        if s.len() + w.len() > len {
            // Fill the rest with ASCII so the event length stays exact.
            while s.len() < len {
                s.push('x');
            }
            break;
        }
        s.push_str(w);
    }
    s
}

/// Corpus (a): about `target_len` bytes of `data: {json}` events, each 150–300 bytes
/// long (line ending and blank line included), and a final `data: [DONE]`.
pub fn llm(target_len: usize) -> Bytes {
    let mut rng = Rng(0x5EED_0001);
    let mut out = String::with_capacity(target_len + 512);
    let mut id = String::new();
    alnum(&mut rng, &mut id, 24);
    let mut n = 0u64;
    while out.len() < target_len {
        let (delta_head, finish) = match n {
            0 => ("\"role\":\"assistant\",", "null"),
            _ => ("", "null"),
        };
        let head = format!(
            "data: {{\"id\":\"chatcmpl-{id}\",\"object\":\"chat.completion.chunk\",\"created\":{},\
             \"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{{delta_head}\"content\":\"",
            1_733_000_000 + n / 50
        );
        let tail = format!("\"}},\"finish_reason\":{finish}}}]}}\n\n");
        let total = rng.range(150, 300);
        let room = total.saturating_sub(head.len() + tail.len());
        out.push_str(&head);
        out.push_str(&content(&mut rng, room));
        out.push_str(&tail);
        n += 1;
    }
    out.push_str(&format!(
        "data: {{\"id\":\"chatcmpl-{id}\",\"object\":\"chat.completion.chunk\",\"created\":{},\
         \"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n",
        1_733_000_000 + n / 50
    ));
    out.push_str("data: [DONE]\n\n");
    Bytes::from(out)
}

/// The size of one event of corpus (b).
pub const BIG_EVENT: usize = 64 * 1024;

/// Corpus (b): about `target_len` bytes of [`BIG_EVENT`]-byte events, each an `id:`
/// and many `data:` lines of 40–200 bytes (base64-like text, as a file or a tool
/// result would be sent).
pub fn big_events(target_len: usize) -> Bytes {
    let mut rng = Rng(0x5EED_0002);
    let mut out = String::with_capacity(target_len + BIG_EVENT);
    let mut n = 0u64;
    while out.len() < target_len {
        let start = out.len();
        out.push_str(&format!("event: chunk\nid: {n}\n"));
        while out.len() - start < BIG_EVENT - 256 {
            let len = rng.range(40, 200);
            out.push_str("data: ");
            alnum(&mut rng, &mut out, len);
            out.push('\n');
        }
        out.push('\n');
        n += 1;
    }
    Bytes::from(out)
}

/// Corpus (c): about `target_len` bytes of tiny events (`event:`, `id:`, a short
/// `data:`), with a `: heartbeat` comment block after every few events.
pub fn tiny(target_len: usize) -> Bytes {
    let mut rng = Rng(0x5EED_0003);
    let mut out = String::with_capacity(target_len + 64);
    let mut n = 0u64;
    while out.len() < target_len {
        let kind = rng.pick(&["tick", "ping", "update", "presence"]);
        out.push_str(&format!(
            "event: {kind}\nid: {n}\ndata: {}\n\n",
            rng.next() % 1000
        ));
        if n % 4 == 3 {
            out.push_str(": heartbeat\n\n");
        }
        n += 1;
    }
    Bytes::from(out)
}

/// Corpus (d) from (a): every LF becomes CRLF.
pub fn crlf(lf: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 16);
    for &b in lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    Bytes::from(out)
}

/// Corpus (e): one event whose data is a single line of `data_len` bytes.
pub fn long_line(data_len: usize) -> Bytes {
    let mut out = Vec::with_capacity(data_len + 8);
    out.extend_from_slice(b"data: ");
    out.extend((0..data_len).map(|i| ALNUM[i % ALNUM.len()]));
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// Cut `bytes` into chunks of `size` bytes (the last may be shorter); each chunk is
/// a zero-copy slice of `bytes`.
pub fn split(bytes: &Bytes, size: usize) -> Vec<Bytes> {
    assert!(size > 0, "chunk size must be positive");
    (0..bytes.len())
        .step_by(size)
        .map(|start| bytes.slice(start..(start + size).min(bytes.len())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_events_are_150_to_300_bytes_and_end_with_done() {
        let c = llm(64 * 1024);
        let text = std::str::from_utf8(&c).unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"));
        let blocks: Vec<&str> = text.split_inclusive("\n\n").collect();
        for block in &blocks[..blocks.len() - 1] {
            assert!(
                (150..=300).contains(&block.len()),
                "{} bytes: {block}",
                block.len()
            );
        }
    }

    #[test]
    fn corpora_are_deterministic() {
        assert_eq!(llm(10_000), llm(10_000));
        assert_eq!(tiny(10_000), tiny(10_000));
        assert_eq!(big_events(100_000), big_events(100_000));
    }

    #[test]
    fn split_covers_every_byte_once() {
        let c = tiny(1000);
        let chunks = split(&c, 64);
        assert!(chunks.iter().all(|ch| ch.len() <= 64));
        assert_eq!(chunks.concat(), c.to_vec());
    }
}
