//! One customer across every channel: the customer view, lookup by identity, and merging two
//! records of the same person.

use jiff::Timestamp;
use serde::Serialize;

use super::{AgentDesk, DeskError, Staff};
use crate::model::{Customer, CustomerId, EventKind, Identity, Ticket, TicketNumber};
use crate::ports::AuditEntry;
use crate::query::{MAX_PAGE, TicketFilter};

/// Most tickets a customer view lists; a customer with more is a reseller or a bot, and the
/// view shows the newest. Merges, exports and erasures walk them all.
pub(super) const MAX_VIEWED_TICKETS: usize = 10 * MAX_PAGE;
/// Tickets whose trails are read for the latest satisfaction score.
const CSAT_LOOKBACK: usize = 20;

/// A satisfaction answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Csat {
    pub ticket: TicketNumber,
    pub score: u8,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerView {
    pub customer: Customer,
    /// Every ticket, on every channel, newest first.
    pub tickets: Vec<Ticket>,
    pub latest_csat: Option<Csat>,
    /// Other customers holding one of this customer's unverified contact details: maybe the
    /// same person, for an agent to check and merge. Never merged automatically.
    pub merge_candidates: Vec<MergeCandidate>,
}

/// A customer who holds, as a verified identity, what another only claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeCandidate {
    /// The unverified detail they share.
    pub identity: Identity,
    pub customer: CustomerId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedCustomers {
    pub customer: Customer,
    pub moved_identities: usize,
    pub moved_tickets: usize,
}

impl AgentDesk {
    /// The customer, following merges to the record that holds them now.
    pub async fn customer(&self, id: &CustomerId) -> Result<Customer, DeskError> {
        let mut id = id.clone();
        // Merges chain at most a few deep; the bound stops a corrupt cycle.
        for _ in 0..8 {
            let customer = self
                .ports
                .customers
                .customer(&id)
                .await?
                .ok_or_else(|| DeskError::NotFound(format!("customer {id}")))?;
            match &customer.merged_into {
                Some(next) => id = next.clone(),
                None => return Ok(customer),
            }
        }
        Err(DeskError::Conflict(format!("customer {id} is merged in a cycle")))
    }

    pub async fn find_customer(&self, identity: &Identity) -> Result<Customer, DeskError> {
        let id = self
            .ports
            .customers
            .customer_by_identity(identity)
            .await?
            .ok_or_else(|| DeskError::NotFound("customer with that identity".into()))?;
        self.customer(&id).await
    }

    pub async fn customer_view(&self, id: &CustomerId) -> Result<CustomerView, DeskError> {
        let customer = self.customer(id).await?;
        let tickets = self.tickets_of(&customer.id, MAX_VIEWED_TICKETS).await?;
        let mut latest_csat: Option<Csat> = None;
        for ticket in tickets.iter().take(CSAT_LOOKBACK) {
            for event in self.ports.tickets.events(ticket.number).await? {
                if let EventKind::SurveyAnswered { score, .. } = event.kind
                    && latest_csat.as_ref().is_none_or(|c| c.at < event.at)
                {
                    latest_csat = Some(Csat { ticket: ticket.number, score, at: event.at });
                }
            }
        }
        let merge_candidates = self.merge_candidates(&customer).await?;
        Ok(CustomerView { customer, tickets, latest_csat, merge_candidates })
    }

    /// One identity read per unverified detail (a bounded list): no scans.
    async fn merge_candidates(&self, customer: &Customer) -> Result<Vec<MergeCandidate>, DeskError> {
        let mut candidates = Vec::new();
        for identity in &customer.unverified {
            if let Some(holder) = self.ports.customers.customer_by_identity(identity).await?
                && holder != customer.id
            {
                candidates.push(MergeCandidate { identity: identity.clone(), customer: holder });
            }
        }
        Ok(candidates)
    }

    /// The tickets `id` requested, newest first, at most `limit` of them.
    pub(super) async fn tickets_of(&self, id: &CustomerId, limit: usize) -> Result<Vec<Ticket>, DeskError> {
        let filter = TicketFilter { requester: Some(id.clone()), ..TicketFilter::default() };
        let mut tickets = Vec::new();
        let mut cursor: Option<String> = None;
        while tickets.len() < limit {
            let page = self.ports.tickets.list(&filter, MAX_PAGE, cursor.as_deref()).await?;
            tickets.extend(page.tickets);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(tickets)
    }

    /// Merges `source` into `target`: its identities move (so every channel finds the
    /// target from now on), its tickets change requester, and the source points at the
    /// target. Each step is conditional and repeatable: a merge cut short completes when run
    /// again.
    pub async fn merge_customers(
        &self,
        staff: &Staff,
        source: &CustomerId,
        target: &CustomerId,
    ) -> Result<MergedCustomers, DeskError> {
        if source == target {
            return Err(DeskError::Invalid("a customer cannot be merged into themselves".into()));
        }
        let from = self.load_customer(source).await?;
        let into = self.customer(target).await?;
        if into.id == from.id {
            return Err(DeskError::Invalid(format!("{source} is already merged into {target}")));
        }
        if from.merged_into.as_ref().is_some_and(|t| *t != into.id) {
            return Err(DeskError::Conflict(format!("customer {source} was merged elsewhere")));
        }
        if from.erased_at.is_some() || into.erased_at.is_some() {
            return Err(DeskError::Invalid("an erased customer cannot be merged".into()));
        }
        let now = self.ports.clock.now();
        let mut moved_identities = 0;
        for identity in &from.identities {
            self.ports.customers.move_identity(identity, &from.id, &into.id, now).await?;
            moved_identities += 1;
        }
        let mut moved_tickets = 0;
        for ticket in self.tickets_of(&from.id, usize::MAX).await? {
            let mut ticket = ticket;
            let version = ticket.version;
            if let Some(event) = ticket.set_requester(&staff.actor(), into.id.clone(), now) {
                self.save(ticket, version, vec![event]).await?;
                moved_tickets += 1;
            }
        }
        // Re-read: moving identities bumped both versions.
        let from = self.load_customer(source).await?;
        let merged = Customer {
            merged_into: Some(into.id.clone()),
            updated_at: now,
            version: from.version + 1,
            ..from.clone()
        };
        self.ports.customers.update(&merged, from.version).await?;
        let into = self.load_customer(&into.id).await?;
        let mut merged_from = into.merged_from.clone();
        merged_from.insert(from.id.clone());
        let mut unverified = into.unverified.clone();
        unverified
            .extend(from.unverified.iter().filter(|i| !unverified.contains(i)).cloned().collect::<Vec<_>>());
        // What the merge just verified is no longer a hint.
        unverified.retain(|i| !into.identities.contains(i));
        unverified.truncate(crate::model::MAX_UNVERIFIED);
        let combined = Customer {
            unverified,
            name: into.name.clone().or(from.name.clone()),
            merged_from,
            tier: into.tier.clone().or(from.tier.clone()),
            // One person: an opt-out given under either record holds for both.
            survey_opt_out: into.survey_opt_out || from.survey_opt_out,
            bouncing: from.bouncing.iter().chain(&into.bouncing).map(|(a, at)| (a.clone(), *at)).collect(),
            updated_at: now,
            version: into.version + 1,
            ..into.clone()
        };
        self.ports.customers.update(&combined, into.version).await?;
        for (customer, detail) in
            [(&from.id, format!("merged into {}", into.id)), (&into.id, format!("merged {}", from.id))]
        {
            self.audit(staff, customer, "merge", Some(detail)).await?;
        }
        Ok(MergedCustomers { customer: self.load_customer(&into.id).await?, moved_identities, moved_tickets })
    }

    /// The record itself, not following merges.
    pub(super) async fn load_customer(&self, id: &CustomerId) -> Result<Customer, DeskError> {
        self.ports.customers.customer(id).await?.ok_or_else(|| DeskError::NotFound(format!("customer {id}")))
    }

    pub(super) async fn audit(
        &self,
        staff: &Staff,
        customer: &CustomerId,
        action: &str,
        detail: Option<String>,
    ) -> Result<(), DeskError> {
        let entry = AuditEntry {
            customer: customer.clone(),
            at: self.ports.clock.now(),
            actor: staff.0.clone(),
            action: action.to_owned(),
            detail,
        };
        Ok(self.ports.customers.record_audit(&entry).await?)
    }
}
