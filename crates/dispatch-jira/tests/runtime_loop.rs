//! The built `dispatch-jira` binary under the Runtime API emulator, on moto, against the
//! Jira (basic auth) fake: the sample of events/dispatch-jira/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::jira::{API_TOKEN, EMAIL, JiraSite};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    // The sample holds a daily report: a comment on the tracking issue, which a person filed.
    let site = JiraSite::new();
    assert_eq!(site.file_issue("OPS", "Daily cost reports"), "OPS-1");
    check(Deployment {
        integration: "jira",
        binary: env!("CARGO_BIN_EXE_dispatch-jira"),
        config: json!({
            "site": "https://acme.atlassian.net",
            "email": EMAIL,
            "api_token": API_TOKEN,
            "tracking_issue": "OPS-1",
            "destinations": {"finops": {"project": "FIN", "issue_type": "Task"}},
        }),
        secrets: &[API_TOKEN],
        fake: Arc::new(site),
    });
}
