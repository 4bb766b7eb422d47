//! The contact flow's request budget on the real SDK against moto: Connect waits on the
//! answer while the phone rings, so it makes at most two table reads (the identity claim,
//! then the customer with their newest tickets from one index query); a withheld number
//! none. Skipped without moto (scripts/test.sh starts it).

use omnidesk_tests::Backend;
use omnidesk_tests::phone_accounting::measure_on_moto;

#[tokio::test]
async fn a_contact_flow_answer_reads_the_table_at_most_twice() {
    let Some(Backend::Moto(endpoint)) = Backend::moto() else {
        eprintln!("skipped: no moto endpoint");
        return;
    };
    let counted = measure_on_moto(&endpoint, 4).await;
    assert_eq!((counted.known_flows, counted.unknown_flows), (4, 4));
    assert_eq!(counted.max_reads_per_known_flow, 2, "known caller: claim, then customer and tickets");
    assert_eq!(counted.max_reads_per_unknown_flow, 1, "unknown caller: the claim only");
    assert_eq!(counted.max_reads_per_withheld_flow, 0, "withheld: no lookup");
    assert_eq!(counted.dispatcher.records, counted.tasks);
    assert_eq!(counted.tasks, 4, "one callback per abandoned call");
}
