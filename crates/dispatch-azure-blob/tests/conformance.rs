//! The shared conformance suite (costwatch-dispatch-kit) on the Azure Blob archive, as an archive
//! (`conformance_tests!(archive: …)`): every report variant, hostile copy and digest renders
//! Create Container and Put Blob requests that Azure's documented checks accept (the fake's
//! [`shape`]: `x-ms-version`, `x-ms-blob-type`, blob names, access tiers) and every other kind
//! renders none; the SAS signature never reaches `render` output, dead letters, the ledger or the
//! logs; the fault drill writes every report file exactly once; and a crash mid-batch repeats
//! nothing, even after Azure accepted a write whose answer was lost — `If-None-Match: *` makes
//! the replay a 409 `BlobAlreadyExists`, which counts as delivered. The fake stands in for Azure
//! because Azurite (tests/azurite.rs) cannot inject faults.

use std::sync::Arc;

use costwatch_dispatch::{Method, VendorRequest, entry};
use costwatch_dispatch_azure_blob::AzureBlob;
use costwatch_dispatch_kit::{Conformance, conformance_tests};
use costwatch_vendor_fakes::azure_blob::{
    ACCOUNT, AzureBlobService, MAX_PUT_BLOB_BYTES, SAS_SIGNATURE, SAS_TOKEN, shape,
};
use costwatch_vendor_fakes::server::{Received, Reply};
use serde_json::json;

/// Azure's documented checks of one request, as the fake applies them, plus the archive's own
/// rule: every blob is written once (`If-None-Match: *`), and every request is authorized.
fn validate(request: &VendorRequest) -> Result<(), String> {
    let url = url::Url::parse(request.url.expose()).map_err(|e| e.to_string())?;
    if request.method != Method::Put {
        return Err(format!(
            "{:?} is neither Create Container nor Put Blob",
            request.method
        ));
    }
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.expose().to_owned()))
        .collect();
    if let Some(ct) = request.body.content_type() {
        headers.push(("content-type".into(), ct));
    }
    let received = Received {
        method: "PUT".into(),
        path: url[url::Position::BeforePath..].to_owned(),
        headers,
        body: request.body.encode(),
    };
    if let Err(Reply::Respond { status, body, .. }) = shape(&received) {
        return Err(format!(
            "Azure would answer {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let is_blob = url.query_pairs().all(|(k, _)| k != "restype");
    if is_blob && received.header("if-none-match") != Some("*") {
        return Err("a Put Blob without If-None-Match: * could overwrite the archive".into());
    }
    if url.query_pairs().all(|(k, _)| k != "sig") && received.header("authorization").is_none() {
        return Err("neither a SAS nor a Shared Key signature".into());
    }
    Ok(())
}

fn suite() -> Conformance {
    Conformance {
        entry: entry::<AzureBlob>(),
        config: json!({"destinations": {"archive": {
            "account": ACCOUNT,
            "container": "costwatch-archive",
            "prefix": "acme/",
            "access_tier": "Cool",
            "sas_token": format!("?{SAS_TOKEN}"),
        }}}),
        destination: "archive",
        // A SAS travels in the URL; a Shared Key never leaves (only its signature does), so the
        // suite's "sent but never printed" check runs on the SAS.
        secrets: &[SAS_SIGNATURE],
        max_body_bytes: MAX_PUT_BLOB_BYTES,
        validate,
        fake: || Arc::new(AzureBlobService::new()),
    }
}

conformance_tests!(archive: suite);
