//! Returns customers start themselves, end to end on both backends with the fake shop: by
//! the chat bot's return intent (a request, a refusal naming the rule, photos asked for
//! damage), by a keyword in a mail (the acknowledgement says what happened, in the mail's
//! language), and by the help centre's form, which only ever mails a signed link to the
//! order's own address — following it starts one return. A stranger naming someone else's
//! order learns nothing on any path and gets no mail.

use omnidesk_domain::model::{EventKind, TicketNumber};

use crate::orders_scenarios::{ShopDesk, mail_count, shop_desk};
use crate::{Backend, TestDesk, eventually, settle};

/// Ticket numbers looked at: a commit lost to a race leaves a gap.
const MAX_TICKETS: u64 = 12;

fn mail(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// The mails in the outbox, as text.
fn outbox(t: &TestDesk) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(&t.outbox) else { return Vec::new() };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|raw| omnidesk_domain::email::parse(&raw).ok())
        .map(|mail| {
            let to = mail.to.first().map(|m| m.address.clone()).unwrap_or_default();
            format!("To: {to}\nSubject: {}\n\n{}\n{}", mail.subject, mail.text, mail.quoted)
        })
        .collect()
}

impl ShopDesk {
    async fn post_mail(&self, raw: String) {
        let response =
            self.t.http.post(self.t.url("/local/email")).body(raw).send().await.expect("desk answers");
        assert_eq!(response.status().as_u16(), 202);
    }

    /// Every `return_requested` event on the desk's first tickets.
    async fn returns_requested(&self) -> Vec<(TicketNumber, String)> {
        let mut found = Vec::new();
        for n in 1..=MAX_TICKETS {
            for event in self.events(TicketNumber(n)).await {
                if let EventKind::ReturnRequested { order, line, .. } = event.kind {
                    found.push((TicketNumber(n), format!("{order} {line}")));
                }
            }
        }
        found
    }

    async fn form(&self, fields: &[(&str, &str)]) -> (u16, String) {
        let encode = |s: &str| -> String {
            s.bytes()
                .map(
                    |b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") },
                )
                .collect()
        };
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        let response = self
            .t
            .http
            .post(self.t.url("/v1/returns/new"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .expect("desk answers");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }

    /// Waits for the mail carrying a return link: the mail, and the link's path.
    async fn mailed_link(&self) -> (String, String) {
        let linked = eventually(self.t.backend.patience(), || async {
            outbox(&self.t).iter().any(|m| m.contains("/v1/returns/confirm/"))
        })
        .await;
        assert!(linked, "a link to the order's address");
        let mails = outbox(&self.t);
        let mail = mails.iter().find(|m| m.contains("/v1/returns/confirm/")).expect("the link mail");
        let at = mail.find("/v1/returns/confirm/").expect("link");
        let path: String = mail[at..].chars().take_while(|c| !c.is_whitespace()).collect();
        (mail.clone(), path)
    }

    /// `visitor` writes `text` in `conversation` (202); the bot's first `answers` answers there.
    async fn chat(
        &self,
        id: &str,
        conversation: &str,
        visitor: &str,
        text: &str,
        answers: usize,
    ) -> Vec<String> {
        assert_eq!(self.t.send_chat(id, conversation, visitor, text).await, 202);
        self.callbacks(conversation, answers).await
    }

    async fn page(&self, method: reqwest::Method, path: &str) -> (u16, String) {
        let response = self.t.http.request(method, self.t.url(path)).send().await.expect("desk answers");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }
}

pub async fn a_customer_starts_a_return_in_chat_and_the_rules_refuse_or_ask_for_photos_first(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.customer("cus_ada", "v-ada", "ada@example.com").await;
    // A non-returnable line: refused, naming the rule; no return is opened.
    let texts = d.chat("r-1", "c-gift", "v-ada", "I want to return the gift card from #1001", 1).await;
    assert!(texts[0].contains("gift_card items cannot be returned"), "{}", texts[0]);
    // Damage needs photos: the bot asks for them and the request waits.
    let texts = d.chat("r-2", "c-broken", "v-ada", "my teapot from #1001 arrived broken, return it", 1).await;
    assert!(texts[0].contains("send photos of the damage"), "{}", texts[0]);
    // A plain request: filed, waiting for approval, with a person and a timer.
    let texts = d.chat("r-3", "c-ret", "v-ada", "我要退货 #1001 teapot", 1).await;
    assert!(texts[0].starts_with("已收到订单 #1001 的退换货申请"), "{}", texts[0]);
    let number = d.t.ticket_of_conversation("c-ret").await.expect("ticket");
    let ticket = d.t.ticket(number.0).await.expect("ticket");
    let case = ticket.order.as_ref().and_then(|o| o.returned.clone()).expect("a return on the ticket");
    assert_eq!((case.order.as_str(), case.line.as_str()), ("#1001", "1001-1"));
    assert_eq!(ticket.team.as_deref(), Some("frontline"), "a person approves it");
    settle(&d.t.backend).await;
    let requested = d.returns_requested().await;
    assert_eq!(requested, [(number, "#1001 1001-1".to_owned())], "one return, on the plain request's ticket");
}

pub async fn a_strangers_return_request_for_someone_elses_order_shows_nothing_and_mails_nobody(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.customer("cus_eve", "v-eve", "eve@example.com").await;
    // Chat.
    let texts = d.chat("e-1", "c-eve", "v-eve", "return the teapot of order #1001", 1).await;
    assert!(texts[0].contains("can't find that order"), "{}", texts[0]);
    // Mail, from her own (authenticated) address.
    d.post_mail(mail(
        "eve@example.com",
        "eve-1@mail.example.com",
        "Return #1001",
        "Please take the teapot back.",
    ))
    .await;
    let acked = eventually(d.t.backend.patience(), || async {
        outbox(&d.t).iter().any(|m| m.contains("To: eve@example.com"))
    })
    .await;
    assert!(acked, "the acknowledgement");
    // The form, with her address typed against Ada's order.
    let form = [("order", "#1001"), ("email", "eve@example.com"), ("item", "teapot"), ("reason", "mine now")];
    let (status, stranger_page) = d.form(&form).await;
    assert_eq!(status, 200);
    settle(&d.t.backend).await;
    settle(&d.t.backend).await;
    let mails = outbox(&d.t);
    for mail in &mails {
        for secret in ["Teapot", "teapot", "SF1001", "ada@", "Gift card", "/v1/returns/confirm/"] {
            if mail.contains("To: eve@example.com") {
                assert!(!mail.contains(secret), "{secret} shown to the stranger: {mail}");
            }
        }
        assert!(
            !mail.contains("To: ada@example.com"),
            "no mail to the order's owner for a wrong address: {mail}"
        );
    }
    assert_eq!(mails.len(), 1, "only the acknowledgement of her own mail: {mails:?}");
    assert!(d.returns_requested().await.is_empty(), "no return anywhere");
    // The page reads the same for the right address: nothing to enumerate.
    let owner = [("order", "#1001"), ("email", "ada@example.com"), ("item", "teapot"), ("reason", "chipped")];
    let (status, owner_page) = d.form(&owner).await;
    assert_eq!((status, owner_page), (200, stranger_page));
}

pub async fn a_return_keyword_in_a_mail_starts_the_senders_return_and_the_acknowledgement_says_so_in_their_language(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.post_mail(mail(
        "ada@example.com",
        "ada-1@mail.example.com",
        "Return for #1001",
        "The teapot is too big.",
    ))
    .await;
    let en = eventually(d.t.backend.patience(), || async {
        outbox(&d.t).iter().any(|m| m.contains("We received your return request for order #1001"))
    })
    .await;
    assert!(en, "English acknowledgement: {:?}", outbox(&d.t));
    d.post_mail(mail(
        "ada@example.com",
        "ada-2@mail.example.com",
        "退货 订单 1001",
        "礼品卡不想要了 gift card",
    ))
    .await;
    let zh = eventually(d.t.backend.patience(), || async {
        outbox(&d.t).iter().any(|m| m.contains("抱歉,订单 #1001 无法申请退换货:gift_card 类商品不支持退换货"))
    })
    .await;
    assert!(zh, "Chinese refusal naming the rule: {:?}", outbox(&d.t));
    settle(&d.t.backend).await;
    let requested = d.returns_requested().await;
    assert_eq!(requested.len(), 1, "the refused one opened nothing: {requested:?}");
    assert_eq!(requested[0].1, "#1001 1001-1");
}

pub async fn the_help_centre_form_mails_a_signed_link_to_the_orders_address_and_following_it_starts_one_return(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    let (status, page) = d.page(reqwest::Method::GET, "/v1/returns/new").await;
    assert!(status == 200 && page.contains("<form method=\"post\"") && !page.contains("<script"), "{page}");
    let form = [("order", "#1001"), ("email", "Ada@Example.com"), ("item", "teapot"), ("reason", "too big")];
    assert_eq!(d.form(&form).await.0, 200);
    let (mail, path) = d.mailed_link().await;
    assert!(mail.contains("To: ada@example.com"), "{mail}");
    assert!(d.returns_requested().await.is_empty(), "the form alone starts nothing");
    // Following the link shows what it asks for and records nothing (mail scanners do this).
    let (status, page) = d.page(reqwest::Method::GET, &path).await;
    assert!(status == 200 && page.contains("Confirm the return") && page.contains("#1001"), "{page}");
    settle(&d.t.backend).await;
    assert!(d.t.ticket(1).await.is_none(), "a GET opens nothing");
    // A tampered link: 404.
    // (the last character changed: a link that already ends in 0 gets a 1).
    let last = if path.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &path[..path.len() - 1]);
    assert_eq!(d.page(reqwest::Method::POST, &tampered).await.0, 404);
    // Confirmed twice: one return.
    assert_eq!(d.page(reqwest::Method::POST, &path).await.0, 200);
    assert_eq!(d.page(reqwest::Method::POST, &path).await.0, 200);
    let started =
        eventually(d.t.backend.patience(), || async { !d.returns_requested().await.is_empty() }).await;
    assert!(started, "following the link starts the return");
    settle(&d.t.backend).await;
    settle(&d.t.backend).await;
    assert_eq!(d.returns_requested().await.len(), 1, "once per link");
    let told = eventually(d.t.backend.patience(), || async {
        outbox(&d.t)
            .iter()
            .any(|m| m.contains("To: ada@example.com") && m.contains("We received your return request"))
    })
    .await;
    assert!(told, "the customer is told by mail: {:?}", outbox(&d.t));
    assert!(mail_count(&d.t) >= 2);
}

pub async fn a_damaged_return_in_chat_waits_for_photos_and_a_later_chat_message_with_one_files_it_for_agents_to_see(
    backend: &Backend,
) {
    use crate::chat_attachment_scenarios::{File, PHOTO};

    let d = shop_desk(backend).await;
    d.customer("cus_ada", "v-ada", "ada@example.com").await;
    let texts = d.chat("p-1", "c-photo", "v-ada", "my teapot from #1001 arrived broken, return it", 1).await;
    assert!(texts[0].contains("send photos of the damage"), "{}", texts[0]);
    let number = d.t.ticket_of_conversation("c-photo").await.expect("ticket");
    settle(&d.t.backend).await;
    let ticket = d.t.ticket(number.0).await.expect("ticket");
    let waiting = ticket.order.as_ref().is_some_and(|o| o.pending_return.is_some() && o.returned.is_none());
    assert!(waiting, "without photos the return waits: {:?}", ticket.order);
    assert!(d.returns_requested().await.is_empty(), "nothing requested without photos");

    // The photo, in a later message of the same conversation.
    let files: [File<'_>; 1] = [("teapot-lid.jpg", "image/jpeg", PHOTO)];
    let (status, answer) = d.t.send_chat_with_files("p-2", "c-photo", "v-ada", "here it is", &files).await;
    assert_eq!(status, 202, "{answer}");
    let texts = d.callbacks("c-photo", 2).await;
    assert!(texts[1].starts_with("We received your return request for order #1001"), "{}", texts[1]);
    let ticket = d.t.ticket(number.0).await.expect("ticket");
    let case = ticket.order.as_ref().and_then(|o| o.returned.clone()).expect("filed with the photo");
    assert_eq!((case.order.as_str(), case.evidence, case.damaged), ("#1001", 1, true));
    assert_eq!(d.returns_requested().await, [(number, "#1001 1001-1".to_owned())]);

    // The agent sees the photo on the ticket and opens it through a short-lived link.
    let view = d.t.get(&format!("/v1/tickets/{}", number.0), "token-sup-ana-0123456789").await;
    let messages = view["messages"].as_array().expect("messages");
    let with_photo = messages.iter().find(|m| m["attachments"][0].is_object()).expect("the photo's message");
    let photo = &with_photo["attachments"][0];
    assert_eq!(
        (photo["name"].as_str(), photo["content_type"].as_str()),
        (Some("teapot-lid.jpg"), Some("image/jpeg"))
    );
    let path =
        format!("/v1/tickets/{}/messages/{}/attachments/0", number.0, with_photo["id"].as_str().unwrap());
    let link = d.t.get(&path, "token-sup-ana-0123456789").await;
    assert_eq!(d.t.link_bytes(link["url"].as_str().expect("url")).await, (200, PHOTO.to_vec()));
}

pub async fn a_return_confirmed_through_the_help_centre_link_is_routed_to_its_team_like_other_tickets(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    let form = [("order", "#1001"), ("email", "ada@example.com"), ("item", "teapot"), ("reason", "too big")];
    assert_eq!(d.form(&form).await.0, 200);
    let (_, path) = d.mailed_link().await;
    assert_eq!(d.page(reqwest::Method::POST, &path).await.0, 200);
    let started =
        eventually(d.t.backend.patience(), || async { !d.returns_requested().await.is_empty() }).await;
    assert!(started, "following the link starts the return");
    let (number, _) = d.returns_requested().await.remove(0);
    let ticket = d.t.ticket(number.0).await.expect("ticket");
    assert_eq!(ticket.team.as_deref(), Some("frontline"), "in its team's queue for approval");
    let routed = d.events(number).await.into_iter().any(|e| {
        matches!(&e.kind, EventKind::Escalated { to_team: Some(team), reason, .. }
            if team == "frontline" && reason.starts_with("routed by"))
    });
    assert!(routed, "the routing is on the ticket's trail");
}
