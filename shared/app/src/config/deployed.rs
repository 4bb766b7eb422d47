//! What changes when the configuration runs on AWS rather than on the local desk: secrets
//! must be references (the file is stored in S3 and shown in consoles; the values live in
//! Secrets Manager), local bearer tokens and loopback callback URLs are refused (they
//! only make sense on one machine), and references are resolved once, at start.

use std::collections::BTreeMap;
use std::net::IpAddr;

use omnidesk_domain::secrets::{SecretRef, SecretResolver};

use super::{ChatInbox, ConfigError, DeskConfig, Secret, invalid};

/// Where the configuration runs; the rules above depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `omnidesk-local` and tests: literal secrets, bearer tokens and loopback URLs are fine.
    LocalDesk,
    /// The Lambda functions (and `config push`, which checks a file before they see it).
    Aws,
}

const LOOPBACK: &str = "a loopback address reaches nothing outside the local desk";

/// Checks what only the local desk may use.
pub(super) fn check_runtime(config: &DeskConfig, runtime: Runtime) -> Result<(), ConfigError> {
    if runtime == Runtime::LocalDesk {
        return Ok(());
    }
    if !config.auth.tokens.is_empty() {
        return Err(invalid(
            "auth.tokens",
            "bearer tokens are for the local desk only; on AWS agents sign in with Cognito",
        ));
    }
    for (i, inbox) in config.chat_inboxes.iter().enumerate() {
        for (name, secret) in secrets_of(inbox) {
            if secret.reference().is_none() {
                return Err(invalid(
                    format!("chat_inboxes[{i}].{name}"),
                    "on AWS a secret is a reference (sm:<name>), never the value",
                ));
            }
        }
        if is_loopback(&inbox.callback_url) {
            return Err(invalid(format!("chat_inboxes[{i}].callback_url"), LOOPBACK));
        }
    }
    if let Some(survey) = &config.survey {
        for (name, secret) in survey.secrets() {
            if secret.reference().is_none() {
                return Err(invalid(
                    format!("survey.{name}"),
                    "on AWS a secret is a reference (sm:<name>), never the value",
                ));
            }
        }
        if is_loopback(&survey.base_url) {
            return Err(invalid("survey.base_url", LOOPBACK));
        }
    }
    if let Some(social) = &config.social {
        for (field, secret) in social.secrets() {
            if secret.reference().is_none() {
                return Err(invalid(field, "on AWS a secret is a reference (sm:<name>), never the value"));
            }
        }
        for (field, url) in social.urls() {
            if is_loopback(url) {
                return Err(invalid(field, LOOPBACK));
            }
        }
    }
    if config.analytics.as_ref().is_some_and(|a| a.pseudonym_key.reference().is_none()) {
        return Err(invalid(
            "analytics.pseudonym_key",
            "on AWS a secret is a reference (sm:<name>), never the value",
        ));
    }
    let spike_webhook = config.analytics.as_ref().and_then(|a| a.spikes.notify_webhook.as_deref());
    if spike_webhook.is_some_and(is_loopback) {
        return Err(invalid("analytics.spikes.notify_webhook", LOOPBACK));
    }
    if let Some(shop) = &config.shop {
        for (name, secret) in shop.secrets() {
            if secret.reference().is_none() {
                return Err(invalid(
                    format!("shop.{name}"),
                    "on AWS a secret is a reference (sm:<name>), never the value",
                ));
            }
        }
        if is_loopback(&shop.url) {
            return Err(invalid("shop.url", LOOPBACK));
        }
    }
    let escalations = config.sla.iter().flat_map(|sla| sla.escalations.iter());
    for (i, rule) in escalations.enumerate() {
        if rule.notify_webhook.as_deref().is_some_and(is_loopback) {
            return Err(invalid(format!("sla.escalations[{i}].notify_webhook"), LOOPBACK));
        }
    }
    Ok(())
}

/// The inbox's secret fields with their names: `secret`, and `next_secret` during a rotation.
pub(super) fn secrets_of(inbox: &ChatInbox) -> impl Iterator<Item = (&'static str, &Secret)> {
    std::iter::once(("secret", &inbox.secret)).chain(inbox.next_secret.iter().map(|s| ("next_secret", s)))
}

fn secrets_of_mut(inbox: &mut ChatInbox) -> impl Iterator<Item = (&'static str, &mut Secret)> {
    std::iter::once(("secret", &mut inbox.secret))
        .chain(inbox.next_secret.iter_mut().map(|s| ("next_secret", s)))
}

fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => is_loopback_ip(ip),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

fn is_loopback_ip(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    ip.is_loopback() || ip.is_unspecified()
}

impl DeskConfig {
    /// A function's reading at start: `text` (the configuration object) under the AWS rules,
    /// with its secret references resolved through `secrets` — `None` for the functions that
    /// use no secret, whose roles may not read any.
    pub async fn deployed(text: &str, secrets: Option<&dyn SecretResolver>) -> Result<Self, ConfigError> {
        let mut config = Self::parse(text, Runtime::Aws)?;
        if let Some(secrets) = secrets {
            config.resolve_secrets(secrets).await?;
        }
        Ok(config)
    }

    /// Reads every referenced secret once (two inboxes sharing a secret cost one read) and
    /// checks the values like literal ones. Call once, in init; only functions that use the
    /// secrets do, so only their roles need to read them.
    pub async fn resolve_secrets(&mut self, resolver: &dyn SecretResolver) -> Result<(), ConfigError> {
        let mut values: BTreeMap<SecretRef, String> = BTreeMap::new();
        for (i, inbox) in self.chat_inboxes.iter_mut().enumerate() {
            for (name, secret) in secrets_of_mut(inbox) {
                let Some(reference) = secret.reference().cloned() else {
                    continue;
                };
                let field = format!("chat_inboxes[{i}].{name}");
                let value = match values.get(&reference) {
                    Some(value) => value.clone(),
                    None => {
                        let value = resolver
                            .resolve(&reference)
                            .await
                            .map_err(|error| invalid(field.clone(), error.to_string()))?;
                        values.insert(reference.clone(), value.clone());
                        value
                    }
                };
                super::check_secret_value(&field, Some(&reference), &value)?;
                secret.set_resolved(value);
            }
        }
        Ok(())
    }

    /// Resolves the survey link keys only (the survey functions: their roles may read the
    /// survey secret and no inbox secret).
    pub async fn resolve_survey_secrets(&mut self, resolver: &dyn SecretResolver) -> Result<(), ConfigError> {
        let Some(survey) = self.survey.as_mut() else { return Ok(()) };
        resolve_section("survey", survey.secrets_mut(), resolver).await
    }

    /// Resolves the shop's token and webhook key only (the functions that read orders or
    /// take shop webhooks: their roles may read the shop's secrets).
    pub async fn resolve_shop_secrets(&mut self, resolver: &dyn SecretResolver) -> Result<(), ConfigError> {
        let Some(shop) = self.shop.as_mut() else { return Ok(()) };
        resolve_section("shop", shop.secrets_mut(), resolver).await
    }

    /// Resolves the return-link key only (help-centre: its role may read that secret and no
    /// other shop secret).
    pub async fn resolve_return_link_key(
        &mut self,
        resolver: &dyn SecretResolver,
    ) -> Result<(), ConfigError> {
        let Some(key) = self.shop.as_mut().and_then(|shop| shop.returns.link_key.as_mut()) else {
            return Ok(());
        };
        resolve_section("shop", [("returns.link_key", key)], resolver).await
    }

    /// Resolves the analytics pseudonym key only (analytics-rollup: its role may read that
    /// secret and no other).
    pub async fn resolve_analytics_secrets(
        &mut self,
        resolver: &dyn SecretResolver,
    ) -> Result<(), ConfigError> {
        let Some(analytics) = self.analytics.as_mut() else { return Ok(()) };
        let secret = analytics.key_mut();
        let Some(reference) = secret.reference().cloned() else { return Ok(()) };
        let value = resolver
            .resolve(&reference)
            .await
            .map_err(|error| invalid("analytics.pseudonym_key", error.to_string()))?;
        super::analytics::check_key(Some(&reference), &value)?;
        secret.set_resolved(value);
        Ok(())
    }

    /// Refuses references nobody resolved: the local desk in memory has no secret store.
    pub(super) fn require_secret_values(&self) -> Result<(), ConfigError> {
        if let Some(analytics) = &self.analytics
            && let (Some(reference), None) =
                (analytics.pseudonym_key.reference(), analytics.pseudonym_key.value())
        {
            return Err(invalid(
                "analytics.pseudonym_key",
                format!("{reference} is resolved on AWS only; give the local desk the value itself"),
            ));
        }
        if let Some(survey) = &self.survey {
            for (name, secret) in survey.secrets() {
                if let (Some(reference), None) = (secret.reference(), secret.value()) {
                    return Err(invalid(
                        format!("survey.{name}"),
                        format!("{reference} is resolved on AWS only; give the local desk the value itself"),
                    ));
                }
            }
        }
        for (name, secret) in self.shop.iter().flat_map(|shop| shop.secrets()) {
            if let (Some(reference), None) = (secret.reference(), secret.value()) {
                return Err(invalid(
                    format!("shop.{name}"),
                    format!("{reference} is resolved on AWS only; give the local desk the value itself"),
                ));
            }
        }
        for (i, inbox) in self.chat_inboxes.iter().enumerate() {
            for (name, secret) in secrets_of(inbox) {
                if let (Some(reference), None) = (secret.reference(), secret.value()) {
                    return Err(invalid(
                        format!("chat_inboxes[{i}].{name}"),
                        format!("{reference} is resolved on AWS only; give the local desk the value itself"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Resolves the references among `secrets` (each with its full field name, for errors), and
/// holds each value to `check` (field, reference, value).
pub(super) async fn resolve_fields<'a>(
    secrets: impl IntoIterator<Item = (String, &'a mut Secret)>,
    resolver: &dyn SecretResolver,
    check: impl Fn(&str, &SecretRef, &str) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    for (field, secret) in secrets {
        let Some(reference) = secret.reference().cloned() else { continue };
        let value =
            resolver.resolve(&reference).await.map_err(|error| invalid(field.clone(), error.to_string()))?;
        check(&field, &reference, &value)?;
        secret.set_resolved(value);
    }
    Ok(())
}

/// [`resolve_fields`] for one section's named secrets (`section.name`), each value at least
/// the minimum secret length.
async fn resolve_section<'a>(
    section: &str,
    secrets: impl IntoIterator<Item = (&'static str, &'a mut Secret)>,
    resolver: &dyn SecretResolver,
) -> Result<(), ConfigError> {
    let named = secrets.into_iter().map(|(name, secret)| (format!("{section}.{name}"), secret));
    resolve_fields(named, resolver, |field, reference, value| {
        super::check_secret_value(field, Some(reference), value)
    })
    .await
}

#[cfg(test)]
mod tests {
    use omnidesk_domain::memory::MemorySecrets;

    use super::*;

    const ON_AWS: &str = r#"
        [[chat_inboxes]]
        id = "web"
        secret = "sm:omnidesk/chat/web"
        callback_url = "https://shop.example/omnidesk/callback"

        [[chat_inboxes]]
        id = "app"
        secret = "sm:omnidesk/chat/app"
        next_secret = "sm:omnidesk/chat/web"
        callback_url = "https://app.shop.example/cb"
    "#;

    fn sm(name: &str) -> SecretRef {
        SecretRef::SecretsManager(name.into())
    }

    fn aws_error(text: &str) -> String {
        DeskConfig::parse(text, Runtime::Aws).unwrap_err().to_string()
    }

    #[test]
    fn on_aws_a_literal_secret_is_refused_naming_the_field() {
        let text = ON_AWS.replace("sm:omnidesk/chat/app", "a-literal-secret-0123456789");
        assert_eq!(
            aws_error(&text),
            "chat_inboxes[1].secret: on AWS a secret is a reference (sm:<name>), never the value"
        );
        let text =
            ON_AWS.replace("next_secret = \"sm:omnidesk/chat/web\"", "next_secret = \"0123456789abcdef\"");
        assert!(aws_error(&text).starts_with("chat_inboxes[1].next_secret: on AWS a secret is a reference"));
        // The same file is fine on the local desk, which has no secret store.
        assert!(
            DeskConfig::parse(
                &text.replace("sm:omnidesk/chat/web", "x".repeat(16).as_str()),
                Runtime::LocalDesk
            )
            .is_ok()
        );
    }

    #[test]
    fn on_aws_local_bearer_tokens_are_refused() {
        let text = format!(
            "{ON_AWS}\n[[auth.tokens]]\ntoken = \"local-admin-token-0123\"\nuser = \"ops\"\nrole = \"admin\"\n"
        );
        assert_eq!(
            aws_error(&text),
            "auth.tokens: bearer tokens are for the local desk only; on AWS agents sign in with Cognito"
        );
        assert!(DeskConfig::parse(&text, Runtime::LocalDesk).is_ok());
    }

    #[test]
    fn on_aws_loopback_callback_urls_are_refused() {
        for url in [
            "http://127.0.0.1:3000/local/callbacks/web",
            "http://localhost/cb",
            "https://LOCALHOST./cb",
            "http://[::1]:4000/cb",
            "http://127.1/cb",
        ] {
            let text = ON_AWS.replace("https://shop.example/omnidesk/callback", url);
            assert_eq!(
                aws_error(&text),
                "chat_inboxes[0].callback_url: a loopback address reaches nothing outside the local desk",
                "{url}"
            );
        }
        // Plain http to other spellings of this machine is refused anywhere (https only).
        for url in ["http://0.0.0.0/cb", "http://[::ffff:127.0.0.1]/cb"] {
            let text = ON_AWS.replace("https://shop.example/omnidesk/callback", url);
            assert!(aws_error(&text).starts_with("chat_inboxes[0].callback_url: must be https"), "{url}");
        }
        let private = ON_AWS.replace("https://shop.example/omnidesk/callback", "https://10.0.0.8/cb");
        assert!(DeskConfig::parse(&private, Runtime::Aws).is_ok());
        let on_call = format!(
            "{ON_AWS}\n[sla]\n[[sla.escalations]]\nname = \"page\"\nnotify_webhook = \"http://localhost:9000/hook\"\n"
        );
        assert_eq!(
            aws_error(&on_call),
            "sla.escalations[0].notify_webhook: a loopback address reaches nothing outside the local desk"
        );
    }

    #[test]
    fn a_malformed_reference_is_named_with_its_field() {
        let text = ON_AWS.replace("sm:omnidesk/chat/app", "ssm:/omnidesk/chat/app");
        assert_eq!(
            aws_error(&text),
            "chat_inboxes[1].secret: ssm:/omnidesk/chat/app: SSM parameters are not supported; keep the secret in Secrets Manager (sm:<name>)"
        );
    }

    #[tokio::test]
    async fn references_resolve_once_each_and_are_cached_in_the_config() {
        let secrets = MemorySecrets::default()
            .with(sm("omnidesk/chat/web"), "web-secret-0123456789")
            .with(sm("omnidesk/chat/app"), "app-secret-0123456789");
        let mut config = DeskConfig::parse(ON_AWS, Runtime::Aws).unwrap();
        // Parsed but unresolved: nothing can verify or sign yet.
        assert!(config.inboxes().get("web").unwrap().verifying_keys().is_empty());
        config.resolve_secrets(&secrets).await.unwrap();
        // Three fields, two distinct references: two reads.
        assert_eq!(secrets.reads(), 2);
        let inboxes = config.inboxes();
        let app = inboxes.get("app").unwrap();
        assert_eq!(app.signing_key(), Some(&b"app-secret-0123456789"[..]));
        assert_eq!(app.verifying_keys(), vec![&b"app-secret-0123456789"[..], &b"web-secret-0123456789"[..]]);
        assert!(!format!("{config:?}").contains("secret-0123456789"), "{config:?}");
    }

    #[tokio::test]
    async fn a_missing_or_short_secret_is_named_with_its_field() {
        let missing = MemorySecrets::default().with(sm("omnidesk/chat/web"), "web-secret-0123456789");
        let mut config = DeskConfig::parse(ON_AWS, Runtime::Aws).unwrap();
        let error = config.resolve_secrets(&missing).await.unwrap_err().to_string();
        assert_eq!(error, "chat_inboxes[1].secret: sm:omnidesk/chat/app: not found");

        let short = MemorySecrets::default()
            .with(sm("omnidesk/chat/web"), "short")
            .with(sm("omnidesk/chat/app"), "app-secret-0123456789");
        let mut config = DeskConfig::parse(ON_AWS, Runtime::Aws).unwrap();
        let error = config.resolve_secrets(&short).await.unwrap_err().to_string();
        assert_eq!(
            error,
            "chat_inboxes[0].secret: the value of sm:omnidesk/chat/web must be at least 16 characters"
        );
    }

    #[test]
    fn the_local_desk_refuses_a_reference_it_cannot_resolve() {
        let error = DeskConfig::from_toml(ON_AWS).unwrap_err().to_string();
        assert_eq!(
            error,
            "chat_inboxes[0].secret: sm:omnidesk/chat/web is resolved on AWS only; give the local desk the value itself"
        );
    }
}
