//! End-to-end scenarios of the email channel, on both backends: raw mail in through
//! `POST /local/email` (SES's stand-in), through the email-inbound edge, the inbound queue and
//! the router, observed through the desk's ports.

use omnidesk_domain::model::{AuthorKind, Direction, Ticket, TicketNumber};
use omnidesk_domain::ports::ThreadKey;

use crate::{Backend, TestDesk, eventually, settle};

const DESK: &str = "support@desk.example";
/// Ticket numbers looked at: a commit lost to a taken thread key leaves a gap.
const MAX_TICKETS: u64 = 10;

fn email_config() -> String {
    format!("[email]\naddress = \"{DESK}\"\n")
}

fn mail(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: Shop Support <{DESK}>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

impl TestDesk {
    async fn tickets(&self) -> Vec<Ticket> {
        let mut tickets = Vec::new();
        for number in 1..=MAX_TICKETS {
            tickets.extend(self.ticket(number).await);
        }
        tickets
    }

    async fn inbound_count(&self, number: TicketNumber) -> usize {
        self.messages(number).await.iter().filter(|m| m.direction == Direction::Inbound).count()
    }

    async fn thread_of(&self, message_id: &str) -> Option<TicketNumber> {
        self.observe.tickets.thread_ticket(&ThreadKey::email_message(message_id)).await.expect("thread key")
    }

    async fn assert_nothing_parked(&self) {
        settle(&self.backend).await;
        let depths = self.depths().await;
        assert_eq!(depths.inbound.total(), 0, "inbound queue drained");
        assert_eq!(depths.inbound_dead_letter.total(), 0, "nothing dead-lettered");
    }
}

pub async fn a_reused_message_id_from_another_sender_gets_its_own_ticket(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &email_config()).await;
    t.post_mail(mail("Li Wei <li.wei@example.com>", "m1@mail.example.com", "Parcel", "Where is NW-1?")).await;
    assert!(eventually(backend.patience(), || async { t.ticket(1).await.is_some() }).await, "no #1");

    // Anna sends under Li's Message-ID: her mail is hers, not a repeat of Li's.
    t.post_mail(mail("anna@example.org", "m1@mail.example.com", "Invoice", "Please send my invoice.")).await;
    let two = eventually(backend.patience(), || async { t.tickets().await.len() == 2 }).await;
    assert!(two, "Anna's mail got no ticket of its own");
    t.assert_nothing_parked().await;

    let tickets = t.tickets().await;
    assert_ne!(tickets[0].requester, tickets[1].requester);
    assert_eq!(tickets[1].subject, "Invoice");
    assert_eq!(t.inbound_count(TicketNumber(1)).await, 1, "Li's ticket took nothing of Anna's");
    assert_eq!(t.thread_of("m1@mail.example.com").await, Some(TicketNumber(1)));
}

pub async fn a_mail_reusing_the_acknowledgements_message_id_parks_nothing(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &email_config()).await;
    t.post_mail(mail("Li Wei <li.wei@example.com>", "m1@mail.example.com", "Parcel", "Where is NW-1?")).await;
    let acknowledged = eventually(backend.patience(), || async {
        t.messages(TicketNumber(1)).await.iter().any(|m| m.author == AuthorKind::System)
    })
    .await;
    assert!(acknowledged, "no acknowledgement on #1");
    let ack = t.messages(TicketNumber(1)).await.into_iter().find(|m| m.author == AuthorKind::System).unwrap();
    // The Message-ID the desk gave its acknowledgement, which every recipient sees.
    let ack_id = format!("{}@desk.example", ack.id);
    assert_eq!(t.thread_of(&ack_id).await, Some(TicketNumber(1)));

    t.post_mail(mail("anna@example.org", &ack_id, "Hello", "A question of my own.")).await;
    let routed = eventually(backend.patience(), || async { t.tickets().await.len() == 2 }).await;
    assert!(routed, "the mail reusing the acknowledgement's id was not routed");
    t.assert_nothing_parked().await;
    assert_eq!(t.thread_of(&ack_id).await, Some(TicketNumber(1)), "the id still names #1");
    assert_eq!(t.inbound_count(TicketNumber(1)).await, 1);
}

pub async fn a_reply_that_overtakes_the_mail_it_answers_joins_its_ticket(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &email_config()).await;
    // Li's second mail ("forgot the order number") reaches the desk before her first.
    let reply = mail("Li Wei <li.wei@example.com>", "m2@mail.example.com", "Re: Parcel", "It is NW-1.")
        .replacen("MIME-Version", "In-Reply-To: <m1@mail.example.com>\r\nMIME-Version", 1);
    t.post_mail(reply).await;
    assert!(eventually(backend.patience(), || async { t.ticket(1).await.is_some() }).await, "no #1");
    t.post_mail(mail("Li Wei <li.wei@example.com>", "m1@mail.example.com", "Parcel", "Where is my parcel?"))
        .await;
    let joined =
        eventually(backend.patience(), || async { t.inbound_count(TicketNumber(1)).await == 2 }).await;
    assert!(joined, "the overtaken mail did not join #1");
    t.assert_nothing_parked().await;
    assert_eq!(t.tickets().await.len(), 1, "one ticket");
    assert_eq!(t.thread_of("m1@mail.example.com").await, Some(TicketNumber(1)));
}
