"""A deliberately plain reference of the WHATWG event-stream interpretation.

Written from the HTML Standard's "Parsing an event stream" and "Interpreting an
event stream" sections, independent of the Rust parser, for the differential
check in conformance.py. It works on a whole byte stream at once (the spec's
result does not depend on how bytes are chunked) and returns the dispatched
events as (type, data, lastEventId) tuples, the shape of the CLI's jsonl events.
"""

from __future__ import annotations

import re

_EOL = re.compile(r"\r\n|\r|\n")


def parse(stream: bytes, last_event_id: str = "") -> list[tuple[str, str, str]]:
    """Events the spec dispatches for `stream` (one connection, ending at EOF)."""
    # UTF-8 decode: replacement of maximal subparts, one leading BOM stripped.
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    events: list[tuple[str, str, str]] = []
    data, etype, id_buf = "", "", last_event_id
    pos = 0
    for m in _EOL.finditer(text):
        line = text[pos:m.start()]
        pos = m.end()
        if line == "":
            # Dispatch: the last event ID string takes the buffer even when no event fires.
            last_event_id = id_buf
            if data == "":
                etype = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append((etype or "message", data, last_event_id))
            data, etype = "", ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            etype = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\x00" not in value:
                id_buf = value
        # retry and unknown fields do not change the dispatched events
    # Text after the last line terminator is an incomplete line: discarded with
    # any pending event at end of file.
    return events


def reconnection_time(stream: bytes, initial: int) -> int:
    """The reconnection time after `stream`: the last valid `retry:` on a complete line."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    value = initial
    pos = 0
    for m in _EOL.finditer(text):
        line = text[pos:m.start()]
        pos = m.end()
        name, sep, v = line.partition(":")
        if not sep:
            name, v = line, ""
        elif v.startswith(" "):
            v = v[1:]
        if name == "retry" and v != "" and all("0" <= ch <= "9" for ch in v):
            value = int(v)
    return value
