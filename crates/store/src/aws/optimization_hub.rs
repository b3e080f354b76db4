//! Cost Optimization Hub's recommendations as [`Finding`]s (feature `aws-cost-optimization-hub`):
//! `ListRecommendations`, paged on `nextToken`, 1,000 a page, with `includeAllRecommendations`
//! false so AWS returns one recommendation per resource after de-duplicating across types (a
//! rightsizing and a Graviton migration of one instance are one item, not two savings).
//!
//! The hub is free: its calls take nothing from the run's Cost Explorer [`RequestBudget`], but
//! throttling and 5xx are retried with the same policy and backoff. It answers in us-east-1
//! only. An account that has not opted in gets `AccessDeniedException` "AWS account is not
//! enrolled for recommendations": that is the source switched off, not a failure — an empty,
//! complete read, and [`CostOptimizationHub::enrolled`] says `Some(false)`.

use std::sync::atomic::{AtomicU8, Ordering};

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_costoptimizationhub::Client;
use aws_sdk_costoptimizationhub::config::http::HttpResponse;
use aws_sdk_costoptimizationhub::config::retry::RetryConfig;
use aws_sdk_costoptimizationhub::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_costoptimizationhub::operation::list_recommendations::{
    ListRecommendationsError, ListRecommendationsOutput,
};
use aws_sdk_costoptimizationhub::types::Recommendation;
use costwatch_core::money::{self, Money};
use costwatch_core::recommend::{Action, Finding, Kind, Source};

use super::recommendations::send_retried;
use crate::cost_explorer_options::RetryPolicy;
use crate::error::Result;
use crate::ports::{RecommendationSource, RequestBudget};

const OPERATION: &str = "cost-optimization-hub:ListRecommendations";

/// The hub's only endpoint is `cost-optimization-hub.us-east-1.amazonaws.com`.
const REGION: &str = "us-east-1";

/// The most `ListRecommendations` returns per page.
const PAGE_SIZE: i32 = 1000;

/// The hub's landing page: we found no documented deep link to one recommendation, so the
/// CLI command carries its id.
const CONSOLE_URL: &str =
    "https://console.aws.amazon.com/costmanagement/home#/cost-optimization-hub";

const UNKNOWN: u8 = 0;
const ENROLLED: u8 = 1;
const NOT_ENROLLED: u8 = 2;

pub struct CostOptimizationHub {
    client: Client,
    retry: RetryPolicy,
    enrolled: AtomicU8,
}

impl CostOptimizationHub {
    /// The client speaks to us-east-1 whatever the config's region, unless the config names an
    /// endpoint (an emulator or a test). The SDK's retries are off: [`RetryPolicy`] retries here.
    pub fn new(config: &SdkConfig, retry: RetryPolicy) -> Self {
        let mut hub = aws_sdk_costoptimizationhub::config::Builder::from(config)
            .retry_config(RetryConfig::disabled());
        if config.endpoint_url().is_none() {
            hub = hub.region(Region::from_static(REGION));
        }
        Self {
            client: Client::from_conf(hub.build()),
            retry,
            enrolled: AtomicU8::new(UNKNOWN),
        }
    }

    /// What the last read learnt: `Some(false)` when the hub said the account is not enrolled
    /// (its recommendations then read as an empty, complete list), `Some(true)` when it
    /// answered a page, `None` before any answer. Costs no request and no IAM action beyond
    /// `ListRecommendations`, so a caller can tell "nothing to save" from "hub off".
    pub fn enrolled(&self) -> Option<bool> {
        match self.enrolled.load(Ordering::Relaxed) {
            ENROLLED => Some(true),
            NOT_ENROLLED => Some(false),
            _ => None,
        }
    }

    /// One page, or `None` when the account is not enrolled.
    async fn page(&self, token: Option<&str>) -> Result<Option<ListRecommendationsOutput>> {
        let client = &self.client;
        let call = move || async move {
            let sent = client
                .list_recommendations()
                .include_all_recommendations(false)
                .max_results(PAGE_SIZE)
                .set_next_token(token.map(str::to_owned))
                .send()
                .await;
            match sent {
                Ok(page) => Ok(Some(page)),
                Err(err) if not_enrolled(&err) => Ok(None),
                Err(err) => Err(err),
            }
        };
        // No budget: the hub is free, so nothing is taken and the outer `None` never comes.
        Ok(send_retried(OPERATION, self.retry, None, call)
            .await?
            .flatten())
    }
}

/// AWS's answer to an account that has not opted in: `AccessDeniedException` "AWS account is
/// not enrolled for recommendations." (a `ValidationException` with the same words is taken the
/// same way). A plain access denial — the role lacks `cost-optimization-hub:ListRecommendations`
/// — stays an error.
fn not_enrolled(err: &SdkError<ListRecommendationsError, HttpResponse>) -> bool {
    let Some(e) = err.as_service_error() else {
        return false;
    };
    (e.is_access_denied_exception() || e.is_validation_exception())
        && e.message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("not enrolled"))
}

#[async_trait]
impl RecommendationSource for CostOptimizationHub {
    /// Every page; the budget is not drawn from (the hub is free), so the read is always
    /// complete unless it fails.
    async fn recommendations(&self, _budget: &RequestBudget) -> Result<(Vec<Finding>, bool)> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let Some(page) = self.page(token.as_deref()).await? else {
                self.enrolled.store(NOT_ENROLLED, Ordering::Relaxed);
                return Ok((Vec::new(), true));
            };
            self.enrolled.store(ENROLLED, Ordering::Relaxed);
            out.extend(page.items().iter().filter_map(finding));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok((out, true)),
            }
        }
    }
}

/// The hub's `currentResourceType` as the CUR's product code (Savings Plans as Cost Explorer's
/// findings name them); an unknown type as itself.
fn service(resource_type: &str) -> &str {
    match resource_type {
        "Ec2Instance"
        | "Ec2AutoScalingGroup"
        | "EbsVolume"
        | "Ec2ReservedInstances"
        | "NatGateway" => "AmazonEC2",
        "LambdaFunction" => "AWSLambda",
        "EcsService" => "AmazonECS",
        "RdsDbInstance"
        | "RdsDbInstanceStorage"
        | "AuroraDbClusterStorage"
        | "RdsReservedInstances" => "AmazonRDS",
        "DocumentDBCluster" => "AmazonDocDB",
        "DynamoDBTable" | "DynamoDbReservedCapacity" => "AmazonDynamoDB",
        "ElastiCacheCluster" | "ElastiCacheReservedInstances" => "AmazonElastiCache",
        "MemoryDBCluster" | "MemoryDbReservedInstances" => "AmazonMemoryDB",
        "OpenSearchReservedInstances" => "AmazonES",
        "RedshiftReservedInstances" => "AmazonRedshift",
        "SageMakerEndpoint" => "AmazonSageMaker",
        "WorkSpaces" => "AmazonWorkSpaces",
        "ComputeSavingsPlans" | "Ec2InstanceSavingsPlans" | "SageMakerSavingsPlans" => {
            "Savings Plans"
        }
        other => other,
    }
}

/// The suite's kind for a hub action on a resource type; what the suite has no rule for is
/// [`Kind::Other`].
fn kind(action: &str, resource_type: &str, current: &str, recommended: &str) -> Kind {
    match (action, resource_type) {
        ("Rightsize", _) => Kind::Rightsizing,
        ("PurchaseSavingsPlans", _) => Kind::SavingsPlansPurchase,
        ("PurchaseReservedInstances", _) => Kind::ReservedInstancesPurchase,
        ("Delete", "EbsVolume") => Kind::VolumeWithoutInstance,
        ("Upgrade", "EbsVolume")
            if current.to_ascii_lowercase().contains("gp2")
                && recommended.to_ascii_lowercase().contains("gp3") =>
        {
            Kind::Gp2ToGp3
        }
        _ => Kind::Other,
    }
}

/// The action in words, lower case, for titles and summaries.
fn verb(action: &str) -> &str {
    match action {
        "Rightsize" => "rightsize",
        "Stop" => "stop",
        "Delete" => "delete",
        "ScaleIn" => "scale in",
        "Upgrade" => "upgrade",
        "MigrateToGraviton" => "migrate to Graviton",
        "PurchaseSavingsPlans" => "buy Savings Plans",
        "PurchaseReservedInstances" => "buy Reserved Instances",
        other => other,
    }
}

fn yes_no(flag: Option<bool>) -> &'static str {
    match flag {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// One hub recommendation; `None` without an id, an account or a savings estimate.
pub(crate) fn finding(r: &Recommendation) -> Option<Finding> {
    let id = r.recommendation_id().filter(|s| !s.is_empty())?;
    let account = r.account_id().filter(|s| !s.is_empty())?.to_owned();
    let savings = money::from_f64(r.estimated_monthly_savings()?);
    let cost = r.estimated_monthly_cost().map(money::from_f64);
    let action = r.action_type().unwrap_or("Unknown");
    let resource_type = r.current_resource_type().unwrap_or("");
    let current = r.current_resource_summary().unwrap_or("");
    let recommended = r.recommended_resource_summary().unwrap_or("");
    let kind = kind(action, resource_type, current, recommended);
    let resource_id = r.resource_id().filter(|s| !s.is_empty());
    // A commitment's resourceId does not name one purchase; the recommendation id does.
    let resource = match resource_id {
        Some(rid) if kind.is_commitment() => format!("{rid}/{id}"),
        Some(rid) => rid.to_owned(),
        None => id.to_owned(),
    };
    let change = match (current.is_empty(), recommended.is_empty()) {
        (false, false) if current != recommended => format!(" {current} → {recommended}"),
        (false, _) => format!(" {current}"),
        (true, false) => format!(" {recommended}"),
        (true, true) => String::new(),
    };
    let what = resource_id.unwrap_or(resource_type);
    let currency = r.currency_code().unwrap_or("USD");
    let effort = r.implementation_effort().unwrap_or("unknown");
    let restart = yes_no(r.restart_needed());
    let rollback = yes_no(r.rollback_possible());
    let cost_text = cost.map_or_else(
        || "no estimatedMonthlyCost".to_owned(),
        |c| format!("estimatedMonthlyCost {}", money::display(c, currency)),
    );
    Some(Finding {
        source: Source::CostOptimizationHub,
        kind,
        account,
        account_name: None,
        region: r
            .region()
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("global"))
            .map(str::to_owned),
        service: service(resource_type).to_owned(),
        resource,
        title: format!("{what}: {}{change}", verb(action)),
        current_monthly_cost: cost.unwrap_or(Money::ZERO),
        monthly_savings: savings,
        formula: format!(
            "Cost Optimization Hub ListRecommendations: estimatedMonthlySavings {} of {cost_text} \
             (in the savings estimation mode set in the hub's preferences: after discounts, or \
             before); effort {effort}; restart needed: {restart}; rollback possible: {rollback}",
            money::display(savings, currency)
        ),
        evidence: Vec::new(),
        action: Action {
            summary: format!(
                "{} {resource_type} {what}{change} (Cost Optimization Hub; effort {effort}, \
                 restart needed: {restart}, rollback possible: {rollback}).",
                capitalised(verb(action))
            ),
            console_url: CONSOLE_URL.to_owned(),
            cli: format!(
                "aws cost-optimization-hub get-recommendation --recommendation-id {id} --region {REGION}"
            ),
        },
        tags: r
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect(),
        share_pct: None,
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: Option<&str>) -> SdkConfig {
        let mut config = SdkConfig::builder()
            .region(Region::from_static("eu-west-1"))
            .behavior_version(crate::aws::behavior_version());
        if let Some(url) = endpoint {
            config = config.endpoint_url(url);
        }
        config.build()
    }

    #[test]
    fn the_client_speaks_to_us_east_1_unless_an_endpoint_is_named() {
        let hub = CostOptimizationHub::new(&config(None), RetryPolicy::default());
        assert_eq!(
            hub.client.config().region().map(|r| r.as_ref()),
            Some("us-east-1")
        );
        let local = CostOptimizationHub::new(
            &config(Some("http://127.0.0.1:4566")),
            RetryPolicy::default(),
        );
        assert_eq!(
            local.client.config().region().map(|r| r.as_ref()),
            Some("eu-west-1")
        );
    }
}
