//! The desk configuration at a real desk's size (tests/src/config_gen.rs): it validates by
//! the AWS rules, its secrets resolve once each, an inbox in rotation accepts both secrets;
//! and on moto it is pushed to a versioned bucket and read by every function of the template
//! the way each one's init reads it. Load times are printed, never asserted.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use http::StatusCode;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES, Runtime};
use omnidesk_app::signature::{SIGNATURE_HEADER, sign};
use omnidesk_domain::memory::{ManualClock, MemoryQueue, MemorySecrets, QueueSettings};
use omnidesk_domain::ports::Clock;
use omnidesk_domain::secrets::{SecretRef, SecretResolver};
use omnidesk_local::config_push::SecretCheck;
use omnidesk_tests::config_gen::{self, INBOX_SECRETS, NEXT_SECRET};
use omnidesk_tests::{Backend, chat_body};
use tower::ServiceExt;

fn sm(name: &str) -> SecretRef {
    SecretRef::SecretsManager(name.to_owned())
}

fn memory_secrets() -> MemorySecrets {
    let secrets = MemorySecrets::default().with(sm(NEXT_SECRET.0), NEXT_SECRET.1);
    for (_, name, value) in INBOX_SECRETS {
        secrets.set(sm(name), value);
    }
    secrets
}

/// What every function must see in the generated configuration.
fn assert_is_the_generated_desk(config: &DeskConfig) {
    assert_eq!(config.agents.len(), config_gen::AGENTS);
    assert_eq!(config.routing.as_ref().map(|r| r.teams.len()), Some(config_gen::TEAMS));
    let sla = config.sla.as_ref().expect("[sla]");
    assert_eq!(sla.calendars.keys().filter(|name| name.starts_with("cal-")).count(), config_gen::CALENDARS);
    assert!(sla.calendars.values().all(|c| c.always_open || c.holidays.len() > 30), "a year of holidays");
    assert_eq!(config.email.as_ref().map(|e| e.templates.len()), Some(config_gen::TEMPLATES));
    assert!(config.sla_policies().expect("valid SLA").is_some());
    assert!(config.routing().expect("valid routing").is_some());
}

#[tokio::test]
async fn a_generated_desk_of_200_agents_validates_for_aws_and_resolves_each_secret_once() {
    let text = config_gen::large_desk_config();
    let started = Instant::now();
    let parsed = DeskConfig::parse(&text, Runtime::Aws).expect("the generated desk is valid on AWS");
    let parse_time = started.elapsed();
    assert_is_the_generated_desk(&parsed);

    let secrets = memory_secrets();
    let started = Instant::now();
    let config = DeskConfig::deployed(&text, Some(&secrets as &dyn SecretResolver)).await.expect("resolves");
    let load_time = started.elapsed();
    assert_eq!(secrets.reads(), 4, "three inbox secrets and one next secret, each read once");
    let partner = config.inboxes().get("partner").cloned().expect("partner inbox");
    assert_eq!(partner.verifying_keys().len(), 2);
    println!(
        "generated desk: {} bytes, {} agents, {} teams, {} calendars, {} templates; parse + validate {:.2} ms, \
         with secret resolution (memory) {:.2} ms (debug build)",
        text.len(),
        config_gen::AGENTS,
        config_gen::TEAMS,
        config_gen::CALENDARS,
        config_gen::TEMPLATES,
        parse_time.as_secs_f64() * 1e3,
        load_time.as_secs_f64() * 1e3
    );
    // Nothing but references in the stored text; no value leaks into Debug output either.
    for (_, _, value) in INBOX_SECRETS {
        assert!(!text.contains(value));
        assert!(!format!("{config:?}").contains(value));
    }
}

#[tokio::test]
async fn an_inbox_in_rotation_accepts_both_secrets_and_nothing_else() {
    let text = config_gen::large_desk_config();
    let config = DeskConfig::deployed(&text, Some(&memory_secrets() as &dyn SecretResolver)).await.unwrap();
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::from_second(1_795_424_400).unwrap()));
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let webhook =
        ChatWebhook { inboxes: config.inboxes(), inbound, clock: clock.clone(), limiter: None, blobs: None };
    let post = |secret: &'static str, message: &'static str| {
        let body = chat_body(message, "conv-1", "visitor-1", "hello");
        let header = sign(secret.as_bytes(), clock.now().as_second(), body.as_bytes());
        let request = http::Request::post("/v1/chat/partner/messages")
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, header)
            .body(axum::body::Body::from(body))
            .unwrap();
        chat_webhook::router(webhook.clone()).oneshot(request)
    };
    let current = INBOX_SECRETS[2].2;
    assert_eq!(post(current, "m-1").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(post(NEXT_SECRET.1, "m-2").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(post(INBOX_SECRETS[0].2, "m-3").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Callbacks are signed with the current secret until the rotation completes.
    assert_eq!(config.inboxes().get("partner").and_then(|i| i.signing_key()), Some(current.as_bytes()));
}

/// Every function of template.yaml, by binary, and whether it resolves secrets (its crate
/// turns on omnidesk-aws's "secrets" feature, the same test check-template.py applies to the
/// roles).
fn template_functions() -> Vec<(String, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = std::fs::read_to_string(root.join("template.yaml")).expect("template.yaml");
    template
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Binary: "))
        .map(|binary| {
            let manifest = std::fs::read_to_string(root.join("functions").join(binary).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("functions/{binary}: {e}"));
            let resolves =
                manifest.lines().any(|l| l.starts_with("omnidesk-aws") && l.contains("\"secrets\""));
            (binary.to_owned(), resolves)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_desk_is_pushed_to_a_versioned_bucket_and_read_by_every_function_on_moto() {
    let Some(Backend::Moto(endpoint)) = Backend::moto() else {
        eprintln!("skipped: no moto endpoint (set {})", omnidesk_tests::MOTO_ENDPOINT_ENV);
        return;
    };
    let sdk = omnidesk_local::backend::sdk_for_endpoint(&endpoint).await;
    let clients = omnidesk_aws::Clients::new(&sdk);
    let bucket = format!("config-{}-{}", std::process::id(), jiff::Timestamp::now().as_millisecond());
    let s3 = clients.s3();
    s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    let enabled = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(enabled)
        .send()
        .await
        .expect("versioning");
    let secretsmanager = clients.secretsmanager();
    let suffix = format!("-{bucket}");
    for (name, value) in INBOX_SECRETS.iter().map(|(_, n, v)| (*n, *v)).chain([NEXT_SECRET]) {
        secretsmanager
            .create_secret()
            .name(format!("{name}{suffix}"))
            .secret_string(value)
            .send()
            .await
            .expect("create secret");
    }

    // The file an operator pushes: references named as the secrets were created here.
    let text = config_gen::large_desk_config()
        .replace("\"sm:omnidesk/chat/web\"", &format!("\"sm:omnidesk/chat/web{suffix}\""))
        .replace("\"sm:omnidesk/chat/app\"", &format!("\"sm:omnidesk/chat/app{suffix}\""))
        .replace("\"sm:omnidesk/chat/partner\"", &format!("\"sm:omnidesk/chat/partner{suffix}\""))
        .replace("\"sm:omnidesk/chat/partner-next\"", &format!("\"sm:omnidesk/chat/partner-next{suffix}\""));
    let dir = std::env::temp_dir().join(format!("omnidesk-config-{bucket}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("omnidesk.toml");
    std::fs::write(&file, &text).unwrap();
    let location = omnidesk_aws::ConfigLocation::new(&bucket, "omnidesk.toml");

    // A reference to a secret that does not exist is refused before anything is uploaded.
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, text.replace(&format!("partner-next{suffix}"), "partner-missing")).unwrap();
    let refused = omnidesk_local::config_push::push(&sdk, location.clone(), &broken, SecretCheck::Resolve)
        .await
        .unwrap_err();
    assert!(
        refused.contains("chat_inboxes[2].next_secret: sm:omnidesk/chat/partner-missing: not found"),
        "{refused}"
    );
    assert!(clients.config_object(location.clone()).read(MAX_CONFIG_BYTES).await.is_err(), "nothing pushed");

    let (checked, first_version) =
        omnidesk_local::config_push::push(&sdk, location.clone(), &file, SecretCheck::Resolve)
            .await
            .expect("config push");
    let first_version = first_version.expect("a versioned bucket gives a version id");
    println!("pushed: {}", checked.summary);

    // A second push is a new version; the first stays readable by its id (a pin).
    std::fs::write(&file, format!("{text}\n# second push\n")).unwrap();
    let (_, second_version) =
        omnidesk_local::config_push::push(&sdk, location.clone(), &file, SecretCheck::Skip).await.unwrap();
    assert_ne!(second_version.as_deref(), Some(first_version.as_str()));
    let pinned = omnidesk_aws::ConfigLocation { version: Some(first_version.clone()), ..location.clone() };
    assert_eq!(clients.config_object(pinned.clone()).read(MAX_CONFIG_BYTES).await.unwrap(), text);

    // Each function's init: read the object once, parse by the AWS rules, resolve secrets
    // only where the function uses them.
    let functions = template_functions();
    assert_eq!(functions.len(), 12, "{functions:?}");
    let resolver = clients.secrets();
    for (function, resolves) in &functions {
        let started = Instant::now();
        let text = clients.config_object(pinned.clone()).read(MAX_CONFIG_BYTES).await.expect("read config");
        let read = started.elapsed();
        // The survey functions resolve the survey link key only, analytics-rollup the
        // pseudonym key only: never an inbox secret.
        let survey = function.starts_with("survey-");
        let analytics = function == "analytics-rollup";
        // social-webhook resolves the platforms' secrets ([social]) only.
        let social = function == "social-webhook";
        // ticket-router resolves the shop's token only (order status), never an inbox secret.
        let shop_only = function == "ticket-router";
        // help-centre resolves the return form's link key only.
        let link_key_only = function == "help-centre";
        let own_key = survey || analytics || social || shop_only || link_key_only;
        let secrets = (*resolves && !own_key).then_some(&resolver as &dyn SecretResolver);
        let mut config =
            DeskConfig::deployed(&text, secrets).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        if survey {
            config.resolve_survey_secrets(&resolver).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        }
        if analytics {
            config.resolve_analytics_secrets(&resolver).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        }
        if social && let Some(platforms) = config.social.as_mut() {
            platforms.resolve(&resolver).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        }
        if shop_only {
            config.resolve_shop_secrets(&resolver).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        }
        if link_key_only {
            config.resolve_return_link_key(&resolver).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        }
        let total = started.elapsed();
        assert_is_the_generated_desk(&config);
        let web = config.inboxes().get("web").cloned().expect("web inbox");
        if *resolves && !own_key {
            assert_eq!(web.signing_key(), Some(INBOX_SECRETS[0].2.as_bytes()), "{function}");
            assert_eq!(config.inboxes().get("partner").map(|p| p.verifying_keys().len()), Some(2));
        } else {
            assert_eq!(web.signing_key(), None, "{function} must not read secrets");
        }
        println!(
            "{function}: config read {:.1} ms, loaded{} in {:.1} ms ({} bytes, moto, debug build)",
            read.as_secs_f64() * 1e3,
            if *resolves && !own_key { " with 4 secrets" } else { "" },
            total.as_secs_f64() * 1e3,
            text.len()
        );
    }
    let mut resolving: Vec<&str> = functions
        .iter()
        .filter(|(f, resolves)| {
            *resolves
                && !f.starts_with("survey-")
                && f != "analytics-rollup"
                && f != "social-webhook"
                && f != "ticket-router"
                && f != "help-centre"
        })
        .map(|(f, _)| f.as_str())
        .collect();
    resolving.sort_unstable();
    assert_eq!(
        resolving,
        ["agent-api", "chat-webhook", "outbound-dispatcher"],
        "verifying requests, signing callbacks, and the key of the list cursors"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_function_that_never_resolved_its_secrets_verifies_nothing() {
    let text = config_gen::large_desk_config();
    // How email-inbound, ticket-router, agent-api and sla-sweeper load it: no secrets.
    let config = DeskConfig::deployed(&text, None).await.unwrap();
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::from_second(1_795_424_400).unwrap()));
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let webhook =
        ChatWebhook { inboxes: config.inboxes(), inbound, clock: clock.clone(), limiter: None, blobs: None };
    let body = chat_body("m-1", "conv-1", "visitor-1", "hello");
    // Signed with the real value, and with the empty key an unresolved secret might pass for.
    for secret in [INBOX_SECRETS[0].2, ""] {
        let header = sign(secret.as_bytes(), clock.now().as_second(), body.as_bytes());
        let request = http::Request::post("/v1/chat/web/messages")
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, header)
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        let response = chat_webhook::router(webhook.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

/// Item 2 of the operations issue: a fresh machine builds the Lambda artifacts with what the
/// project installs, and their output stays out of git.
#[test]
fn build_tooling_is_installed_by_the_project_and_its_output_ignored() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read =
        |path: &str| std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let requirements = read("scripts/requirements.txt");
    for tool in ["cargo-lambda==", "ziglang==", "aws-sam-cli=="] {
        assert!(requirements.lines().any(|l| l.starts_with(tool)), "scripts/requirements.txt pins {tool}");
    }
    assert!(read(".gitignore").lines().any(|l| l.trim() == "/.aws-sam" || l.trim() == ".aws-sam/"));
    let script = read("scripts/sam-build.sh");
    assert!(script.contains("source \"$root/scripts/python-env.sh\""), "the venv goes first on PATH");
    assert!(script.contains("sam build \"$@\" --parameter-overrides \"Architecture=$arch\""));
    let readme = read("README.md");
    let deploying = readme.split("## Deploying").nth(1).expect("README has a Deploying section");
    for needed in
        ["cargo-lambda", "Zig", "scripts/python-env.sh", "sam build && sam deploy --guided", "config push"]
    {
        assert!(deploying.contains(needed), "README, Deploying, names {needed}");
    }
}
