use std::sync::Mutex;

use async_trait::async_trait;
use costwatch_core::Notification;

use super::lock;
use crate::error::Result;
use crate::ports::NotificationBus;

/// Keeps what was published, for tests and `demo` to inspect.
#[derive(Debug, Default)]
pub struct MemoryBus {
    published: Mutex<Vec<Notification>>,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Envelopes in first-publish order, one per id.
    pub fn published(&self) -> Vec<Notification> {
        lock(&self.published).clone()
    }
}

#[async_trait]
impl NotificationBus for MemoryBus {
    /// Publishing an id again replaces the earlier envelope in place (like the local bus
    /// overwriting its file), so a redelivery never shows up twice.
    async fn publish(&self, notification: &Notification) -> Result<()> {
        let mut published = lock(&self.published);
        match published.iter_mut().find(|n| n.id == notification.id) {
            Some(existing) => *existing = notification.clone(),
            None => published.push(notification.clone()),
        }
        Ok(())
    }
}
