//! A Jira Cloud site's REST API v3, as Atlassian documents it, for the parts costwatch uses:
//! - `POST /rest/api/3/search/jql` — `{"jql", "maxResults", "fields"}` → `{"issues": […],
//!   "isLast": true}`; the JQL understood is `project = "KEY" AND labels = "label" …`;
//! - `POST /rest/api/3/issue` — `{"fields": {project, issuetype, summary, description (ADF),
//!   labels, …}}` → 201 `{"id", "key", "self"}`; a missing or malformed field is 400 with
//!   `{"errorMessages": [], "errors": {field: message}}`, an unknown project or issue type too;
//! - `POST /rest/api/3/issue/{key}/comment` — `{"body": ADF}` → 201 with the comment;
//! - `GET /rest/api/3/issue/{key}/transitions` → the transitions from the issue's status;
//! - `POST /rest/api/3/issue/{key}/transitions` — `{"transition": {"id"}}` → 204, or 400 for a
//!   transition not available from the current status;
//! - `GET /rest/api/3/issue/{key}`; any other method there is 405 (the resource has no POST);
//! - an unknown issue is 404 `Issue does not exist or you do not have permission to see it.`
//!
//! Every call needs `Authorization: Basic base64(email:api_token)` or `Bearer <token>` (401
//! otherwise). `throttle(n, secs)` answers the next `n` calls 429 with `Retry-After`;
//! `lose_create_answers(n)` creates the next `n` issues and then drops the connection, as when
//! an answer is lost on the way back.

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::server::{Received, Reply, Vendor};

pub const EMAIL: &str = "costwatch-bot@example.com";
pub const API_TOKEN: &str = "ATATT3xFfGF0-fake-jira-api-token";
/// `Basic base64(EMAIL:API_TOKEN)`, written out so that the fake does not share the encoder
/// under test.
pub const BASIC_AUTH: &str =
    "Basic Y29zdHdhdGNoLWJvdEBleGFtcGxlLmNvbTpBVEFUVDN4RmZHRjAtZmFrZS1qaXJhLWFwaS10b2tlbg==";
pub const BEARER_TOKEN: &str = "fake-oauth-access-token";
/// The OAuth 2.0 gateway's path to the fake site (`https://api.atlassian.com` + this).
pub const OAUTH_PREFIX: &str = "/ex/jira/11223344-a1b2-3b33-c444-def123456789";
/// The projects and issue types the fake site has.
pub const PROJECTS: [&str; 2] = ["FIN", "OPS"];
pub const ISSUE_TYPES: [&str; 3] = ["Task", "Bug", "Story"];
/// The workflow: statuses and the transitions into them (id, name, to).
const WORKFLOW: [(&str, &str, &str); 3] = [
    ("11", "To Do", "To Do"),
    ("21", "In Progress", "In Progress"),
    ("31", "Done", "Done"),
];

#[derive(Debug, Clone)]
pub struct Issue {
    pub id: String,
    pub key: String,
    pub fields: Value,
    pub status: String,
    pub comments: Vec<Value>,
}

impl Issue {
    pub fn labels(&self) -> Vec<String> {
        self.fields["labels"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub struct JiraSite {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    throttle: Vec<u32>,
    lose_create_answers: usize,
    issues: Vec<Issue>,
}

impl JiraSite {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` calls get 429 with `Retry-After: secs`.
    pub fn throttle(&self, n: usize, secs: u32) {
        self.lock().throttle.extend(std::iter::repeat_n(secs, n));
    }

    /// The next `n` creates succeed but their answers are lost (the connection drops).
    pub fn lose_create_answers(&self, n: usize) {
        self.lock().lose_create_answers += n;
    }

    /// An issue a person filed in `project` before costwatch ran (a tracking issue the daily
    /// report comments on); returns its key, numbered like the site's other issues.
    pub fn file_issue(&self, project: &str, summary: &str) -> String {
        let mut state = self.lock();
        let n = state.issues.len() + 1;
        let key = format!("{project}-{n}");
        state.issues.push(Issue {
            id: format!("{}", 10_000 + n),
            key: key.clone(),
            fields: json!({"summary": summary, "project": {"key": project}}),
            status: "To Do".into(),
            comments: Vec::new(),
        });
        key
    }

    /// Every issue, in creation order.
    pub fn issues(&self) -> Vec<Issue> {
        self.lock().issues.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn errors(status: u16, messages: &[&str], fields: Value) -> Reply {
    Reply::json(status, json!({"errorMessages": messages, "errors": fields}))
}

fn no_issue() -> Reply {
    errors(
        404,
        &["Issue does not exist or you do not have permission to see it."],
        json!({}),
    )
}

impl Vendor for JiraSite {
    fn handle(&self, request: &Received, base: &str) -> Reply {
        let auth = request.header("authorization").unwrap_or_default();
        if auth != BASIC_AUTH && auth != format!("Bearer {BEARER_TOKEN}") {
            return Reply::text(401, "Client must be authenticated to access this resource.");
        }
        let mut state = self.lock();
        if !state.throttle.is_empty() {
            let secs = state.throttle.remove(0);
            return errors(429, &["Rate limit exceeded."], json!({}))
                .with_header("retry-after", &secs.to_string());
        }
        // A site (`/rest/api/3/…`) or, for OAuth 2.0, the gateway (`/ex/jira/<cloud id>/rest/…`).
        let path = request.path.split('?').next().unwrap_or_default();
        let path = path.strip_prefix(OAUTH_PREFIX).unwrap_or(path);
        let Some(rest) = path.strip_prefix("/rest/api/3/") else {
            return Reply::text(404, "Not Found");
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let method = request.method.as_str();
        match (method, segments.as_slice()) {
            ("POST", ["search", "jql"]) => search(&state, request),
            ("POST", ["issue"]) => {
                let reply = create(&mut state, request, base);
                if reply.status() == Some(201) && state.lose_create_answers > 0 {
                    state.lose_create_answers -= 1;
                    return Reply::Drop;
                }
                reply
            }
            (_, ["issue", key, rest @ ..]) => {
                let Some(issue) = state.issues.iter_mut().find(|i| i.key == *key) else {
                    return no_issue();
                };
                match (method, rest) {
                    ("GET", []) => Reply::json(
                        200,
                        json!({"id": issue.id, "key": issue.key, "fields": issue.fields}),
                    ),
                    (_, []) => Reply::text(405, "Method Not Allowed"),
                    ("POST", ["comment"]) => comment(issue, request, base),
                    ("GET", ["transitions"]) => Reply::json(
                        200,
                        json!({"expand": "transitions", "transitions": available(&issue.status)}),
                    ),
                    ("POST", ["transitions"]) => transition(issue, request),
                    _ => Reply::text(404, "Not Found"),
                }
            }
            _ => Reply::text(404, "Not Found"),
        }
    }
}

fn available(status: &str) -> Vec<Value> {
    WORKFLOW
        .iter()
        .filter(|(_, _, to)| *to != status)
        .map(|(id, name, to)| json!({"id": id, "name": name, "to": {"name": to}, "isAvailable": true}))
        .collect()
}

/// `project = "FIN" AND labels = "x" ORDER BY …`: each `field = "value"` clause must hold.
fn search(state: &State, request: &Received) -> Reply {
    let Some(jql) = request
        .json()
        .and_then(|b| b["jql"].as_str().map(str::to_owned))
    else {
        return errors(400, &["The JQL query is missing."], json!({}));
    };
    let query = jql.split(" ORDER BY ").next().unwrap_or_default();
    let mut clauses = Vec::new();
    for clause in query.split(" AND ") {
        let Some((field, value)) = clause.split_once('=') else {
            return errors(
                400,
                &[&format!("Error in the JQL Query: {clause}")],
                json!({}),
            );
        };
        clauses.push((
            field.trim().to_owned(),
            value.trim().trim_matches('"').to_owned(),
        ));
    }
    let found: Vec<Value> = state
        .issues
        .iter()
        .filter(|i| {
            clauses.iter().all(|(field, value)| match field.as_str() {
                "project" => i.fields["project"]["key"] == value.as_str(),
                "labels" => i.labels().contains(value),
                _ => false,
            })
        })
        .take(
            request
                .json()
                .and_then(|b| b["maxResults"].as_u64())
                .unwrap_or(50) as usize,
        )
        .map(|i| json!({"id": i.id, "key": i.key, "fields": {"status": {"name": i.status}}}))
        .collect();
    Reply::json(200, json!({"issues": found, "isLast": true}))
}

fn create(state: &mut State, request: &Received, base: &str) -> Reply {
    let Some(fields) = request.json().map(|b| b["fields"].clone()) else {
        return errors(400, &["Can not deserialize the request body."], json!({}));
    };
    let mut bad = serde_json::Map::new();
    let project = fields["project"]["key"].as_str().unwrap_or_default();
    if !PROJECTS.contains(&project) {
        bad.insert("project".into(), json!("valid project is required"));
    }
    if !fields["issuetype"]["name"]
        .as_str()
        .is_some_and(|t| ISSUE_TYPES.contains(&t))
    {
        bad.insert("issuetype".into(), json!("Specify a valid issue type"));
    }
    match fields["summary"].as_str() {
        None | Some("") => {
            bad.insert(
                "summary".into(),
                json!("You must specify a summary of the issue."),
            );
        }
        Some(s) if s.chars().count() > 255 || s.contains('\n') => {
            bad.insert(
                "summary".into(),
                json!("Summary must be less than 255 characters and one line."),
            );
        }
        Some(_) => {}
    }
    if let Err(why) = check_adf(&fields["description"]) {
        bad.insert("description".into(), json!(why));
    }
    if fields["labels"]
        .as_array()
        .is_some_and(|l| l.iter().any(|l| l.as_str().is_none_or(|s| s.contains(' '))))
    {
        bad.insert("labels".into(), json!("The label must not contain spaces."));
    }
    if !bad.is_empty() {
        return errors(400, &[], Value::Object(bad));
    }
    let n = state.issues.len() + 1;
    let id = format!("{}", 10_000 + n);
    let key = format!("{project}-{n}");
    state.issues.push(Issue {
        id: id.clone(),
        key: key.clone(),
        fields,
        status: "To Do".into(),
        comments: Vec::new(),
    });
    Reply::json(
        201,
        json!({"id": id, "key": key, "self": format!("{base}/rest/api/3/issue/{id}")}),
    )
}

fn comment(issue: &mut Issue, request: &Received, base: &str) -> Reply {
    let body = request
        .json()
        .map(|b| b["body"].clone())
        .unwrap_or_default();
    if let Err(why) = check_adf(&body) {
        return errors(400, &[], json!({ "comment": why }));
    }
    let id = format!("{}", 20_000 + issue.comments.len());
    issue.comments.push(body.clone());
    Reply::json(
        201,
        json!({"id": id, "self": format!("{base}/rest/api/3/issue/{}/comment/{id}", issue.id), "body": body}),
    )
}

fn transition(issue: &mut Issue, request: &Received) -> Reply {
    let id = request
        .json()
        .and_then(|b| b["transition"]["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match WORKFLOW
        .iter()
        .find(|(tid, _, to)| *tid == id && *to != issue.status)
    {
        Some((_, _, to)) => {
            issue.status = (*to).to_owned();
            Reply::Respond {
                status: 204,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }
        None => errors(
            400,
            &[&format!(
                "Transition id '{id}' is not valid for this issue."
            )],
            json!({}),
        ),
    }
}

/// What Jira checks of a document before storing it (the tests validate the full schema): a
/// version-1 `doc` whose nodes all have a type, text nodes non-empty text, within 32,767
/// characters.
fn check_adf(doc: &Value) -> Result<(), String> {
    if doc["type"] != "doc" || doc["version"] != 1 || !doc["content"].is_array() {
        return Err(
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                .into(),
        );
    }
    if doc.to_string().chars().count() > 32_767 {
        return Err(
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
                .into(),
        );
    }
    fn walk(node: &Value) -> Result<(), String> {
        if !node["type"].is_string() {
            return Err("INVALID_INPUT: a node has no type".into());
        }
        if node["type"] == "text" && node["text"].as_str().is_none_or(str::is_empty) {
            return Err("INVALID_INPUT: empty text node".into());
        }
        node["content"]
            .as_array()
            .map_or(Ok(()), |c| c.iter().try_for_each(walk))
    }
    walk(doc)
}
