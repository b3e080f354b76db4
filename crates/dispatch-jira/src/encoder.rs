//! Pure render: envelope → the Jira requests of its exchange.
//!
//! One issue per subject, found again by its label `costwatch-<hash of subject id>`:
//! - a subject this destination has filed before (the memo holds its issue key): a comment for
//!   the new state, and for a resolution the transition named `resolve_transition`, looked up
//!   on the issue (`GET …/transitions`) and run (`POST …/transitions`); for a subject open
//!   again after a resolution, the `reopen_transition` the same way when one is configured;
//! - a subject without a memo: `POST /search/jql` for the label, then the create, then (for a
//!   later state) the comment and the transition on the issue found or created.
//!
//! The framework's exchanges are straight lists of requests (no branches), so the choice the
//! search makes is carried by the URL of the next step: the classifier turns the search answer
//! into `create_path`, `issue` when nothing was found (the create) or `issue/<KEY>` when it was.
//! A POST to an existing issue's own URL does nothing in Jira (the resource has no POST), and
//! the classifier reads that answer as "already created". The transition is skipped the same
//! way when the issue offers no transition of that name (someone closed it already).
//!
//! The daily report is a comment on the configured `tracking_issue`.

use costwatch_core::notification::{Severity, State};
use costwatch_core::{Notification, NotificationBody};
use costwatch_dispatch::fit::{fit_text, more_line};
use costwatch_dispatch::view::{Table, View, is_web_url, severity_word};
use costwatch_dispatch::{Body, Message, Method, RenderError, Text, VendorRequest, from_step};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::adf;
use crate::config::{Auth, Destination, JiraConfig};

/// Jira's limit on a description or a comment (characters); the serialized ADF is kept within
/// it, which bounds the text it holds.
pub const MAX_ADF_CHARS: usize = 32_767;
/// Jira's limit on an issue summary (characters, one line).
pub const MAX_SUMMARY: usize = 255;
const MAX_TEXT: usize = 4_000;
const MAX_CELL: usize = 500;
/// Row budgets tried in turn until the document fits.
const ROW_STEPS: [usize; 7] = [usize::MAX, 50, 20, 10, 5, 2, 0];

/// Step names; the classifier reads them.
pub const SEARCH: &str = "search";
pub const CREATE: &str = "create";
pub const COMMENT: &str = "comment";
pub const TRANSITIONS: &str = "transitions to ";
pub const TRANSITION: &str = "transition";

/// The label that marks every issue of a subject: Jira labels are single words, and a hash
/// keeps any subject id (whatever its characters) a safe JQL string.
pub fn subject_label(subject_id: &str) -> String {
    let hash = Sha256::digest(subject_id.as_bytes());
    format!("costwatch-{}", &hex::encode(hash)[..20])
}

/// What a delivery leaves for later states of the same subject: the issue key.
pub fn memo(key: &str) -> Value {
    json!({ "key": key })
}

pub fn render(
    config: &JiraConfig,
    destination: &str,
    message: Message<'_>,
    memo: Option<&Value>,
) -> Result<Vec<VendorRequest>, RenderError> {
    let dest = costwatch_dispatch::destination(&config.destinations, destination)?;
    let api = Api::new(config)?;
    let memo_key = memo
        .and_then(|m| m["key"].as_str())
        .filter(|k| crate::config::is_issue_ref(k));
    let mut requests = Vec::new();
    for n in message.envelopes() {
        // A digest has no memo: each of its subjects is found by search.
        let key = if matches!(message, Message::One(_)) {
            memo_key
        } else {
            None
        };
        requests.extend(one(config, &api, dest, n, key, requests.len())?);
    }
    Ok(requests)
}

/// The requests for one envelope, whose first step is `at` in the exchange.
fn one(
    config: &JiraConfig,
    api: &Api,
    dest: &Destination,
    n: &Notification,
    memo_key: Option<&str>,
    at: usize,
) -> Result<Vec<VendorRequest>, RenderError> {
    let view = View::of(n);
    if let NotificationBody::Report(_) = n.body {
        let key = config.tracking_issue.as_deref().ok_or_else(|| {
            RenderError::Unsupported(
                "a report is a comment on the tracking issue and [jira] has no tracking_issue; set one or route reports elsewhere".into(),
            )
        })?;
        return Ok(vec![api.comment(key, document(&view, None)?)]);
    }
    let mut out = Vec::new();
    let key = match memo_key {
        Some(key) => key.to_owned(),
        None => {
            out.push(api.search(dest, &subject_label(&n.subject_id)));
            out.push(api.create(dest, n, &view, at)?);
            // The key of the issue found or created.
            from_step(at + 1, "/key")
        }
    };
    // The first envelope of a new subject is the issue itself; everything later is a comment.
    if memo_key.is_some() || n.state != State::Open || n.revision > 0 {
        out.push(api.comment(&key, document(&view, Some(state_line(n)))?));
    }
    // Resolved runs the resolving transition; a subject open again the reopening one, if set.
    let transition = match n.state {
        State::Resolved => Some(config.resolve_transition.as_str()),
        State::Open if n.revision > 0 => config.reopen_transition.as_deref(),
        _ => None,
    };
    if let Some(name) = transition {
        let lookup = at + out.len();
        out.push(api.transitions(&key, name));
        out.push(api.transition(&key, lookup));
    }
    // A memo path needs no search: fewer requests, and later states never search again.
    Ok(out)
}

fn state_line(n: &Notification) -> String {
    match n.state {
        State::Open => "Open again".into(),
        State::Ongoing => "Still ongoing".into(),
        State::Acknowledged => "Acknowledged".into(),
        State::Resolved => "Resolved".into(),
    }
}

/// The REST base and the credential header.
struct Api {
    base: String,
    auth: Text,
}

impl Api {
    fn new(config: &JiraConfig) -> Result<Self, RenderError> {
        let auth = match config.auth()? {
            Auth::Basic { email, token } => Text::secret(&format!(
                "Basic {}",
                base64(format!("{email}:{}", token.expose()?).as_bytes())
            )),
            Auth::Bearer(token) => Text::secret(&format!("Bearer {}", token.expose()?)),
        };
        Ok(Self {
            base: config.api(),
            auth,
        })
    }

    fn request(&self, step: &str, method: Method, path: &str, body: Body) -> VendorRequest {
        VendorRequest {
            step: step.to_owned(),
            method,
            url: Text::Plain(format!("{}/{path}", self.base)),
            headers: vec![
                ("authorization".into(), self.auth.clone()),
                ("accept".into(), Text::Plain("application/json".into())),
            ],
            body,
            repeat: costwatch_dispatch::Repeat::InPlace,
        }
    }

    fn search(&self, dest: &Destination, label: &str) -> VendorRequest {
        let jql = format!(
            "project = \"{}\" AND labels = \"{label}\" ORDER BY created ASC",
            dest.project
        );
        self.request(
            SEARCH,
            Method::Post,
            "search/jql",
            Body::Json(json!({"jql": jql, "maxResults": 1, "fields": ["status"]})),
        )
    }

    /// The create, sent to `issue` or (when the search found one) to that issue's own URL.
    fn create(
        &self,
        dest: &Destination,
        n: &Notification,
        view: &View,
        search: usize,
    ) -> Result<VendorRequest, RenderError> {
        let mut labels = vec!["costwatch".to_owned(), subject_label(&n.subject_id)];
        for label in &dest.labels {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        let summary = adf::clean(&view.title.replace(['\n', '\r'], " "));
        let mut fields = json!({
            "project": {"key": dest.project},
            "issuetype": {"name": dest.issue_type},
            "summary": fit_text(&summary, MAX_SUMMARY, None),
            "description": document(view, None)?,
            "labels": labels,
        });
        if !dest.components.is_empty() {
            fields["components"] = dest
                .components
                .iter()
                .map(|c| json!({ "name": c }))
                .collect();
        }
        if let Some(p) = &dest.priority {
            fields["priority"] = json!({ "name": p });
        }
        if let Some(a) = &dest.assignee {
            fields["assignee"] = json!({ "accountId": a });
        }
        // Jira has no idempotency key: a create whose answer is lost must not be sent again in
        // place, but from the search, which then finds the issue it made.
        Ok(self
            .request(
                CREATE,
                Method::Post,
                &from_step(search, "/costwatch/create_path"),
                Body::Json(json!({ "fields": fields })),
            )
            .repeat_via_queue())
    }

    fn comment(&self, key: &str, doc: Value) -> VendorRequest {
        self.request(
            COMMENT,
            Method::Post,
            &format!("issue/{key}/comment"),
            Body::Json(json!({ "body": doc })),
        )
    }

    fn transitions(&self, key: &str, name: &str) -> VendorRequest {
        self.request(
            &format!("{TRANSITIONS}{name}"),
            Method::Get,
            &format!("issue/{key}/transitions"),
            Body::Empty,
        )
    }

    /// Runs the transition step `lookup` found, at `…/transitions`; at the issue's own URL (a
    /// no-op) when it found none.
    fn transition(&self, key: &str, lookup: usize) -> VendorRequest {
        self.request(
            TRANSITION,
            Method::Post,
            &format!("issue/{key}{}", from_step(lookup, "/costwatch/then")),
            Body::Json(
                json!({"transition": {"id": from_step(lookup, "/costwatch/transition_id")}}),
            ),
        )
    }
}

/// The description (or, with a `state` line first, a comment) for `view`, with tables cut to
/// fewer rows until it fits in [`MAX_ADF_CHARS`].
pub fn document(view: &View, state: Option<String>) -> Result<Value, RenderError> {
    for rows in ROW_STEPS {
        let doc = adf::doc(content(view, state.as_deref(), rows));
        if doc.to_string().chars().count() <= MAX_ADF_CHARS {
            return Ok(doc);
        }
    }
    Err(RenderError::Unsupported(format!(
        "the Jira text for {} does not fit in {MAX_ADF_CHARS} characters even without tables",
        view.reference
    )))
}

fn content(view: &View, state: Option<&str>, max_rows: usize) -> Vec<Value> {
    let link = view.details_link().map(|l| l.url.as_str());
    let mut out = Vec::new();
    if let Some(state) = state {
        out.push(adf::paragraph(
            [
                adf::inline(state, &[adf::strong()]),
                adf::inline(
                    &format!(" · {}", fit_text(&view.title, MAX_TEXT, None)),
                    &[],
                ),
            ]
            .concat(),
        ));
    }
    out.push(adf::panel(
        panel_kind(view.severity, view.state),
        vec![adf::paragraph(adf::inline(
            &format!(
                "costwatch · {} · severity {}",
                view.kind,
                severity_word(view.severity)
            ),
            &[adf::strong()],
        ))],
    ));
    out.push(adf::text_paragraph(&fit_text(
        &view.summary,
        MAX_TEXT,
        link,
    )));
    if !view.facts.is_empty() {
        let facts: Vec<(String, String)> = view
            .facts
            .iter()
            .map(|(k, v)| (k.clone(), fit_text(v, MAX_CELL, None)))
            .collect();
        out.push(adf::facts(&facts));
    }
    for table in &view.tables {
        out.extend(table_nodes(table, max_rows, link));
    }
    let links: Vec<(String, String)> = view
        .links
        .iter()
        .filter(|l| is_web_url(&l.url))
        .map(|l| (fit_text(&l.label, 200, None), l.url.clone()))
        .collect();
    if !links.is_empty() {
        out.push(adf::links(&links));
    }
    out.push(adf::paragraph(adf::inline(
        &format!("Reference: {}", view.reference),
        &[],
    )));
    out
}

fn table_nodes(table: &Table, max_rows: usize, link: Option<&str>) -> Vec<Value> {
    let shown = table.rows.len().min(max_rows);
    let mut out = vec![adf::heading(3, &table.heading)];
    if shown > 0 {
        let rows: Vec<Vec<String>> = table.rows[..shown]
            .iter()
            .map(|r| r.iter().map(|c| fit_text(c, MAX_CELL, None)).collect())
            .collect();
        out.push(adf::table(&table.headers, &rows));
    }
    if let Some(line) = more_line(table.rows.len() - shown, &table.what, link) {
        out.push(adf::text_paragraph(&line));
    }
    out
}

fn panel_kind(severity: Severity, state: State) -> &'static str {
    if state == State::Resolved {
        return "success";
    }
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// Standard base64 with padding (RFC 4648 §4), for the basic-auth header.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn a_subject_label_is_one_short_word() {
        let label = subject_label("an_60cea173a4cfa7274f00 with spaces \" and quotes");
        assert!(crate::config::check_label(&label).is_ok());
        assert_eq!(label.len(), "costwatch-".len() + 20);
        assert_eq!(
            label,
            subject_label("an_60cea173a4cfa7274f00 with spaces \" and quotes")
        );
    }
}
