//! Typed attribute getters on DynamoDB items, so the adapters read `item.string("sk")?` instead
//! of matching `AttributeValue`s, and a malformed item is a `Corrupt` error naming its key.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::corrupt;
use crate::error::Result;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) trait ItemExt {
    /// `pk/sk` of the item, for error messages.
    fn describe(&self) -> String;
    fn string(&self, name: &str) -> Result<&str>;
    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T>;
    fn number_opt<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>>;
    fn strings(&self, name: &str) -> Result<Vec<String>>;
}

impl ItemExt for Item {
    fn describe(&self) -> String {
        let part = |name| match self.get(name) {
            Some(AttributeValue::S(s)) => s.as_str(),
            _ => "?",
        };
        format!("dynamodb item {}/{}", part("pk"), part("sk"))
    }

    fn string(&self, name: &str) -> Result<&str> {
        match self.get(name) {
            Some(AttributeValue::S(s)) => Ok(s),
            _ => Err(corrupt(
                self.describe(),
                format!("`{name}` is not a string"),
            )),
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        self.number_opt(name)?
            .ok_or_else(|| corrupt(self.describe(), format!("`{name}` is missing")))
    }

    fn number_opt<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(n)) => n
                .parse()
                .map(Some)
                .map_err(|_| corrupt(self.describe(), format!("`{name}` = {n} is out of range"))),
            Some(_) => Err(corrupt(
                self.describe(),
                format!("`{name}` is not a number"),
            )),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let bad = || {
            corrupt(
                self.describe(),
                format!("`{name}` is not a list of strings"),
            )
        };
        match self.get(name) {
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| v.as_s().cloned().map_err(|_| bad()))
                .collect(),
            _ => Err(bad()),
        }
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
