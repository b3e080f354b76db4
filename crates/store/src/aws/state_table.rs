//! The state table as template.yaml declares it (`StateTable`), for the places that create it
//! themselves: the CLI's local stack on moto and the tests. One definition, so that the index
//! the rollup reads need ([`DAY_INDEX`]) cannot be left out of one of them.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use super::dynamo_rollups::DAY_INDEX;

/// CreateTable for `name`: `pk` HASH and `sk` RANGE (strings), on demand, with [`DAY_INDEX`]
/// (`sk` HASH, `pk` RANGE, projecting `cost`). The caller sends it.
pub fn create_state_table(
    client: &Client,
    name: &str,
) -> Result<CreateTableFluentBuilder, BuildError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let by_day = GlobalSecondaryIndex::builder()
        .index_name(DAY_INDEX)
        .key_schema(key("sk", KeyType::Hash)?)
        .key_schema(key("pk", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes("cost")
                .build(),
        )
        .build()?;
    Ok(client
        .create_table()
        .table_name(name)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(by_day)
        .billing_mode(BillingMode::PayPerRequest))
}
