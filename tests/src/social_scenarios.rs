//! Social channels end to end on both backends: WeChat (plaintext and safe mode, retries,
//! the 48-hour window, the shared access token), Meta's Graph webhook, the Discourse forum,
//! and identities that never link on what anyone typed.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use omnidesk_app::social::meta::sign as hub_sign;
use omnidesk_app::social::wechat_crypto::{aes_key, encrypt, signature};
use omnidesk_domain::model::{Identity, MessageFlag, TicketNumber};
use omnidesk_domain::ports::ThreadKey;
use omnidesk_local::social_fakes::{self, FakePlatforms};
use reqwest::Method;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::agent_scenarios::{AGENT, STAFF};
use crate::{Backend, TestDesk, eventually, now, settle};

pub const WECHAT_TOKEN: &str = "wechattoken42";
pub const WECHAT_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const WECHAT_APP_ID: &str = "wxb11529c136998cb6";
const META_SECRET: &str = "meta-app-secret-for-tests";
const FORUM_SECRET: &str = "forum-webhook-secret-for-tests";
const OPENID: &str = "oUser-anna-openid";

/// The platforms' APIs on a loopback port of the test's own, stopped when dropped.
pub struct FakeServer {
    pub fakes: Arc<FakePlatforms>,
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl FakeServer {
    pub async fn start() -> Self {
        let fakes = Arc::new(FakePlatforms::default());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind a loopback port");
        let address = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let app = social_fakes::router(fakes.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { fakes, address, stop: Some(stop) }
    }

    /// `[social]` pointing every platform at this server; forum questions are tickets at once.
    pub fn config(&self) -> String {
        self.config_with_forum("answer_within_business_hours = 0")
    }

    /// [`Self::config`] with `forum` appended to `[social.forum]`.
    pub fn config_with_forum(&self, forum: &str) -> String {
        let base = format!("http://{}/local/fake", self.address);
        format!(
            r#"
[[social.wechat]]
id = "shop"
app_id = "{WECHAT_APP_ID}"
token = "{WECHAT_TOKEN}"
encoding_aes_key = "{WECHAT_AES_KEY}"
app_secret = "wechat-app-secret-for-tests"
api_base = "{base}/wechat"

[social.meta]
app_secret = "{META_SECRET}"
verify_token = "verify-me"
page_token = "page-token-for-tests"
whatsapp_token = "whatsapp-token-for-tests"
api_base = "{base}/graph"

[social.forum]
base_url = "{base}/forum"
webhook_secret = "{FORUM_SECRET}"
api_key = "forum-api-key-for-tests"
api_username = "support-bot"
{forum}
"#
        )
    }

    pub fn sent_to(&self, platform: &str) -> usize {
        self.fakes.sent().iter().filter(|s| s.platform == platform).count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A text message as WeChat pushes it.
pub fn wechat_text(msg_id: u64, from: &str, text: &str, created: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
         <CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

/// The query WeChat signs a push with, at `at` (unix seconds).
pub fn wechat_query(at: i64) -> String {
    let nonce = "1320562132";
    format!("signature={}&timestamp={at}&nonce={nonce}", signature(&[WECHAT_TOKEN, &at.to_string(), nonce]))
}

impl TestDesk {
    async fn start_social(backend: &Backend) -> (Self, FakeServer) {
        let fake = FakeServer::start().await;
        let desk = Self::start_configured(backend, &format!("{STAFF}\n{}", fake.config())).await;
        (desk, fake)
    }

    async fn post_wechat(&self, query: &str, body: String) -> (u16, String) {
        let response = self
            .http
            .post(self.url(&format!("/v1/social/wechat/shop?{query}")))
            .header("content-type", "text/xml")
            .body(body)
            .send()
            .await
            .expect("desk answers");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }

    async fn post_signed(
        &self,
        path: &str,
        header: &str,
        secret: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> u16 {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .header(header, hub_sign(secret.as_bytes(), body.as_bytes()))
            .body(body.to_owned());
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.expect("desk answers").status().as_u16()
    }

    async fn social_ticket(&self, network: &str, conversation: &str) -> Option<TicketNumber> {
        let key = ThreadKey::social(network, conversation);
        self.observe.tickets.thread_ticket(&key).await.expect("read thread")
    }
}

/// Issue 21, WeChat: the handshake echoes; a push answers `success`; three retries of one
/// MsgId and a safe-mode message make two ticket messages; a wrong signature, a stale
/// timestamp, malformed XML, an oversized body and a tampered ciphertext write nothing.
pub async fn wechat_pushes_plain_and_safe_mode_make_one_message_each_and_bad_ones_write_nothing(
    backend: &Backend,
) {
    let (desk, _fake) = TestDesk::start_social(backend).await;
    let at = now();
    let handshake = desk
        .http
        .get(desk.url(&format!("/v1/social/wechat/shop?{}&echostr=4375120948345356249", wechat_query(at))))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status().as_u16(), 200);
    assert_eq!(handshake.text().await.unwrap(), "4375120948345356249");

    for _ in 0..3 {
        let (status, body) = desk
            .post_wechat(&wechat_query(at), wechat_text(6054768590064713728, OPENID, "我的包裹在哪里？", at))
            .await;
        assert_eq!((status, body.as_str()), (200, "success"));
    }
    let inner = wechat_text(6054768590064713729, OPENID, "还有发票", at);
    let key = aes_key(WECHAT_AES_KEY).unwrap();
    let encrypted = encrypt(&key, b"aaaabbbbccccdddd", &inner, WECHAT_APP_ID);
    let nonce = "1320562132";
    let msg_signature = signature(&[WECHAT_TOKEN, &at.to_string(), nonce, &encrypted]);
    let safe_query = format!("{}&encrypt_type=aes&msg_signature={msg_signature}", wechat_query(at));
    let safe_body = format!(
        "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    );
    assert_eq!(desk.post_wechat(&safe_query, safe_body).await.0, 200);

    // What must write nothing.
    let wrong = format!("signature={}&timestamp={at}&nonce={nonce}", "0".repeat(40));
    assert_eq!(desk.post_wechat(&wrong, wechat_text(1, OPENID, "x", at)).await.0, 403);
    assert_eq!(desk.post_wechat(&wechat_query(at - 3600), wechat_text(2, OPENID, "x", at)).await.0, 403);
    assert_eq!(desk.post_wechat(&wechat_query(at), "<xml><MsgType>text".into()).await.0, 400);
    let huge = wechat_text(3, OPENID, &"长".repeat(100_000), at);
    assert_eq!(desk.post_wechat(&wechat_query(at), huge).await.0, 413);
    // A character of the last block: its padding and AppID no longer decrypt.
    let mut tampered = encrypted.clone().into_bytes();
    let at_end = tampered.len() - 6;
    tampered[at_end] = if tampered[at_end] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let tampered_body = format!("<xml><Encrypt><![CDATA[{tampered}]]></Encrypt></xml>");
    assert_eq!(
        desk.post_wechat(&safe_query, tampered_body.clone()).await.0,
        403,
        "msg_signature no longer matches"
    );
    let resigned = signature(&[WECHAT_TOKEN, &at.to_string(), nonce, &tampered]);
    let resigned_query = format!("{}&encrypt_type=aes&msg_signature={resigned}", wechat_query(at));
    assert_eq!(
        desk.post_wechat(&resigned_query, tampered_body).await.0,
        403,
        "does not decrypt to this account's message"
    );

    assert!(desk.drained().await);
    let ticket = desk.social_ticket("wechat:shop", OPENID).await.expect("one ticket for the OpenID");
    let mut texts: Vec<String> = desk.messages(ticket).await.into_iter().map(|m| m.text).collect();
    // The inbound queue does not keep order between two messages in one batch.
    texts.sort();
    assert_eq!(texts, ["我的包裹在哪里？", "还有发票"]);
    assert_eq!(desk.ticket(2).await, None, "nothing else was written");
}

/// Issue 21: a reply inside WeChat's 48 hours reaches the fake API exactly once (one token
/// fetched); outside it the agent API says why, the ticket shows the flagged reply, stays
/// open, and nothing is sent.
pub async fn a_wechat_reply_inside_the_window_is_sent_once_and_outside_it_is_refused_where_the_agent_sees_it(
    backend: &Backend,
) {
    let (desk, fake) = TestDesk::start_social(backend).await;
    let at = now();
    assert_eq!(
        desk.post_wechat(&wechat_query(at), wechat_text(1001, OPENID, "退货怎么办？", at)).await.0,
        200
    );
    let three_days_ago = at - 3 * 24 * 3600;
    assert_eq!(
        desk.post_wechat(&wechat_query(at), wechat_text(1002, "oUser-old", "发票", three_days_ago)).await.0,
        200
    );
    assert!(desk.drained().await);
    let fresh = desk.social_ticket("wechat:shop", OPENID).await.expect("ticket");
    let old = desk.social_ticket("wechat:shop", "oUser-old").await.expect("ticket");

    let (status, reply) = desk
        .api(
            Method::POST,
            &format!("/v1/tickets/{}/replies", fresh.0),
            Some(AGENT),
            Some(json!({"text": "请在订单页申请退货"})),
        )
        .await;
    assert_eq!((status, reply["delivery"].as_str()), (201, Some("queued")), "{reply}");
    assert!(eventually(backend.patience(), || async { fake.sent_to("wechat") == 1 }).await);

    let (status, refused) = desk
        .api(
            Method::POST,
            &format!("/v1/tickets/{}/replies", old.0),
            Some(AGENT),
            Some(json!({"text": "发票已开"})),
        )
        .await;
    assert_eq!((status, refused["delivery"].as_str()), (201, Some("outside_window")), "{refused}");
    assert!(refused["refusal"].as_str().unwrap_or_default().contains("48 hours"), "{refused}");
    assert!(desk.drained().await);
    settle(backend).await;
    assert_eq!(fake.sent_to("wechat"), 1, "exactly one send; the refused reply never left");
    assert_eq!(fake.fakes.tokens_issued(), 1);
    let kept = desk.messages(old).await;
    assert!(kept.iter().any(|m| m.text == "发票已开" && m.flags.contains(&MessageFlag::OutsideWindow)));
    let ticket = desk.ticket(old.0).await.unwrap();
    assert_ne!(ticket.status.as_str(), "pending", "the ticket waits on the desk, not the customer");
}

/// Issue 21, Meta: the verify handshake; a signed batch with a Messenger message, an echo and
/// a WhatsApp message, delivered twice, is one ticket message each; a wrong signature or
/// malformed JSON writes nothing; a Messenger reply reaches the Send API once.
pub async fn meta_batches_redelivered_are_one_message_each_and_a_messenger_reply_is_sent_once(
    backend: &Backend,
) {
    let (desk, fake) = TestDesk::start_social(backend).await;
    let challenge =
        desk.http
            .get(desk.url(
                "/v1/social/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
            ))
            .send()
            .await
            .unwrap();
    assert_eq!(challenge.status().as_u16(), 200);
    assert_eq!(challenge.text().await.unwrap(), "1158201444");
    let wrong = desk
        .http
        .get(desk.url("/v1/social/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);

    let ms = now() * 1000;
    let messenger = json!({"object": "page", "entry": [
        {"id": "page-1", "time": ms, "messaging": [{"sender": {"id": "psid-7"}, "recipient": {"id": "page-1"}, "timestamp": ms, "message": {"mid": "m_1", "text": "Is the blue one in stock?"}}]},
        {"id": "page-1", "time": ms, "messaging": [{"sender": {"id": "page-1"}, "recipient": {"id": "psid-7"}, "timestamp": ms, "message": {"mid": "m_2", "text": "echo", "is_echo": true}}]}
    ]})
    .to_string();
    let whatsapp = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.A1", "timestamp": now().to_string(), "type": "text", "text": {"body": "Another colour?"}}]}}]}]})
    .to_string();
    for _ in 0..2 {
        assert_eq!(
            desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, &messenger, &[]).await,
            200
        );
        assert_eq!(
            desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, &whatsapp, &[]).await,
            200
        );
    }
    assert_eq!(
        desk.post_signed("/v1/social/meta", "x-hub-signature-256", "not-the-secret", &messenger, &[]).await,
        401
    );
    assert_eq!(
        desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, "{\"object\":", &[]).await,
        400
    );
    assert!(desk.drained().await);
    let ticket = desk.social_ticket("messenger:page-1", "psid-7").await.expect("a Messenger ticket");
    assert_eq!(desk.messages(ticket).await.len(), 1);
    let whatsapp_ticket =
        desk.social_ticket("whatsapp:106540352242922", "16505551234").await.expect("a WhatsApp ticket");
    assert_eq!(desk.messages(whatsapp_ticket).await.len(), 1);

    let (status, reply) = desk
        .api(
            Method::POST,
            &format!("/v1/tickets/{}/replies", ticket.0),
            Some(AGENT),
            Some(json!({"text": "Yes, in all sizes."})),
        )
        .await;
    assert_eq!((status, reply["delivery"].as_str()), (201, Some("queued")), "{reply}");
    assert!(eventually(backend.patience(), || async { fake.sent_to("messenger") == 1 }).await);
    assert!(desk.drained().await);
    settle(backend).await;
    assert_eq!(fake.sent_to("messenger"), 1);
}

fn forum_post(id: u64, topic: u64, number: u64, user: (i64, &str), staff: bool, raw: &str) -> String {
    json!({"post": {
        "id": id, "topic_id": topic, "post_number": number, "post_type": 1, "raw": raw,
        "username": user.1, "user_id": user.0, "topic_title": "Parcel stuck in customs",
        "topic_archetype": "regular", "staff": staff, "admin": false, "moderator": false,
        "created_at": jiff::Timestamp::from_second(now()).unwrap().to_string(),
    }})
    .to_string()
}

/// Issue 21, forum: a customer's question is a public ticket (tagged `public`) whose agent
/// reply goes to the topic; a staff answer on the forum solves it; a staff answer on a
/// topic without a ticket makes none; a wrong signature writes nothing.
pub async fn a_forum_question_is_a_public_ticket_and_a_staff_answer_on_the_forum_solves_it(
    backend: &Backend,
) {
    let (desk, fake) = TestDesk::start_social(backend).await;
    let created = [("x-discourse-event", "post_created"), ("x-discourse-event-type", "post")];
    let question = forum_post(501, 77, 1, (12, "anna"), false, "It has not moved for a week.");
    assert_eq!(
        desk.post_signed(
            "/v1/social/forum",
            "x-discourse-event-signature",
            FORUM_SECRET,
            &question,
            &created
        )
        .await,
        200
    );
    assert_eq!(
        desk.post_signed(
            "/v1/social/forum",
            "x-discourse-event-signature",
            "wrong-secret-0000",
            &question,
            &created
        )
        .await,
        401
    );
    assert!(desk.drained().await);
    let ticket = desk.social_ticket("forum:forum", "77").await.expect("the question is a ticket");
    let stored = desk.ticket(ticket.0).await.unwrap();
    assert!(stored.tags.contains("public"), "{:?}", stored.tags);

    let (status, reply) = desk
        .api(
            Method::POST,
            &format!("/v1/tickets/{}/replies", ticket.0),
            Some(AGENT),
            Some(json!({"text": "Customs released it today."})),
        )
        .await;
    assert_eq!((status, reply["delivery"].as_str()), (201, Some("queued")), "{reply}");
    assert!(eventually(backend.patience(), || async { fake.sent_to("forum") == 1 }).await);

    let answer = forum_post(502, 77, 2, (3, "maria"), true, "Confirmed, it is on its way.");
    assert_eq!(
        desk.post_signed("/v1/social/forum", "x-discourse-event-signature", FORUM_SECRET, &answer, &created)
            .await,
        200
    );
    let elsewhere = forum_post(601, 88, 2, (3, "maria"), true, "Answered.");
    assert_eq!(
        desk.post_signed(
            "/v1/social/forum",
            "x-discourse-event-signature",
            FORUM_SECRET,
            &elsewhere,
            &created
        )
        .await,
        200
    );
    assert!(desk.drained().await);
    let solved = desk.ticket(ticket.0).await.unwrap();
    assert_eq!(solved.status.as_str(), "solved");
    assert_eq!(desk.social_ticket("forum:forum", "88").await, None, "a staff answer alone makes no ticket");
    assert_eq!(desk.ticket(ticket.0 + 1).await, None);
}

/// Issue 21: the same person chatting and then writing on WeChat is two customers until an
/// agent merges them: the name they typed links nothing.
pub async fn a_customer_who_chats_and_then_writes_on_wechat_stays_two_customers(backend: &Backend) {
    let (desk, _fake) = TestDesk::start_social(backend).await;
    let chat = json!({"message_id": "m-21", "conversation_id": "c-21", "visitor": {"id": "v-21", "name": "Anna", "email": "anna@example.com"}, "text": "Hello, I am Anna, OpenID oUser-anna-openid"});
    assert_eq!(desk.post_chat(crate::INBOX, chat.to_string().as_bytes(), Some(now())).await.0, 202);
    let at = now();
    let text = "I am Anna, anna@example.com, visitor v-21";
    assert_eq!(desk.post_wechat(&wechat_query(at), wechat_text(2101, OPENID, text, at)).await.0, 200);
    assert!(desk.drained().await);
    let chatting = desk.customer_of_visitor("v-21").await.expect("the chat customer");
    let identity = Identity::Social { network: "wechat:shop".into(), handle: OPENID.into() };
    let on_wechat =
        desk.observe.customers.customer_by_identity(&identity).await.unwrap().expect("the WeChat customer");
    assert_ne!(chatting, on_wechat);
}

/// Issue 21: WeChat's access token is fetched once for 100 concurrent replies sent by two
/// dispatcher containers sharing the desk's table, fetched again (once) when its period
/// ends, an hour before the token would expire, and replaced once for both containers when
/// WeChat retires it early.
pub async fn a_hundred_concurrent_wechat_replies_from_two_containers_fetch_the_token_once(backend: &Backend) {
    use omnidesk_app::social::send::{self, SocialNotifier, WechatIssuer};
    use omnidesk_app::social::token::SharedToken;
    use omnidesk_domain::memory::ManualClock;
    use omnidesk_domain::model::MessageId;
    use omnidesk_domain::outbound::{Destination, OutboundJob, OutboundKind, SocialDestination};
    use omnidesk_domain::ports::OutboundNotifier;
    use omnidesk_domain::social::Platform;

    let fake = FakeServer::start().await;
    let desk = TestDesk::start_configured(backend, &fake.config()).await;
    let social = Arc::new(desk.desk.config.social.clone().expect("[social]"));
    let start = jiff::Timestamp::from_second(now()).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let container = |name: &str| {
        let http = send::http_client().expect("client");
        let issuer = Arc::new(WechatIssuer { http: http.clone() });
        let tokens =
            SharedToken::new(desk.observe.idempotency.clone(), clock.clone(), issuer, name.to_owned());
        Arc::new(SocialNotifier::new(http, social.clone(), Arc::new(tokens)))
    };
    let containers = [container("container-a"), container("container-b")];
    let job = |i: usize| OutboundJob {
        id: format!("reply:{i}"),
        ticket: TicketNumber(1),
        message: MessageId::new(format!("msg_{i}")),
        kind: OutboundKind::AgentReply,
        destination: Destination::Social(SocialDestination {
            platform: Platform::Wechat,
            account: "shop".into(),
            conversation: format!("oUser-{i}"),
            in_reply_to: None,
        }),
        text: format!("reply {i}"),
        created_at: start,
        survey: None,
    };
    let send_all = |range: std::ops::Range<usize>| {
        let mut set = tokio::task::JoinSet::new();
        for i in range {
            let notifier = containers[i % 2].clone();
            let job = job(i);
            set.spawn(async move { notifier.deliver(&job).await });
        }
        set
    };
    let results = send_all(0..100).join_all().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.fakes.tokens_issued(), 1, "one token for 100 replies on two containers");
    assert_eq!(fake.sent_to("wechat"), 100);

    clock.set(start + jiff::SignedDuration::from_secs(3600));
    let results = send_all(100..110).join_all().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.fakes.tokens_issued(), 2, "refreshed once, an hour into its two");
    assert_eq!(fake.sent_to("wechat"), 110, "the fake takes only the newest token: every reply used it");

    // Someone fetches a token with the AppSecret elsewhere: WeChat retires the desk's early.
    let elsewhere = format!("http://{}/local/fake/wechat/cgi-bin/token", fake.address);
    reqwest::get(elsewhere).await.expect("a token fetched elsewhere");
    let first: Vec<usize> = (110..120).collect();
    let outcomes = send_all(110..120).join_all().await;
    let refused: Vec<usize> =
        first.iter().zip(&outcomes).filter(|(_, outcome)| outcome.is_err()).map(|(i, _)| *i).collect();
    assert!(refused.len() >= 2, "each container's next reply meets the retired token: {outcomes:?}");
    let mut retries = tokio::task::JoinSet::new();
    for i in refused {
        let notifier = containers[i % 2].clone();
        let job = job(i);
        retries.spawn(async move { notifier.deliver(&job).await });
    }
    let results = retries.join_all().await;
    assert!(results.iter().all(Result::is_ok), "retried with the replacement: {results:?}");
    assert_eq!(fake.fakes.tokens_issued(), 4, "one replacement for both containers");
    assert_eq!(fake.sent_to("wechat"), 120);
}

/// A forum whose questions wait two business hours (Mon–Fri 09:00–18:00 Shanghai) for staff.
const FORUM_WAITS: &str = "answer_within_business_hours = 2\ncalendar = \"business\"";

/// A forum post as Discourse sends it, written at `at`.
fn forum_post_at(
    id: u64,
    topic: u64,
    number: u64,
    user: (i64, &str),
    staff: bool,
    raw: &str,
    at: jiff::Timestamp,
) -> String {
    json!({"post": {
        "id": id, "topic_id": topic, "post_number": number, "post_type": 1, "raw": raw,
        "username": user.1, "user_id": user.0, "topic_title": "Parcel stuck in customs",
        "topic_archetype": "regular", "staff": staff, "admin": false, "moderator": false,
        "created_at": at.to_string(),
    }})
    .to_string()
}

/// Friday 2026-12-11 19:00 in Shanghai (after the business calendar's close), a week ahead
/// of the desk's clock, so the clock only ever moves forward.
fn friday_evening() -> jiff::Timestamp {
    "2026-12-11T11:00:00Z".parse().expect("an instant")
}

/// Monday 11:00 Shanghai: 09:00 + the forum's two business hours.
fn monday_deadline() -> jiff::Timestamp {
    "2026-12-14T03:00:00Z".parse().expect("an instant")
}

struct ForumDesk {
    desk: TestDesk,
    clock: Arc<crate::sla_scenarios::ShiftedClock>,
    _fake: FakeServer,
}

impl ForumDesk {
    async fn start(backend: &Backend) -> Self {
        let fake = FakeServer::start().await;
        let clock = Arc::new(crate::sla_scenarios::ShiftedClock::default());
        clock.shift(jiff::Timestamp::now().duration_until(friday_evening()));
        let extra = format!("{STAFF}\n{}", fake.config_with_forum(FORUM_WAITS));
        let desk = TestDesk::start_with(backend, None, &extra, clock.clone()).await;
        Self { desk, clock, _fake: fake }
    }

    fn now(&self) -> jiff::Timestamp {
        omnidesk_domain::ports::Clock::now(&*self.clock)
    }

    async fn post(&self, body: &str) {
        let created = [("x-discourse-event", "post_created")];
        let status = self
            .desk
            .post_signed("/v1/social/forum", "x-discourse-event-signature", FORUM_SECRET, body, &created)
            .await;
        assert_eq!(status, 200);
    }

    /// Moves the clock to `at` and the sweeper's watermark to shortly before it, as if the
    /// sweeper had run every minute in between (reading every minute of a weekend on moto
    /// would take the test its whole patience).
    async fn jump_to(&self, at: jiff::Timestamp) {
        self.clock.shift(self.now().duration_until(at));
        // On a minute's start, as a sweeper leaves it: a run reads whole minutes from there.
        let before = omnidesk_domain::sla::sweeper::bucket_of(at - jiff::SignedDuration::from_mins(10));
        let watermarks = &self.desk.observe.watermarks;
        for _ in 0..5 {
            let current =
                watermarks.watermark(omnidesk_domain::sla::sweeper::WATERMARK).await.expect("watermark");
            if current.is_some_and(|w| w >= before) {
                return;
            }
            match watermarks
                .advance_watermark(omnidesk_domain::sla::sweeper::WATERMARK, current, before)
                .await
            {
                Ok(()) => return,
                Err(omnidesk_domain::ports::StoreError::Conflict(_)) => {}
                Err(other) => panic!("watermark: {other}"),
            }
        }
        panic!("the watermark kept moving");
    }

    async fn sweep(&self) -> omnidesk_domain::sla::SweepReport {
        self.desk.desk.sweep_sla().await.expect("a sweeper runs for the forum").expect("sweep")
    }

    /// Sweeps until a run queues a due question (a run reads a bounded number of minutes).
    async fn sweep_until_due(&self) {
        for _ in 0..5 {
            if self.sweep().await.forum_questions_due > 0 {
                return;
            }
        }
        panic!("no sweep found the question due");
    }

    async fn question(&self, topic: u64) -> Option<omnidesk_domain::forum_watch::PendingQuestion> {
        let key = ThreadKey::social("forum:forum", &topic.to_string());
        self.desk.observe.forum_questions.question(&key).await.expect("read question")
    }
}

/// Issue 21, forum: a question nobody from staff answers is a ticket only once its forum's
/// business hours have passed: asked on Friday evening, it is not due on Monday at 10:59
/// (two business hours from Monday's opening) and is one public ticket, carrying every post
/// so far, after 11:00 however often the sweeper runs; a staff answer then solves it.
pub async fn an_unanswered_forum_question_is_one_ticket_once_its_business_hours_have_passed(
    backend: &Backend,
) {
    let f = ForumDesk::start(backend).await;
    let at = f.now();
    f.post(&forum_post_at(701, 90, 1, (12, "anna"), false, "It has not moved for a week.", at)).await;
    // A minute later (the thread reads in the order posts were written), and redelivered.
    let reply_at = at + jiff::SignedDuration::from_mins(1);
    f.post(&forum_post_at(702, 90, 2, (13, "li"), false, "Mine too, since Monday.", reply_at)).await;
    f.post(&forum_post_at(702, 90, 2, (13, "li"), false, "Mine too, since Monday.", reply_at)).await;
    assert!(f.desk.drained().await);
    let question = f.question(90).await.expect("the question waits");
    assert_eq!(question.due_at, Some(monday_deadline()), "two business hours from Monday 09:00");
    assert_eq!(question.posts.len(), 2);
    assert_eq!(f.desk.social_ticket("forum:forum", "90").await, None, "no ticket while it waits");

    // Saturday: a whole day later, and still no business hour has passed.
    f.jump_to(at + jiff::SignedDuration::from_hours(24)).await;
    assert_eq!(f.sweep().await.forum_questions_due, 0);
    f.jump_to(monday_deadline() - jiff::SignedDuration::from_mins(1)).await;
    assert_eq!(f.sweep().await.forum_questions_due, 0);
    assert!(f.desk.drained().await);
    assert_eq!(f.desk.social_ticket("forum:forum", "90").await, None, "not due before Monday 11:00");

    f.jump_to(monday_deadline() + jiff::SignedDuration::from_secs(30)).await;
    let (a, b) = tokio::join!(f.sweep(), f.sweep());
    assert!(a.forum_questions_due + b.forum_questions_due >= 1, "{a:?} {b:?}");
    f.sweep().await;
    assert!(f.desk.drained().await);
    let ticket =
        f.desk.social_ticket("forum:forum", "90").await.expect("the unanswered question is a ticket");
    assert_eq!(f.desk.ticket(ticket.0 + 1).await, None, "exactly one ticket");
    let stored = f.desk.ticket(ticket.0).await.unwrap();
    assert!(stored.tags.contains("public"), "{:?}", stored.tags);
    assert_eq!(stored.subject, "Parcel stuck in customs");
    let texts: Vec<String> = f.desk.messages(ticket).await.into_iter().map(|m| m.text).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].contains("It has not moved for a week."), "{texts:?}");
    assert_eq!(texts[1], "Mine too, since Monday.");
    assert_eq!(f.question(90).await.map(|q| q.ticket), Some(Some(ticket)));

    // A later post joins the ticket; a staff answer on the forum still solves it.
    let later = f.now();
    f.post(&forum_post_at(703, 90, 3, (12, "anna"), false, "Any news?", later)).await;
    f.post(&forum_post_at(704, 90, 4, (3, "maria"), true, "It cleared customs today.", later)).await;
    assert!(f.desk.drained().await);
    assert_eq!(f.desk.messages(ticket).await.len(), 4);
    assert_eq!(f.desk.ticket(ticket.0).await.unwrap().status.as_str(), "solved");
}

/// Issue 21, forum: a question a staff member answers on the forum before its deadline
/// never becomes a ticket, however long the sweeper runs after the deadline.
pub async fn a_forum_question_answered_by_staff_first_becomes_no_ticket(backend: &Backend) {
    let f = ForumDesk::start(backend).await;
    let at = f.now();
    f.post(&forum_post_at(801, 91, 1, (12, "anna"), false, "Do you ship to Macau?", at)).await;
    assert!(f.desk.drained().await);
    f.post(&forum_post_at(802, 91, 2, (3, "maria"), true, "Yes, in three days.", at)).await;
    assert!(f.desk.drained().await);
    let question = f.question(91).await.expect("the question is kept");
    assert_eq!(question.state, omnidesk_domain::forum_watch::QuestionState::Answered);

    f.jump_to(monday_deadline() + jiff::SignedDuration::from_secs(30)).await;
    assert_eq!(f.sweep().await.forum_questions_due, 0);
    assert!(f.desk.drained().await);
    assert_eq!(f.desk.social_ticket("forum:forum", "91").await, None, "answered on the forum: no ticket");
    assert_eq!(f.desk.ticket(1).await, None, "no ticket at all");
}

/// Issue 13, erasure: a forum question still waiting for staff when its asker is erased
/// becomes no ticket when it falls due (its posts were received before the erasure), the
/// desk makes no customer for it again, and no record keeps the asker's words — neither that
/// question nor the one that became their (erased) ticket.
pub async fn a_forum_question_whose_asker_is_erased_while_it_waits_becomes_no_ticket(backend: &Backend) {
    let f = ForumDesk::start(backend).await;
    let at = f.now();
    // Anna's first question became a ticket, so the desk knows her...
    f.post(&forum_post_at(901, 92, 1, (12, "anna"), false, "Where is the size chart?", at)).await;
    assert!(f.desk.drained().await);
    f.jump_to(monday_deadline() + jiff::SignedDuration::from_secs(30)).await;
    f.sweep_until_due().await;
    assert!(f.desk.drained().await);
    let first = f.desk.social_ticket("forum:forum", "92").await.expect("the first question is a ticket");
    let anna = f.desk.ticket(first.0).await.expect("ticket").requester;
    // ...and her second waits on another topic while she is erased.
    let later = f.now();
    f.post(&forum_post_at(902, 93, 1, (12, "anna"), false, "Will the blue mug come back?", later)).await;
    assert!(f.desk.drained().await);
    let due = f.question(93).await.and_then(|q| q.due_at).expect("the second question waits");
    let job = f.desk.erase(anna.as_str()).await;
    assert_eq!(job["status"], "done", "{job}");

    f.jump_to(due + jiff::SignedDuration::from_secs(30)).await;
    f.sweep_until_due().await;
    assert!(f.desk.drained().await);
    assert_eq!(f.desk.social_ticket("forum:forum", "93").await, None, "no ticket for an erased asker");
    assert_eq!(f.desk.ticket(first.0 + 1).await, None, "no ticket at all");
    let question = f.question(93).await.expect("the record stays until its TTL");
    assert!(question.posts.is_empty(), "{question:?}");
    // The question that became a ticket keeps only what recognises a redelivery.
    let opened = f.question(92).await.expect("the opened question's record");
    assert!(opened.posts.iter().all(|p| p.text.is_empty() && p.sender.name.is_none()), "{opened:?}");
    let everything = f.desk.everything_stored().await;
    for words in ["Where is the size chart?", "Will the blue mug come back?"] {
        assert!(!everything.contains(words), "{words:?} survived erasure");
    }
}

impl TestDesk {
    async fn reply_to(&self, ticket: TicketNumber, text: &str) -> serde_json::Value {
        let path = format!("/v1/tickets/{}/replies", ticket.0);
        let (status, reply) = self.api(Method::POST, &path, Some(AGENT), Some(json!({"text": text}))).await;
        assert_eq!(status, 201, "{reply}");
        reply
    }

    /// The ticket's notes that say a platform refused a reply, as the agent API shows them.
    async fn refusal_notes(&self, ticket: TicketNumber) -> Vec<String> {
        let (_, view) = self.api(Method::GET, &format!("/v1/tickets/{}", ticket.0), Some(AGENT), None).await;
        let messages = view["messages"].as_array().cloned().unwrap_or_default();
        messages
            .iter()
            .filter(|m| m["flags"].as_array().is_some_and(|f| f.contains(&json!("delivery_refused"))))
            .filter(|m| m["visibility"] == "internal")
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Issue 21: when a platform refuses a reply the desk had queued (WeChat 45015 and 45047,
/// Meta's outside-the-window 10/2018278, WhatsApp's 131047, Discourse's closed topic), the
/// ticket shows the platform's reason in a note the agent API returns, the ticket is open,
/// and nothing is dead-lettered or sent.
pub async fn a_reply_the_platform_refuses_shows_its_reason_on_the_ticket_which_stays_open(backend: &Backend) {
    let (desk, fake) = TestDesk::start_social(backend).await;
    let at = now();
    for (i, openid) in ["oRefused-45015", "oRefused-45047"].into_iter().enumerate() {
        let body = wechat_text(3100 + i as u64, openid, "在吗？", at);
        assert_eq!(desk.post_wechat(&wechat_query(at), body).await.0, 200);
    }
    let ms = at * 1000;
    let messenger = json!({"object": "page", "entry": [{"id": "page-1", "time": ms, "messaging": [
        {"sender": {"id": "psid-refused"}, "recipient": {"id": "page-1"}, "timestamp": ms, "message": {"mid": "m_r1", "text": "Hello?"}}]}]})
    .to_string();
    let whatsapp = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "106540352242922"}, "contacts": [{"wa_id": "16505550000"}],
        "messages": [{"from": "16505550000", "id": "wamid.R1", "timestamp": at.to_string(), "type": "text", "text": {"body": "Hello?"}}]}}]}]})
    .to_string();
    for body in [&messenger, &whatsapp] {
        assert_eq!(
            desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, body, &[]).await,
            200
        );
    }
    let question = forum_post(901, 95, 1, (12, "anna"), false, "Is this still sold?");
    let created = [("x-discourse-event", "post_created")];
    assert_eq!(
        desk.post_signed(
            "/v1/social/forum",
            "x-discourse-event-signature",
            FORUM_SECRET,
            &question,
            &created
        )
        .await,
        200
    );
    assert!(desk.drained().await);

    fake.fakes.refuse(
        "oRefused-45015",
        200,
        json!({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}),
    );
    fake.fakes.refuse(
        "oRefused-45047",
        200,
        json!({"errcode": 45047, "errmsg": "out of response count limit"}),
    );
    fake.fakes.refuse("psid-refused", 400, json!({"error": {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException", "code": 10, "error_subcode": 2018278}}));
    fake.fakes.refuse("16505550000", 400, json!({"error": {"message": "(#131047) Re-engagement message", "code": 131047, "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}));
    fake.fakes.refuse("95", 422, json!({"errors": ["This topic is closed; you cannot post to it."], "error_type": "invalid_parameters"}));
    let cases = [
        ("wechat:shop", "oRefused-45015", "45015"),
        ("wechat:shop", "oRefused-45047", "45047"),
        ("messenger:page-1", "psid-refused", "10/2018278"),
        ("whatsapp:106540352242922", "16505550000", "more than 24 hours have passed"),
        ("forum:forum", "95", "topic is closed"),
    ];
    for (network, conversation, reason) in cases {
        let ticket = desk.social_ticket(network, conversation).await.expect("a ticket");
        let reply = desk.reply_to(ticket, "We are on it.").await;
        assert_eq!(reply["delivery"], "queued", "{reply}");
        assert!(
            eventually(backend.patience(), || async { !desk.refusal_notes(ticket).await.is_empty() }).await,
            "{network}: no refusal on the ticket"
        );
        let notes = desk.refusal_notes(ticket).await;
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains(reason), "{network}: {notes:?}");
        assert_eq!(desk.ticket(ticket.0).await.unwrap().status.as_str(), "open", "{network}");
    }
    assert!(desk.drained().await);
    settle(backend).await;
    assert!(fake.fakes.sent().is_empty(), "nothing was sent: {:?}", fake.fakes.sent());
    let depths = desk.depths().await;
    assert_eq!(
        depths.outbound_dead_letter.total() + depths.inbound_dead_letter.total(),
        0,
        "nothing dead-lettered"
    );
}

/// Issue 21: a body over the webhook limit is the platform's expected 413 on the Graph
/// webhook and on the forum's, and writes nothing.
pub async fn oversized_meta_and_forum_bodies_are_413_and_write_nothing(backend: &Backend) {
    let (desk, _fake) = TestDesk::start_social(backend).await;
    let huge = "长".repeat(100_000);
    let ms = now() * 1000;
    let messenger = json!({"object": "page", "entry": [{"id": "page-1", "time": ms, "messaging": [
        {"sender": {"id": "psid-big"}, "recipient": {"id": "page-1"}, "timestamp": ms, "message": {"mid": "m_big", "text": huge}}]}]})
    .to_string();
    assert_eq!(
        desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, &messenger, &[]).await,
        413
    );
    let question = forum_post(990, 99, 1, (12, "anna"), false, &huge);
    let created = [("x-discourse-event", "post_created")];
    assert_eq!(
        desk.post_signed(
            "/v1/social/forum",
            "x-discourse-event-signature",
            FORUM_SECRET,
            &question,
            &created
        )
        .await,
        413
    );
    settle(backend).await;
    assert!(desk.drained().await);
    assert_eq!(desk.depths().await.inbound.total(), 0, "nothing queued");
    assert_eq!(desk.ticket(1).await, None, "nothing written");
}

/// Issue 21, Meta: a reply to a Messenger customer who last wrote 25 hours ago is refused
/// where the agent sees it (the agent API's answer and the flagged reply on the ticket,
/// which stays open) and nothing reaches the Send API; a reply inside the 24 hours reaches
/// it exactly once.
pub async fn a_messenger_reply_outside_24_hours_is_refused_visibly_and_inside_is_sent_once(
    backend: &Backend,
) {
    let (desk, fake) = TestDesk::start_social(backend).await;
    let fresh_ms = now() * 1000;
    let old_ms = (now() - 25 * 3600) * 1000;
    let batch = json!({"object": "page", "entry": [{"id": "page-1", "time": fresh_ms, "messaging": [
        {"sender": {"id": "psid-fresh"}, "recipient": {"id": "page-1"}, "timestamp": fresh_ms, "message": {"mid": "m_f", "text": "Still there?"}},
        {"sender": {"id": "psid-old"}, "recipient": {"id": "page-1"}, "timestamp": old_ms, "message": {"mid": "m_o", "text": "Any update?"}}]}]})
    .to_string();
    assert_eq!(
        desk.post_signed("/v1/social/meta", "x-hub-signature-256", META_SECRET, &batch, &[]).await,
        200
    );
    assert!(desk.drained().await);
    let old = desk.social_ticket("messenger:page-1", "psid-old").await.expect("ticket");
    let fresh = desk.social_ticket("messenger:page-1", "psid-fresh").await.expect("ticket");

    let refused = desk.reply_to(old, "It ships tomorrow.").await;
    assert_eq!(refused["delivery"], "outside_window", "{refused}");
    assert!(refused["refusal"].as_str().unwrap_or_default().contains("24 hours"), "{refused}");
    let (_, view) = desk.api(Method::GET, &format!("/v1/tickets/{}", old.0), Some(AGENT), None).await;
    let kept = view["messages"].as_array().cloned().unwrap_or_default();
    assert!(
        kept.iter().any(|m| m["text"] == "It ships tomorrow." && m["flags"] == json!(["outside_window"])),
        "{view}"
    );
    assert_ne!(desk.ticket(old.0).await.unwrap().status.as_str(), "pending");

    let sent = desk.reply_to(fresh, "Yes, here.").await;
    assert_eq!(sent["delivery"], "queued", "{sent}");
    assert!(eventually(backend.patience(), || async { fake.sent_to("messenger") == 1 }).await);
    assert!(desk.drained().await);
    settle(backend).await;
    let sends: Vec<_> = fake.fakes.sent().into_iter().filter(|s| s.platform == "messenger").collect();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(sends[0].to, "psid-fresh");
}

/// Issue 21, WeChat identity: two Official Accounts of one owner give one person two
/// OpenIDs and one UnionID (from `user/info`, asked once per OpenID): their messages are one
/// customer. An OpenID without a UnionID is that OpenID's customer only.
pub async fn wechat_customers_of_two_accounts_with_one_union_id_are_one_customer(backend: &Backend) {
    let fake = FakeServer::start().await;
    let second = format!(
        r#"
[[social.wechat]]
id = "shop2"
app_id = "wx2222222222222222"
token = "{WECHAT_TOKEN}"
app_secret = "second-app-secret-for-tests"
api_base = "http://{}/local/fake/wechat"
"#,
        fake.address
    );
    let desk = TestDesk::start_configured(backend, &format!("{STAFF}\n{}\n{second}", fake.config())).await;
    fake.fakes.bind_union_id("oShop-anna", "uAnna-union");
    fake.fakes.bind_union_id("oShop2-anna", "uAnna-union");
    let at = now();
    let push = |account: &str, msg_id: u64, openid: &str, text: &str| {
        let url = desk.url(&format!("/v1/social/wechat/{account}?{}", wechat_query(at)));
        let body = wechat_text(msg_id, openid, text, at);
        let http = desk.http.clone();
        async move { http.post(url).header("content-type", "text/xml").body(body).send().await.unwrap().status() }
    };
    assert_eq!(push("shop", 4001, "oShop-anna", "我的订单").await.as_u16(), 200);
    assert!(desk.drained().await);
    assert_eq!(push("shop2", 4002, "oShop2-anna", "另一个账号").await.as_u16(), 200);
    assert_eq!(push("shop", 4003, "oShop-bo", "你好").await.as_u16(), 200);
    assert!(desk.drained().await);
    assert_eq!(push("shop", 4004, "oShop-anna", "还在吗").await.as_u16(), 200);
    assert!(desk.drained().await);

    let customers = &desk.observe.customers;
    let of =
        |network: &str, openid: &str| Identity::Social { network: network.into(), handle: openid.into() };
    let first =
        customers.customer_by_identity(&of("wechat:shop", "oShop-anna")).await.unwrap().expect("customer");
    let second =
        customers.customer_by_identity(&of("wechat:shop2", "oShop2-anna")).await.unwrap().expect("customer");
    assert_eq!(first, second, "one UnionID, one customer");
    let union = Identity::Social { network: "wechat-union".into(), handle: "uAnna-union".into() };
    assert_eq!(customers.customer_by_identity(&union).await.unwrap(), Some(first.clone()));
    let bo = customers.customer_by_identity(&of("wechat:shop", "oShop-bo")).await.unwrap().expect("customer");
    assert_ne!(bo, first);
    let bo = customers.customer(&bo).await.unwrap().expect("record");
    assert_eq!(bo.identities, [of("wechat:shop", "oShop-bo")], "no UnionID: the OpenID only");
    assert_eq!(fake.fakes.user_info_asked(), 3, "once per OpenID");
}
