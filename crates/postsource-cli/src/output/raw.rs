//! `-o raw`: the response body bytes exactly as they were read from the network.
//! The bytes themselves are written by the client's byte tap the moment they are
//! read (see `run`); this sink adds the response head
//! for `-i` and reports errors on stderr. Nothing else is written to stdout.

use std::io::{self, Write};

use super::{Item, Sink};

/// The raw writer.
pub struct Raw {
    out: Box<dyn Write + Send>,
    include: bool,
}

impl Raw {
    /// Writes to `out`; `include` prints the response head on each open.
    pub fn new(out: Box<dyn Write + Send>, include: bool) -> Self {
        Raw { out, include }
    }
}

impl Sink for Raw {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        match item {
            Item::Open(open) if self.include => {
                super::data::write_head(&mut self.out, open.status, &open.headers)?;
            }
            Item::Error(failure) => {
                return super::data::write_failure(&mut self.out, self.include, failure);
            }
            _ => return Ok(()),
        }
        self.out.flush()
    }
}
