//! Account names seen in the data, kept in the state store so envelopes can say "data-platform"
//! rather than "444455556666".

use std::collections::BTreeMap;

use costwatch_core::CostRecord;
use costwatch_store::{StateStore, StoreError};

use crate::error::Result;

const KEY: &str = "meta/account-names";

pub async fn account_names(state: &dyn StateStore) -> Result<BTreeMap<String, String>> {
    Ok(match state.get(KEY).await? {
        Some(v) => serde_json::from_value(v.value).unwrap_or_default(),
        None => BTreeMap::new(),
    })
}

/// Adds names from `records`; retries once on a concurrent update.
pub async fn remember_account_names(state: &dyn StateStore, records: &[CostRecord]) -> Result<()> {
    for _ in 0..3 {
        let current = state.get(KEY).await?;
        let (mut names, version): (BTreeMap<String, String>, _) = match &current {
            Some(v) => (
                serde_json::from_value(v.value.clone()).unwrap_or_default(),
                Some(v.version),
            ),
            None => (BTreeMap::new(), None),
        };
        let before = names.len();
        for r in records {
            if let Some(name) = &r.sub_account_name {
                names
                    .entry(r.sub_account_id.clone())
                    .or_insert_with(|| name.clone());
            }
        }
        if names.len() == before && current.is_some() {
            return Ok(());
        }
        let value = serde_json::to_value(&names).unwrap_or_default();
        match state.put(KEY, value, version, None).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
