//! The shared conformance suite (costwatch-dispatch-kit) on Teams: a Workflows webhook, every
//! card checked against the official Adaptive Card 1.5 schema inside the Workflows message
//! wrapper, within Teams' 28 KB.

use std::sync::{Arc, OnceLock};

use costwatch_dispatch::{Body, VendorRequest, entry};
use costwatch_dispatch_kit::{Conformance, conformance_tests, schema};
use costwatch_dispatch_teams::{MAX_MESSAGE_BYTES, Teams};
use costwatch_vendor_fakes::teams::{SIGNATURE, TeamsWorkflow};
use serde_json::json;

fn suite() -> Conformance {
    let url = TeamsWorkflow::webhook_url("https://prod-00.westus.logic.azure.com:443");
    Conformance {
        entry: entry::<Teams>(),
        config: json!({"destinations": {"finops": {"webhook_url": url}}}),
        destination: "finops",
        secrets: &[SIGNATURE],
        max_body_bytes: MAX_MESSAGE_BYTES,
        validate,
        fake: || Arc::new(TeamsWorkflow::new()),
    }
}

/// The Workflows wrapper (`type: message`, one Adaptive Card attachment) around a card the
/// official 1.5 schema accepts.
fn validate(request: &VendorRequest) -> Result<(), String> {
    static CARD: OnceLock<jsonschema::Validator> = OnceLock::new();
    let card_schema = CARD.get_or_init(|| {
        schema::validator(&schema::load("specs/teams/adaptive-card-1.5.0.schema.json"))
    });
    let Body::Json(body) = &request.body else {
        return Err("a Workflows webhook takes JSON".into());
    };
    if body["type"] != "message" {
        return Err("type must be \"message\"".into());
    }
    let [attachment] = body["attachments"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
    else {
        return Err("the flow posts exactly one attachment".into());
    };
    if attachment["contentType"] != "application/vnd.microsoft.card.adaptive" {
        return Err("the attachment is not an Adaptive Card".into());
    }
    let card = &attachment["content"];
    if card["type"] != "AdaptiveCard" || card["version"] != "1.5" {
        return Err("the content is not an Adaptive Card 1.5".into());
    }
    schema::check(card_schema, card)
}

conformance_tests!(suite);
