//! The data lake on S3: one object per key in one bucket.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::error::{aws_error, corrupt};
use crate::error::{Result, StoreError};
use crate::key::{validate_delete_prefix, validate_key, validate_prefix};
use crate::ports::{LakeReader, LakeWriter};

/// DeleteObjects takes at most 1,000 keys per request.
const DELETE_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct S3Lake {
    client: Client,
    bucket: String,
}

impl S3Lake {
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        let mut s3 = aws_sdk_s3::config::Builder::from(config);
        // Virtual-hosted addressing (bucket.host) is what AWS wants, but an emulator on
        // 127.0.0.1/localhost has no per-bucket host names: use path style with an endpoint override.
        if config.endpoint_url().is_some() {
            s3 = s3.force_path_style(true);
        }
        Self {
            client: Client::from_conf(s3.build()),
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl LakeWriter for S3Lake {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<()> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| aws_error("s3:PutObject", e))?;
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        validate_delete_prefix(prefix)?;
        let keys = self.list(prefix).await?;
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| corrupt(prefix, e.to_string()))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| corrupt(prefix, e.to_string()))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_error("s3:DeleteObjects", e))?;
            // DeleteObjects answers 200 even when single keys fail; a partial delete must not
            // pass for a replaced partition.
            if let Some(failed) = out.errors().first() {
                return Err(StoreError::Aws {
                    operation: "s3:DeleteObjects",
                    message: format!(
                        "{} of {} keys not deleted, first `{}`: {}",
                        out.errors().len(),
                        batch.len(),
                        failed.key().unwrap_or_default(),
                        failed.message().unwrap_or_default()
                    ),
                    retryable: true,
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl LakeReader for S3Lake {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(aws_error("s3:GetObject", e)),
        };
        let body = out.body.collect().await.map_err(|e| StoreError::Aws {
            operation: "s3:GetObject",
            message: format!("reading body of `{key}`: {e}"),
            retryable: true,
        })?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        validate_prefix(prefix)?;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .set_prefix((!prefix.is_empty()).then(|| prefix.to_owned()))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("s3:ListObjectsV2", e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        // S3 lists in UTF-8 byte order already; sorting keeps the port's promise explicit.
        keys.sort();
        Ok(keys)
    }
}
