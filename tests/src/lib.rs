//! Test support: a local desk on 127.0.0.1, on either backend (in memory, or the AWS
//! adapters against moto), wired to a chat callback receiver the test controls; helpers to
//! sign requests, observe the desk through its ports, and wait (boundedly) for effects.

pub mod agent_scenarios;
pub mod analytics_month;
pub mod analytics_scenarios;
pub mod bot_idle_scenarios;
pub mod chat_attachment_scenarios;
pub mod config_gen;
pub mod email_corpus;
pub mod email_scenarios;
pub mod hygiene_scenarios;
pub mod identity_scenarios;
pub mod kb_scenarios;
pub mod orders_scenarios;
pub mod phone_accounting;
pub mod phone_scenarios;
pub mod privacy_scenarios;
pub mod receiver;
pub mod returns_scenarios;
pub mod scenarios;
pub mod sla_scenarios;
pub mod social_scenarios;
pub mod stats;
pub mod survey_scenarios;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use omnidesk_app::config::DeskConfig;
use omnidesk_app::signature::{SIGNATURE_HEADER, sign};
use omnidesk_domain::faults::FaultPlan;
use omnidesk_domain::model::{CustomerId, Identity, Message, Ticket, TicketNumber};
use omnidesk_domain::ports::{Clock, QueueDepth, ThreadKey};
use omnidesk_domain::system::SystemClock;
use omnidesk_local::provision::ProvisionOptions;
use omnidesk_local::{DeskPorts, LocalDesk, MailFolders, backend};
use tokio::net::TcpListener;

pub use receiver::CallbackReceiver;

pub const INBOX: &str = "web";
pub const SECRET: &str = "test-secret-0123456789";
/// An inbox with a tight per-minute limit, for the 429 scenario.
pub const THROTTLED_INBOX: &str = "kiosk";
pub const THROTTLED_PER_MINUTE: u32 = 3;
/// Set by scripts/test.sh to moto_server's URL.
pub const MOTO_ENDPOINT_ENV: &str = "OMNIDESK_MOTO_ENDPOINT";
/// Set by scripts/test.sh: a missing moto endpoint is then a failure, not a skip.
pub const REQUIRE_MOTO_ENV: &str = "OMNIDESK_REQUIRE_MOTO";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Moto(String),
}

impl Backend {
    /// The moto backend if the test script started moto_server; `None` means skip.
    pub fn moto() -> Option<Self> {
        match std::env::var(MOTO_ENDPOINT_ENV) {
            Ok(endpoint) if !endpoint.is_empty() => Some(Backend::Moto(endpoint)),
            _ if std::env::var_os(REQUIRE_MOTO_ENV).is_some() => {
                panic!("{REQUIRE_MOTO_ENV} is set but {MOTO_ENDPOINT_ENV} is not")
            }
            _ => None,
        }
    }

    /// How long effects may take to show: moto redelivers after whole seconds.
    pub fn patience(&self) -> Duration {
        match self {
            Backend::Memory => Duration::from_secs(15),
            Backend::Moto(_) => Duration::from_secs(60),
        }
    }

    fn visibility_timeout_ms(&self) -> u64 {
        match self {
            Backend::Memory => 300,
            // SQS counts visibility in whole seconds.
            Backend::Moto(_) => 1_000,
        }
    }

    /// Under injected faults every message is worked several times over, and on a loaded
    /// machine one attempt can outlast 300 ms: the message then comes back while its first
    /// attempt still holds the dispatcher's lease (the local desk's lease is the visibility
    /// timeout), and those receives count toward the dead-letter limit as faults do. On AWS the
    /// visibility timeout is many times a function's run; two seconds here keep that ratio with
    /// the whole memory tier running at once on two cores (at one second, four messages were
    /// parked once in such a run). Moto's tier, fewer scenarios at a time, keeps its second.
    fn visibility_timeout_ms_with(&self, faults: bool) -> u64 {
        match (self, faults) {
            (Backend::Memory, true) => 2_000,
            _ => self.visibility_timeout_ms(),
        }
    }
}

/// A configuration with one inbox calling back to `callback_url`, and fast queues so
/// redelivery and dead-lettering happen within a test's time. The max receive count is the
/// template's, so both backends dead-letter after the same number of receives.
pub fn test_config(callback_url: &str, visibility_timeout_ms: u64) -> DeskConfig {
    test_config_with(callback_url, visibility_timeout_ms, "")
}

/// [`test_config`] with more TOML appended (teams, agents, tokens).
pub fn test_config_with(callback_url: &str, visibility_timeout_ms: u64, extra: &str) -> DeskConfig {
    let text = format!(
        r#"
        [[chat_inboxes]]
        id = "{INBOX}"
        secret = "{SECRET}"
        callback_url = "{callback_url}"

        [[chat_inboxes]]
        id = "{THROTTLED_INBOX}"
        secret = "{SECRET}"
        callback_url = "{callback_url}"
        max_messages_per_minute = {THROTTLED_PER_MINUTE}

        [delivery]
        attempts = 2
        backoff_ms = 10
        timeout_ms = 2000

        [local]
        visibility_timeout_ms = {visibility_timeout_ms}
        max_receive_count = {MAX_RECEIVE_COUNT}
        poll_interval_ms = 10

        {extra}
        "#
    );
    DeskConfig::from_toml(&text).expect("test config is valid")
}

/// template.yaml's maxReceiveCount on both queues.
pub const MAX_RECEIVE_COUNT: u32 = 5;

/// A running local desk and its callback receiver.
pub struct TestDesk {
    pub backend: Backend,
    pub desk: Arc<LocalDesk>,
    /// The desk's stores and queues, without injected faults.
    pub observe: DeskPorts,
    pub receiver: Arc<CallbackReceiver>,
    pub address: SocketAddr,
    pub http: reqwest::Client,
    /// On moto: the SDK configuration and the desk's table, for tests that inspect it raw.
    pub moto_table: Option<(aws_config::SdkConfig, String)>,
    /// Where the desk writes the mail it sends (with an `[email]` section), one per desk.
    pub outbox: PathBuf,
}

static DESKS: AtomicU32 = AtomicU32::new(0);

/// A name for one desk of this test process.
fn desk_id() -> String {
    format!("{}-{}", std::process::id(), DESKS.fetch_add(1, Ordering::Relaxed))
}

impl TestDesk {
    pub async fn start(backend: &Backend) -> Self {
        Self::start_with_faults(backend, None).await
    }

    /// A desk whose stores and queues fail as `faults` says.
    pub async fn start_with_faults(backend: &Backend, faults: Option<Arc<FaultPlan>>) -> Self {
        Self::start_with(backend, faults, "", Arc::new(SystemClock)).await
    }

    /// A desk whose config has `extra` appended.
    pub async fn start_configured(backend: &Backend, extra: &str) -> Self {
        Self::start_with(backend, None, extra, Arc::new(SystemClock)).await
    }

    /// A desk with `extra` TOML appended to the test configuration, on `clock`.
    pub async fn start_with(
        backend: &Backend,
        faults: Option<Arc<FaultPlan>>,
        extra: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let receiver = Arc::new(CallbackReceiver::default());
        let callback_url = receiver.start().await;
        let config =
            test_config_with(&callback_url, backend.visibility_timeout_ms_with(faults.is_some()), extra);
        let mut moto_table = None;
        let ports = match backend {
            Backend::Memory => DeskPorts::memory(&config, clock.clone()),
            Backend::Moto(endpoint) => {
                let sdk = backend::sdk_for_endpoint(endpoint).await;
                // A fresh prefix is a fresh desk: ticket numbers start at 1 again.
                let prefix = format!("t{}-{}-", std::process::id(), DESKS.fetch_add(1, Ordering::Relaxed));
                let options = ProvisionOptions { prefix, visibility_timeout: Some(1) };
                let (ports, provisioned) = DeskPorts::aws(&omnidesk_aws::Clients::new(&sdk), &options)
                    .await
                    .expect("provision on moto");
                moto_table = Some((sdk, provisioned.table));
                ports
            }
        };
        // Tests look at the desk through the ports without faults.
        let observe = ports.clone();
        let ports = match faults {
            Some(plan) => ports.with_faults(plan),
            None => ports,
        };
        // Mail (with `[email]`) goes to a folder of this desk's own, never the working directory.
        let outbox = std::env::temp_dir().join(format!("omnidesk-test-mail-{}", desk_id())).join("outbox");
        let folders = MailFolders { outbox: outbox.clone(), mail_in: None };
        let desk = Arc::new(LocalDesk::with_mail_folders(config, clock, ports, folders).expect("desk"));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind a loopback port");
        let address = listener.local_addr().expect("bound address");
        tokio::spawn(desk.clone().serve(listener, std::future::pending()));
        Self {
            backend: backend.clone(),
            desk,
            observe,
            receiver,
            address,
            http: reqwest::Client::new(),
            moto_table,
            outbox,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// POSTs `body` to the inbox, signed at `signed_at` (unix seconds), or unsigned.
    pub async fn post_chat(
        &self,
        inbox: &str,
        body: &[u8],
        signed_at: Option<i64>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/v1/chat/{inbox}/messages")))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(at) = signed_at {
            request = request.header(SIGNATURE_HEADER, sign(SECRET.as_bytes(), at, body));
        }
        let response = request.send().await.expect("desk answers");
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Posts a correctly signed chat message; returns the status.
    pub async fn send_chat(&self, message_id: &str, conversation: &str, visitor: &str, text: &str) -> u16 {
        let body = chat_body(message_id, conversation, visitor, text);
        self.post_chat(INBOX, body.as_bytes(), Some(now())).await.0
    }

    // --- observing the desk through its ports, the same way on both backends -------------

    pub async fn ticket(&self, number: u64) -> Option<Ticket> {
        self.observe.tickets.ticket(TicketNumber(number)).await.expect("read ticket")
    }

    pub async fn messages(&self, number: TicketNumber) -> Vec<Message> {
        self.observe.tickets.messages(number).await.expect("read messages")
    }

    pub async fn ticket_of_conversation(&self, conversation: &str) -> Option<TicketNumber> {
        let key = ThreadKey::chat(INBOX, conversation);
        self.observe.tickets.thread_ticket(&key).await.expect("read thread")
    }

    pub async fn customer_of_visitor(&self, visitor: &str) -> Option<CustomerId> {
        let identity = Identity::chat_visitor(INBOX, visitor).expect("visitor id");
        self.observe.customers.customer_by_identity(&identity).await.expect("read identity")
    }

    pub async fn depths(&self) -> Depths {
        let ports = &self.observe;
        let depth = |q: &Arc<dyn omnidesk_domain::ports::Queue>| {
            let q = q.clone();
            async move { q.depth().await.expect("queue depth") }
        };
        Depths {
            inbound: depth(&ports.inbound).await,
            outbound: depth(&ports.outbound).await,
            inbound_dead_letter: depth(&ports.inbound_dead_letter).await,
            outbound_dead_letter: depth(&ports.outbound_dead_letter).await,
        }
    }

    /// Waits until both work queues are empty.
    pub async fn drained(&self) -> bool {
        self.drained_within(self.backend.patience()).await
    }

    /// As `drained`, with a patience of the caller's (a storm's retries take longer).
    pub async fn drained_within(&self, patience: Duration) -> bool {
        eventually(patience, || async {
            let d = self.depths().await;
            d.inbound.total() == 0 && d.outbound.total() == 0
        })
        .await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depths {
    pub inbound: QueueDepth,
    pub outbound: QueueDepth,
    pub inbound_dead_letter: QueueDepth,
    pub outbound_dead_letter: QueueDepth,
}

pub fn chat_body(message_id: &str, conversation: &str, visitor: &str, text: &str) -> String {
    serde_json::json!({
        "message_id": message_id,
        "conversation_id": conversation,
        "visitor": { "id": visitor, "name": "Li Wei" },
        "text": text,
    })
    .to_string()
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Waits until `condition` holds, checking every 20 ms, for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lets pollers run for a while, to show that nothing more happens.
pub async fn settle(backend: &Backend) {
    let pause = match backend {
        Backend::Memory => Duration::from_millis(400),
        Backend::Moto(_) => Duration::from_millis(1_500),
    };
    tokio::time::sleep(pause).await;
}

/// Expands to one `#[tokio::test]` per scenario in [`scenarios`], on the backend `$backend`
/// gives (`Option<Backend>`; `None` skips). Both tiers use this one list.
#[macro_export]
macro_rules! scenario_tests {
    ($backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(backend) = $backend else {
                    eprintln!("skipped: no backend (set {})", $crate::MOTO_ENDPOINT_ENV);
                    return;
                };
                $crate::scenarios::$name(&backend).await;
            }
        )*
    };
}

/// Every scenario, for both tiers: adding one here runs it on memory and on moto.
#[macro_export]
macro_rules! all_scenarios {
    ($backend:expr) => {
        $crate::scenario_tests!($backend;
            signed_message_opens_ticket_one_and_the_acknowledgement_reaches_the_callback,
            conversation_continues_its_ticket_and_repeats_change_nothing,
            another_conversation_of_the_same_visitor_finds_the_same_customer,
            unsigned_wrongly_signed_and_stale_requests_are_401_and_change_nothing,
            malformed_json_and_missing_fields_are_400_naming_the_field,
            a_65_kib_body_is_413,
            an_unknown_inbox_is_401_like_a_bad_signature,
            an_inbox_over_its_rate_limit_answers_429,
            callback_receiver_down_retries_then_dead_letters_with_the_ticket_intact,
            poison_message_is_dead_lettered_while_its_batch_mates_succeed,
            duplicate_deliveries_in_any_order_write_each_message_once,
            injected_faults_change_nothing_in_the_outcome,
            a_fault_storm_then_a_redrive_gives_the_fault_free_outcome,
            agents_work_a_chat_ticket_from_routing_to_erasure,
            starting_the_agent_api_writes_nothing_to_the_store,
            erasing_a_customer_who_shares_an_attachment_with_another_leaves_the_others_file,
            an_agent_downloads_a_ticket_attachment_through_a_short_lived_link,
            after_erasure_a_job_for_that_customer_in_the_queue_is_dropped,
            an_erasure_request_returns_a_job_that_lists_every_store_clears_tags_and_runs_twice_harmlessly,
            every_agent_route_needs_a_token_and_the_right_role,
            supervisors_keep_canned_responses_that_every_role_reads,
            an_unchanged_ticket_list_answers_304_and_a_new_ticket_changes_its_etag,
            fifty_concurrent_assignments_of_one_ticket_one_wins,
            the_ticket_view_shows_sla_timers_that_agent_actions_move,
            ticket_lists_page_with_cursors_newest_first,
            an_unanswered_chat_breaches_its_first_reply_and_is_escalated_once,
            a_conversation_routed_in_reverse_reads_in_sent_order_under_its_first_subject,
            list_cursors_used_on_another_list_or_tampered_are_400,
            an_idempotency_key_reused_with_another_body_is_422_and_changes_nothing,
            chat_visitor_typing_an_existing_customers_address_stays_a_separate_customer,
            a_strangers_reply_with_cc_copies_nobody,
            cc_merges_and_recipient_limits_are_guarded_at_the_agent_api,
            a_reused_message_id_from_another_sender_gets_its_own_ticket,
            a_mail_reusing_the_acknowledgements_message_id_parks_nothing,
            a_reply_that_overtakes_the_mail_it_answers_joins_its_ticket,
            a_solved_ticket_gets_one_survey_that_records_only_what_a_person_submits,
            a_reopened_ticket_and_an_opted_out_customer_get_no_survey,
            a_caller_known_from_chat_is_recognised_and_their_calls_sit_beside_their_chats,
            an_abandoned_call_delivered_three_times_in_shuffled_order_is_one_ticket_and_one_callback_task,
            an_after_hours_missed_call_gets_its_callback_task_at_the_next_business_minute,
            an_agent_asks_for_a_callback_and_a_stale_version_queues_none,
            a_question_gets_a_bot_answer_and_yes_solves_it_as_self_served,
            a_bot_answer_then_talk_to_a_person_reaches_the_team_queue_with_the_whole_exchange,
            zhuan_ren_gong_as_the_first_message_goes_straight_to_a_person,
            a_third_question_goes_to_a_person_never_a_third_bot_answer,
            a_question_the_bot_is_not_sure_of_gets_links_to_the_articles_that_came_close,
            an_article_edited_and_published_is_found_by_the_next_search,
            example_questions_are_stored_returned_and_matched_but_not_shown_and_bounded,
            a_question_like_an_articles_counter_example_goes_to_a_person_at_once,
            the_help_centre_answers_bad_input_clearly_and_never_runs_markup,
            a_mail_acknowledgement_suggests_up_to_three_articles_that_score_well,
            chats_are_exported_from_the_event_log_with_customers_as_pseudonyms,
            wechat_pushes_plain_and_safe_mode_make_one_message_each_and_bad_ones_write_nothing,
            a_wechat_reply_inside_the_window_is_sent_once_and_outside_it_is_refused_where_the_agent_sees_it,
            meta_batches_redelivered_are_one_message_each_and_a_messenger_reply_is_sent_once,
            a_forum_question_is_a_public_ticket_and_a_staff_answer_on_the_forum_solves_it,
            an_unanswered_forum_question_is_one_ticket_once_its_business_hours_have_passed,
            a_forum_question_answered_by_staff_first_becomes_no_ticket,
            a_forum_question_whose_asker_is_erased_while_it_waits_becomes_no_ticket,
            a_reply_the_platform_refuses_shows_its_reason_on_the_ticket_which_stays_open,
            oversized_meta_and_forum_bodies_are_413_and_write_nothing,
            a_messenger_reply_outside_24_hours_is_refused_visibly_and_inside_is_sent_once,
            a_customer_who_chats_and_then_writes_on_wechat_stays_two_customers,
            wechat_customers_of_two_accounts_with_one_union_id_are_one_customer,
            a_hundred_concurrent_wechat_replies_from_two_containers_fetch_the_token_once,
            order_status_in_chat_answers_one_order_and_asks_which_of_two,
            a_stranger_naming_someone_elses_order_sees_nothing_and_a_shop_down_hands_to_a_person,
            a_late_parcel_webhook_delivered_three_times_opens_one_ticket_with_one_mail,
            a_return_goes_through_every_state_over_the_agent_api_and_bad_steps_are_refused,
            a_customer_starts_a_return_in_chat_and_the_rules_refuse_or_ask_for_photos_first,
            a_strangers_return_request_for_someone_elses_order_shows_nothing_and_mails_nobody,
            a_return_keyword_in_a_mail_starts_the_senders_return_and_the_acknowledgement_says_so_in_their_language,
            the_help_centre_form_mails_a_signed_link_to_the_orders_address_and_following_it_starts_one_return,
            a_late_parcel_notice_goes_into_the_customers_open_chat_instead_of_a_mail,
            ticket_and_customer_views_list_recent_orders_and_answer_without_them_when_the_shop_is_down,
            chat_attachments_over_a_limit_too_many_or_of_a_refused_type_are_413_or_400_and_write_nothing,
            a_chat_customers_photos_are_in_their_export_and_erasing_them_deletes_the_files,
            a_damaged_return_in_chat_waits_for_photos_and_a_later_chat_message_with_one_files_it_for_agents_to_see,
            a_return_confirmed_through_the_help_centre_link_is_routed_to_its_team_like_other_tickets,
            a_bot_answer_then_silence_past_the_limit_is_solved_by_the_sweeper_with_a_note_and_bot_abandoned,
            a_chat_reply_before_the_bot_close_keeps_the_conversation_open,
            a_handed_off_chat_is_never_closed_for_silence,
            a_chat_customer_writing_after_the_bot_closed_it_reopens_it_and_the_bot_limits_hold,
        );
    };
}
