//! Azure Blob Storage as an archive of reports and cost data: for each report envelope, the
//! report's three files (HTML, JSON, CSV) and the curated cost records of each day it covers,
//! read from the lake where the report and collect functions put them, are written as blobs named
//! like their lake keys (`<prefix>reports/daily/dt=2026-11-30/report.html`,
//! `<prefix>curated/daily/dt=2026-11-30/records.jsonl`). The report is the day's signal that its
//! data is complete (the pipeline publishes it after collecting and aggregating), so no other
//! message is needed. The container is created first when missing. Every blob is written with `If-None-Match: *`: a replay or a
//! redelivery writes nothing twice, and Azure's "already exists" answer counts as delivered.
//! Other envelope kinds have nothing to archive and send nothing.
//!
//! The requests go through the kit's sender (hosts pinned, retries, no redirects) instead of an
//! Azure SDK: four PUTs need no second HTTP stack, and Shared Key signing is one HMAC.

pub mod blob;
pub mod config;
pub mod shared_key;

use std::collections::BTreeSet;

use costwatch_core::NotificationBody;
use costwatch_core::archive::{CURATED_CONTENT_TYPE, curated_keys, report_keys};
use costwatch_dispatch::{
    Delivered, Integration, Message, Outcome, RateLimit, RenderContext, RenderError, VendorRequest,
    VendorResponse, classify_http, destination,
};

pub use config::AzureBlobConfig;

pub struct AzureBlob;

/// The report envelopes of a message (a digest may hold several).
fn reports<'a>(
    message: Message<'a>,
) -> impl Iterator<Item = &'a costwatch_core::notification::ReportFigures> {
    message.envelopes().iter().filter_map(|n| match &n.body {
        NotificationBody::Report(figures) => Some(figures),
        _ => None,
    })
}

/// What a message archives, as (lake key, content type), each key once: every report's three
/// files, then the curated records of each of its days (a weekly report's days, or a digest's
/// days shared by two reports, are named once; days another message already archived are
/// answered "already exists", and nothing is written twice).
fn archived(message: Message<'_>) -> Vec<(String, &'static str)> {
    let mut seen = BTreeSet::new();
    reports(message)
        .flat_map(|figures| {
            report_keys(figures)
                .into_iter()
                .map(|(file, key)| (key, file.content_type()))
                .chain(
                    curated_keys(figures)
                        .into_iter()
                        .map(|key| (key, CURATED_CONTENT_TYPE)),
                )
        })
        .filter(|(key, _)| seen.insert(key.clone()))
        .collect()
}

impl Integration for AzureBlob {
    type Config = AzureBlobConfig;

    const NAME: &'static str = "azure-blob";

    /// Azure's scalability target for one blob is 500 requests a second and an account's
    /// 20,000; a daily report is five requests (a weekly one eleven), a few a day: this only bounds a DLQ redrive.
    const RATE_LIMIT: RateLimit = RateLimit::per_second(10);

    const READS_LAKE: bool = true;

    /// A daily report is five requests and a weekly one eleven, each of which a receive must
    /// carry (or resume): with 30 % of requests failing and invocations dying mid-batch, five
    /// receives ran out for 3 reports in 10,000 in the fault drill (`make bench-reliability`).
    const MAX_RECEIVES: u32 = 10;

    /// The Blob endpoints of Azure's public, US Government and China clouds.
    const ALLOWED_HOSTS: &'static [&'static str] = &[
        "*.blob.core.windows.net",
        "*.blob.core.usgovcloudapi.net",
        "*.blob.core.chinacloudapi.cn",
    ];

    fn objects(message: Message<'_>) -> Vec<String> {
        archived(message).into_iter().map(|(key, _)| key).collect()
    }

    fn render(
        config: &Self::Config,
        name: &str,
        message: Message<'_>,
        context: &RenderContext,
    ) -> Result<Vec<VendorRequest>, RenderError> {
        let d = destination(&config.destinations, name)?;
        let files = archived(message);
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut requests = vec![blob::create_container(d)?];
        for (key, content_type) in files {
            let body = context.objects.get(&key).ok_or_else(|| {
                RenderError::Unsupported(format!(
                    "{key} was not read from the lake (the dispatcher reads it; `costwatch render` cannot)"
                ))
            })?;
            requests.push(blob::put_blob(d, &key, content_type, body.clone())?);
        }
        Ok(requests)
    }

    /// "Already exists" is the archive already holding this name: delivered, so a replay or a
    /// redelivery is not an error (the blob is never replaced: `If-None-Match: *`).
    fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
        let code = response.header("x-ms-error-code").unwrap_or_default();
        match (request.step.as_str(), response.status, code) {
            (blob::CREATE_CONTAINER, 409, "ContainerAlreadyExists")
            | (blob::PUT_BLOB, 409, "BlobAlreadyExists")
            | (blob::PUT_BLOB, 412, _) => Outcome::Delivered(Delivered {
                status: response.status,
                body: None,
            }),
            (_, 403, "AuthorizationPermissionMismatch" | "AuthorizationFailure") => {
                Outcome::Fail(format!(
                    "Azure refused the operation ({code}): the SAS token or key must allow create and write on the container (and container create)"
                ))
            }
            _ => classify_http(response),
        }
    }
}
