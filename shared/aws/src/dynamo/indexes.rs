//! The table's global secondary indexes, their keys and what they project, as template.yaml
//! declares them (a test holds the two together).
//!
//! Every index projects as little as its readers need, because DynamoDB writes an index
//! entry again only when the entry's key or a projected attribute changes: with whole items
//! projected, every ticket write rewrote each index entry the ticket had (up to five units
//! per commit); with keys only, a reply or a note writes none. Lists and the sweeper read the
//! keys from the index and the tickets themselves with one BatchGetItem (a read costs a fifth
//! of a write). `by_assignee` also carries `status`, for the load count of the assignment
//! rule, which must not read every ticket an agent ever held.

use omnidesk_domain::partitions::index;

/// One global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableIndex {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: &'static str,
    /// Non-key attributes projected (`INCLUDE`); empty: `KEYS_ONLY` unless `all`.
    pub projected: &'static [&'static str],
    /// Whole items projected (`ALL`): every change of the item rewrites its entry.
    pub all: bool,
}

pub(crate) const TIMERS: TableIndex =
    TableIndex { name: index::TIMERS, hash: "timer_bucket", range: "timer_due", projected: &[], all: false };
pub(crate) const BY_STATUS: TableIndex =
    TableIndex { name: index::BY_STATUS, hash: "list_status", range: "list_at", projected: &[], all: false };
pub(crate) const BY_TEAM: TableIndex =
    TableIndex { name: index::BY_TEAM, hash: "list_team", range: "list_at", projected: &[], all: false };
pub(crate) const BY_ASSIGNEE: TableIndex = TableIndex {
    name: index::BY_ASSIGNEE,
    hash: "list_assignee",
    range: "list_at",
    projected: &["status"],
    all: false,
};
pub(crate) const BY_REQUESTER: TableIndex = TableIndex {
    name: index::BY_REQUESTER,
    hash: "list_requester",
    range: "list_at",
    projected: &CALLER_ATTRIBUTES,
    all: false,
};

/// What the phone's contact flow reads on `by_requester`: it must answer within Connect's
/// few seconds in two reads (the caller's identity claim, then one Query returning the
/// customer and their newest tickets, see `phone.rs`), which a keys-only entry cannot give.
/// Of a ticket: status, team, priority, language, merged_into and created_at; of the
/// customer: name and tier. None of these changes on a reply, a note or an SLA step, so
/// those write no entry (whole items projected, every ticket write rewrote it).
pub(crate) const CALLER_ATTRIBUTES: [&str; 8] =
    ["status", "team", "priority", "language", "merged_into", "created_at", "name", "tier"];

// `event_log` projects the event list only: the analytics rollup reads the events
// themselves, and the item holding a commit's events may be a message item (see
// `tickets.rs`), whose text must neither travel into the index nor cost its units there.
pub(crate) const EVENT_LOG: TableIndex =
    TableIndex { name: "event_log", hash: "log_hour", range: "sk", projected: &["events"], all: false };

/// Every global secondary index of the table.
pub const TABLE_INDEXES: [TableIndex; 6] = [TIMERS, BY_STATUS, BY_TEAM, BY_ASSIGNEE, BY_REQUESTER, EVENT_LOG];
