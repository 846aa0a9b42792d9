//! What `/mcp` answers: a request's reply as the messages it is made of, each due
//! at its time from the reply's start, and the tools that make them.
//!
//! A reply is a pure function of its request and its start, never a buffer of what
//! was sent: any of its messages can be made again when a client resumes.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The largest `countdown`: its reply is computed, never stored, but it is paced.
const MAX_STEPS: u64 = 10_000;

// JSON-RPC error codes of replies.
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// What one request's stream says, and when.
pub(super) struct Reply {
    pub(super) started: Instant,
    pace: Duration,
    /// The priming event is sent (the client's revision takes it).
    pub(super) priming: bool,
    /// The JSON-RPC id of the request it answers.
    pub(super) id: Value,
    body: ReplyBody,
    /// The client cancelled the request (`notifications/cancelled`): the reply
    /// stops where it is, without a response, as the spec asks.
    pub(super) cancelled: CancellationToken,
}

pub(super) enum ReplyBody {
    /// One message at once: `{"result": ...}` or `{"error": ...}`.
    Now(Value),
    /// `countdown`: a progress notification per step (when the request asked for
    /// progress), one pace apart, then the result.
    Countdown { token: Option<Value>, steps: u64 },
}

impl Reply {
    /// A reply starting now, for the request `id`.
    pub(super) fn new(pace: Duration, priming: bool, id: Value, body: ReplyBody) -> Reply {
        Reply {
            started: Instant::now(),
            pace,
            priming,
            id,
            body,
            cancelled: CancellationToken::new(),
        }
    }

    /// How many messages the reply has.
    pub(super) fn len(&self) -> u64 {
        match &self.body {
            ReplyBody::Now(_) => 1,
            ReplyBody::Countdown { token: None, .. } => 1,
            ReplyBody::Countdown { steps, .. } => steps + 1,
        }
    }

    /// Message `k` (from 0) and when it is due, from the reply's start.
    pub(super) fn message(&self, k: u64) -> (Duration, Value) {
        let response = |outcome: Value| {
            let mut message = json!({"jsonrpc": "2.0", "id": self.id});
            if let (Some(message), Some(outcome)) = (message.as_object_mut(), outcome.as_object()) {
                message.extend(outcome.clone());
            }
            message
        };
        match &self.body {
            ReplyBody::Now(outcome) => (Duration::ZERO, response(outcome.clone())),
            ReplyBody::Countdown { token, steps } if k < self.len() - 1 => {
                let progress = json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": k + 1, "total": steps,
                               "message": format!("step {}", k + 1)},
                });
                (self.paces(k), progress)
            }
            ReplyBody::Countdown { steps, .. } => {
                let text = format!("counted {steps}");
                let done = json!({"result": tool_text(&text, false)});
                (self.paces(*steps), response(done))
            }
        }
    }

    /// `n` paces; saturating, as a pace may be as long as a client asks.
    fn paces(&self, n: u64) -> Duration {
        self.pace
            .saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// A tool's result: one text item.
fn tool_text(text: &str, is_error: bool) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

/// The tools `tools/list` offers.
fn tools() -> Value {
    json!([
        {
            "name": "countdown",
            "title": "Countdown",
            "description": "Counts `steps` steps, one pace apart (as the simulated model's tokens), \
                            reporting progress after each when the request has a progressToken, \
                            then answers `counted <steps>`.",
            "inputSchema": {
                "type": "object",
                "properties": {"steps": {"type": "integer", "minimum": 0, "maximum": MAX_STEPS}},
                "required": ["steps"],
            },
        },
        {
            "name": "echo",
            "title": "Echo",
            "description": "Answers with the text it is given.",
            "inputSchema": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        },
    ])
}

/// What a request (other than `initialize`) is answered with.
pub(super) fn answer(method: &str, params: &Value) -> ReplyBody {
    let error = |code: i64, message: String| {
        ReplyBody::Now(json!({"error": {"code": code, "message": message}}))
    };
    let result = |result: Value| ReplyBody::Now(json!({"result": result}));
    match method {
        "ping" => result(json!({})),
        "tools/list" => result(json!({"tools": tools()})),
        "tools/call" => {
            let arguments = &params["arguments"];
            match params["name"].as_str() {
                Some("countdown") => match arguments["steps"].as_u64() {
                    Some(steps) if steps <= MAX_STEPS => ReplyBody::Countdown {
                        token: params["_meta"]
                            .get("progressToken")
                            .filter(|t| !t.is_null())
                            .cloned(),
                        steps,
                    },
                    // A tool's own error, for the model to read, as the spec has it
                    // for arguments that do not fit the schema.
                    _ => result(tool_text(
                        &format!("steps must be an integer from 0 to {MAX_STEPS}"),
                        true,
                    )),
                },
                Some("echo") => match arguments["text"].as_str() {
                    Some(text) => result(tool_text(text, false)),
                    None => result(tool_text("text must be a string", true)),
                },
                Some(name) => error(INVALID_PARAMS, format!("Unknown tool: {name}")),
                None => error(INVALID_PARAMS, "tools/call needs params.name".to_owned()),
            }
        }
        _ => error(METHOD_NOT_FOUND, format!("Method not found: {method}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_countdown_is_its_progress_one_pace_apart_then_the_result() {
        let pace = Duration::from_millis(40);
        let countdown = |token| {
            let body = ReplyBody::Countdown { token, steps: 3 };
            Reply::new(pace, true, json!("r"), body)
        };
        let reply = countdown(Some(json!(1)));
        assert_eq!(reply.len(), 4);
        let (due, progress) = reply.message(1);
        assert_eq!(due, pace);
        assert_eq!(progress["params"]["progress"], 2);
        assert_eq!(progress["params"]["message"], "step 2");
        let (due, result) = reply.message(3);
        assert_eq!(due, pace * 3);
        assert_eq!(
            (&result["id"], &result["jsonrpc"]),
            (&json!("r"), &json!("2.0"))
        );
        assert_eq!(result["result"]["content"][0]["text"], "counted 3");
        // Without a progress token: the same wait, then only the result.
        let quiet = countdown(None);
        assert_eq!(quiet.len(), 1);
        assert_eq!(quiet.message(0).0, pace * 3);
        // The longest pace a query can ask for saturates instead of overflowing.
        let body = ReplyBody::Countdown {
            token: None,
            steps: MAX_STEPS,
        };
        let slow = Reply::new(Duration::from_millis(u64::MAX), true, json!("r"), body);
        assert_eq!(slow.message(0).0, Duration::MAX);
    }

    #[test]
    fn requests_are_answered_by_method_and_tool() {
        let outcome = |method, params| match answer(method, &params) {
            ReplyBody::Now(outcome) => outcome,
            ReplyBody::Countdown { .. } => json!("countdown"),
        };
        assert_eq!(outcome("ping", json!({})), json!({"result": {}}));
        assert_eq!(
            outcome("tools/list", json!({}))["result"]["tools"][1]["name"],
            "echo"
        );
        let echo = json!({"name": "echo", "arguments": {"text": "hi"}});
        assert_eq!(
            outcome("tools/call", echo)["result"]["content"][0]["text"],
            "hi"
        );
        let steps = json!({"name": "countdown", "arguments": {"steps": 2}});
        assert_eq!(outcome("tools/call", steps), json!("countdown"));
        let too_many = json!({"name": "countdown", "arguments": {"steps": MAX_STEPS + 1}});
        assert_eq!(outcome("tools/call", too_many)["result"]["isError"], true);
        let unknown = json!({"name": "nope"});
        assert_eq!(
            outcome("tools/call", unknown)["error"]["code"],
            INVALID_PARAMS
        );
        assert_eq!(
            outcome("resources/list", json!({}))["error"]["code"],
            METHOD_NOT_FOUND
        );
    }
}
