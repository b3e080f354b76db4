//! What Google answers. `/mp/collect` answers 2xx to every well-formed request, valid or not
//! (it drops invalid events silently, and never says whether the API secret is right): 2xx is
//! delivered, the rest is the shared policy. The validation server (`/debug/mp/collect`) answers
//! 200 with `{"validationMessages": [{"fieldPath", "description", "validationCode"}]}`: an empty
//! list is a pass, anything else fails the message (nothing has been collected yet) with
//! Google's descriptions.

use costwatch_dispatch::{Outcome, VendorRequest, VendorResponse, classify_http};
use serde_json::Value;

pub fn classify(request: &VendorRequest, response: &VendorResponse) -> Outcome {
    let outcome = classify_http(response);
    if request.step != "validate" || !matches!(outcome, Outcome::Delivered(_)) {
        return outcome;
    }
    let Some(body) = response.json() else {
        return Outcome::Fail(format!(
            "GA4's validation server answered HTTP {} without JSON: {}",
            response.status,
            response.snippet()
        ));
    };
    let messages: Vec<String> = body
        .get("validationMessages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{} ({} at `{}`)",
                m["description"].as_str().unwrap_or("?"),
                m["validationCode"].as_str().unwrap_or("?"),
                m["fieldPath"].as_str().unwrap_or("")
            )
        })
        .collect();
    if messages.is_empty() {
        outcome
    } else {
        Outcome::Fail(format!(
            "GA4's validation server refused the events, none was collected: {}",
            messages.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: &str) -> VendorRequest {
        VendorRequest::post_json(
            step,
            "https://www.google-analytics.com/x".into(),
            Value::Null,
        )
    }

    #[test]
    fn validation_messages_fail_the_message_and_collect_takes_any_2xx() {
        let refused = VendorResponse::new(
            200,
            &[],
            r#"{"validationMessages":[{"fieldPath":"events","description":"Event at index: [0] has invalid name [_x].","validationCode":"NAME_INVALID"}]}"#,
        );
        let Outcome::Fail(reason) = classify(&step("validate"), &refused) else {
            panic!()
        };
        assert!(
            reason.contains("NAME_INVALID") && reason.contains("[_x]"),
            "{reason}"
        );
        let passed = VendorResponse::new(200, &[], r#"{"validationMessages":[]}"#);
        assert!(matches!(
            classify(&step("validate"), &passed),
            Outcome::Delivered(_)
        ));
        assert!(matches!(
            classify(&step("collect"), &refused),
            Outcome::Delivered(_)
        ));
        assert!(matches!(
            classify(&step("collect"), &VendorResponse::new(204, &[], "")),
            Outcome::Delivered(_)
        ));
        assert!(matches!(
            classify(&step("collect"), &VendorResponse::new(503, &[], "")),
            Outcome::Retry { .. }
        ));
    }
}
