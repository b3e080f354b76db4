//! Paying more than the current generation would cost for the same work: previous-generation
//! instance families, and gp2 volumes (gp3 is 20% cheaper per GB-month at list price).

use std::collections::BTreeMap;

use costwatch_core::{Money, UsageLine};

use super::{
    Action, Cents, Ctx, Finding, Kind, Source, base_usage_type, evidence, region_or_default,
};

/// A previous-generation family, the current family to move to, and new ÷ old hourly price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceRatio {
    pub family: &'static str,
    pub target: &'static str,
    /// On-demand price of the target size ÷ the old size's: the share of today's cost that stays.
    pub ratio: Money,
    /// The `.large` list prices the ratio comes from (USD per hour).
    pub old_large: Money,
    pub new_large: Money,
}

const fn usd(cents_e4: i64) -> Money {
    // Prices to 1/10,000 of a dollar.
    Money::from_parts(cents_e4 as u32, 0, 0, false, 4)
}

/// Families the suite flags, with their Linux on-demand `.large` list prices in us-east-1 (AWS
/// EC2 On-Demand pricing page; the ratio is the same for every size of a family, sizes double
/// in price). Ratios to four places: new ÷ old.
pub const PREVIOUS_GENERATION: [PriceRatio; 7] = [
    PriceRatio {
        family: "t2",
        target: "t3",
        ratio: usd(8966),
        old_large: usd(928),
        new_large: usd(832),
    },
    PriceRatio {
        family: "m4",
        target: "m5",
        ratio: usd(9600),
        old_large: usd(1000),
        new_large: usd(960),
    },
    PriceRatio {
        family: "c4",
        target: "c5",
        ratio: usd(8500),
        old_large: usd(1000),
        new_large: usd(850),
    },
    PriceRatio {
        family: "r4",
        target: "r5",
        ratio: usd(9474),
        old_large: usd(1330),
        new_large: usd(1260),
    },
    PriceRatio {
        family: "m3",
        target: "m5",
        ratio: usd(7218),
        old_large: usd(1330),
        new_large: usd(960),
    },
    PriceRatio {
        family: "c3",
        target: "c5",
        ratio: usd(8095),
        old_large: usd(1050),
        new_large: usd(850),
    },
    PriceRatio {
        family: "r3",
        target: "r5",
        ratio: usd(7590),
        old_large: usd(1660),
        new_large: usd(1260),
    },
];

/// The instance type of an on-demand `BoxUsage:<type>` line.
fn box_type(l: &UsageLine) -> Option<&str> {
    base_usage_type(&l.usage_type).strip_prefix("BoxUsage:")
}

/// Groups recent lines by resource id, keeping resources billed on the last day.
fn by_resource<'a>(
    ctx: &'a Ctx<'a>,
    keep: impl Fn(&UsageLine) -> bool,
) -> BTreeMap<&'a str, Vec<&'a UsageLine>> {
    let mut by: BTreeMap<&str, Vec<&UsageLine>> = BTreeMap::new();
    for l in ctx.recent().filter(|l| keep(l)) {
        if let Some(id) = l.resource_id.as_deref() {
            by.entry(id).or_default().push(l);
        }
    }
    by.retain(|_, ls| ls.iter().any(|l| l.day == ctx.last));
    by
}

/// On-demand hours (`Usage` line items) of a previous-generation family. Reservation-covered
/// hours (`DiscountedUsage`) are left out: their cost is sunk until the reservation ends.
pub(super) fn previous_generation(ctx: &Ctx<'_>) -> Vec<Finding> {
    let ratio_of = |l: &UsageLine| -> Option<&'static PriceRatio> {
        let family = box_type(l)?.split('.').next()?;
        PREVIOUS_GENERATION.iter().find(|p| p.family == family)
    };
    let keep = |l: &UsageLine| l.line_item_type == "Usage" && ratio_of(l).is_some();
    by_resource(ctx, keep)
        .into_iter()
        .filter_map(|(id, lines)| {
            let first = lines[0];
            let p = ratio_of(first)?;
            let old = box_type(first)?;
            let new = format!("{}{}", p.target, &old[p.family.len()..]);
            let window_cost: Money = lines.iter().map(|l| l.cost).sum();
            let current = ctx.monthly(window_cost);
            let savings = (current * (Money::ONE - p.ratio)).cents();
            let region = region_or_default(&first.region).to_owned();
            Some(Finding {
                source: Source::Suite,
                kind: Kind::PreviousGeneration,
                account: first.account.clone(),
                account_name: first.account_name.clone(),
                region: first.region.clone(),
                service: first.product_code.clone(),
                resource: id.to_owned(),
                title: format!("{id}: previous-generation {old} → {new}"),
                current_monthly_cost: current,
                monthly_savings: savings,
                formula: format!(
                    "on-demand {old} {}; saving = × (1 − {}/{} = {} {}÷{} price ratio) = ${savings}/month",
                    ctx.monthly_text(window_cost),
                    p.new_large,
                    p.old_large,
                    p.ratio,
                    p.target,
                    p.family
                ),
                evidence: evidence(lines.iter().copied()),
                action: Action {
                    summary: format!(
                        "Change the instance type to {new} (stop, modify, start; {} needs the ENA and NVMe drivers).",
                        p.target
                    ),
                    console_url: format!(
                        "https://console.aws.amazon.com/ec2/home?region={region}#InstanceDetails:instanceId={id}"
                    ),
                    cli: format!(
                        "aws ec2 stop-instances --region {region} --instance-ids {id} && aws ec2 modify-instance-attribute --region {region} --instance-id {id} --instance-type '{{\"Value\":\"{new}\"}}' && aws ec2 start-instances --region {region} --instance-ids {id}"
                    ),
                },
                tags: first.tags.clone(),
                share_pct: None,
            })
        })
        .collect()
}

/// gp3 list price ÷ gp2's per GB-month ($0.08 ÷ $0.10 in us-east-1): gp3 costs 20% less.
pub const GP3_STORAGE_RATIO: Money = Money::from_parts(8, 0, 0, false, 1);
/// gp3 includes 3,000 IOPS and 125 MB/s; more is billed per IOPS-month and per MB/s-month.
pub const GP3_FREE_IOPS: i64 = 3000;
pub const GP3_IOPS_MONTH: Money = Money::from_parts(5, 0, 0, false, 3);
pub const GP3_MBPS_MONTH: Money = Money::from_parts(4, 0, 0, false, 2);

/// gp2 volumes to gp3 at the same performance: the 20% on storage, less the IOPS beyond 3,000
/// that a large gp2 volume has as baseline (3 per GiB, up to 16,000) and, over 170 GiB, the
/// 125 MB/s more throughput gp2 gives (250 MB/s), both priced at gp3's list rates.
pub(super) fn gp2_to_gp3(ctx: &Ctx<'_>) -> Vec<Finding> {
    let keep = |l: &UsageLine| base_usage_type(&l.usage_type) == "EBS:VolumeUsage.gp2";
    let days = Money::from(ctx.settings.run_rate_days.max(1));
    by_resource(ctx, keep)
        .into_iter()
        .filter_map(|(id, lines)| {
            let first = lines[0];
            let window_cost: Money = lines.iter().map(|l| l.cost).sum();
            let gb_months: Money = lines.iter().map(|l| l.usage_amount).sum();
            // A day of a volume is size / days-in-month GB-months.
            let size = (gb_months / days * super::DAYS_PER_MONTH).round();
            let current = ctx.monthly(window_cost);
            let iops = (size * Money::from(3)).min(Money::from(16_000));
            let extra_iops = (iops - Money::from(GP3_FREE_IOPS)).max(Money::ZERO);
            let extra_mbps = if size > Money::from(170) { Money::from(125) } else { Money::ZERO };
            let extras = extra_iops * GP3_IOPS_MONTH + extra_mbps * GP3_MBPS_MONTH;
            let savings = (current * (Money::ONE - GP3_STORAGE_RATIO) - extras).cents();
            (savings > Money::ZERO).then(|| {
                let region = region_or_default(&first.region).to_owned();
                let iops_flag = if extra_iops > Money::ZERO {
                    format!(" --iops {iops}")
                } else {
                    String::new()
                };
                let mbps_flag = if extra_mbps > Money::ZERO { " --throughput 250" } else { "" };
                Finding {
                    source: Source::Suite,
                    kind: Kind::Gp2ToGp3,
                    account: first.account.clone(),
                    account_name: first.account_name.clone(),
                    region: first.region.clone(),
                    service: first.product_code.clone(),
                    resource: id.to_owned(),
                    title: format!("{id}: gp2 → gp3 (about {size} GiB)"),
                    current_monthly_cost: current,
                    monthly_savings: savings,
                    formula: format!(
                        "gp2 storage {}; saving = × 20% − {extra_iops} IOPS × $0.005 − {extra_mbps} MB/s × $0.04 = ${savings}/month (size ≈ {} GB-months / {} × 30.4375 = {size} GiB)",
                        ctx.monthly_text(window_cost),
                        gb_months.normalize(),
                        super::days_text(ctx.settings.run_rate_days)
                    ),
                    evidence: evidence(lines.iter().copied()),
                    action: Action {
                        summary: "Modify the volume to gp3 in place (no detach, no downtime).".into(),
                        console_url: format!(
                            "https://console.aws.amazon.com/ec2/home?region={region}#VolumeDetails:volumeId={id}"
                        ),
                        cli: format!(
                            "aws ec2 modify-volume --region {region} --volume-id {id} --volume-type gp3{iops_flag}{mbps_flag}"
                        ),
                    },
                    tags: first.tags.clone(),
                    share_pct: None,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::super::testing::*;
    use super::*;

    #[test]
    fn ratios_match_the_listed_prices() {
        for p in PREVIOUS_GENERATION {
            assert_eq!(
                (p.new_large / p.old_large).round_dp(4),
                p.ratio,
                "{}",
                p.family
            );
        }
    }

    // Constructed: a 2,000 GiB gp2 volume has 6,000 baseline IOPS and 250 MB/s; gp3 at the same
    // performance needs 3,000 extra IOPS ($15) and 125 MB/s ($5) on top of 80% of storage.
    #[test]
    fn large_gp2_volume_pays_for_extra_iops_and_throughput_on_gp3() {
        // 2,000 GiB at $0.10 = $200/month; a day is 2000/30.4375 GB-months, $6.5708.
        let mut lines = daily(
            1,
            7,
            "AmazonEC2",
            "EBS:VolumeUsage.gp2",
            "vol-big",
            0,
            "6.5708",
        );
        lines
            .iter_mut()
            .for_each(|l| l.usage_amount = "65.708".parse().unwrap());
        let ctx = Ctx {
            lines: &lines,
            last: day(7),
            settings: Settings::default(),
        };
        let f = gp2_to_gp3(&ctx);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].current_monthly_cost,
            "200.00".parse::<Money>().unwrap()
        );
        // 200 × 0.2 − 3,000 × 0.005 − 125 × 0.04 = 40 − 15 − 5 = 20
        assert_eq!(f[0].monthly_savings, "20.00".parse::<Money>().unwrap());
        assert!(
            f[0].action
                .cli
                .ends_with("--volume-type gp3 --iops 6000 --throughput 250"),
            "{}",
            f[0].action.cli
        );
    }

    #[test]
    fn reservation_covered_hours_are_not_a_previous_generation_saving() {
        let mut lines = daily(1, 7, "AmazonEC2", "BoxUsage:m4.large", "i-ri", 24, "0");
        lines
            .iter_mut()
            .for_each(|l| l.line_item_type = "DiscountedUsage".into());
        lines.extend(daily(
            1,
            7,
            "AmazonEC2",
            "BoxUsage:m4.large",
            "i-od",
            24,
            "2.40",
        ));
        let ctx = Ctx {
            lines: &lines,
            last: day(7),
            settings: Settings::default(),
        };
        let f = previous_generation(&ctx);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].resource, "i-od");
        // 16.80 / 7 × 30.4375 = 73.05; × (1 − 0.96) = 2.92
        assert_eq!(f[0].current_monthly_cost, "73.05".parse::<Money>().unwrap());
        assert_eq!(f[0].monthly_savings, "2.92".parse::<Money>().unwrap());
        assert!(f[0].title.contains("m4.large → m5.large"));
    }
}
