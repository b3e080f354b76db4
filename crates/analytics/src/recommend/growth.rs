//! Spend that grows: NAT gateway data processing, and S3 Standard storage in buckets that show
//! no lifecycle at work. Both compare the first and the last `run_rate_days` of a trailing
//! `growth_days` window.

use std::collections::BTreeMap;

use costwatch_core::{Money, UsageLine};

use super::{
    Action, Cents, Ctx, Finding, Kind, Source, base_usage_type, evidence, region_or_default,
};

/// Recent ÷ earlier usage at or above this is growth worth a look: +50% for NAT processing.
pub const NAT_GROWTH: Money = Money::from_parts(15, 0, 0, false, 1);
/// +10% of stored bytes within the window for a bucket.
pub const S3_GROWTH: Money = Money::from_parts(11, 0, 0, false, 1);
/// S3 Standard-IA ÷ Standard list price per GB-month in us-east-1: $0.0125 ÷ $0.023.
pub const S3_IA_RATIO: Money = Money::from_parts(5435, 0, 0, false, 4);

/// Lines of the growth window matching `keep`, by resource, split into the earlier and the
/// recent `run_rate_days`; resources not billed on the last day are gone and left out.
struct Split<'a> {
    earlier: Vec<&'a UsageLine>,
    recent: Vec<&'a UsageLine>,
}

fn split<'a>(ctx: &'a Ctx<'a>, keep: impl Fn(&UsageLine) -> bool) -> BTreeMap<&'a str, Split<'a>> {
    let from = ctx.since(ctx.settings.growth_days);
    let recent_from = ctx.since(ctx.settings.run_rate_days);
    let earlier_to = from
        .checked_add_days(chrono::Days::new(u64::from(ctx.settings.run_rate_days)))
        .unwrap_or(from);
    let mut by: BTreeMap<&str, Split<'_>> = BTreeMap::new();
    for l in ctx.lines.iter().filter(|l| l.day >= from && keep(l)) {
        let Some(id) = l.resource_id.as_deref() else {
            continue;
        };
        let s = by.entry(id).or_insert_with(|| Split {
            earlier: Vec::new(),
            recent: Vec::new(),
        });
        if l.day >= recent_from {
            s.recent.push(l);
        } else if l.day < earlier_to {
            s.earlier.push(l);
        }
    }
    by.retain(|_, s| s.recent.iter().any(|l| l.day == ctx.last));
    by
}

/// The earlier and the recent week as separate evidence rows.
fn two_weeks(s: &Split<'_>) -> Vec<super::Evidence> {
    let mut rows = evidence(s.earlier.iter().copied());
    rows.extend(evidence(s.recent.iter().copied()));
    rows
}

fn amount(ls: &[&UsageLine]) -> Money {
    ls.iter().map(|l| l.usage_amount).sum()
}

fn cost(ls: &[&UsageLine]) -> Money {
    ls.iter().map(|l| l.cost).sum()
}

/// NAT gateway processing (`NatGateway-Bytes`, $0.045/GB) whose recent week is ≥ 1.5× the
/// week three weeks earlier. Saving = the run rate the growth added (recent − earlier cost),
/// what a gateway endpoint for S3/DynamoDB traffic (free) or removing the new traffic takes
/// away: an upper bound, since the CUR does not say where the bytes went.
pub(super) fn nat_gateways(ctx: &Ctx<'_>) -> Vec<Finding> {
    let keep = |l: &UsageLine| base_usage_type(&l.usage_type) == "NatGateway-Bytes";
    split(ctx, keep)
        .into_iter()
        .filter(|(_, s)| {
            let (before, now) = (amount(&s.earlier), amount(&s.recent));
            now > before && now >= before * NAT_GROWTH
        })
        .map(|(id, s)| {
            let first = s.recent[0];
            let region = region_or_default(&first.region).to_owned();
            let (before, now) = (cost(&s.earlier), cost(&s.recent));
            let current = ctx.monthly(now);
            let savings = ctx.monthly(now - before);
            Finding {
                source: Source::Suite,
                kind: Kind::NatGatewayGrowth,
                account: first.account.clone(),
                account_name: first.account_name.clone(),
                region: first.region.clone(),
                service: first.product_code.clone(),
                resource: id.to_owned(),
                title: format!(
                    "NAT gateway {id}: data processing up from {} GB to {} GB a week",
                    amount(&s.earlier).round_dp(1),
                    amount(&s.recent).round_dp(1)
                ),
                current_monthly_cost: current,
                monthly_savings: savings,
                formula: format!(
                    "processing ${} in the last {d} days vs ${} in the first {d} of {} days; saving = added run rate (${} − ${}) / {d} × 30.4375 = ${savings}/month",
                    now.round_dp(4),
                    before.round_dp(4),
                    ctx.settings.growth_days,
                    now.round_dp(4),
                    before.round_dp(4),
                    d = ctx.settings.run_rate_days
                ),
                evidence: two_weeks(&s),
                action: Action {
                    summary: "Find the new traffic (VPC flow logs); send S3/DynamoDB traffic through a gateway endpoint, which has no processing charge.".into(),
                    console_url: format!("https://console.aws.amazon.com/vpc/home?region={region}#NatGatewayDetails:natGatewayId={id}"),
                    cli: format!(
                        "aws ec2 create-vpc-endpoint --region {region} --vpc-endpoint-type Gateway --vpc-id <vpc-id> --service-name com.amazonaws.{region}.s3 --route-table-ids <route-table-id>"
                    ),
                },
                tags: first.tags.clone(),
                share_pct: None,
            }
        })
        .collect()
}

/// Usage types that show a lifecycle (or another class) at work in a bucket: storage in any
/// class but Standard, transitions, early deletes.
fn shows_lifecycle(l: &UsageLine) -> bool {
    let base = base_usage_type(&l.usage_type);
    (base.starts_with("TimedStorage-") && base != "TimedStorage-ByteHrs")
        || base.contains("Transition")
        || base.starts_with("EarlyDelete")
}

/// A bucket whose Standard storage grew ≥ 10% over the window and which shows no lifecycle
/// (the CUR cannot show the configuration itself; no other storage class, no transitions, no
/// early deletes in the whole data is the evidence). Saving = moving what was already stored
/// at the window's start (earlier ÷ recent GB-months of today's storage) to Standard-IA:
/// × (1 − 0.0125/0.023); retrieval fees of IA are not counted.
pub(super) fn s3_without_lifecycle(ctx: &Ctx<'_>) -> Vec<Finding> {
    let with_lifecycle: std::collections::BTreeSet<&str> = ctx
        .lines
        .iter()
        .filter(|l| l.product_code == "AmazonS3" && shows_lifecycle(l))
        .filter_map(|l| l.resource_id.as_deref())
        .collect();
    let keep = |l: &UsageLine| {
        l.product_code == "AmazonS3" && base_usage_type(&l.usage_type) == "TimedStorage-ByteHrs"
    };
    split(ctx, keep)
        .into_iter()
        .filter(|(id, s)| {
            let (before, now) = (amount(&s.earlier), amount(&s.recent));
            !with_lifecycle.contains(id) && before > Money::ZERO && now >= before * S3_GROWTH
        })
        .map(|(id, s)| {
            let first = s.recent[0];
            let region = region_or_default(&first.region).to_owned();
            let (before, now) = (amount(&s.earlier), amount(&s.recent));
            let old_share = (before / now).round_dp(4);
            let current = ctx.monthly(cost(&s.recent));
            let savings = (current * old_share * (Money::ONE - S3_IA_RATIO)).cents();
            Finding {
                source: Source::Suite,
                kind: Kind::S3WithoutLifecycle,
                account: first.account.clone(),
                account_name: first.account_name.clone(),
                region: first.region.clone(),
                service: first.product_code.clone(),
                resource: id.to_owned(),
                title: format!(
                    "S3 bucket {id} grows ({} → {} GB-months a week) with no lifecycle",
                    before.round_dp(6).normalize(),
                    now.round_dp(6).normalize()
                ),
                current_monthly_cost: current,
                monthly_savings: savings,
                formula: format!(
                    "Standard storage {}; saving = × older share {before_n}/{now_n} = {old_share} × (1 − 0.0125/0.023) = ${savings}/month",
                    ctx.monthly_text(cost(&s.recent)),
                    before_n = before.normalize(),
                    now_n = now.normalize()
                ),
                evidence: two_weeks(&s),
                action: Action {
                    summary: "Add a lifecycle rule: Standard-IA after 30 days (and expiry if the objects are logs).".into(),
                    console_url: format!("https://s3.console.aws.amazon.com/s3/buckets/{id}?region={region}&tab=management"),
                    cli: format!(
                        "aws s3api put-bucket-lifecycle-configuration --bucket {id} --lifecycle-configuration '{{\"Rules\":[{{\"ID\":\"ia-after-30-days\",\"Status\":\"Enabled\",\"Filter\":{{}},\"Transitions\":[{{\"Days\":30,\"StorageClass\":\"STANDARD_IA\"}}]}}]}}'"
                    ),
                },
                tags: first.tags.clone(),
                share_pct: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::super::testing::*;
    use super::*;

    // Constructed (the real CUR has no NAT gateway): 100 GB/day for three weeks, then 300.
    #[test]
    fn nat_processing_growth_saving_is_the_added_run_rate() {
        let id = "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-0abc";
        let mut lines = daily(1, 21, "AmazonEC2", "NatGateway-Bytes", id, 100, "4.5");
        lines.extend(daily(
            22,
            28,
            "AmazonEC2",
            "NatGateway-Bytes",
            id,
            300,
            "13.5",
        ));
        let ctx = Ctx {
            lines: &lines,
            last: day(28),
            settings: Settings::default(),
        };
        let f = nat_gateways(&ctx);
        assert_eq!(f.len(), 1, "{f:#?}");
        // recent 94.5, earlier 31.5: (94.5 − 31.5) / 7 × 30.4375 = 273.94
        assert_eq!(f[0].monthly_savings, "273.94".parse::<Money>().unwrap());
        assert_eq!(
            f[0].current_monthly_cost,
            "410.91".parse::<Money>().unwrap()
        );
        assert!(f[0].title.contains("700 GB to 2100 GB"), "{}", f[0].title);
        // Flat processing is not growth.
        let flat = daily(1, 28, "AmazonEC2", "NatGateway-Bytes", id, 100, "4.5");
        assert!(
            nat_gateways(&Ctx {
                lines: &flat,
                last: day(28),
                settings: Settings::default()
            })
            .is_empty()
        );
    }

    #[test]
    fn a_bucket_with_infrequent_access_storage_shows_a_lifecycle() {
        let mut lines = Vec::new();
        for d in 1..=28 {
            let mut l = line(d, "AmazonS3", "TimedStorage-ByteHrs", "logs", 0, "1");
            l.usage_amount = Money::from(30 + i64::from(d));
            lines.push(l);
        }
        let ctx = Ctx {
            lines: &lines,
            last: day(28),
            settings: Settings::default(),
        };
        let found = s3_without_lifecycle(&ctx);
        assert_eq!(found.len(), 1);
        // earlier 31..=37 = 238, recent 52..=58 = 385; share 0.6182; 30.44 × 0.6182 × 0.4565 = 8.59
        assert_eq!(
            found[0].current_monthly_cost,
            "30.44".parse::<Money>().unwrap()
        );
        assert_eq!(found[0].monthly_savings, "8.59".parse::<Money>().unwrap());
        lines.push(line(
            3,
            "AmazonS3",
            "TimedStorage-SIA-ByteHrs",
            "logs",
            5,
            "0.1",
        ));
        let ctx = Ctx {
            lines: &lines,
            last: day(28),
            settings: Settings::default(),
        };
        assert!(s3_without_lifecycle(&ctx).is_empty());
    }
}
