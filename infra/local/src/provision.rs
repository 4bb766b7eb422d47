//! Creates the desk's table and queues on an AWS endpoint (moto locally, or a sandbox
//! account) from `template.yaml` itself: key schema, indexes, TTL, redrive policies and
//! retention all come from the template, so the tests and the deployed stack cannot drift.
//! Names are `<prefix><logical id>` (the bucket's lower-cased, as S3 wants); creating what
//! already exists is a no-op. Only what the functions name in their environment is created:
//! the SES receipt rules, alarms and the email function's on-failure queue have no local
//! counterpart.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml_ng::Value;

/// The template the stack deploys, compiled in so the local desk runs from anywhere.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("template.yaml: {0}")]
    Template(String),
    #[error("{action}: {message}")]
    Aws { action: String, message: String },
}

fn template_error(message: impl Into<String>) -> ProvisionError {
    ProvisionError::Template(message.into())
}

fn aws_error(action: &str, error: impl std::error::Error) -> ProvisionError {
    ProvisionError::Aws {
        action: action.to_owned(),
        message: aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}

/// Where the provisioned resources are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub table: String,
    pub inbound_queue_url: String,
    pub inbound_dead_letter_url: String,
    pub outbound_queue_url: String,
    pub outbound_dead_letter_url: String,
    /// The mail bucket (raw mail, attachments), if a function of the template has one.
    pub blob_bucket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// Prepended to every logical id; a fresh prefix gives a fresh, empty desk.
    pub prefix: String,
    /// Seconds. Tests shorten the template's visibility timeout so redelivery happens in
    /// seconds; everything else is as deployed.
    pub visibility_timeout: Option<u32>,
}

pub async fn provision(
    sdk: &SdkConfig,
    template: &str,
    options: &ProvisionOptions,
) -> Result<Provisioned, ProvisionError> {
    let template: Value = serde_yaml_ng::from_str(template).map_err(|e| template_error(e.to_string()))?;
    let resources = template.get("Resources").ok_or_else(|| template_error("no Resources"))?;
    let refs = environment_refs(resources);
    let logical =
        |var: &str| refs.get(var).cloned().ok_or_else(|| template_error(format!("no function has {var}")));

    let table_id = logical("TABLE_NAME")?;
    let table = format!("{}{table_id}", options.prefix);
    create_table(sdk, &table, properties(resources, &table_id)?).await?;

    let sqs = aws_sdk_sqs::Client::new(sdk);
    let (inbound_queue_url, inbound_dead_letter_url) =
        create_queue_with_dlq(&sqs, resources, &logical("INBOUND_QUEUE_URL")?, options).await?;
    let (outbound_queue_url, outbound_dead_letter_url) =
        create_queue_with_dlq(&sqs, resources, &logical("OUTBOUND_QUEUE_URL")?, options).await?;
    let blob_bucket = match refs.get("BLOB_BUCKET") {
        Some(bucket_id) => Some(create_bucket(sdk, &bucket_name(&options.prefix, bucket_id)).await?),
        None => None,
    };
    Ok(Provisioned {
        table,
        inbound_queue_url,
        inbound_dead_letter_url,
        outbound_queue_url,
        outbound_dead_letter_url,
        blob_bucket,
    })
}

/// `<prefix><logical id>` as a valid bucket name: lower case, and `-` for anything S3 does
/// not allow.
fn bucket_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}{logical_id}")
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .take(63)
        .collect()
}

async fn create_bucket(sdk: &SdkConfig, name: &str) -> Result<String, ProvisionError> {
    // Path-style addressing against an endpoint, as moto needs.
    let s3 = omnidesk_aws::Clients::new(sdk).s3();
    let mut request = s3.create_bucket().bucket(name);
    // us-east-1 is the one region that takes no location constraint.
    if let Some(region) = sdk.region().map(|r| r.as_ref()).filter(|r| *r != "us-east-1") {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build();
        request = request.create_bucket_configuration(location);
    }
    match request.send().await {
        Ok(_) => Ok(name.to_owned()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => {
            Ok(name.to_owned())
        }
        Err(e) => Err(aws_error("CreateBucket", e)),
    }
}

/// Environment variable → logical id, from every function's `!Ref`s.
fn environment_refs(resources: &Value) -> HashMap<String, String> {
    let mut refs = HashMap::new();
    let Some(resources) = resources.as_mapping() else { return refs };
    for resource in resources.values() {
        let Some(variables) = resource
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (name, value) in variables {
            if let (Some(name), Some(target)) = (name.as_str(), tagged(value, "Ref")) {
                refs.insert(name.to_owned(), target.to_owned());
            }
        }
    }
    refs
}

/// The argument of a short-form intrinsic like `!Ref X` or `!GetAtt X.Arn`.
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => tagged.value.as_str(),
        _ => None,
    }
}

fn properties<'a>(resources: &'a Value, logical_id: &str) -> Result<&'a Value, ProvisionError> {
    resources
        .get(logical_id)
        .and_then(|r| r.get("Properties"))
        .ok_or_else(|| template_error(format!("{logical_id} has no Properties")))
}

fn text<'a>(value: &'a Value, field: &str) -> Result<&'a str, ProvisionError> {
    value.get(field).and_then(Value::as_str).ok_or_else(|| template_error(format!("missing {field}")))
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    let elements = value.as_sequence().ok_or_else(|| template_error("KeySchema is not a list"))?;
    elements
        .iter()
        .map(|element| {
            KeySchemaElement::builder()
                .attribute_name(text(element, "AttributeName")?)
                .key_type(KeyType::from(text(element, "KeyType")?))
                .build()
                .map_err(|e| template_error(e.to_string()))
        })
        .collect()
}

async fn create_table(sdk: &SdkConfig, name: &str, properties: &Value) -> Result<(), ProvisionError> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut request = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for definition in
        properties.get("AttributeDefinitions").and_then(Value::as_sequence).into_iter().flatten()
    {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(definition, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(definition, "AttributeType")?))
                .build()
                .map_err(|e| template_error(e.to_string()))?,
        );
    }
    request = request.set_key_schema(Some(key_schema(
        properties.get("KeySchema").ok_or_else(|| template_error("Table has no KeySchema"))?,
    )?));
    for index in properties.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let projection =
            index.get("Projection").and_then(|p| p.get("ProjectionType")).and_then(Value::as_str);
        let projected: Option<Vec<String>> = index
            .get("Projection")
            .and_then(|p| p.get("NonKeyAttributes"))
            .and_then(Value::as_sequence)
            .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName")?)
                .set_key_schema(Some(key_schema(index.get("KeySchema").unwrap_or(&Value::Null))?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(projection.unwrap_or("ALL")))
                        .set_non_key_attributes(projected)
                        .build(),
                )
                .build()
                .map_err(|e| template_error(e.to_string()))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => return Err(aws_error("CreateTable", e)),
    }
    if let Some(ttl) = properties.get("TimeToLiveSpecification") {
        let enabled = ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(text(ttl, "AttributeName")?)
            .enabled(enabled)
            .build()
            .map_err(|e| template_error(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(specification)
            .send()
            .await
            .map_err(|e| aws_error("UpdateTimeToLive", e))?;
    }
    Ok(())
}

/// Creates the dead-letter queue named in the queue's redrive policy, then the queue.
async fn create_queue_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    resources: &Value,
    logical_id: &str,
    options: &ProvisionOptions,
) -> Result<(String, String), ProvisionError> {
    let queue = properties(resources, logical_id)?;
    let redrive = queue
        .get("RedrivePolicy")
        .ok_or_else(|| template_error(format!("{logical_id} has no RedrivePolicy")))?;
    let dlq_id = redrive
        .get("deadLetterTargetArn")
        .and_then(|arn| tagged(arn, "GetAtt"))
        .and_then(|target| target.strip_suffix(".Arn"))
        .ok_or_else(|| {
            template_error(format!("{logical_id}: deadLetterTargetArn is not !GetAtt <queue>.Arn"))
        })?;
    let max_receive_count = redrive
        .get("maxReceiveCount")
        .and_then(Value::as_u64)
        .ok_or_else(|| template_error(format!("{logical_id}: no maxReceiveCount")))?;

    let dlq_url = create_queue(
        sqs,
        &format!("{}{dlq_id}", options.prefix),
        properties(resources, dlq_id)?,
        None,
        options,
    )
    .await?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_error("GetQueueAttributes", e))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| ProvisionError::Aws {
            action: "GetQueueAttributes".into(),
            message: "no QueueArn".into(),
        })?;
    let policy = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count })
        .to_string();
    let url =
        create_queue(sqs, &format!("{}{logical_id}", options.prefix), queue, Some(policy), options).await?;
    Ok((url, dlq_url))
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    properties: &Value,
    redrive_policy: Option<String>,
    options: &ProvisionOptions,
) -> Result<String, ProvisionError> {
    let mut request = sqs.create_queue().queue_name(name);
    let number = |field: &str| properties.get(field).and_then(Value::as_u64);
    let visibility = options.visibility_timeout.map(u64::from).or_else(|| number("VisibilityTimeout"));
    if let Some(seconds) = visibility {
        request = request.attributes(QueueAttributeName::VisibilityTimeout, seconds.to_string());
    }
    if let Some(seconds) = number("MessageRetentionPeriod") {
        request = request.attributes(QueueAttributeName::MessageRetentionPeriod, seconds.to_string());
    }
    if let Some(policy) = redrive_policy {
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    let output = request.send().await.map_err(|e| aws_error("CreateQueue", e))?;
    output.queue_url().map(str::to_owned).ok_or_else(|| ProvisionError::Aws {
        action: "CreateQueue".into(),
        message: format!("no URL for {name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_names_the_table_and_both_queues() {
        let template: Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
        let refs = environment_refs(template.get("Resources").unwrap());
        assert_eq!(refs.get("TABLE_NAME").map(String::as_str), Some("Table"));
        assert_eq!(refs.get("INBOUND_QUEUE_URL").map(String::as_str), Some("InboundQueue"));
        assert_eq!(refs.get("OUTBOUND_QUEUE_URL").map(String::as_str), Some("OutboundQueue"));
        assert_eq!(refs.get("BLOB_BUCKET").map(String::as_str), Some("MailBucket"));
    }

    /// The store reads keys from its indexes and prices their writes from what they project:
    /// the template must declare exactly those indexes.
    #[test]
    fn the_template_declares_the_indexes_the_store_reads_with_their_projections() {
        let template: Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
        let indexes =
            template["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"].as_sequence().unwrap();
        let declared: Vec<(String, String, String, String, Vec<String>)> = indexes
            .iter()
            .map(|index| {
                let key = |kind: &str| {
                    let schema = index["KeySchema"].as_sequence().unwrap();
                    let element = schema.iter().find(|e| e["KeyType"].as_str() == Some(kind)).unwrap();
                    element["AttributeName"].as_str().unwrap().to_owned()
                };
                let projection = &index["Projection"];
                let projected = projection
                    .get("NonKeyAttributes")
                    .and_then(Value::as_sequence)
                    .map(|names| names.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                (
                    index["IndexName"].as_str().unwrap().to_owned(),
                    key("HASH"),
                    key("RANGE"),
                    projection["ProjectionType"].as_str().unwrap().to_owned(),
                    projected,
                )
            })
            .collect();
        let expected: Vec<(String, String, String, String, Vec<String>)> = omnidesk_aws::TABLE_INDEXES
            .iter()
            .map(|index| {
                let kind = match (index.all, index.projected.is_empty()) {
                    (true, _) => "ALL",
                    (false, true) => "KEYS_ONLY",
                    (false, false) => "INCLUDE",
                };
                let projected = index.projected.iter().map(|n| (*n).to_owned()).collect();
                (
                    index.name.to_owned(),
                    index.hash.to_owned(),
                    index.range.to_owned(),
                    kind.to_owned(),
                    projected,
                )
            })
            .collect();
        assert_eq!(declared, expected);
    }

    #[test]
    fn bucket_names_are_what_s3_accepts() {
        assert_eq!(bucket_name("omnidesk-local-", "MailBucket"), "omnidesk-local-mailbucket");
        assert_eq!(bucket_name("t42_0/", "MailBucket"), "t42-0-mailbucket");
    }
}
