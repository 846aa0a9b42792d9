//! The sessions of `/mcp`: which exist, at which revision, and the replies of each
//! that can still be resumed. Bounded: the oldest session, and a session's oldest
//! reply, are forgotten first.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::reply::Reply;

/// Sessions kept; the oldest is forgotten when a new one would exceed this.
const MAX_SESSIONS: usize = 256;
/// Replies kept per session for resumption; the oldest is forgotten first.
const MAX_REPLIES: usize = 64;

/// Every session of this server.
#[derive(Default)]
pub(crate) struct Sessions {
    inner: Mutex<SessionTable>,
}

#[derive(Default)]
struct SessionTable {
    by_id: HashMap<String, Session>,
    /// Session ids, oldest first (for forgetting the oldest).
    order: VecDeque<String>,
}

struct Session {
    version: String,
    /// Cancelled by DELETE: ends the session's quiet GET streams.
    ended: CancellationToken,
    /// The replies that can still be resumed, by stream number, oldest first.
    replies: VecDeque<(u64, Arc<Reply>)>,
    next_stream: u64,
}

impl Sessions {
    fn table(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        // A panic elsewhere cannot leave the table half-updated: every change
        // below is one insert or remove.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session at `version`; its id.
    pub(super) fn open(&self, version: &str) -> String {
        let id = new_session_id();
        let mut table = self.table();
        while table.order.len() >= MAX_SESSIONS {
            if let Some(oldest) = table.order.pop_front() {
                table.by_id.remove(&oldest);
            }
        }
        table.order.push_back(id.clone());
        let session = Session {
            version: version.to_owned(),
            ended: CancellationToken::new(),
            replies: VecDeque::new(),
            next_stream: 0,
        };
        table.by_id.insert(id.clone(), session);
        id
    }

    pub(super) fn version(&self, id: &str) -> Option<String> {
        self.table().by_id.get(id).map(|s| s.version.clone())
    }

    /// What DELETE cancels, for the session's streams that are no reply.
    pub(super) fn ended(&self, id: &str) -> Option<CancellationToken> {
        self.table().by_id.get(id).map(|s| s.ended.clone())
    }

    /// Keeps `reply` for resumption; its stream number, or `None` when the session
    /// is gone.
    pub(super) fn keep(&self, id: &str, reply: Arc<Reply>) -> Option<u64> {
        let mut table = self.table();
        let session = table.by_id.get_mut(id)?;
        let stream = session.next_stream;
        session.next_stream += 1;
        if session.replies.len() >= MAX_REPLIES {
            session.replies.pop_front();
        }
        session.replies.push_back((stream, reply));
        Some(stream)
    }

    pub(super) fn reply(&self, id: &str, stream: u64) -> Option<Arc<Reply>> {
        let table = self.table();
        let session = table.by_id.get(id)?;
        session
            .replies
            .iter()
            .find(|(s, _)| *s == stream)
            .map(|(_, reply)| reply.clone())
    }

    /// Stops the latest reply to `request` in the session (`initialize`'s is never
    /// cancelled: the spec forbids it).
    pub(super) fn cancel(&self, id: &str, request: &Value) {
        let table = self.table();
        let reply = table.by_id.get(id).and_then(|session| {
            session
                .replies
                .iter()
                .rev()
                .find(|(stream, reply)| *stream > 0 && reply.id == *request)
        });
        if let Some((_, reply)) = reply {
            reply.cancelled.cancel();
        }
    }

    /// Ends the session, and every stream still open in it.
    pub(super) fn close(&self, id: &str) {
        let mut table = self.table();
        if let Some(session) = table.by_id.remove(id) {
            session.ended.cancel();
            for (_, reply) in session.replies {
                reply.cancelled.cancel();
            }
        }
        table.order.retain(|s| s != id);
    }
}

/// 128 random bits as hex: std's `RandomState` is seeded from the OS per instance.
fn new_session_id() -> String {
    let half = || RandomState::new().build_hasher().finish();
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::reply::{Reply, ReplyBody};
    use super::*;

    fn reply(id: u64) -> Arc<Reply> {
        let body = ReplyBody::Now(json!({"result": {}}));
        Arc::new(Reply::new(Duration::ZERO, true, json!(id), body))
    }

    #[test]
    fn the_oldest_session_and_reply_are_forgotten_first() {
        let sessions = Sessions::default();
        let ids: Vec<String> = (0..MAX_SESSIONS + 10)
            .map(|_| sessions.open("2025-11-25"))
            .collect();
        assert!(
            sessions.version(&ids[9]).is_none(),
            "the first ten are gone"
        );
        assert!(sessions.version(&ids[10]).is_some());
        assert_eq!(sessions.table().by_id.len(), MAX_SESSIONS);
        let last = ids.last().unwrap();
        for n in 0..MAX_REPLIES as u64 + 5 {
            assert_eq!(
                sessions.keep(last, reply(n)),
                Some(n),
                "stream numbers count up"
            );
        }
        assert!(
            sessions.reply(last, 4).is_none(),
            "the first five replies are gone"
        );
        assert_eq!(sessions.reply(last, 5).unwrap().id, json!(5));
        // Cancelling finds the latest reply to that request; closing stops them all.
        sessions.cancel(last, &json!(7));
        assert!(sessions.reply(last, 7).unwrap().cancelled.is_cancelled());
        let kept = sessions.reply(last, 8).unwrap();
        assert!(!kept.cancelled.is_cancelled());
        let ended = sessions.ended(last).unwrap();
        sessions.close(last);
        assert!(kept.cancelled.is_cancelled() && ended.is_cancelled());
        assert!(sessions.version(last).is_none() && sessions.keep(last, reply(0)).is_none());
        assert_eq!(sessions.table().order.len(), MAX_SESSIONS - 1);
    }

    #[test]
    fn session_ids_are_128_bits_of_hex_and_differ() {
        let a = new_session_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_session_id());
    }
}
