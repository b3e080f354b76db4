//! AWS Cost Anomaly Detection's own findings (`GetAnomalies`) as [`ImportedAnomaly`]s, so the
//! pipeline can merge them with ours under the same ids.
//!
//! Mapping: the scope is the narrowest one its top root cause names (account × service,
//! service, account, else the organisation); `start_date` is `AnomalyStartDate`, so an anomaly
//! both detectors find on the same scope and day gets the same stable id. Expected and actual
//! are AWS's totals over the anomaly's days (`TotalExpectedSpend`, `TotalActualSpend`); the
//! root causes keep AWS's contributions, ranked, with their share of `TotalImpact`. Every page
//! is a request ($0.01) drawn from the run's budget; throttling is retried like GetCostAndUsage.

use async_trait::async_trait;
use aws_sdk_costexplorer::types::{
    Anomaly as AwsAnomaly, AnomalyDateInterval, AnomalyFeedbackType,
};
use chrono::NaiveDate;
use costwatch_core::findings::{Anomaly, Direction, RootCause};
use costwatch_core::money::from_f64;
use costwatch_core::{Money, Scope};

use super::CostExplorerSource;
use super::request::backoff;
use crate::aws::error::aws_error;
use crate::error::{Result, StoreError};
use crate::ports::{
    AnomalyFeedbackSink, AnomalySource, AwsVerdict, ImportedAnomaly, RequestBudget,
};

const OPERATION: &str = "ce:GetAnomalies";

#[async_trait]
impl AnomalySource for CostExplorerSource {
    async fn anomalies(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        budget: &RequestBudget,
    ) -> Result<(Vec<ImportedAnomaly>, bool)> {
        let interval = AnomalyDateInterval::builder()
            .start_date(start.to_string())
            .end_date(end.to_string())
            .build()
            .map_err(|e| StoreError::Source(format!("{OPERATION}: {e}")))?;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let Some(page) = self
                .anomaly_page(&interval, token.as_deref(), budget)
                .await?
            else {
                return Ok((out, false));
            };
            for a in page.anomalies() {
                if let Some(mapped) = map(a) {
                    out.push(mapped);
                }
            }
            match page.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok((out, true)),
            }
        }
    }
}

impl CostExplorerSource {
    async fn anomaly_page(
        &self,
        interval: &AnomalyDateInterval,
        token: Option<&str>,
        budget: &RequestBudget,
    ) -> Result<Option<aws_sdk_costexplorer::operation::get_anomalies::GetAnomaliesOutput>> {
        let policy = self.options.retry;
        let mut attempt = 0;
        loop {
            if !budget.try_take() {
                return Ok(None);
            }
            attempt += 1;
            let sent = self
                .client
                .get_anomalies()
                .date_interval(interval.clone())
                .set_next_page_token(token.map(str::to_owned))
                .send()
                .await;
            let err = match sent {
                Ok(out) => return Ok(Some(out)),
                Err(err) => err,
            };
            let throttled = err
                .as_service_error()
                .is_some_and(|e| e.is_limit_exceeded_exception());
            if throttled {
                budget.note_throttled();
            }
            let error = aws_error(OPERATION, err);
            if !(throttled || error.is_retryable()) || attempt >= policy.max_attempts {
                return Err(error);
            }
            tokio::time::sleep(backoff(policy, attempt)).await;
        }
    }
}

fn date(text: Option<&str>) -> Option<NaiveDate> {
    let text = text?;
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// One GetAnomalies finding in our terms; `None` without a start date or an impact.
pub(crate) fn map(a: &AwsAnomaly) -> Option<ImportedAnomaly> {
    let start_date = date(a.anomaly_start_date())?;
    let end_date = date(a.anomaly_end_date()).unwrap_or(start_date);
    let impact = a.impact()?;
    let top = a.root_causes().first();
    let account = top.and_then(|c| c.linked_account()).map(str::to_owned);
    let service = top.and_then(|c| c.service()).map(str::to_owned);
    let scope = match (account, service) {
        (Some(account), Some(service)) => Scope::AccountService { account, service },
        (None, Some(service)) => Scope::Service(service),
        (Some(account), None) => Scope::Account(account),
        (None, None) => Scope::Org,
    };
    let total = impact.total_impact();
    let expected = impact.total_expected_spend().unwrap_or(0.0);
    let actual = impact.total_actual_spend().unwrap_or(expected + total);
    let mut root_causes: Vec<RootCause> = a
        .root_causes()
        .iter()
        .map(|c| {
            let (dimension, value) = match (c.usage_type(), c.region(), c.service()) {
                (Some(u), _, _) => ("usage_type", u),
                (None, Some(r), _) => ("region", r),
                (None, None, Some(s)) => ("service", s),
                _ => (
                    "account",
                    c.linked_account_name().or(c.linked_account()).unwrap_or(""),
                ),
            };
            let contribution = c.impact().map_or(0.0, |i| i.contribution());
            RootCause {
                dimension: dimension.to_owned(),
                value: value.to_owned(),
                contribution: from_f64(contribution),
                share: if total.abs() > 0.0 {
                    (contribution / total).clamp(0.0, 1.0)
                } else {
                    0.0
                },
            }
        })
        .collect();
    root_causes.sort_by_key(|c| std::cmp::Reverse(c.contribution.abs()));
    let score = a.anomaly_score().map_or(0.0, |s| {
        s.current_score().max(s.max_score()).clamp(0.0, 1.0)
    });
    Some(ImportedAnomaly {
        source_id: a.anomaly_id().to_owned(),
        anomaly: Anomaly {
            scope,
            start_date,
            date: end_date,
            direction: if total < 0.0 {
                Direction::Fall
            } else {
                Direction::Rise
            },
            actual: from_f64(actual),
            expected: from_f64(expected),
            lower: Money::ZERO,
            upper: from_f64(expected),
            impact: from_f64(total),
            impact_pct: impact.total_impact_percentage(),
            score,
            root_causes,
            // AWS names no resources; detect adds ours when the source has line items.
            resources: Vec::new(),
        },
    })
}

const FEEDBACK_OPERATION: &str = "ce:ProvideAnomalyFeedback";

/// One request per anomaly ($0.01, like every Cost Explorer request), retried on throttling
/// like the reads; outside any run's request budget because a person asked for it.
#[async_trait]
impl AnomalyFeedbackSink for CostExplorerSource {
    async fn provide_feedback(&self, anomaly_id: &str, verdict: AwsVerdict) -> Result<()> {
        let feedback = match verdict {
            AwsVerdict::Yes => AnomalyFeedbackType::Yes,
            AwsVerdict::No => AnomalyFeedbackType::No,
            AwsVerdict::PlannedActivity => AnomalyFeedbackType::PlannedActivity,
        };
        let policy = self.options.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .provide_anomaly_feedback()
                .anomaly_id(anomaly_id)
                .feedback(feedback.clone())
                .send()
                .await;
            let err = match sent {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let throttled = err
                .as_service_error()
                .is_some_and(|e| e.is_limit_exceeded_exception());
            let error = aws_error(FEEDBACK_OPERATION, err);
            if !(throttled || error.is_retryable()) || attempt >= policy.max_attempts {
                return Err(error);
            }
            tokio::time::sleep(backoff(policy, attempt)).await;
        }
    }
}
