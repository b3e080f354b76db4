//! The two requests of the archive: create the container, put a blob once. Authorised either by
//! a SAS token in the query (the URL is then a secret) or by a Shared Key signature made at render
//! time (Azure accepts `x-ms-date` within 15 minutes; a Lambda invocation lasts at most 15).

use std::time::SystemTime;

use costwatch_dispatch::{Body, ConfigError, Method, RenderError, Repeat, Text, VendorRequest};

use crate::config::Destination;
use crate::shared_key::{Signed, authorization};

pub const CREATE_CONTAINER: &str = "create_container";
pub const PUT_BLOB: &str = "put_blob";

/// The REST API version every request names (Azurite runs with `--skipApiVersionCheck`).
pub const API_VERSION: &str = "2024-11-04";

pub fn create_container(d: &Destination) -> Result<VendorRequest, RenderError> {
    let url = format!("{}/{}?restype=container", d.endpoint(), d.container);
    build(d, CREATE_CONTAINER, &url, Vec::new(), Body::Empty)
}

/// `key` is the lake key (`reports/…`); the blob name is the destination's prefix and the key.
pub fn put_blob(
    d: &Destination,
    key: &str,
    content_type: &str,
    data: Vec<u8>,
) -> Result<VendorRequest, RenderError> {
    let url = format!("{}/{}/{}{}", d.endpoint(), d.container, d.prefix, key);
    let mut headers = vec![("x-ms-blob-type", "BlockBlob".to_owned())];
    if let Some(tier) = d.access_tier {
        headers.push(("x-ms-access-tier", tier.header().to_owned()));
    }
    if let Some(scope) = &d.encryption_scope {
        headers.push(("x-ms-encryption-scope", scope.clone()));
    }
    let body = Body::Bytes {
        content_type: content_type.to_owned(),
        data,
    };
    build(d, PUT_BLOB, &url, headers, body)
}

fn build(
    d: &Destination,
    step: &str,
    url: &str,
    mut ms_headers: Vec<(&str, String)>,
    body: Body,
) -> Result<VendorRequest, RenderError> {
    ms_headers.push(("x-ms-version", API_VERSION.to_owned()));
    let if_none_match = (step == PUT_BLOB).then_some("*");
    let mut request = VendorRequest {
        step: step.to_owned(),
        method: Method::Put,
        url: Text::Plain(url.to_owned()),
        headers: Vec::new(),
        body,
        repeat: Repeat::InPlace,
    };
    if let Some(sas) = &d.sas_token {
        let sas = sas.expose()?.trim_start_matches('?');
        let joiner = if url.contains('?') { '&' } else { '?' };
        request.url = Text::secret(&format!("{url}{joiner}{sas}"));
    } else if let Some(key) = &d.account_key {
        ms_headers.push(("x-ms-date", httpdate::fmt_http_date(SystemTime::now())));
        let parsed =
            url::Url::parse(url).map_err(|e| ConfigError::Invalid(format!("blob URL: {e}")))?;
        let data_len = request.body.encode().len();
        let content_type = request.body.content_type();
        let signed = Signed {
            method: Method::Put.as_str(),
            url: &parsed,
            content_length: data_len,
            content_type: content_type.as_deref(),
            if_none_match,
            ms_headers: &ms_headers,
        };
        let value = authorization(&d.account, key.expose()?, &signed)
            .map_err(|e| ConfigError::Invalid(format!("{}: {e}", d.account)))?;
        request = request.header("authorization", Text::secret(&value));
    }
    if let Some(v) = if_none_match {
        request = request.header("if-none-match", Text::from(v));
    }
    for (name, value) in ms_headers {
        request = request.header(name, Text::Plain(value));
    }
    Ok(request)
}
