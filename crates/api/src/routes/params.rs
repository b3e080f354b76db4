//! Query parameters every list shares: paging (`limit`, `cursor`) and day ranges.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{Api, Problem};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// `?as_of=`: the day a route answers for (default the latest with data, [`as_of`]).
#[derive(Debug, Default, Deserialize)]
pub struct AsOfQuery {
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<usize>,
    /// Opaque to clients: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of a list and where the next starts (`None` on the last page).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl PageQuery {
    /// Cuts `items` (already in their final order) to this page. The cursor is an offset into
    /// that order; lists are sorted by stable keys, so a page boundary moves only when items
    /// are added before it.
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, Problem> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = match &self.cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| Problem::bad_request("cursor is not one this API returned"))?,
        };
        let total = items.len();
        let items: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
        let next = offset + items.len();
        Ok(Page {
            items,
            next_cursor: (next < total).then(|| next.to_string()),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// Days shown when a range is not given.
pub const DEFAULT_DAYS: u64 = 30;
/// The longest range one request may ask for (a little over a year of daily rows).
pub const MAX_DAYS: i64 = 400;

impl RangeQuery {
    /// `start..=end`: `end` defaults to the last stored day, `start` to 30 days before it.
    pub async fn resolve(&self, api: &Api) -> Result<Option<(NaiveDate, NaiveDate)>, Problem> {
        let end = match self.end {
            Some(end) => end,
            None => match api.latest_day().await? {
                Some(day) => day,
                None => return Ok(None),
            },
        };
        let start = self
            .start
            .unwrap_or_else(|| end - Days::new(DEFAULT_DAYS - 1));
        if start > end {
            return Err(Problem::bad_request("start is after end"));
        }
        if (end - start).num_days() >= MAX_DAYS {
            return Err(Problem::bad_request(format!(
                "a range may span at most {MAX_DAYS} days"
            )));
        }
        Ok(Some((start, end)))
    }
}

/// The day forecasts and budgets are computed for: `as_of` or the last stored day.
pub async fn as_of(api: &Api, given: Option<NaiveDate>) -> Result<Option<NaiveDate>, Problem> {
    match given {
        Some(day) => Ok(Some(day)),
        None => api.latest_day().await,
    }
}
