//! Fuzz target `encode_roundtrip`: the encoder's promise, on arbitrary text. The input is
//! split at 0xFF bytes into data, event type and id (each decoded lossily, so any text), plus
//! a retry from the last eight bytes. An accepted message must parse back to exactly itself
//! (data line breaks as LF, an empty type as `message`) however it is chunked; a refused one
//! must have a CR/LF in the type or a CR/LF/NUL in the id, and write nothing.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use postsource::encode::Message;

#[path = "../../crates/postsource/tests/reference/mod.rs"]
mod reference;

use reference::{End, Options, Out, adapter};

fuzz_target!(|input: &[u8]| {
    let mut parts = input.split(|&b| b == 0xFF);
    let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (data, event, id) = (text(), text(), text());
    let retry = input
        .len()
        .checked_sub(8)
        .map(|at| u64::from_le_bytes(input[at..].try_into().unwrap()))
        .filter(|_| input.first().is_some_and(|b| b & 1 != 0));
    let with_id = input.first().is_some_and(|b| b & 2 != 0);

    let mut message = Message::new(&data).event(&event);
    if with_id {
        message = message.id(&id);
    }
    if let Some(ms) = retry {
        message = message.retry(ms);
    }
    let refused = event.contains(['\r', '\n']) || (with_id && id.contains(['\r', '\n', '\0']));
    let mut out = BytesMut::from(&b"prefix"[..]);
    let result = message.encode_into(&mut out);
    assert_eq!(result.is_err(), refused, "{message:?}");
    if refused {
        assert_eq!(&out[..], b"prefix");
        return;
    }
    let wire = &out[6..];
    let mut expected = Vec::new();
    expected.extend(retry.map(Out::Retry));
    expected.push(Out::Event {
        event: if event.is_empty() {
            "message".into()
        } else {
            event.clone()
        },
        data: data.replace("\r\n", "\n").replace('\r', "\n"),
        id: if with_id { id.clone() } else { String::new() },
    });
    let cuts: Vec<usize> = (0..wire.len()).step_by(7).collect();
    for cuts in [&[][..], &cuts[..]] {
        let run = adapter::run_cut(&mut adapter::parser(&Options::default()), wire, cuts);
        assert_eq!(run.outputs, expected, "{wire:?}");
        assert_eq!(run.end, End::Clean);
    }
});
