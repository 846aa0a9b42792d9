//! The postsource adapter: `Parser::feed` each chunk, then drain its frames.

use bytes::Bytes;
use postsource::{Frame, Parser};

use super::{Ev, Item, Sink, Tally};

/// The limits are raised far above every corpus (corpus (e) has an 8 MiB line) so
/// no corpus is cut by them.
fn parser() -> Parser {
    Parser::new()
        .with_max_line_len(64 * 1024 * 1024)
        .with_max_event_size(64 * 1024 * 1024)
}

pub(super) fn tally(chunks: &[Bytes]) -> Tally {
    let mut parser = parser();
    let mut tally = Tally::default();
    for chunk in chunks {
        parser.feed(chunk.clone());
        for frame in &mut parser {
            if let Ok(Frame::Event(event)) = frame {
                tally.events += 1;
                tally.data_bytes += event.data.len() as u64;
            }
        }
    }
    parser.finish();
    tally
}

pub(super) fn collect(chunks: &[Bytes], sink: &mut Sink<'_>) {
    let mut parser = parser();
    for chunk in chunks {
        parser.feed(chunk.clone());
        for frame in &mut parser {
            let item = match frame {
                Ok(Frame::Event(e)) => Item::Event(Ev::new(&e.event, &e.data, &e.last_event_id)),
                Ok(Frame::Retry(ms)) => Item::Retry(ms),
                Ok(Frame::Comment(_)) => continue,
                Err(err) => Item::Error(err.to_string()),
            };
            if sink.push(item).is_break() {
                return;
            }
        }
    }
    parser.finish();
}
