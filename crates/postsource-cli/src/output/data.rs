//! `-o data`: only each event's data, then a newline — the shape `| jq` and shell
//! loops want. `-i` puts the status and headers first, as `curl -i` does. Errors are
//! reported on stderr so they never mix with the data.

use std::io::{self, Write};

use super::{Item, Sink, status_text};

/// The data writer.
pub struct Data {
    out: Box<dyn Write + Send>,
    include: bool,
}

impl Data {
    /// Writes to `out`; `include` prints the response head on each open.
    pub fn new(out: Box<dyn Write + Send>, include: bool) -> Self {
        Data { out, include }
    }
}

impl Sink for Data {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        match item {
            Item::Event(ev) => {
                self.out.write_all(ev.data.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Item::Open(open) if self.include => {
                write_head(&mut self.out, open.status, &open.headers)?;
            }
            Item::Error(failure) => return write_failure(&mut self.out, self.include, failure),
            _ => return Ok(()),
        }
        self.out.flush()
    }
}

/// A failure in the plain modes: with `include`, as curl -i, the head of the
/// rejected response on `out`; the message on stderr.
pub(crate) fn write_failure(
    out: &mut dyn Write,
    include: bool,
    failure: &super::Failure,
) -> io::Result<()> {
    if let Some(status) = failure.status.filter(|_| include) {
        write_head(out, status, &failure.headers)?;
        out.flush()?;
    }
    let _ = writeln!(io::stderr(), "postsource: {}", failure.message);
    Ok(())
}

/// `HTTP 200 OK`, the headers, a blank line.
pub(crate) fn write_head(
    out: &mut dyn Write,
    status: u16,
    headers: &[(String, String)],
) -> io::Result<()> {
    writeln!(out, "HTTP {}", status_text(status))?;
    for (name, value) in headers {
        writeln!(out, "{name}: {value}")?;
    }
    writeln!(out)
}
