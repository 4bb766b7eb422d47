//! The secret resolver on Secrets Manager: `sm:<name>` is the secret's `SecretString` at its
//! current version (`AWSCURRENT`). Called in init only, once per distinct reference.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use omnidesk_domain::secrets::{MAX_SECRET_BYTES, SecretError, SecretRef, SecretResolver};

#[derive(Debug, Clone)]
pub struct SecretsManagerResolver {
    client: Client,
}

impl SecretsManagerResolver {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretResolver for SecretsManagerResolver {
    async fn resolve(&self, reference: &SecretRef) -> Result<String, SecretError> {
        let SecretRef::SecretsManager(name) = reference;
        let output = self.client.get_secret_value().secret_id(name).send().await.map_err(|error| {
            let Some(service_error) = error.as_service_error() else {
                return SecretError::Unavailable(reference.clone(), DisplayErrorContext(&error).to_string());
            };
            match service_error {
                GetSecretValueError::ResourceNotFoundException(_) => SecretError::NotFound(reference.clone()),
                GetSecretValueError::DecryptionFailure(_)
                | GetSecretValueError::InvalidRequestException(_) => {
                    SecretError::Unusable(reference.clone(), DisplayErrorContext(service_error).to_string())
                }
                other if other.code() == Some("AccessDeniedException") => {
                    SecretError::Denied(reference.clone())
                }
                other => SecretError::Unavailable(reference.clone(), DisplayErrorContext(other).to_string()),
            }
        })?;
        let Some(value) = output.secret_string() else {
            return Err(SecretError::Unusable(reference.clone(), "a binary secret; store it as text".into()));
        };
        if value.len() > MAX_SECRET_BYTES {
            return Err(SecretError::Unusable(reference.clone(), format!("over {MAX_SECRET_BYTES} bytes")));
        }
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
    use aws_sdk_secretsmanager::types::error::{DecryptionFailure, ResourceNotFoundException};
    use aws_smithy_mocks::{RuleMode, mock};

    use super::*;

    fn sm(name: &str) -> SecretRef {
        SecretRef::SecretsManager(name.into())
    }

    #[tokio::test]
    async fn a_secret_string_is_the_value_and_failures_say_what_to_fix() {
        let found = mock!(Client::get_secret_value)
            .match_requests(|r| r.secret_id() == Some("omnidesk/chat/web"))
            .then_output(|| GetSecretValueOutput::builder().secret_string("web-secret-0123456789").build());
        let missing = mock!(Client::get_secret_value).then_error(|| {
            GetSecretValueError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
        });
        let binary = mock!(Client::get_secret_value).then_output(|| {
            GetSecretValueOutput::builder().secret_binary(aws_smithy_types::Blob::new(b"x".to_vec())).build()
        });
        let undecryptable = mock!(Client::get_secret_value)
            .then_error(|| GetSecretValueError::DecryptionFailure(DecryptionFailure::builder().build()));
        let denied = mock!(Client::get_secret_value).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"AccessDeniedException","message":"not authorized"}"#,
                ),
            )
        });
        let client = crate::mock_client::mock_client!(
            aws_sdk_secretsmanager,
            RuleMode::Sequential,
            &[&found, &missing, &binary, &undecryptable, &denied]
        );
        let resolver = SecretsManagerResolver::new(client);
        assert_eq!(resolver.resolve(&sm("omnidesk/chat/web")).await.unwrap(), "web-secret-0123456789");
        assert_eq!(resolver.resolve(&sm("gone")).await, Err(SecretError::NotFound(sm("gone"))));
        assert!(
            matches!(resolver.resolve(&sm("b")).await, Err(SecretError::Unusable(_, m)) if m.contains("binary"))
        );
        assert!(matches!(resolver.resolve(&sm("k")).await, Err(SecretError::Unusable(..))));
        assert_eq!(resolver.resolve(&sm("other/x")).await, Err(SecretError::Denied(sm("other/x"))));
    }
}
