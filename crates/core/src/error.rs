use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CoreError {
    #[error("invalid scope key `{0}`: {1}")]
    InvalidScope(String, &'static str),
    #[error("unknown {what} `{value}`")]
    UnknownValue { what: &'static str, value: String },
}
