//! The chain tests' world: template.yaml deployed on moto (Slack on, PagerDuty on from `high`,
//! the synthetic organisation's planted budgets as `BudgetsJson`), Cost Explorer answering for
//! the 60 days before the scheduled event's day, and each function run by its handler with the
//! environment the template gives it, fed what SNS delivered to its subscription.

#![allow(dead_code)]

use chrono::{Days, NaiveDate, Utc};
use costwatch_analytics::budget::planted_budgets;
use costwatch_core::synth::SyntheticOrg;
use costwatch_lambda::deps::Aws;
use costwatch_lambda::env::Env;
use costwatch_lambda::handlers::aggregate::{AggregatePorts, AggregateSummary};
use costwatch_lambda::handlers::collect::CollectPorts;
use costwatch_lambda::handlers::detect::DetectSummary;
use costwatch_lambda::handlers::forecast::{ForecastPorts, ForecastSummary};
use costwatch_lambda::handlers::{aggregate, collect, detect, forecast};
use costwatch_pipeline::incremental::IncrementalOutcome;
use costwatch_pipeline::{PipelineConfig, Ports};
use costwatch_store::aws::{CostExplorerOptions, CostExplorerSource};
use costwatch_testkit::moto::Moto;
use costwatch_testkit::moto_ce::queue_cost_and_usage;
use costwatch_testkit::template::{Deployment, Template};
use costwatch_testkit::{ce_responses, repo_file};
use serde_json::Value;

pub const BACKFILL_DAYS: u32 = 60;
/// CostExplorerOptions::default().days_per_request: the grouped pull is cut into weeks.
pub const DAYS_PER_REQUEST: usize = 7;

pub struct Chain {
    pub moto: Moto,
    pub stack: Deployment,
    pub org: SyntheticOrg,
    /// The days Cost Explorer answers for, the last one `yesterday`.
    pub days: Vec<NaiveDate>,
    pub yesterday: NaiveDate,
    pub scheduled: Value,
}

impl Chain {
    pub async fn deploy() -> Chain {
        let moto = Moto::start();
        let config = moto.sdk_config().await;
        // The scheduled event says which day it is; Cost Explorer answers for the 60 days before.
        let scheduled: Value =
            serde_json::from_str(&repo_file("events/collect/scheduled.json")).unwrap();
        let today: NaiveDate = scheduled["time"].as_str().unwrap()[..10].parse().unwrap();
        let yesterday = today - Days::new(1);
        let org = costwatch_core::synth::generate(42, yesterday, BACKFILL_DAYS);
        let days: Vec<NaiveDate> = org
            .start
            .iter_days()
            .take_while(|d| *d <= yesterday)
            .collect();
        let mut answers = vec![ce_responses::totals(&org.records, &days)];
        answers.extend(
            days.chunks(DAYS_PER_REQUEST)
                .map(|week| ce_responses::by_account_and_service(&org.records, week)),
        );
        queue_cost_and_usage(&moto, &serde_json::to_string(&answers).unwrap());
        let budgets = serde_json::to_string(&planted_budgets(&org)).unwrap();
        let backfill = BACKFILL_DAYS.to_string();
        let stack = Deployment::deploy(
            &config,
            &Template::load("template.yaml"),
            "costwatch",
            &[
                ("EnableSlack", "true"),
                ("EnablePagerDuty", "true"),
                ("PagerDutyMinSeverity", "high"),
                ("BudgetsJson", &budgets),
                ("CeBackfillDays", &backfill),
            ],
        )
        .await;
        Chain {
            moto,
            stack,
            org,
            days,
            yesterday,
            scheduled,
        }
    }

    /// The AWS adapters `function` builds from its template environment.
    pub fn aws(&self, function: &str) -> Aws {
        let env = Env::from_pairs(self.stack.function(function).env());
        Aws::with_config(self.stack.config.clone(), env)
    }

    /// The pipeline configuration `function` reads from its environment.
    pub fn cfg(&self, function: &str) -> PipelineConfig {
        self.aws(function).env.pipeline_config().unwrap()
    }

    /// What SNS delivered to `function`'s `event` source, exactly `count` invocations.
    pub async fn delivered(&self, function: &str, event: &str, count: usize) -> Vec<Value> {
        let got = self.stack.invocations(function, event).await;
        assert_eq!(got.len(), count, "{function} {event}: {got:?}");
        got
    }

    /// collect, on the scheduled event (the template's schedule has no Input).
    pub async fn collect(&self) -> IncrementalOutcome {
        let function = self.stack.function("CollectFunction");
        assert_eq!(function.schedules["Daily"], Value::Null);
        let aws = self.aws("CollectFunction");
        let settings = collect::settings(&aws.env).unwrap();
        let source =
            CostExplorerSource::new(&self.stack.config, CostExplorerOptions::default()).unwrap();
        let ports = CollectPorts {
            source: &source,
            lake: &aws.lake().unwrap(),
            state: &aws.state().unwrap(),
            events: &aws.pipeline_events().unwrap(),
        };
        collect::handle(&ports, &settings, self.scheduled.clone(), Utc::now())
            .await
            .unwrap()
    }

    /// aggregate, on the one `CostDataCollected` its subscription got.
    pub async fn aggregate(&self) -> AggregateSummary {
        let event = self
            .delivered("AggregateFunction", "CostDataCollected", 1)
            .await;
        let aws = self.aws("AggregateFunction");
        let ports = AggregatePorts {
            lake: &aws.lake().unwrap(),
            rollups: &aws.rollups().unwrap(),
            state: &aws.state().unwrap(),
            events: &aws.pipeline_events().unwrap(),
        };
        let cfg = self.cfg("AggregateFunction");
        aggregate::handle(&ports, &cfg, event[0].clone())
            .await
            .unwrap()
    }

    /// detect and forecast, each on the one `AggregatesUpdated` its subscription got.
    pub async fn detect_and_forecast(&self) -> (DetectSummary, ForecastSummary) {
        let now = Utc::now();
        let event = self
            .delivered("DetectFunction", "AggregatesUpdated", 1)
            .await;
        let aws = self.aws("DetectFunction");
        let ports = Ports {
            lake: &aws.lake().unwrap(),
            rollups: &aws.rollups().unwrap(),
            state: &aws.state().unwrap(),
            bus: &aws.notifications().unwrap(),
        };
        let cfg = self.cfg("DetectFunction");
        let done = aws.pipeline_events().unwrap();
        let detected = detect::handle(&ports, &cfg, None, None, &done, event[0].clone(), now)
            .await
            .unwrap();

        let event = self
            .delivered("ForecastFunction", "AggregatesUpdated", 1)
            .await;
        let aws = self.aws("ForecastFunction");
        let ports = ForecastPorts {
            rollups: &aws.rollups().unwrap(),
            state: &aws.state().unwrap(),
            bus: &aws.notifications().unwrap(),
            events: &aws.pipeline_events().unwrap(),
        };
        let cfg = self.cfg("ForecastFunction");
        let forecasted = forecast::handle(&ports, &cfg, event[0].clone(), now)
            .await
            .unwrap();
        (detected, forecasted)
    }

    /// Envelopes on an integration's queue (the nested stack's output), as JSON, in order.
    pub async fn envelopes(&self, queue_output: &str) -> Vec<Value> {
        costwatch_testkit::stack::drain(&self.stack.config, self.stack.output(queue_output))
            .await
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }
}
