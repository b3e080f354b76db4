//! The verification snippet receivers copy from docs/integrations/webhook.md, run with python3
//! on a request the dispatcher rendered: it accepts it, and refuses a tampered body, another
//! secret and an old timestamp.

mod support;

use std::process::Command;

use costwatch_dispatch::{Message, RenderContext, entry};
use costwatch_dispatch_webhook::Webhook;
use serde_json::json;
use support::{SECRET, TOKEN};

fn snippet() -> String {
    let page = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/integrations/webhook.md"
    );
    let text = std::fs::read_to_string(page).expect("the docs page");
    let start = text.find("```python\n").expect("a python block") + "```python\n".len();
    let end = start + text[start..].find("```").expect("its end");
    text[start..end].to_owned()
}

#[test]
fn the_documented_snippet_verifies_what_the_dispatcher_signs() {
    let config = json!({"destinations": {"ops": {
        "url": format!("https://hooks.example.com/{TOKEN}"),
        "signing_secrets": [format!("{SECRET} whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")],
    }}});
    let sample = costwatch_core::samples::of_kind("anomaly");
    let request = entry::<Webhook>()
        .load(config)
        .unwrap()
        .render("ops", Message::One(&sample), &RenderContext::default())
        .unwrap()
        .remove(0);
    let received = support::received(&request);
    let headers: serde_json::Map<String, serde_json::Value> = received
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let program = format!(
        "{}\nimport json, sys\nh = json.loads(sys.argv[1])\nbody = sys.stdin.buffer.read()\nold = dict(h, **{{'webhook-timestamp': str(int(h['webhook-timestamp']) - 3600)}})\nprint(verify(sys.argv[2], h, body), verify(sys.argv[2], h, body + b' '), verify('whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX', h, body), verify(sys.argv[2], old, body))\n",
        snippet()
    );
    let mut child = Command::new("python3")
        .args([
            "-c",
            &program,
            &serde_json::Value::Object(headers).to_string(),
            SECRET,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the documented snippet");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&received.body)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True False False False"
    );
}
