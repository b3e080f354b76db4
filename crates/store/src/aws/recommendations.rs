//! Cost Explorer's recommendations as [`Finding`]s (feature `aws-cost-explorer`):
//! `GetRightsizingRecommendation` (EC2), `GetSavingsPlansPurchaseRecommendation` and
//! `GetReservationPurchaseRecommendation` for RDS, ElastiCache, OpenSearch and Redshift.
//!
//! Each is paged on `NextPageToken`; every page — retries included — is a request ($0.01)
//! taken from the run's [`RequestBudget`] before it is sent, so the cap is never passed and the
//! run's ledger counts them. Savings are AWS's own (`EstimatedMonthlySavings…`); the formula
//! names the fields they come from.

use std::future::Future;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::config::http::HttpResponse;
use aws_sdk_costexplorer::config::retry::RetryConfig;
use aws_sdk_costexplorer::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_costexplorer::types::{
    AccountScope, InstanceDetails, LookbackPeriodInDays, PaymentOption, RecommendationTarget,
    ReservationPurchaseRecommendationDetail, RightsizingRecommendation,
    RightsizingRecommendationConfiguration, RightsizingType,
    SavingsPlansPurchaseRecommendationDetail, SupportedSavingsPlansType, TagValues, TermInYears,
};
use costwatch_core::Money;
use costwatch_core::recommend::{Action, Finding, Kind, Source};

use super::error::aws_error;
use crate::cost_explorer_options::RetryPolicy;
use crate::error::{Result, StoreError};
use crate::ports::{RecommendationSource, RequestBudget};

/// The services `GetReservationPurchaseRecommendation` is asked about, by its `Service` value.
pub const RESERVATION_SERVICES: [&str; 4] = [
    "Amazon Relational Database Service",
    "Amazon ElastiCache",
    "Amazon OpenSearch Service",
    "Amazon Redshift",
];

/// AWS's hours per month in its own monthly estimates.
const HOURS_PER_MONTH: i64 = 730;

pub struct CeRecommendations {
    client: Client,
    retry: RetryPolicy,
}

impl CeRecommendations {
    /// The SDK's retries are off: every send is counted here and taken from the budget.
    pub fn new(config: &SdkConfig, retry: RetryPolicy) -> Self {
        let ce = aws_sdk_costexplorer::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(ce),
            retry,
        }
    }

    /// One send of `call`, retried on throttling and 5xx; `None` when the budget refuses it.
    async fn counted<T, E, F, Fut>(
        &self,
        operation: &'static str,
        budget: &RequestBudget,
        call: F,
    ) -> Result<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        send_retried(operation, self.retry, Some(budget), call).await
    }

    async fn rightsizing(&self, budget: &RequestBudget, out: &mut Vec<Finding>) -> Result<bool> {
        let config = RightsizingRecommendationConfiguration::builder()
            .recommendation_target(RecommendationTarget::SameInstanceFamily)
            .benefits_considered(true)
            .build()
            .map_err(|e| StoreError::Source(format!("ce:GetRightsizingRecommendation: {e}")))?;
        let mut token: Option<String> = None;
        loop {
            let call = || {
                self.client
                    .get_rightsizing_recommendation()
                    .service("AmazonEC2")
                    .configuration(config.clone())
                    .set_next_page_token(token.clone())
                    .send()
            };
            let Some(page) = self
                .counted("ce:GetRightsizingRecommendation", budget, call)
                .await?
            else {
                return Ok(false);
            };
            out.extend(
                page.rightsizing_recommendations()
                    .iter()
                    .filter_map(rightsizing),
            );
            match page.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(true),
            }
        }
    }

    async fn savings_plans(&self, budget: &RequestBudget, out: &mut Vec<Finding>) -> Result<bool> {
        let mut token: Option<String> = None;
        loop {
            let call = || {
                self.client
                    .get_savings_plans_purchase_recommendation()
                    .savings_plans_type(SupportedSavingsPlansType::ComputeSp)
                    .term_in_years(TermInYears::OneYear)
                    .payment_option(PaymentOption::NoUpfront)
                    .lookback_period_in_days(LookbackPeriodInDays::ThirtyDays)
                    .account_scope(AccountScope::Linked)
                    .set_next_page_token(token.clone())
                    .send()
            };
            let Some(page) = self
                .counted("ce:GetSavingsPlansPurchaseRecommendation", budget, call)
                .await?
            else {
                return Ok(false);
            };
            if let Some(r) = page.savings_plans_purchase_recommendation() {
                out.extend(
                    r.savings_plans_purchase_recommendation_details()
                        .iter()
                        .filter_map(savings_plan),
                );
            }
            match page.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(true),
            }
        }
    }

    async fn reservations(
        &self,
        service: &'static str,
        budget: &RequestBudget,
        out: &mut Vec<Finding>,
    ) -> Result<bool> {
        let mut token: Option<String> = None;
        loop {
            let call = || {
                self.client
                    .get_reservation_purchase_recommendation()
                    .service(service)
                    .term_in_years(TermInYears::OneYear)
                    .payment_option(PaymentOption::NoUpfront)
                    .lookback_period_in_days(LookbackPeriodInDays::ThirtyDays)
                    .account_scope(AccountScope::Linked)
                    .set_next_page_token(token.clone())
                    .send()
            };
            let Some(page) = self
                .counted("ce:GetReservationPurchaseRecommendation", budget, call)
                .await?
            else {
                return Ok(false);
            };
            for r in page.recommendations() {
                out.extend(
                    r.recommendation_details()
                        .iter()
                        .filter_map(|d| reservation(service, d)),
                );
            }
            match page.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(true),
            }
        }
    }
}

/// Sends `call` until it answers, fails for good, or `retry.max_attempts` sends were made,
/// waiting [`ce_backoff`](crate::aws::ce_backoff) between sends. Throttling (Cost Explorer's
/// 400 `LimitExceededException` too) and 5xx are retried; anything else is returned at once.
/// With a `budget`, every send takes one request from it first (`Ok(None)` when it refuses)
/// and throttling is noted in it; without one nothing is counted (Cost Optimization Hub).
pub(super) async fn send_retried<T, E, F, Fut>(
    operation: &'static str,
    retry: RetryPolicy,
    budget: Option<&RequestBudget>,
    call: F,
) -> Result<Option<T>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut attempt = 0;
    loop {
        if budget.is_some_and(|b| !b.try_take()) {
            return Ok(None);
        }
        attempt += 1;
        let err = match call().await {
            Ok(out) => return Ok(Some(out)),
            Err(err) => err,
        };
        // Cost Explorer says "slow down" with a 400 LimitExceededException.
        let throttled = err.code() == Some("LimitExceededException");
        if throttled && let Some(budget) = budget {
            budget.note_throttled();
        }
        let error = aws_error(operation, err);
        if !(throttled || error.is_retryable()) || attempt >= retry.max_attempts {
            return Err(error);
        }
        tokio::time::sleep(crate::aws::ce_backoff(retry, attempt)).await;
    }
}

#[async_trait]
impl RecommendationSource for CeRecommendations {
    /// Rightsizing, then Savings Plans, then reservations per service, in that order, until the
    /// budget runs out: what was read before is kept and `complete` is false.
    async fn recommendations(&self, budget: &RequestBudget) -> Result<(Vec<Finding>, bool)> {
        let mut out = Vec::new();
        if !self.rightsizing(budget, &mut out).await?
            || !self.savings_plans(budget, &mut out).await?
        {
            return Ok((out, false));
        }
        for service in RESERVATION_SERVICES {
            if !self.reservations(service, budget, &mut out).await? {
                return Ok((out, false));
            }
        }
        Ok((out, true))
    }
}

/// Rightsizing names regions by their pricing location ("US East (N. Virginia)"); links and
/// commands need the code.
const LOCATIONS: [(&str, &str); 17] = [
    ("US East (N. Virginia)", "us-east-1"),
    ("US East (Ohio)", "us-east-2"),
    ("US West (N. California)", "us-west-1"),
    ("US West (Oregon)", "us-west-2"),
    ("Canada (Central)", "ca-central-1"),
    ("South America (Sao Paulo)", "sa-east-1"),
    ("EU (Ireland)", "eu-west-1"),
    ("EU (London)", "eu-west-2"),
    ("EU (Paris)", "eu-west-3"),
    ("EU (Frankfurt)", "eu-central-1"),
    ("EU (Stockholm)", "eu-north-1"),
    ("Asia Pacific (Mumbai)", "ap-south-1"),
    ("Asia Pacific (Singapore)", "ap-southeast-1"),
    ("Asia Pacific (Sydney)", "ap-southeast-2"),
    ("Asia Pacific (Tokyo)", "ap-northeast-1"),
    ("Asia Pacific (Seoul)", "ap-northeast-2"),
    ("Asia Pacific (Osaka)", "ap-northeast-3"),
];

/// A region code from a code or a pricing location name.
fn region_code(text: &str) -> Option<String> {
    if text.contains('(') {
        LOCATIONS
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, code)| (*code).to_owned())
    } else {
        (!text.is_empty()).then(|| text.to_owned())
    }
}

fn money(text: Option<&str>) -> Option<Money> {
    text?.trim().parse().ok()
}

fn tags(tags: &[TagValues]) -> std::collections::BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.values().first()?.clone())))
        .collect()
}

/// One EC2 rightsizing recommendation; `None` without an instance or a saving.
pub(crate) fn rightsizing(r: &RightsizingRecommendation) -> Option<Finding> {
    let current = r.current_instance()?;
    let id = current.resource_id()?.to_owned();
    let details = current
        .resource_details()
        .and_then(|d| d.ec2_resource_details());
    let region = details.and_then(|d| d.region()).and_then(region_code);
    let from = details.and_then(|d| d.instance_type()).unwrap_or("?");
    let monthly_cost = money(current.monthly_cost())?;
    let account = r.account_id()?.to_owned();
    let (savings, target, field) = match r.rightsizing_type()? {
        RightsizingType::Terminate => (
            money(
                r.terminate_recommendation_detail()?
                    .estimated_monthly_savings(),
            )?,
            None,
            "TerminateRecommendationDetail.EstimatedMonthlySavings",
        ),
        RightsizingType::Modify => {
            let targets = r.modify_recommendation_detail()?.target_instances();
            let t = targets
                .iter()
                .find(|t| t.default_target_instance())
                .or_else(|| targets.first())?;
            let to = t
                .resource_details()
                .and_then(|d| d.ec2_resource_details())
                .and_then(|d| d.instance_type())
                .map(str::to_owned);
            (
                money(t.estimated_monthly_savings())?,
                to,
                "the default TargetInstance's EstimatedMonthlySavings",
            )
        }
        _ => return None,
    };
    let region_text = region.clone().unwrap_or_else(|| "us-east-1".into());
    let (title, summary, cli) = match &target {
        Some(to) => (
            format!("{id}: rightsize {from} → {to}"),
            format!("Change the instance type to {to} (stop, modify, start)."),
            format!(
                "aws ec2 stop-instances --region {region_text} --instance-ids {id} && aws ec2 modify-instance-attribute --region {region_text} --instance-id {id} --instance-type '{{\"Value\":\"{to}\"}}' && aws ec2 start-instances --region {region_text} --instance-ids {id}"
            ),
        ),
        None => (
            format!("{id}: idle {from}, terminate"),
            "Terminate the instance (Cost Explorer finds it idle).".to_owned(),
            format!("aws ec2 terminate-instances --region {region_text} --instance-ids {id}"),
        ),
    };
    Some(Finding {
        source: Source::CeRightsizing,
        kind: Kind::Rightsizing,
        account,
        account_name: None,
        region,
        service: "AmazonEC2".into(),
        resource: id.clone(),
        title,
        current_monthly_cost: monthly_cost,
        monthly_savings: savings,
        formula: format!(
            "Cost Explorer GetRightsizingRecommendation: {field} ${savings} of CurrentInstance.MonthlyCost ${monthly_cost}"
        ),
        evidence: Vec::new(),
        action: Action {
            summary,
            console_url: format!(
                "https://console.aws.amazon.com/ec2/home?region={region_text}#InstanceDetails:instanceId={id}"
            ),
            cli,
        },
        tags: tags(current.tags()),
        share_pct: None,
    })
}

/// One Compute Savings Plans purchase for one account (AccountScope LINKED).
pub(crate) fn savings_plan(d: &SavingsPlansPurchaseRecommendationDetail) -> Option<Finding> {
    let account = d.account_id()?.to_owned();
    let savings = money(d.estimated_monthly_savings_amount())?;
    let hourly = money(d.current_average_hourly_on_demand_spend())?;
    let commitment = money(d.hourly_commitment_to_purchase())?;
    let current = (hourly * Money::from(HOURS_PER_MONTH)).round_dp(2);
    let offering = d
        .savings_plans_details()
        .and_then(|s| s.offering_id())
        .unwrap_or("<offering-id>");
    Some(Finding {
        source: Source::CeSavingsPlans,
        kind: Kind::SavingsPlansPurchase,
        account: account.clone(),
        account_name: None,
        region: None,
        service: "Savings Plans".into(),
        resource: format!("{account}/compute-savings-plan/1y/no-upfront"),
        title: format!("Compute Savings Plan: commit ${commitment}/hour for 1 year in {account}"),
        current_monthly_cost: current,
        monthly_savings: savings,
        formula: format!(
            "Cost Explorer GetSavingsPlansPurchaseRecommendation (COMPUTE_SP, ONE_YEAR, NO_UPFRONT, THIRTY_DAYS, LINKED): EstimatedMonthlySavingsAmount ${savings}; current on-demand CurrentAverageHourlyOnDemandSpend ${hourly} × 730 h = ${current}"
        ),
        evidence: Vec::new(),
        action: Action {
            summary: format!(
                "Buy a Compute Savings Plan of ${commitment}/hour, 1 year, no upfront."
            ),
            console_url:
                "https://console.aws.amazon.com/costmanagement/home#/savings-plans/recommendations"
                    .into(),
            cli: format!(
                "aws savingsplans create-savings-plan --savings-plan-offering-id {offering} --commitment {commitment}"
            ),
        },
        tags: Default::default(),
        share_pct: None,
    })
}

/// (short service name, instance type, region, purchase CLI) of a reservation's details.
fn reserved(
    d: &InstanceDetails,
    n: &str,
) -> Option<(&'static str, String, Option<String>, String)> {
    if let Some(r) = d.rds_instance_details() {
        return Some((
            "RDS",
            r.instance_type()?.to_owned(),
            r.region().map(str::to_owned),
            format!(
                "aws rds purchase-reserved-db-instances-offering --reserved-db-instances-offering-id <offering-id> --db-instance-count {n}"
            ),
        ));
    }
    if let Some(r) = d.elasti_cache_instance_details() {
        return Some((
            "ElastiCache",
            r.node_type()?.to_owned(),
            r.region().map(str::to_owned),
            format!(
                "aws elasticache purchase-reserved-cache-nodes-offering --reserved-cache-nodes-offering-id <offering-id> --cache-node-count {n}"
            ),
        ));
    }
    if let Some(r) = d.es_instance_details() {
        return Some((
            "OpenSearch",
            format!("{}.{}", r.instance_class()?, r.instance_size()?),
            r.region().map(str::to_owned),
            format!(
                "aws opensearch purchase-reserved-instance-offering --reserved-instance-offering-id <offering-id> --reservation-name costwatch --instance-count {n}"
            ),
        ));
    }
    let r = d.redshift_instance_details()?;
    Some((
        "Redshift",
        r.node_type()?.to_owned(),
        r.region().map(str::to_owned),
        format!(
            "aws redshift purchase-reserved-node-offering --reserved-node-offering-id <offering-id> --node-count {n}"
        ),
    ))
}

/// One reservation purchase for one account and instance type.
pub(crate) fn reservation(
    service: &str,
    d: &ReservationPurchaseRecommendationDetail,
) -> Option<Finding> {
    let account = d.account_id()?.to_owned();
    let savings = money(d.estimated_monthly_savings_amount())?;
    let current = money(d.estimated_monthly_on_demand_cost())?;
    let n = d
        .recommended_number_of_instances_to_purchase()
        .unwrap_or("1");
    let (short, instance_type, region, cli) = reserved(d.instance_details()?, n)?;
    let region_text = region.clone().unwrap_or_else(|| "us-east-1".into());
    Some(Finding {
        source: Source::CeReservations,
        kind: Kind::ReservedInstancesPurchase,
        account: account.clone(),
        account_name: None,
        region,
        service: service.to_owned(),
        resource: format!("{account}/reserved/{short}/{instance_type}/{region_text}"),
        title: format!(
            "Reserve {n} × {instance_type} ({short}, {region_text}) for 1 year in {account}"
        ),
        current_monthly_cost: current,
        monthly_savings: savings,
        formula: format!(
            "Cost Explorer GetReservationPurchaseRecommendation ({service}, ONE_YEAR, NO_UPFRONT, THIRTY_DAYS, LINKED): EstimatedMonthlySavingsAmount ${savings} of EstimatedMonthlyOnDemandCost ${current}"
        ),
        evidence: Vec::new(),
        action: Action {
            summary: format!("Buy {n} reserved {instance_type} ({short}), 1 year, no upfront."),
            console_url:
                "https://console.aws.amazon.com/costmanagement/home#/reservations/recommendations"
                    .into(),
            cli,
        },
        tags: Default::default(),
        share_pct: None,
    })
}
