//! `omnidesk-local config check|push`: checks a desk configuration by the rules the Lambda
//! functions apply (secrets as `sm:` references, no local tokens, no loopback callbacks) and
//! uploads it to the stack's config bucket as a new version of the object they read at start.

use std::path::Path;

use aws_config::SdkConfig;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES, Runtime};
use omnidesk_aws::{Clients, ConfigLocation};
use omnidesk_domain::secrets::SecretResolver;

/// What a check found worth telling the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub text: String,
    pub summary: String,
}

/// Reads `file` and validates it as the functions will; the error names the bad field.
pub fn check(file: &Path) -> Result<Checked, String> {
    let metadata = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if metadata.len() > MAX_CONFIG_BYTES as u64 {
        return Err(format!(
            "{}: {} bytes is over the limit of {MAX_CONFIG_BYTES}",
            file.display(),
            metadata.len()
        ));
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let config = DeskConfig::parse(&text, Runtime::Aws).map_err(|e| format!("{}: {e}", file.display()))?;
    let secrets: std::collections::BTreeSet<String> = config
        .chat_inboxes
        .iter()
        .flat_map(|inbox| std::iter::once(&inbox.secret).chain(&inbox.next_secret))
        .filter_map(|secret| secret.reference().map(|r| r.to_string()))
        .collect();
    let summary = format!(
        "{} bytes: {} chat inboxes, {} agents, {} teams, email {}, sla {}; secrets: {}",
        text.len(),
        config.chat_inboxes.len(),
        config.agents.len(),
        config.routing.as_ref().map_or(0, |r| r.teams.len()),
        if config.email.is_some() { "on" } else { "off" },
        if config.sla.is_some() { "on" } else { "off" },
        if secrets.is_empty() {
            "none".to_owned()
        } else {
            secrets.into_iter().collect::<Vec<_>>().join(", ")
        },
    );
    Ok(Checked { text, summary })
}

/// Whether `push` reads the referenced secrets first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    /// Each referenced secret must exist and be long enough, as the functions will require;
    /// the values are read, never printed.
    Resolve,
    /// For operators whose credentials may not read the secrets.
    Skip,
}

/// Checks `file` (and its secrets, unless skipped), then writes it to `location`; answers
/// the new S3 version id.
pub async fn push(
    sdk: &SdkConfig,
    location: ConfigLocation,
    file: &Path,
    secrets: SecretCheck,
) -> Result<(Checked, Option<String>), String> {
    let checked = check(file)?;
    let clients = Clients::new(sdk);
    if secrets == SecretCheck::Resolve {
        let resolver = clients.secrets();
        DeskConfig::deployed(&checked.text, Some(&resolver as &dyn SecretResolver)).await.map_err(|e| {
            format!(
                "{}: {e} (nothing pushed; --skip-secret-check pushes without reading secrets)",
                file.display()
            )
        })?;
    }
    let object = clients.config_object(location);
    let version = object.push(&checked.text).await.map_err(|e| e.to_string())?;
    Ok((checked, version))
}
