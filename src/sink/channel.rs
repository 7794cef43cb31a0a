//! The live sink into a bounded channel (for a UI or a test): never waits on its reader.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::LiveSink;
use crate::finding::Finding;
use crate::source::event::Notice;

/// What a [`ChannelSink`] passes on.
#[derive(Debug, Clone)]
pub enum LiveItem {
    Finding(Finding),
    Notice { conn: Arc<str>, notice: Notice },
}

/// Findings and notices into a bounded channel (for a UI or a test); when it is full, items
/// are dropped and counted, so the consumer never waits on its reader.
pub struct ChannelSink {
    tx: mpsc::Sender<LiveItem>,
    pub dropped: u64,
}

impl ChannelSink {
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<LiveItem>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (ChannelSink { tx, dropped: 0 }, rx)
    }
}

impl LiveSink for ChannelSink {
    fn finding(&mut self, f: &Finding) {
        if self.tx.try_send(LiveItem::Finding(f.clone())).is_err() {
            self.dropped += 1;
        }
    }

    fn notice(&mut self, conn: &str, n: &Notice) {
        let item = LiveItem::Notice {
            conn: Arc::from(conn),
            notice: n.clone(),
        };
        if self.tx.try_send(item).is_err() {
            self.dropped += 1;
        }
    }
}
