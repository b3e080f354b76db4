//! What moved a scope's month: the month so far against the same days of last month, by the
//! values below the scope and its charge types, as budget and month-end forecast alerts say
//! it (`drivers`); with `span=day`, what moved the day against the same weekday a week before,
//! as a daily budget's alert says it. Computed on request from the rollups with the pipeline's
//! own reader, as the other outlook routes are: the dashboard asks for one budget's when its
//! reader opens them, so the page's first load reads no more than before.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use costwatch_core::Scope;
use costwatch_core::findings::Drivers;
use costwatch_pipeline::drivers::DriverReader;
use costwatch_pipeline::meta::account_names;
use serde::{Deserialize, Serialize};

use super::costs::parse_scope;
use crate::{Api, Problem};

#[derive(Debug, Default, Deserialize)]
pub struct DriversQuery {
    /// A scope key, as `/v1/costs` takes it; the organisation by default.
    scope: Option<String>,
    as_of: Option<NaiveDate>,
    /// `month` (default) or `day`.
    span: Option<SpanParam>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SpanParam {
    Month,
    Day,
}

#[derive(Serialize)]
pub struct ScopeDrivers {
    scope: Scope,
    label: String,
    /// The day the month so far (or the day compared) ends: `as_of` as asked, or the last day
    /// stored when that is earlier (or none was asked).
    as_of: Option<NaiveDate>,
    /// `None` when there is nothing to tell: no data, last month not collected in full, or no
    /// change.
    drivers: Option<Drivers>,
}

pub async fn drivers(
    State(api): State<Arc<Api>>,
    Query(q): Query<DriversQuery>,
) -> Result<Json<ScopeDrivers>, Problem> {
    let scope = parse_scope(q.scope.as_deref().unwrap_or("org"))?;
    // A day after the last one stored would count the days not collected yet as days without
    // spend: the month so far ends with the data.
    let latest = api.latest_day().await?;
    let as_of = match (q.as_of, latest) {
        (Some(day), Some(latest)) => Some(day.min(latest)),
        (_, latest) => latest,
    };
    let drivers = match as_of {
        None => None,
        Some(as_of) => {
            let config = api.config().await?;
            let names = account_names(api.state.as_ref()).await?;
            let reader = DriverReader::new(api.rollups.as_ref(), &config, &names, as_of);
            match q.span.unwrap_or(SpanParam::Month) {
                SpanParam::Month => reader.of(&scope).await?,
                SpanParam::Day => reader.of_day(&scope, as_of).await?,
            }
        }
    };
    Ok(Json(ScopeDrivers {
        label: scope.label(),
        scope,
        as_of,
        drivers,
    }))
}
