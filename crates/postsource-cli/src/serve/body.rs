//! Request bodies: read up to [`MAX_BODY`], as much as a real API takes, and never
//! more. Each endpoint refuses a larger one in its own error shape (413), which is
//! why the handlers take the body as a `Result` instead of axum's plain-text refusal.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

/// The largest request body read, as Anthropic's Messages API takes (32 MB): a
/// long conversation with images needs it. axum's default is 2 MiB.
pub(crate) const MAX_BODY: usize = 32 * 1024 * 1024;

/// A request body that was not read: too large, or cut off by the client.
pub(crate) struct Unread {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Unread {
    pub(crate) fn too_large(&self) -> bool {
        self.status == StatusCode::PAYLOAD_TOO_LARGE
    }
}

impl From<BytesRejection> for Unread {
    fn from(rejection: BytesRejection) -> Unread {
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "Request body too large: this server reads at most {} MiB",
                MAX_BODY / 1024 / 1024
            )
        } else {
            format!("Could not read the request body: {}", rejection.body_text())
        };
        Unread { status, message }
    }
}
