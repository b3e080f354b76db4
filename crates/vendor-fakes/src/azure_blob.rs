//! Azure Blob Storage's Blob service for one storage account, as Microsoft Learn documents "Create
//! Container" and "Put Blob" (block blobs), for the fault drills Azurite cannot run (Azurite is
//! the real emulator and is what the archive's own tests use; it cannot be made to fail).
//!
//! - Every request names `x-ms-version` (missing: 400 `MissingRequiredHeader`).
//! - Authorization: Shared Key (`Authorization: SharedKey <account>:<HMAC-SHA256 of the canonical
//!   request with the account key>`, with `x-ms-date`; checked here from the documented
//!   string-to-sign, independently of the client) or an account SAS in the query (version
//!   2020-12-06 string-to-sign: `sig` checked, `ss` with `b`, `srt` with `c` for container and `o`
//!   for blob operations, `sp` with `c` or `w`, `se` in the future). A bad signature is 403
//!   `AuthenticationFailed`, a SAS without the permission 403 `AuthorizationPermissionMismatch`
//!   or `AuthorizationResourceTypeMismatch`.
//! - `PUT /<container>?restype=container`: 201 Created, or 409 `ContainerAlreadyExists`.
//! - `PUT /<container>/<blob>` with `x-ms-blob-type: BlockBlob`: 404 `ContainerNotFound` for a
//!   missing container; with `If-None-Match: *`, 409 `BlobAlreadyExists` when the blob exists
//!   (nothing written); otherwise 201 Created with `ETag`, `Last-Modified`,
//!   `x-ms-request-server-encrypted: true`. `x-ms-access-tier` (Hot, Cool, Cold, Archive) is
//!   kept; at most 5,000 MiB per Put Blob (413 `RequestBodyTooLarge`).
//! - [`AzureBlobService::fail_next`]: the next requests are answered 503 `ServerBusy` or 500
//!   `InternalError` with `Retry-After`, as the service does when an account is over its targets.
//!
//! Every error is Azure's XML body `<Error><Code>…</Code><Message>…</Message></Error>` with the
//! code also in `x-ms-error-code`, and every answer carries `x-ms-request-id` and `x-ms-version`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::server::{Received, Reply, Vendor};

/// The storage account the fake is (its host would be `costwatchfake.blob.core.windows.net`).
pub const ACCOUNT: &str = "costwatchfake";
/// Its key (base64 of 64 bytes, as Azure's are).
pub const ACCOUNT_KEY: &str =
    "Y29zdHdhdGNoLWZha2UtYWNjb3VudC1rZXktZm9yLXRlc3RzLW9ubHktNjQtYnl0ZXMtbG9uZy4uLi4uLi4uLg==";
/// An account SAS of [`ACCOUNT`] for the Blob service, containers and objects, read, write and
/// create, until 2099 (what [`account_sas`] makes of those).
pub const SAS_TOKEN: &str = "sv=2020-12-06&ss=b&srt=co&sp=rwc&se=2099-01-01T00:00:00Z&spr=https,http&sig=rH8j4aWCV3O%2BU3ntkQgPMqEFYm9VkUof0kbx9jqbTFw%3D";
/// The part of [`SAS_TOKEN`]'s signature that reads the same encoded or not: what must never be
/// printed.
pub const SAS_SIGNATURE: &str = "U3ntkQgPMqEFYm9VkUof0kbx9jqbTFw";
/// Bytes one Put Blob takes (service version 2019-12-12 and later).
pub const MAX_PUT_BLOB_BYTES: usize = 5000 * 1024 * 1024;
/// Blob names are at most this many characters.
pub const MAX_BLOB_NAME: usize = 1024;

/// One stored blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub content_type: Option<String>,
    pub access_tier: Option<String>,
    pub data: Vec<u8>,
}

/// A fault [`AzureBlobService::fail_next`] answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// 503 `ServerBusy`.
    ServerBusy,
    /// 500 `InternalError`.
    InternalError,
}

#[derive(Default)]
pub struct AzureBlobService {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, BTreeMap<String, Blob>>,
    failing: Vec<Busy>,
    requests: u64,
}

impl AzureBlobService {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next requests are answered with these faults, in order, with `Retry-After: 0`.
    pub fn fail_next(&self, faults: &[Busy]) {
        self.lock().failing = faults.iter().rev().copied().collect();
    }

    /// The blobs of `container` by name (`None`: no such container).
    pub fn blobs(&self, container: &str) -> Option<BTreeMap<String, Blob>> {
        self.lock().containers.get(container).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Azure's error answer: the XML body and `x-ms-error-code`.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:2026-12-03T00:00:00.0000000Z</Message></Error>"
    );
    Reply::Respond {
        status,
        headers: vec![
            ("content-type".into(), "application/xml".into()),
            ("x-ms-error-code".into(), code.into()),
        ],
        body: body.into_bytes(),
    }
}

fn authentication_failed(detail: &str) -> Reply {
    let mut reply = error(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
    );
    if let Reply::Respond { body, .. } = &mut reply {
        let text = String::from_utf8_lossy(body).replace(
            "</Error>",
            &format!("<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"),
        );
        *body = text.into_bytes();
    }
    reply
}

/// What of a request's shape Azure would refuse before looking at its authorization: a missing
/// `x-ms-version`, a Put Blob without `x-ms-blob-type: BlockBlob`, a blob name out of bounds.
/// `Err` is Azure's answer.
pub fn shape(request: &Received) -> Result<(), Reply> {
    if request.header("x-ms-version").is_none_or(str::is_empty) {
        return Err(error(
            400,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
        ));
    }
    let (path, query) = split(request);
    match target(path, &query) {
        Some(Target::Blob { name, .. }) => {
            if request.header("x-ms-blob-type") != Some("BlockBlob") {
                return Err(error(
                    400,
                    "MissingRequiredHeader",
                    "An HTTP header that's mandatory for this request is not specified.",
                ));
            }
            if name.is_empty() || name.chars().count() > MAX_BLOB_NAME || name.ends_with('/') {
                return Err(error(
                    400,
                    "InvalidResourceName",
                    "The specifed resource name contains invalid characters.",
                ));
            }
            if let Some(tier) = request.header("x-ms-access-tier")
                && !["Hot", "Cool", "Cold", "Archive"].contains(&tier)
            {
                return Err(error(
                    400,
                    "InvalidHeaderValue",
                    "The value for one of the HTTP headers is not in the correct format.",
                ));
            }
            Ok(())
        }
        Some(Target::Container(_)) => Ok(()),
        None => Err(error(
            400,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        )),
    }
}

enum Target<'a> {
    Container(&'a str),
    Blob { container: &'a str, name: String },
}

fn split(request: &Received) -> (&str, BTreeMap<String, String>) {
    let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
    let params = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (path, params)
}

fn target<'a>(path: &'a str, query: &BTreeMap<String, String>) -> Option<Target<'a>> {
    let rest = path.strip_prefix('/')?;
    match rest.split_once('/') {
        None if query.get("restype").map(String::as_str) == Some("container") => {
            Some(Target::Container(rest))
        }
        // The name as the path carries it (percent-encoded characters stay encoded: the
        // archive's names need none).
        Some((container, blob)) if !container.is_empty() => Some(Target::Blob {
            container,
            name: blob.to_owned(),
        }),
        _ => None,
    }
}

fn hmac(data: &str) -> String {
    let key = STANDARD.decode(ACCOUNT_KEY).unwrap_or_default();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The Shared Key string-to-sign of a received request (Microsoft Learn, "Authorize with Shared
/// Key", version 2015-02-21 and later).
fn shared_key_string(request: &Received) -> String {
    let (path, query) = split(request);
    let header = |name: &str| request.header(name).unwrap_or_default().to_owned();
    let length = match request.body.len() {
        0 => String::new(),
        n => n.to_string(),
    };
    let mut ms: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("x-ms-"))
        .map(|(n, v)| (n.clone(), v.trim().to_owned()))
        .collect();
    ms.sort();
    let mut out = [
        request.method.clone(),
        header("content-encoding"),
        header("content-language"),
        length,
        header("content-md5"),
        header("content-type"),
        header("date"),
        header("if-modified-since"),
        header("if-match"),
        header("if-none-match"),
        header("if-unmodified-since"),
        header("range"),
    ]
    .join("\n");
    out.push('\n');
    for (n, v) in ms {
        out.push_str(&format!("{n}:{v}\n"));
    }
    out.push_str(&format!("/{ACCOUNT}{path}"));
    for (n, v) in query {
        out.push_str(&format!("\n{}:{v}", n.to_ascii_lowercase()));
    }
    out
}

/// An account SAS for [`ACCOUNT`] (version 2020-12-06), as the portal or `az storage account
/// generate-sas` makes one: `services` (`b`), `resource_types` (`c`, `o`), `permissions`
/// (`r`, `w`, `c` …), valid until `expiry` (`2099-01-01T00:00:00Z`).
pub fn account_sas(
    services: &str,
    resource_types: &str,
    permissions: &str,
    expiry: &str,
) -> String {
    let (sv, spr) = ("2020-12-06", "https,http");
    let to_sign = format!(
        "{ACCOUNT}\n{permissions}\n{services}\n{resource_types}\n\n{expiry}\n\n{spr}\n{sv}\n\n"
    );
    let sig: String = url::form_urlencoded::byte_serialize(hmac(&to_sign).as_bytes()).collect();
    format!(
        "sv={sv}&ss={services}&srt={resource_types}&sp={permissions}&se={expiry}&spr={spr}&sig={sig}"
    )
}

/// Whether the request is authorized for what it does; `Err` is Azure's 403.
fn authorize(request: &Received, is_container: bool) -> Result<(), Reply> {
    let (_, query) = split(request);
    if let Some(sig) = query.get("sig") {
        let q = |k: &str| query.get(k).cloned().unwrap_or_default();
        let to_sign = format!(
            "{ACCOUNT}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n\n",
            q("sp"),
            q("ss"),
            q("srt"),
            q("st"),
            q("se"),
            q("sip"),
            q("spr"),
            q("sv"),
        );
        if *sig != hmac(&to_sign) {
            return Err(authentication_failed(
                "Signature did not match. String to sign used was the account SAS string.",
            ));
        }
        // RFC 3339 UTC instants of one form compare as text.
        if q("se") <= now_rfc3339() {
            return Err(authentication_failed(
                "Signed expiry time must be after signed start time and the current time.",
            ));
        }
        let resource = if is_container { 'c' } else { 'o' };
        if !q("ss").contains('b') || !q("srt").contains(resource) {
            return Err(error(
                403,
                "AuthorizationResourceTypeMismatch",
                "This request is not authorized to perform this operation using this resource type.",
            ));
        }
        if !q("sp").contains('c') && !q("sp").contains('w') {
            return Err(error(
                403,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
            ));
        }
        return Ok(());
    }
    let Some(auth) = request.header("authorization") else {
        // Anonymous writes are never allowed.
        return Err(error(
            401,
            "NoAuthenticationInformation",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
        ));
    };
    if request.header("x-ms-date").is_none() && request.header("date").is_none() {
        return Err(authentication_failed(
            "The Date header in the request is incorrect.",
        ));
    }
    let expected = format!("SharedKey {ACCOUNT}:{}", hmac(&shared_key_string(request)));
    if auth == expected {
        Ok(())
    } else {
        Err(authentication_failed(
            "The MAC signature found in the HTTP request is not the same as any computed signature.",
        ))
    }
}

/// Now as `YYYY-MM-DDThh:mm:ssZ` (the civil date from days since 1970, H. Hinnant's algorithm).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn created(state: &mut State, extra: &[(&str, String)]) -> Reply {
    state.requests += 1;
    let mut reply = Reply::Respond {
        status: 201,
        headers: vec![
            ("etag".into(), format!("\"0x8DD{:012X}\"", state.requests)),
            (
                "last-modified".into(),
                "Thu, 03 Dec 2026 12:00:00 GMT".into(),
            ),
        ],
        body: Vec::new(),
    };
    for (n, v) in extra {
        reply = reply.with_header(n, v);
    }
    reply
}

impl Vendor for AzureBlobService {
    fn handle(&self, request: &Received, _base: &str) -> Reply {
        let reply = self.answer(request);
        reply
            .with_header("x-ms-request-id", "00000000-0000-0000-0000-000000000000")
            .with_header(
                "x-ms-version",
                request.header("x-ms-version").unwrap_or("2024-11-04"),
            )
    }
}

impl AzureBlobService {
    fn answer(&self, request: &Received) -> Reply {
        if let Some(fault) = self.lock().failing.pop() {
            let reply = match fault {
                Busy::ServerBusy => error(
                    503,
                    "ServerBusy",
                    "The server is currently unable to receive requests. Please retry your request.",
                ),
                Busy::InternalError => error(
                    500,
                    "InternalError",
                    "The server encountered an internal error. Please retry the request.",
                ),
            };
            return reply.with_header("retry-after", "0");
        }
        if request.method != "PUT" {
            return error(
                405,
                "UnsupportedHttpVerb",
                "The resource doesn't support specified Http Verb.",
            );
        }
        if let Err(reply) = shape(request) {
            return reply;
        }
        let (path, query) = split(request);
        let Some(target) = target(path, &query) else {
            return error(
                400,
                "InvalidUri",
                "The requested URI does not represent any resource on the server.",
            );
        };
        if let Err(reply) = authorize(request, matches!(target, Target::Container(_))) {
            return reply;
        }
        let mut state = self.lock();
        match target {
            Target::Container(name) => {
                if state.containers.contains_key(name) {
                    return error(
                        409,
                        "ContainerAlreadyExists",
                        "The specified container already exists.",
                    );
                }
                state.containers.insert(name.to_owned(), BTreeMap::new());
                created(&mut state, &[])
            }
            Target::Blob { container, name } => {
                if request.body.len() > MAX_PUT_BLOB_BYTES {
                    return error(
                        413,
                        "RequestBodyTooLarge",
                        "The request body is too large and exceeds the maximum permissible limit.",
                    );
                }
                let Some(blobs) = state.containers.get_mut(container) else {
                    return error(
                        404,
                        "ContainerNotFound",
                        "The specified container does not exist.",
                    );
                };
                if request.header("if-none-match") == Some("*") && blobs.contains_key(&name) {
                    return error(
                        409,
                        "BlobAlreadyExists",
                        "The specified blob already exists.",
                    );
                }
                blobs.insert(
                    name,
                    Blob {
                        content_type: request.header("content-type").map(str::to_owned),
                        access_tier: request.header("x-ms-access-tier").map(str::to_owned),
                        data: request.body.clone(),
                    },
                );
                created(
                    &mut state,
                    &[("x-ms-request-server-encrypted", "true".to_owned())],
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(path: &str, headers: &[(&str, &str)], body: &str) -> Received {
        Received {
            method: "PUT".into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn code(reply: &Reply) -> (Option<u16>, String) {
        let Reply::Respond {
            status, headers, ..
        } = reply
        else {
            return (None, String::new());
        };
        let code = headers
            .iter()
            .find(|(n, _)| n == "x-ms-error-code")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        (Some(*status), code)
    }

    #[test]
    fn a_sas_writes_once_and_azure_answers_in_its_own_words() {
        let fake = AzureBlobService::new();
        let sas = account_sas("b", "co", "rwc", "2099-01-01T00:00:00Z");
        assert_eq!(sas, SAS_TOKEN);
        let v = [("x-ms-version", "2024-11-04")];
        let blob = [
            ("x-ms-version", "2024-11-04"),
            ("x-ms-blob-type", "BlockBlob"),
            ("if-none-match", "*"),
        ];
        let at = |r: Received| code(&fake.handle(&r, ""));
        assert_eq!(
            at(put(&format!("/box/a.txt?{sas}"), &blob, "x")),
            (Some(404), "ContainerNotFound".into())
        );
        assert_eq!(
            at(put(&format!("/box?restype=container&{sas}"), &v, "")),
            (Some(201), String::new())
        );
        assert_eq!(
            at(put(&format!("/box?restype=container&{sas}"), &v, "")),
            (Some(409), "ContainerAlreadyExists".into())
        );
        assert_eq!(
            at(put(&format!("/box/a.txt?{sas}"), &blob, "x")),
            (Some(201), String::new())
        );
        assert_eq!(
            at(put(&format!("/box/a.txt?{sas}"), &blob, "y")),
            (Some(409), "BlobAlreadyExists".into())
        );
        assert_eq!(fake.blobs("box").unwrap()["a.txt"].data, b"x");
        let forged = sas.replace("sig=", "sig=A");
        assert_eq!(
            at(put(&format!("/box/b.txt?{forged}"), &blob, "x")),
            (Some(403), "AuthenticationFailed".into())
        );
        let read_only = account_sas("b", "co", "r", "2099-01-01T00:00:00Z");
        assert_eq!(
            at(put(&format!("/box/b.txt?{read_only}"), &blob, "x")),
            (Some(403), "AuthorizationPermissionMismatch".into())
        );
        assert_eq!(
            at(put(&format!("/box/b.txt?{sas}"), &blob[1..], "x")),
            (Some(400), "MissingRequiredHeader".into())
        );
        fake.fail_next(&[Busy::ServerBusy, Busy::InternalError]);
        assert_eq!(
            at(put("/box/c.txt", &blob, "x")),
            (Some(503), "ServerBusy".into())
        );
        assert_eq!(
            at(put("/box/c.txt", &blob, "x")),
            (Some(500), "InternalError".into())
        );
        let Reply::Respond { body, .. } = fake.handle(&put("/box/c.txt", &blob, "x"), "") else {
            panic!()
        };
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("<Error><Code>NoAuthenticationInformation</Code><Message>"),
            "{text}"
        );
        let expired = account_sas("b", "co", "rwc", "2020-01-01T00:00:00Z");
        assert_eq!(
            at(put(&format!("/box/d.txt?{expired}"), &blob, "x")),
            (Some(403), "AuthenticationFailed".into())
        );
        assert!(now_rfc3339().as_str() > "2026-01-01T00:00:00Z");
    }

    #[test]
    fn shared_key_is_checked_from_the_documented_string_to_sign() {
        let fake = AzureBlobService::new();
        let mut request = put(
            "/box?restype=container",
            &[
                ("x-ms-version", "2024-11-04"),
                ("x-ms-date", "Thu, 03 Dec 2026 14:00:00 GMT"),
            ],
            "",
        );
        assert_eq!(
            shared_key_string(&request),
            format!(
                "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Thu, 03 Dec 2026 14:00:00 GMT\nx-ms-version:2024-11-04\n/{ACCOUNT}/box\nrestype:container"
            )
        );
        let signature = hmac(&shared_key_string(&request));
        request.headers.push((
            "authorization".into(),
            format!("SharedKey {ACCOUNT}:{signature}"),
        ));
        assert_eq!(code(&fake.handle(&request, "")), (Some(201), String::new()));
        request.headers.last_mut().unwrap().1 = format!("SharedKey {ACCOUNT}:AAAA{signature}");
        assert_eq!(
            code(&fake.handle(&request, "")),
            (Some(403), "AuthenticationFailed".into())
        );
    }
}
