//! The integrations the CLI knows: one line each. Adding an integration adds its line here and
//! its crate to Cargo.toml, nothing else.

use costwatch_dispatch::{Entry, entry};

pub fn all() -> Vec<Box<dyn Entry>> {
    vec![
        entry::<costwatch_dispatch_slack::Slack>(),
        entry::<costwatch_dispatch_teams::Teams>(),
        entry::<costwatch_dispatch_webhook::Webhook>(),
        entry::<costwatch_dispatch_zapier::Zapier>(),
        entry::<costwatch_dispatch_ifttt::Ifttt>(),
        entry::<costwatch_dispatch_discord::Discord>(),
        entry::<costwatch_dispatch_azure_blob::AzureBlob>(),
        entry::<costwatch_dispatch_pagerduty::PagerDuty>(),
        entry::<costwatch_dispatch_datadog::Datadog>(),
        entry::<costwatch_dispatch_jira::Jira>(),
        entry::<costwatch_dispatch_mixpanel::Mixpanel>(),
        entry::<costwatch_dispatch_amplitude::Amplitude>(),
        entry::<costwatch_dispatch_ga4::Ga4>(),
    ]
}
