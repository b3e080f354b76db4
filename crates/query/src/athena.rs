//! The Athena adapter: start the query in the stack's workgroup (which holds the encrypted result
//! location and the per-query bytes-scanned cutoff), poll until it ends, read every page of its
//! results. Athena's own failure says whether a retry can help (`AthenaError.Retryable`); a
//! query cancelled by the workgroup's cutoff is a failure to report, not to retry.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_athena::Client;
use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};

use crate::{Answer, Engine, QueryError, Rows};

/// The SDK crate, for the caller that builds the client.
pub use aws_sdk_athena;

/// Where and how long queries run.
#[derive(Debug, Clone)]
pub struct AthenaSettings {
    pub workgroup: String,
    /// The Glue database holding the export's table.
    pub database: String,
    /// The first wait between polls; each wait doubles up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// Past this the query is stopped and reported as timed out (the Lambda's own deadline
    /// must leave room for it).
    pub timeout: Duration,
}

impl AthenaSettings {
    pub fn new(workgroup: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            workgroup: workgroup.into(),
            database: database.into(),
            first_poll: Duration::from_millis(250),
            max_poll: Duration::from_secs(2),
            timeout: Duration::from_secs(240),
        }
    }
}

pub struct AthenaEngine {
    client: Client,
    settings: AthenaSettings,
}

impl AthenaEngine {
    pub fn new(client: Client, settings: AthenaSettings) -> Self {
        Self { client, settings }
    }

    /// An engine on a new client for `config` (the function's `&SdkConfig`), in the stack's
    /// workgroup and database: what collect, detect and recommend each start with.
    pub fn connect(
        config: impl Into<aws_sdk_athena::Config>,
        workgroup: impl Into<String>,
        database: impl Into<String>,
    ) -> Self {
        Self::new(
            Client::from_conf(config.into()),
            AthenaSettings::new(workgroup, database),
        )
    }

    async fn start(&self, sql: &str) -> Result<String, QueryError> {
        let started = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.settings.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.settings.database)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk_error)?;
        started
            .query_execution_id()
            .map(str::to_owned)
            .ok_or_else(|| QueryError::Shape("StartQueryExecution returned no id".into()))
    }

    /// Polls until the query ends; the bytes it scanned when it succeeded.
    async fn wait(&self, id: &str) -> Result<u64, QueryError> {
        let started = tokio::time::Instant::now();
        let mut pause = self.settings.first_poll;
        loop {
            let out = self
                .client
                .get_query_execution()
                .query_execution_id(id)
                .send()
                .await
                .map_err(sdk_error)?;
            let execution = out.query_execution().ok_or_else(|| {
                QueryError::Shape("GetQueryExecution returned no execution".into())
            })?;
            let status = execution.status();
            let reason = || {
                let athena = status.and_then(|s| s.athena_error());
                let text = athena
                    .and_then(|e| e.error_message())
                    .or_else(|| status.and_then(|s| s.state_change_reason()))
                    .unwrap_or("no reason given");
                format!("execution {id}: {text}")
            };
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => {
                    let scanned = execution
                        .statistics()
                        .and_then(|s| s.data_scanned_in_bytes())
                        .unwrap_or(0);
                    return Ok(u64::try_from(scanned).unwrap_or(0));
                }
                Some(QueryExecutionState::Failed) => {
                    let retryable = status
                        .and_then(|s| s.athena_error())
                        .is_some_and(|e| e.retryable());
                    return Err(if retryable {
                        QueryError::Unavailable(reason())
                    } else {
                        QueryError::Failed(reason())
                    });
                }
                Some(QueryExecutionState::Cancelled) => {
                    return Err(QueryError::Failed(format!("cancelled: {}", reason())));
                }
                _ => {}
            }
            if started.elapsed() >= self.settings.timeout {
                // Best effort: a query left running keeps scanning (and billing).
                let _ = self
                    .client
                    .stop_query_execution()
                    .query_execution_id(id)
                    .send()
                    .await;
                return Err(QueryError::TimedOut {
                    execution_id: id.to_owned(),
                    seconds: self.settings.timeout.as_secs(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.settings.max_poll);
        }
    }

    /// Every page of the results; the first row of the first page repeats the column names.
    async fn results(&self, id: &str) -> Result<Rows, QueryError> {
        let mut rows = Rows::default();
        let mut token: Option<String> = None;
        let mut first_page = true;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(sdk_error)?;
            let set = page.result_set();
            if first_page {
                rows.columns = set
                    .and_then(|s| s.result_set_metadata())
                    .map(|m| {
                        m.column_info()
                            .iter()
                            .map(|c| c.name().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
            }
            let mut data = set.map(|s| s.rows()).unwrap_or_default().iter();
            if first_page && !rows.columns.is_empty() {
                data.next();
            }
            first_page = false;
            for row in data {
                rows.rows.push(
                    row.data()
                        .iter()
                        .map(|d| d.var_char_value().map(str::to_owned))
                        .collect(),
                );
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(rows),
            }
        }
    }
}

#[async_trait]
impl Engine for AthenaEngine {
    async fn run(&self, sql: &str) -> Result<Answer, QueryError> {
        let id = self.start(sql).await?;
        let bytes_scanned = self.wait(&id).await?;
        let rows = self.results(&id).await?;
        tracing::info!(execution = %id, rows = rows.rows.len(), bytes_scanned, "athena query done");
        Ok(Answer {
            rows,
            bytes_scanned,
        })
    }
}

/// Throttling, 5xx and transport failures may pass; a refused request (bad SQL, no such
/// workgroup, access denied) will not.
fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> QueryError {
    let text = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if code == "TooManyRequestsException" || code == "InternalServerException" {
                QueryError::Unavailable(text)
            } else {
                QueryError::Failed(text)
            }
        }
        _ => QueryError::Unavailable(text),
    }
}
