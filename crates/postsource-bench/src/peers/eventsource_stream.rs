//! The `eventsource-stream` 0.2 adapter (the parser `reqwest-eventsource` uses):
//! `Eventsource::eventsource()` over the chunk stream. Its `Event::id` already is
//! the last event id, and its `retry` rides on the event that carried it.

use bytes::Bytes;
use eventsource_stream::Eventsource;

use super::{Drive, Ev, Input, Item, Sink, Tally, drive, event_type, input, poll};

pub(super) fn tally(chunks: &[Bytes]) -> Tally {
    let mut tally = Tally::default();
    drive(input(chunks).eventsource(), |item| {
        if let Ok(event) = item {
            tally.events += 1;
            tally.data_bytes += event.data.len() as u64;
        }
        std::ops::ControlFlow::Continue(())
    });
    tally
}

pub(super) fn collect(input: Input<'_>, how: Drive, sink: &mut Sink<'_>) {
    poll(input.eventsource(), how, |item| match item {
        Ok(e) => {
            if let Some(retry) = e.retry {
                if sink.push(Item::Retry(retry.as_millis() as u64)).is_break() {
                    return std::ops::ControlFlow::Break(());
                }
            }
            sink.push(Item::Event(Ev::new(event_type(&e.event), &e.data, &e.id)))
        }
        Err(err) => sink.push(Item::Error(format!("{err:?}"))),
    });
}
