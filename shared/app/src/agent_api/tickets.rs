//! `/v1/tickets...`: list and search, read, change, reply, note, assign, merge.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use omnidesk_domain::desk::{AttachmentLink, MergeScope, ReplyOutcome, TicketPatch, TicketView};
use omnidesk_domain::model::{Channel, CustomerId, Priority, Status, Ticket, TicketNumber};
use omnidesk_domain::query::{AssigneeFilter, TicketFilter, page_size};
use omnidesk_domain::system::later;
use serde::{Deserialize, Serialize};

use super::extract::{self, PathId, PathTriple, ticket_number};
use super::{Action, Api, Caller};
use crate::error::ApiError;

/// How far ahead "breaching soon" looks.
const BREACHING_SOON: Duration = Duration::from_secs(60 * 60);

/// `assignee=none` lists unassigned tickets.
const UNASSIGNED: &str = "none";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    status: Option<Status>,
    team: Option<String>,
    assignee: Option<String>,
    customer: Option<String>,
    priority: Option<Priority>,
    channel: Option<Channel>,
    category: Option<String>,
    tag: Option<String>,
    breached: Option<bool>,
    view: Option<SavedView>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Saved views: shortcuts for the lists agents open all day.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SavedView {
    /// Assigned to me.
    Mine,
    /// Nobody's yet, in my team (or the `team` given).
    Unassigned,
    /// Mine (with `assignee`) or my team's, with an SLA warning or deadline within the hour.
    BreachingSoon,
}

#[derive(Debug, Serialize)]
pub(super) struct TicketList {
    tickets: Vec<Ticket>,
    next_cursor: Option<String>,
}

pub(super) async fn list(
    State(api): Api,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<TicketList>, ApiError> {
    caller.may(Action::Read)?;
    let query: ListQuery = extract::query(raw)?;
    let limit = page_size(query.limit);
    let cursor = query.cursor.clone();
    let filter = filter_of(&api, &caller, query).await?;
    let page = api.desk.list(&filter, limit, cursor.as_deref()).await?;
    Ok(Json(TicketList { tickets: page.tickets, next_cursor: page.cursor }))
}

async fn filter_of(
    api: &super::AgentApi,
    caller: &Caller,
    query: ListQuery,
) -> Result<TicketFilter, ApiError> {
    let mut filter = TicketFilter {
        status: query.status,
        team: query.team,
        assignee: query
            .assignee
            .map(|a| if a == UNASSIGNED { AssigneeFilter::Unassigned } else { AssigneeFilter::Agent(a) }),
        requester: query.customer.map(CustomerId::new),
        priority: query.priority,
        channel: query.channel,
        category: query.category,
        tag: query.tag,
        breached: query.breached,
        due_before: None,
    };
    match query.view {
        None => {}
        Some(SavedView::Mine) => filter.assignee = Some(AssigneeFilter::Agent(caller.0.user.clone())),
        Some(SavedView::Unassigned) => {
            filter.assignee = Some(AssigneeFilter::Unassigned);
            if filter.team.is_none() {
                filter.team = Some(own_team(api, caller).await?);
            }
        }
        Some(SavedView::BreachingSoon) => {
            let now = api.desk.ports().clock.now();
            filter.due_before = Some(later(now, BREACHING_SOON));
            if filter.team.is_none() && filter.assignee.is_none() {
                filter.team = Some(own_team(api, caller).await?);
            }
        }
    }
    Ok(filter)
}

/// The caller's first team, for the team views.
async fn own_team(api: &super::AgentApi, caller: &Caller) -> Result<String, ApiError> {
    let agent = api.desk.agent(&caller.0.user).await?;
    agent.teams.into_iter().next().ok_or_else(|| ApiError::bad_request("you are in no team: pass team="))
}

/// The ticket, its thread, trail and timers, and its requester's recent orders (`[shop]`).
pub(super) async fn view(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
) -> Result<Json<super::orders::WithOrders<TicketView>>, ApiError> {
    caller.may(Action::Read)?;
    let view = api.desk.view(ticket_number(&number)?).await?;
    let requester = view.ticket.requester.clone();
    Ok(Json(super::orders::with_orders(&api, &requester, view).await))
}

pub(super) async fn patch(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Ticket>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let number = ticket_number(&number)?;
    let patch: TicketPatch = extract::json(body)?;
    Ok(Json(api.desk.patch(&staff, number, patch).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TextIn {
    text: String,
    /// The version the client saw; a stale one is a conflict. Absent: reply regardless.
    #[serde(default)]
    version: Option<u64>,
}

pub(super) async fn reply(
    api: Api,
    caller: Caller,
    number: PathId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReplyOutcome>), ApiError> {
    write(api, caller, number, headers, body, false).await
}

pub(super) async fn note(
    api: Api,
    caller: Caller,
    number: PathId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReplyOutcome>), ApiError> {
    write(api, caller, number, headers, body, true).await
}

async fn write(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    internal: bool,
) -> Result<(StatusCode, Json<ReplyOutcome>), ApiError> {
    let staff = caller.may(Action::Work)?;
    let number = ticket_number(&number)?;
    let input: TextIn = extract::json(body)?;
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key: use ASCII"))?),
        None => None,
    };
    let outcome = api.desk.reply(&staff, number, &input.text, internal, input.version, key).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignIn {
    /// Absent: the best available agent of the ticket's team.
    #[serde(default)]
    agent: Option<String>,
    version: u64,
}

pub(super) async fn assign(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Ticket>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let number = ticket_number(&number)?;
    let input: AssignIn = extract::json(body)?;
    Ok(Json(api.desk.assign(&staff, number, input.agent, input.version).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeIn {
    into: u64,
    /// The two tickets have different requesters and the caller means to join them: a
    /// supervisor's decision, since each customer then reads the other's thread.
    #[serde(default)]
    across_customers: bool,
}

pub(super) async fn merge(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Ticket>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let source = ticket_number(&number)?;
    let input: MergeIn = extract::json(body)?;
    let scope = if input.across_customers {
        caller.0.require(Action::MergeCustomers).map_err(|_| {
            ApiError::forbidden("merging tickets of different customers needs the supervisor role")
        })?;
        MergeScope::AcrossCustomers
    } else {
        MergeScope::SameCustomer
    };
    Ok(Json(api.desk.merge(&staff, source, TicketNumber(input.into), scope).await?))
}

/// `GET /v1/tickets/{number}/messages/{message}/attachments/{index}`: a short-lived link to
/// the file (the console starts the download with it).
pub(super) async fn attachment(
    State(api): Api,
    caller: Caller,
    PathTriple(number, message, index): PathTriple,
) -> Result<Json<AttachmentLink>, ApiError> {
    caller.may(Action::Read)?;
    let number = ticket_number(&number)?;
    let index = index.parse::<usize>().map_err(|_| ApiError::not_found("no such attachment"))?;
    Ok(Json(api.desk.attachment_link(number, &message, index).await?))
}
