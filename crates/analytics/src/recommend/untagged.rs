//! Untagged spend share per account: not a saving but what keeps spend from being routed to an
//! owner, so the list carries it with a saving of zero and its own threshold (the share).

use std::collections::BTreeMap;

use costwatch_core::{Money, UsageLine};
use rust_decimal::prelude::ToPrimitive;

use super::{Action, Cents, Ctx, Finding, Kind, Source, evidence};

/// Lines that are spend someone could tag: not tax, credits or refunds.
fn taggable(l: &UsageLine) -> bool {
    !matches!(l.line_item_type.as_str(), "Tax" | "Credit" | "Refund") && l.cost > Money::ZERO
}

/// How many of the largest untagged resources a finding lists as evidence.
pub const EVIDENCE_ROWS: usize = 10;

pub(super) fn untagged_spend(ctx: &Ctx<'_>) -> Vec<Finding> {
    let from = ctx.since(ctx.settings.untagged_days);
    let mut by: BTreeMap<&str, (Money, Vec<&UsageLine>)> = BTreeMap::new();
    for l in ctx.lines.iter().filter(|l| l.day >= from && taggable(l)) {
        let slot = by.entry(l.account.as_str()).or_default();
        slot.0 += l.cost;
        if l.tags.is_empty() {
            slot.1.push(l);
        }
    }
    let days = Money::from(ctx.settings.untagged_days.max(1));
    by.into_iter()
        .filter(|(_, (_, untagged))| !untagged.is_empty())
        .map(|(account, (total, untagged))| {
            let untagged_cost: Money = untagged.iter().map(|l| l.cost).sum();
            let share = (untagged_cost / total * Money::from(100)).round_dp(1);
            let share_f = share.to_f64().unwrap_or(0.0);
            let monthly = (untagged_cost / days * super::DAYS_PER_MONTH).cents();
            let mut rows = evidence(untagged.iter().copied());
            rows.sort_by_key(|r| std::cmp::Reverse(r.cost));
            rows.truncate(EVIDENCE_ROWS);
            Finding {
                source: Source::Suite,
                kind: Kind::UntaggedSpend,
                account: account.to_owned(),
                account_name: untagged[0].account_name.clone(),
                region: None,
                service: "all".into(),
                resource: format!("account/{account}"),
                title: format!("{share}% of account {account}'s spend carries no cost-allocation tag"),
                current_monthly_cost: monthly,
                monthly_savings: Money::ZERO,
                formula: format!(
                    "untagged ${} of ${} over {} to {} = {share}%; ${monthly}/month untagged (/ {} × 30.4375)",
                    untagged_cost.cents(),
                    total.cents(),
                    super::days_text(ctx.settings.untagged_days),
                    ctx.last,
                    ctx.settings.untagged_days
                ),
                evidence: rows,
                action: Action {
                    summary: "Tag the largest untagged resources (evidence) with their owner, or tag them by rule (AWS Organizations tag policies).".into(),
                    console_url: "https://console.aws.amazon.com/resource-groups/tag-editor/find-resources".into(),
                    cli: "aws resourcegroupstaggingapi tag-resources --resource-arn-list <arn> --tags owner=<team>".into(),
                },
                tags: BTreeMap::new(),
                share_pct: Some(share_f),
            }
        })
        .collect()
}
