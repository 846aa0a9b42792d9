//! The `sse-stream` 0.3 adapter: `SseByteStream` over the chunk stream. It yields
//! raw blocks (also blocks without data, and without inheriting ids), so the
//! adapter applies what a browser would: a block without data dispatches nothing
//! but its `id` still becomes the last event id, and an empty or missing type is
//! `message`.

use bytes::Bytes;
use sse_stream::SseByteStream;

use super::{Drive, Ev, Input, Item, Sink, Tally, drive, event_type, input, poll};

pub(super) fn tally(chunks: &[Bytes]) -> Tally {
    let mut tally = Tally::default();
    drive(SseByteStream::new(input(chunks)), |item| {
        if let Ok(sse_stream::Sse {
            data: Some(data), ..
        }) = item
        {
            tally.events += 1;
            tally.data_bytes += data.len() as u64;
        }
        std::ops::ControlFlow::Continue(())
    });
    tally
}

pub(super) fn collect(input: Input<'_>, how: Drive, sink: &mut Sink<'_>) {
    let mut last_id = String::new();
    poll(SseByteStream::new(input), how, |item| match item {
        Ok(block) => {
            if let Some(id) = block.id {
                last_id = id;
            }
            if let Some(retry) = block.retry {
                if sink.push(Item::Retry(retry)).is_break() {
                    return std::ops::ControlFlow::Break(());
                }
            }
            match block.data {
                Some(data) => sink.push(Item::Event(Ev::new(
                    event_type(block.event.as_deref().unwrap_or("")),
                    &data,
                    &last_id,
                ))),
                None => std::ops::ControlFlow::Continue(()),
            }
        }
        Err(err) => sink.push(Item::Error(err.to_string())),
    });
}
