//! The analytics rollup end to end, on both backends: chats become tickets through the
//! desk, and the rollup reads them back from the event log (the sparse `event_log` index on
//! DynamoDB) into the three tables, with customers only as pseudonyms.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use omnidesk_domain::analytics::{Rollup, RollupPorts, RollupReport, RollupSettings, TableRows};
use omnidesk_domain::memory::MemoryExport;
use omnidesk_domain::ports::Clock;
use omnidesk_domain::sla::SlaConfig;
use omnidesk_domain::system::SystemClock;

use crate::{Backend, TestDesk, eventually};

/// The analytics export of the two hours before `clock`'s now, read from `t`'s event log,
/// and the rollup's report.
pub(crate) async fn export_last_two_hours(
    t: &TestDesk,
    clock: Arc<dyn Clock>,
) -> (Arc<MemoryExport>, RollupReport) {
    let export = Arc::new(MemoryExport::default());
    let ports = RollupPorts {
        log: t.observe.event_log.clone(),
        customers: Some(t.observe.customers.clone()),
        sink: export.clone(),
        watermarks: t.observe.watermarks.clone(),
        clock: clock.clone(),
        alerting: None,
    };
    // Nothing to settle: the commits are done.
    let settings = RollupSettings { settle: Duration::ZERO, ..RollupSettings::default() };
    let policies = Arc::new(SlaConfig::default().validate().expect("default SLA"));
    let rollup = Rollup::new(ports, settings, policies, b"scenario-pseudonym-key-0123");
    let now = clock.now();
    let report = rollup
        .backfill(now - SignedDuration::from_hours(2), now + SignedDuration::from_secs(1), None)
        .await
        .expect("the rollup");
    (export, report)
}

pub async fn chats_are_exported_from_the_event_log_with_customers_as_pseudonyms(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    assert_eq!(t.send_chat("a1", "conv-a", "visitor-alice@example.com", "Where is my parcel?").await, 202);
    assert_eq!(t.send_chat("b1", "conv-b", "visitor-bob", "Refund please").await, 202);
    assert!(eventually(backend.patience(), || async { t.receiver.delivered().len() == 2 }).await);

    let (export, report) = export_last_two_hours(&t, Arc::new(SystemClock)).await;
    assert_eq!(report.tickets, 2, "{report:?}");

    let files = export.files();
    let tickets: Vec<_> = files
        .values()
        .flat_map(|rows| match rows {
            TableRows::Tickets(rows) => rows.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(tickets.len(), 2);
    assert!(tickets.iter().all(|row| row.channel == "chat" && row.requester.as_deref().is_some_and(|p| p.starts_with("p_"))));
    let created = files
        .values()
        .flat_map(|rows| match rows {
            TableRows::Events(rows) => rows.iter().filter(|r| r.event == "created").cloned().collect(),
            _ => Vec::new(),
        })
        .count();
    assert_eq!(created, 2);
    // Every event of both tickets is exported, not only those of the commit that filed each
    // ticket in the hour's event log (on DynamoDB, only a ticket's first commit of an hour is).
    let exported = files
        .values()
        .map(|rows| match rows {
            TableRows::Events(rows) => rows.len(),
            _ => 0,
        })
        .sum::<usize>();
    let mut stored = 0;
    for ticket in &tickets {
        let number =
            omnidesk_domain::model::TicketNumber(u64::try_from(ticket.ticket).expect("a ticket number"));
        stored += t.observe.tickets.events(number).await.expect("the trail").len();
    }
    assert!(stored > 4, "several commits per ticket: {stored} events");
    assert_eq!(exported, stored);
    let dump = format!("{files:?}");
    for personal in
        ["visitor-alice@example.com", "visitor-bob", "Where is my parcel?", "Refund please", "cus_"]
    {
        assert!(!dump.contains(personal), "the export holds {personal}");
    }
}
