//! The built `dispatch-mixpanel` binary under the Runtime API emulator, on moto, against the
//! Mixpanel (Import API) fake: the sample of events/dispatch-mixpanel/, a message that is not an
//! envelope, and a vendor outage, each with the outcome template.yaml expects
//! (costwatch_dispatch_kit::runtime_loop).

use std::sync::Arc;

use costwatch_dispatch_kit::runtime_loop::{Deployment, check};
use costwatch_vendor_fakes::mixpanel::{MixpanelImport, PROJECT_ID, SECRET, SERVICE_ACCOUNT};
use serde_json::json;

#[test]
fn the_binary_delivers_the_sample_dead_letters_poison_and_gives_back_on_an_outage() {
    check(Deployment {
        integration: "mixpanel",
        binary: env!("CARGO_BIN_EXE_dispatch-mixpanel"),
        config: json!({"destinations": {"product": {
            "project_id": PROJECT_ID,
            "service_account": SERVICE_ACCOUNT,
            "secret": SECRET,
        }}}),
        secrets: &[SECRET],
        fake: Arc::new(MixpanelImport::new()),
    });
}
