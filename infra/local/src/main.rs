//! `omnidesk-local`: run the desk on 127.0.0.1, sign a request body for trying it with curl,
//! or check and push a desk configuration to a deployed stack.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::shop::webhook::sign_shopify;
use omnidesk_app::signature::sign;
use omnidesk_app::social::{meta, wechat_crypto};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_domain::system::SystemClock;
use omnidesk_local::provision::ProvisionOptions;
use omnidesk_local::{DeskPorts, LocalDesk, MailFolders, backend, config_push};

mod export;

const DEFAULT_CONFIG: &str = "infra/local/omnidesk.example.toml";
/// Used when the default file is not found (running from another directory).
const EXAMPLE_CONFIG: &str = include_str!("../omnidesk.example.toml");

#[derive(Parser)]
#[command(version, about = "omnidesk on one machine: every function in one process, on 127.0.0.1")]
struct Cli {
    /// The desk configuration file.
    #[arg(long, global = true, default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// HTTP port on 127.0.0.1.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Readable logs instead of JSON.
    #[arg(long)]
    pretty: bool,
    /// Run on the AWS adapters against this endpoint (e.g. moto_server at
    /// http://127.0.0.1:5000) instead of in memory. The table and queues are created from
    /// template.yaml if missing.
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
    /// Name prefix of the table, queues and mail bucket on the AWS endpoint.
    #[arg(long, default_value = "omnidesk-local-")]
    aws_prefix: String,
    /// With [email]: every `.eml` file dropped into this folder is received as mail, then
    /// moved to its `processed/` or `failed/` subfolder.
    #[arg(long, value_name = "DIR", default_value = "local-mail/in")]
    mail_in: PathBuf,
    /// With [email]: every mail the desk sends is written here as an `.eml` file.
    #[arg(long, value_name = "DIR", default_value = "local-mail/outbox")]
    outbox: PathBuf,
    /// The built agent console, served at /console/ (scripts/console-build.sh builds it).
    #[arg(long, value_name = "DIR", default_value = omnidesk_local::DEFAULT_CONSOLE_DIR)]
    console_dir: PathBuf,
    /// With [analytics]: write the analytics export (Parquet, Hive partitions) into DIR
    /// every `local.export_interval_ms` (15 minutes, as analytics-rollup on AWS).
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk (the default).
    Serve,
    /// Print the X-Omnidesk-Signature header for a request body (or, with --shopify, the
    /// X-Shopify-Hmac-Sha256 header a shop webhook carries, from `[shop] webhook_secret`).
    Sign {
        /// The chat inbox whose secret signs.
        #[arg(long, required_unless_present = "shopify")]
        inbox: Option<String>,
        /// Sign as Shopify signs its webhooks.
        #[arg(long)]
        shopify: bool,
        /// The file holding the exact request body.
        #[arg(long)]
        body: PathBuf,
        /// Unix seconds to sign at (default: now).
        #[arg(long)]
        at: Option<i64>,
    },
    /// Sign a request as a social platform would: WeChat's query (`signature`, `timestamp`,
    /// `nonce`), Meta's `X-Hub-Signature-256` or the forum's `X-Discourse-Event-Signature`.
    SignSocial {
        /// `wechat`, `meta` or `forum`.
        #[arg(long)]
        platform: String,
        /// The WeChat account (`[[social.wechat]] id`).
        #[arg(long)]
        account: Option<String>,
        /// The file holding the exact request body (Meta and the forum sign it).
        #[arg(long)]
        body: Option<PathBuf>,
        /// Unix seconds to sign at (default: now).
        #[arg(long)]
        at: Option<i64>,
    },
    /// Check a configuration by the deployed functions' rules, or push it to the stack.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Backfill the analytics export from a desk's table (moto or AWS, `--aws-endpoint`):
    /// every hour from SINCE to UNTIL (default now), with a progress bar.
    Export {
        /// The first instant (RFC 3339, e.g. 2026-11-01T00:00:00Z) or day (2026-11-01, UTC).
        #[arg(long)]
        since: String,
        /// The end (exclusive); default now.
        #[arg(long)]
        until: Option<String>,
        /// Where the Parquet files go.
        #[arg(long, value_name = "DIR", default_value = "export")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate FILE as the Lambda functions will (secrets as sm: references, no local
    /// tokens, no loopback callback URLs); print a summary.
    Check {
        /// The desk configuration to check.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Validate FILE, then upload it as a new version of the object every function reads at
    /// start. Credentials and region come from the usual AWS environment or profile.
    Push {
        /// The desk configuration to push.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The stack's ConfigBucketName output.
        #[arg(long)]
        bucket: String,
        /// The stack's ConfigKey parameter.
        #[arg(long, default_value = "omnidesk.toml")]
        key: String,
        /// Another endpoint (e.g. moto_server) instead of AWS.
        #[arg(long, value_name = "URL")]
        aws_endpoint: Option<String>,
        /// Do not read the referenced secrets first (by default each must exist in Secrets
        /// Manager and be at least 16 characters, as the functions require).
        #[arg(long)]
        skip_secret_check: bool,
    },
}

fn load_config(path: &Path) -> Result<DeskConfig, String> {
    if !path.exists() && path == Path::new(DEFAULT_CONFIG) {
        return DeskConfig::from_toml(EXAMPLE_CONFIG).map_err(|e| format!("built-in example config: {e}"));
    }
    DeskConfig::load(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("omnidesk-local: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config(command) = command {
        return run_config(command).await;
    }
    let mut config = load_config(&cli.config)?;
    // Survey links point at this desk when the config points them at this machine.
    if let Some(survey) = config.survey.as_mut()
        && (survey.base_url.starts_with("http://127.0.0.1")
            || survey.base_url.starts_with("http://localhost"))
    {
        survey.base_url = format!("http://127.0.0.1:{}", cli.serve.port);
    }
    match command {
        Command::Config(_) => Ok(()),
        Command::Export { since, until, dir } => {
            export::backfill(&config, &cli.serve, &since, until.as_deref(), &dir).await
        }
        Command::Sign { shopify: true, body, .. } => {
            let secret = config.shop.as_ref().and_then(|shop| shop.webhook_secret.value());
            let secret = secret.ok_or_else(|| "no [shop] webhook_secret in the config".to_owned())?;
            let body = std::fs::read(&body).map_err(|e| format!("{}: {e}", body.display()))?;
            println!("X-Shopify-Hmac-Sha256: {}", sign_shopify(secret.as_bytes(), &body));
            Ok(())
        }
        Command::Sign { inbox, body, at, .. } => {
            let inbox = inbox.unwrap_or_default();
            let inbox = config
                .inboxes()
                .get(&inbox)
                .cloned()
                .ok_or_else(|| format!("no chat inbox {inbox:?} in the config"))?;
            let body = std::fs::read(&body).map_err(|e| format!("{}: {e}", body.display()))?;
            let at = at.unwrap_or_else(|| jiff::Timestamp::now().as_second());
            let secret =
                inbox.signing_key().ok_or_else(|| "the inbox's secret is not resolved".to_owned())?;
            println!("X-Omnidesk-Signature: {}", sign(secret, at, &body));
            Ok(())
        }
        Command::SignSocial { platform, account, body, at } => {
            let social = config.social.as_ref().ok_or("the config has no [social]")?;
            let body = match &body {
                Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
                None => Vec::new(),
            };
            let at = at.unwrap_or_else(|| jiff::Timestamp::now().as_second());
            let value = |secret: &omnidesk_app::config::Secret| secret.value().unwrap_or_default().to_owned();
            match platform.as_str() {
                "wechat" => {
                    let id = account.ok_or("--account names the WeChat account")?;
                    let account = social
                        .wechat
                        .iter()
                        .find(|a| a.id == id)
                        .ok_or(format!("no WeChat account {id:?}"))?;
                    let (timestamp, nonce) = (at.to_string(), format!("{}", at % 1_000_000_007));
                    let signature = wechat_crypto::signature(&[&value(&account.token), &timestamp, &nonce]);
                    println!("signature={signature}&timestamp={timestamp}&nonce={nonce}");
                }
                "meta" => {
                    let app = social.meta.as_ref().ok_or("the config has no [social.meta]")?;
                    println!("X-Hub-Signature-256: {}", meta::sign(value(&app.app_secret).as_bytes(), &body));
                }
                "forum" => {
                    let forum = social.forum.as_ref().ok_or("the config has no [social.forum]")?;
                    println!(
                        "X-Discourse-Event-Signature: {}",
                        meta::sign(value(&forum.webhook_secret).as_bytes(), &body)
                    );
                }
                other => return Err(format!("--platform {other:?}: wechat, meta or forum")),
            }
            Ok(())
        }
        Command::Serve => {
            telemetry::init(if cli.serve.pretty { LogFormat::Pretty } else { LogFormat::Json });
            let ports = match &cli.serve.aws_endpoint {
                None => DeskPorts::memory(&config, Arc::new(SystemClock)),
                Some(endpoint) => {
                    let sdk = backend::sdk_for_endpoint(endpoint).await;
                    let options =
                        ProvisionOptions { prefix: cli.serve.aws_prefix.clone(), visibility_timeout: None };
                    let (ports, provisioned) = DeskPorts::aws(&omnidesk_aws::Clients::new(&sdk), &options)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(%endpoint, table = %provisioned.table, "local.aws_backend");
                    ports
                }
            };
            if config.email.is_some() {
                let (mail_in, outbox) = (cli.serve.mail_in.display(), cli.serve.outbox.display());
                tracing::info!(%mail_in, %outbox, "local.email_channel");
            }
            let folders = MailFolders { outbox: cli.serve.outbox, mail_in: Some(cli.serve.mail_in) };
            let mut desk = LocalDesk::with_mail_folders(config, Arc::new(SystemClock), ports, folders)
                .map_err(|e| e.to_string())?
                .with_console_dir(cli.serve.console_dir.clone());
            if let Some(dir) = &cli.serve.export {
                desk.export_to(dir)?;
                tracing::info!(dir = %dir.display(), "local.analytics_export");
            }
            let desk = Arc::new(desk);
            match desk.seed_example_articles().await {
                Ok(added) => tracing::info!(added, "kb.seeded"),
                Err(error) => tracing::warn!(%error, "kb.seed_failed"),
            }
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, cli.serve.port));
            if omnidesk_local::console::is_built(&cli.serve.console_dir) {
                let url = format!("http://{address}/console/");
                tracing::info!(%url, "local.console");
            } else {
                let hint = omnidesk_local::console::NOT_BUILT;
                tracing::warn!(dir = %cli.serve.console_dir.display(), hint, "local.console_not_built");
                eprintln!("omnidesk-local: {hint}");
            }
            let listener =
                tokio::net::TcpListener::bind(address).await.map_err(|e| format!("{address}: {e}"))?;
            tracing::info!(%address, "local.listening");
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            desk.serve(listener, shutdown).await.map_err(|e| e.to_string())
        }
    }
}

async fn run_config(command: ConfigCommand) -> Result<(), String> {
    match command {
        ConfigCommand::Check { file } => {
            let checked = config_push::check(&file)?;
            println!("{}: valid for AWS; {}", file.display(), checked.summary);
            Ok(())
        }
        ConfigCommand::Push { file, bucket, key, aws_endpoint, skip_secret_check } => {
            let sdk = match &aws_endpoint {
                Some(endpoint) => backend::sdk_for_endpoint(endpoint).await,
                None => omnidesk_aws::sdk_config().await,
            };
            let location = omnidesk_aws::ConfigLocation::new(bucket, key);
            let shown = location.to_string();
            let secrets = if skip_secret_check {
                config_push::SecretCheck::Skip
            } else {
                config_push::SecretCheck::Resolve
            };
            let (checked, version) = config_push::push(&sdk, location, &file, secrets).await?;
            println!("pushed {} to {shown}; {}", file.display(), checked.summary);
            match version {
                Some(version) => println!(
                    "version {version}: new containers read it as they start; to switch every \
                     function at once, pin it (sam deploy --guided, ConfigVersion={version})"
                ),
                None => println!("the bucket is not versioned"),
            }
            Ok(())
        }
    }
}
