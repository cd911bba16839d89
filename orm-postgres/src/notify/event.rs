//! What a [`Listener`](super::Listener) yields: [`ListenEvent`]s, most of them
//! [`Notification`]s.

/// A notification received on a channel the [`Listener`](super::Listener) listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// The channel, as it was named (case kept).
    pub channel: String,
    /// The payload (empty when none was given).
    pub payload: String,
    /// The server process of the session that sent it (`pg_backend_pid()` there).
    pub process_id: i32,
}

/// What a [`Listener`](super::Listener) yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListenEvent {
    /// A notification.
    Notification(Notification),
    /// The connection was lost, found now: the listener gets a new one next, reported by
    /// [`Reconnected`](ListenEvent::Reconnected) once it listens again. From now until then
    /// notifications are lost; stop trusting whatever they keep up to date.
    Disconnected,
    /// The connection was lost and a new one listens again to every channel: **notifications
    /// sent in between are lost** (PostgreSQL queues them only for sessions listening when
    /// they are sent). Re-read whatever state the notifications were keeping you up to date
    /// with.
    #[non_exhaustive]
    Reconnected {
        /// How many attempts the new connection took.
        attempts: u32,
    },
}
