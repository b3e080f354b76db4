//! Resources billed while doing nothing: Elastic IPs not associated with a running instance,
//! EBS volumes with no instance running where they could be attached, load balancers that
//! process (next to) nothing. Saving = the resource's whole run rate: deleting it removes it.

use std::collections::{BTreeMap, BTreeSet};

use costwatch_core::{Money, UsageLine};

use super::{Action, Ctx, Finding, Kind, Source, base_usage_type, evidence, region_or_default};

/// The resource key of a line: its id, or `account/region/usage type` where the CUR gives none.
fn resource_key(l: &UsageLine) -> String {
    l.resource_id.clone().unwrap_or_else(|| {
        format!(
            "{}/{}/{}",
            l.account,
            region_or_default(&l.region),
            base_usage_type(&l.usage_type)
        )
    })
}

/// Groups recent lines matching `keep` by resource; only resources billed on the last day of
/// data (still there) are returned.
fn still_billed<'a>(
    ctx: &'a Ctx<'a>,
    keep: impl Fn(&UsageLine) -> bool,
) -> BTreeMap<String, Vec<&'a UsageLine>> {
    let mut by: BTreeMap<String, Vec<&UsageLine>> = BTreeMap::new();
    for l in ctx.recent().filter(|l| keep(l)) {
        by.entry(resource_key(l)).or_default().push(l);
    }
    by.retain(|_, ls| ls.iter().any(|l| l.day == ctx.last));
    by
}

fn base_finding(
    ctx: &Ctx<'_>,
    kind: Kind,
    resource: String,
    lines: &[&UsageLine],
    title: String,
    action: Action,
    formula_prefix: &str,
) -> Finding {
    let first = lines[0];
    let window_cost: Money = lines.iter().map(|l| l.cost).sum();
    let monthly = ctx.monthly(window_cost);
    Finding {
        source: Source::Suite,
        kind,
        account: first.account.clone(),
        account_name: first.account_name.clone(),
        region: first.region.clone(),
        service: first.product_code.clone(),
        resource,
        title,
        current_monthly_cost: monthly,
        monthly_savings: monthly,
        formula: format!(
            "{formula_prefix}; saving = its whole run rate: {}",
            ctx.monthly_text(window_cost)
        ),
        evidence: evidence(lines.iter().copied()),
        action,
        tags: first.tags.clone(),
        share_pct: None,
    }
}

/// `ElasticIP:IdleAddress` (and, since 2024, `PublicIPv4:IdleAddress`) is billed only while an
/// address is allocated but not associated with a running instance.
pub(super) fn elastic_ips(ctx: &Ctx<'_>) -> Vec<Finding> {
    let idle = |l: &UsageLine| {
        matches!(
            base_usage_type(&l.usage_type),
            "ElasticIP:IdleAddress" | "PublicIPv4:IdleAddress"
        )
    };
    still_billed(ctx, idle)
        .into_iter()
        .map(|(resource, lines)| {
            let region = region_or_default(&lines[0].region).to_owned();
            let ip = lines[0].resource_id.clone();
            let hours: Money = lines.iter().map(|l| l.usage_amount).sum();
            let describe = match &ip {
                Some(ip) => format!("aws ec2 describe-addresses --region {region} --public-ips {ip}"),
                None => format!(
                    "aws ec2 describe-addresses --region {region} --query 'Addresses[?AssociationId==null]'"
                ),
            };
            let title = format!(
                "Idle Elastic IP {} in {} ({region})",
                ip.as_deref().unwrap_or("(address not named in the CUR)"),
                lines[0].account
            );
            let action = Action {
                summary: "Release the address if nothing needs it (or associate it with a running instance).".into(),
                console_url: format!("https://console.aws.amazon.com/ec2/home?region={region}#Addresses:"),
                cli: format!(
                    "{describe} && aws ec2 release-address --region {region} --allocation-id <AllocationId>"
                ),
            };
            let window_hours = Money::from(ctx.settings.run_rate_days * 24);
            let prefix = format!(
                "{} idle address-hours billed in {window_hours} hours ({} addresses on average)",
                hours.normalize(),
                (hours / window_hours).round_dp(2).normalize()
            );
            base_finding(ctx, Kind::IdleElasticIp, resource, &lines, title, action, &prefix)
        })
        .collect()
}

fn is_instance_hours(l: &UsageLine) -> bool {
    let base = base_usage_type(&l.usage_type);
    l.usage_amount > Money::ZERO
        && ["BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage"]
            .iter()
            .any(|p| base.starts_with(p))
}

fn is_volume_line(l: &UsageLine) -> bool {
    base_usage_type(&l.usage_type).starts_with("EBS:Volume") && l.resource_id.is_some()
}

/// A volume attaches only to an instance in its own Availability Zone, so a volume billed on
/// days when no instance ran anywhere in its account and region is unattached or attached to a
/// stopped instance. Requires the whole run-rate window without instance hours there.
pub(super) fn volumes_without_instance(ctx: &Ctx<'_>) -> Vec<Finding> {
    let from = ctx.since(ctx.settings.run_rate_days);
    let running: BTreeSet<(&str, Option<&str>)> = ctx
        .lines
        .iter()
        .filter(|l| l.day >= from && is_instance_hours(l))
        .map(|l| (l.account.as_str(), l.region.as_deref()))
        .collect();
    let ran_in = |l: &UsageLine| running.contains(&(l.account.as_str(), l.region.as_deref()));
    still_billed(ctx, is_volume_line)
        .into_iter()
        .filter(|(_, lines)| !lines.iter().any(|l| ran_in(l)))
        .map(|(resource, lines)| {
            let region = region_or_default(&lines[0].region).to_owned();
            let title = format!(
                "EBS volume {resource} billed with no instance running in {} ({region})",
                lines[0].account
            );
            let action = Action {
                summary: "Unattached, or attached to a stopped instance: snapshot it if the data matters, then delete it (a snapshot is billed per changed GB at about half the gp2 rate).".into(),
                console_url: format!(
                    "https://console.aws.amazon.com/ec2/home?region={region}#VolumeDetails:volumeId={resource}"
                ),
                cli: format!(
                    "aws ec2 create-snapshot --region {region} --volume-id {resource} && aws ec2 delete-volume --region {region} --volume-id {resource}"
                ),
            };
            let prefix = format!(
                "no BoxUsage/SpotUsage hours in {} {region} from {from} to {}",
                lines[0].account, ctx.last
            );
            base_finding(ctx, Kind::VolumeWithoutInstance, resource, &lines, title, action, &prefix)
        })
        .collect()
}

/// A load balancer is idle when what it processed (ALB/NLB LCU-hours, Classic GB) stays below
/// this share of its billed hours: under 0.01 LCU, or 10 MB, per hour on average.
pub const IDLE_PROCESSING_PER_HOUR: Money = Money::from_parts(1, 0, 0, false, 2);

pub(super) fn load_balancers(ctx: &Ctx<'_>) -> Vec<Finding> {
    let lb = |l: &UsageLine| l.product_code == "AWSELB" && l.resource_id.is_some();
    still_billed(ctx, lb)
        .into_iter()
        .filter_map(|(resource, lines)| {
            let sum = |want: &dyn Fn(&str) -> bool| -> Money {
                lines
                    .iter()
                    .filter(|l| want(base_usage_type(&l.usage_type)))
                    .map(|l| l.usage_amount)
                    .sum()
            };
            let hours = sum(&|u| u == "LoadBalancerUsage");
            let processed = sum(&|u| u.starts_with("LCUUsage") || u == "DataProcessing-Bytes");
            (hours > Money::ZERO && processed <= hours * IDLE_PROCESSING_PER_HOUR).then(|| {
                let region = region_or_default(&lines[0].region).to_owned();
                let elbv2 = resource.contains(":loadbalancer/app/") || resource.contains(":loadbalancer/net/");
                let name = resource.rsplit('/').next().unwrap_or(&resource).to_owned();
                let cli = if elbv2 {
                    format!("aws elbv2 delete-load-balancer --region {region} --load-balancer-arn {resource}")
                } else {
                    format!("aws elb delete-load-balancer --region {region} --load-balancer-name {name}")
                };
                let action = Action {
                    summary: "Delete the load balancer if no client uses it (check its listeners' targets first).".into(),
                    console_url: format!("https://console.aws.amazon.com/ec2/home?region={region}#LoadBalancers:search={name}"),
                    cli,
                };
                let title = format!("Idle load balancer {name} in {} ({region})", lines[0].account);
                let prefix = format!(
                    "{} processing units (LCU-hours or GB) over {} load balancer hours, at most {} per hour is idle",
                    processed.normalize(),
                    hours.normalize(),
                    IDLE_PROCESSING_PER_HOUR
                );
                base_finding(ctx, Kind::IdleLoadBalancer, resource, &lines, title, action, &prefix)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Settings, suite_findings};
    use super::*;

    // Constructed input (the real CUR has no idle load balancer and no volume outside instance
    // hours): one volume whose region runs no instance, one whose region does.
    #[test]
    fn volume_without_instance_in_its_region_is_found_and_one_with_is_not() {
        let mut lines = daily(
            1,
            14,
            "AmazonEC2",
            "EBS:VolumeUsage.gp2",
            "vol-idle",
            3,
            "0.33",
        );
        lines.extend(daily(
            1,
            14,
            "AmazonEC2",
            "EBS:VolumeUsage.gp2",
            "vol-busy",
            3,
            "0.33",
        ));
        for l in lines
            .iter_mut()
            .filter(|l| l.resource_id.as_deref() == Some("vol-busy"))
        {
            l.region = Some("eu-west-1".into());
        }
        let mut inst = daily(
            1,
            14,
            "AmazonEC2",
            "EU-BoxUsage:m5.large",
            "i-1",
            24,
            "2.30",
        );
        inst.iter_mut()
            .for_each(|l| l.region = Some("eu-west-1".into()));
        lines.extend(inst);
        let found = volumes_without_instance(&Ctx {
            lines: &lines,
            last: day(14),
            settings: Settings::default(),
        });
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.resource, "vol-idle");
        // 7 × $0.33 = $2.31 over 7 days → 2.31 / 7 × 30.4375 = $10.04
        assert_eq!(f.monthly_savings, "10.04".parse::<Money>().unwrap());
        assert_eq!(f.evidence.len(), 1);
        assert_eq!(f.evidence[0].first_day, day(8));
        assert_eq!(f.evidence[0].cost, "2.31".parse::<Money>().unwrap());
        assert!(
            f.action
                .cli
                .contains("delete-volume --region us-east-1 --volume-id vol-idle")
        );
    }

    #[test]
    fn a_volume_gone_before_the_last_day_is_not_a_finding() {
        let mut lines = daily(
            1,
            10,
            "AmazonEC2",
            "EBS:VolumeUsage.gp2",
            "vol-gone",
            3,
            "0.33",
        );
        lines.extend(daily(
            1,
            14,
            "AmazonS3",
            "TimedStorage-ByteHrs",
            "bucket",
            1,
            "0",
        ));
        let found = volumes_without_instance(&Ctx {
            lines: &lines,
            last: day(14),
            settings: Settings::default(),
        });
        assert!(found.is_empty(), "{found:#?}");
    }

    // Constructed: an ALB with a few LCUs an hour is busy; one with 0.05 LCU-hours a day is idle.
    #[test]
    fn idle_load_balancers_by_processing_per_hour() {
        let idle = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/idle/1";
        let busy = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/busy/2";
        let mut lines = Vec::new();
        for (arn, lcu) in [(idle, "0.05"), (busy, "40")] {
            lines.extend(daily(1, 14, "AWSELB", "LoadBalancerUsage", arn, 24, "0.54"));
            let mut l = daily(1, 14, "AWSELB", "LCUUsage", arn, 0, "0.01");
            l.iter_mut()
                .for_each(|l| l.usage_amount = lcu.parse().unwrap());
            lines.extend(l);
        }
        let found = suite_findings(&lines, &Settings::default());
        let lbs: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::IdleLoadBalancer)
            .collect();
        assert_eq!(lbs.len(), 1, "{lbs:#?}");
        assert_eq!(lbs[0].resource, idle);
        // (0.54 + 0.01) × 7 = 3.85 → 3.85 / 7 × 30.4375 = 16.74
        assert_eq!(lbs[0].monthly_savings, "16.74".parse::<Money>().unwrap());
        assert!(
            lbs[0]
                .action
                .cli
                .starts_with("aws elbv2 delete-load-balancer")
        );
    }
}
