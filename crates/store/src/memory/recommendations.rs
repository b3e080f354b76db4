use std::sync::Mutex;

use async_trait::async_trait;
use costwatch_core::recommend::Finding;

use super::lock;
use crate::error::{Result, StoreError};
use crate::ports::{RecommendationSource, RequestBudget};

/// Serves what it was last given: findings, or an outage (a source that cannot answer this
/// week). Tests and the demo; takes nothing from the request budget.
#[derive(Debug)]
pub struct MemoryRecommendations {
    answer: Mutex<std::result::Result<Vec<Finding>, String>>,
}

impl MemoryRecommendations {
    pub fn new(findings: Vec<Finding>) -> Self {
        Self {
            answer: Mutex::new(Ok(findings)),
        }
    }

    /// The next runs get these findings.
    pub fn answer(&self, findings: Vec<Finding>) {
        *lock(&self.answer) = Ok(findings);
    }

    /// The next runs get an error with this message.
    pub fn fail(&self, message: &str) {
        *lock(&self.answer) = Err(message.to_owned());
    }
}

#[async_trait]
impl RecommendationSource for MemoryRecommendations {
    async fn recommendations(&self, _budget: &RequestBudget) -> Result<(Vec<Finding>, bool)> {
        match &*lock(&self.answer) {
            Ok(findings) => Ok((findings.clone(), true)),
            Err(message) => Err(StoreError::Source(message.clone())),
        }
    }
}
