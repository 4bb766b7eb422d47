//! What `survey-web` does behind the link: show the form (recording nothing: mail scanners
//! and link previews open links), record what a person submits exactly once, replace a
//! changed answer with an event of its own, open a follow-up for a low rating, and record an
//! opt-out.

use std::sync::Arc;

use jiff::Timestamp;

use super::texts::Lang;
use super::token::TokenError;
use super::{
    FollowUpMode, MAX_COMMENT_CHARS, MAX_RATING, SurveyAnswer, SurveyRules, TokenKeys, follow_up_key,
    token_key,
};
use crate::model::{
    Actor, AuthorKind, ChannelRef, Customer, Direction, EventKind, Message, MessageId, Status, Ticket,
    TicketEvent, TicketNumber, Visibility,
};
use crate::ports::{Clock, CustomerStore, IdSource, StoreError, ThreadClaim, TicketCommit, TicketStore};
use crate::sla::SlaPolicies;

/// The tag on a low rating's follow-up ticket.
pub const FOLLOW_UP_TAG: &str = "survey_follow_up";
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// Not a link we made, or its survey is gone: 404.
    #[error("no such survey")]
    NotFound,
    /// Expired, or the customer's data was erased: 410.
    #[error("this survey has closed")]
    Gone,
    /// No anti-forgery field from a GET of this link, or an expired one: 403.
    #[error("the form's anti-forgery field is missing or expired")]
    Forbidden,
    /// A rating outside 1–5 or an over-long comment: 400.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TokenError> for SurveyError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid => SurveyError::NotFound,
            TokenError::Expired => SurveyError::Gone,
        }
    }
}

#[derive(Clone)]
pub struct SurveyPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

/// What the form page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyView {
    pub ticket: TicketNumber,
    /// The ticket's language (the page may be switched).
    pub lang: Lang,
    pub answer: Option<SurveyAnswer>,
    /// The anti-forgery field for the form rendered now.
    pub form_field: String,
}

/// What a submitted form did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerOutcome {
    pub ticket: TicketNumber,
    pub rating: u8,
    /// `false`: the same answer again (a replayed POST) changed nothing.
    pub changed: bool,
    pub follow_up: Option<TicketNumber>,
    pub lang: Lang,
}

/// A submitted form, as the edge parsed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyForm {
    pub rating: u8,
    pub comment: Option<String>,
    pub form_field: String,
}

pub struct SurveyDesk {
    ports: SurveyPorts,
    rules: Arc<SurveyRules>,
    keys: TokenKeys,
    sla: Option<Arc<SlaPolicies>>,
}

impl SurveyDesk {
    pub fn new(ports: SurveyPorts, rules: Arc<SurveyRules>, keys: TokenKeys) -> Self {
        Self { ports, rules, keys, sla: None }
    }

    /// Follow-up tickets get SLA timers of their own.
    pub fn with_sla(mut self, sla: Arc<SlaPolicies>) -> Self {
        self.sla = Some(sla);
        self
    }

    /// The form for `token`. Reads only: a GET or HEAD records nothing.
    pub async fn view(&self, token: &str) -> Result<SurveyView, SurveyError> {
        let now = self.ports.clock.now();
        let opened = self.keys.verify(token, now)?;
        let ticket = self.locate(&opened.id).await?;
        let survey = ticket.survey.clone().unwrap_or_default();
        Ok(SurveyView {
            ticket: ticket.number,
            lang: Lang::from_tag(ticket.language.as_deref()),
            answer: survey.answer,
            form_field: self.keys.form_field(&opened.id, survey.answers, now),
        })
    }

    /// Records `form` once: the same answer again changes nothing; a different one replaces
    /// it with an event of its own. A rating at or below the rules' `low_rating` opens (once)
    /// a follow-up.
    pub async fn answer(&self, token: &str, form: &SurveyForm) -> Result<AnswerOutcome, SurveyError> {
        let now = self.ports.clock.now();
        let opened = self.keys.verify(token, now)?;
        let Some(generation) = self.keys.form_generation(&opened.id, &form.form_field, now) else {
            return Err(SurveyError::Forbidden);
        };
        if !(1..=MAX_RATING).contains(&form.rating) {
            return Err(SurveyError::Invalid(format!("rating: 1 to {MAX_RATING}")));
        }
        let comment = form.comment.as_deref().map(crate::text::body).filter(|c| crate::text::has_visible(c));
        if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(SurveyError::Invalid(format!("comment: at most {MAX_COMMENT_CHARS} characters")));
        }
        for _ in 0..MAX_ATTEMPTS {
            let ticket = self.locate(&opened.id).await?;
            let lang = Lang::from_tag(ticket.language.as_deref());
            let survey = ticket.survey.clone().unwrap_or_default();
            let previous = survey.answer.clone();
            // A form rendered before the latest answer: a replay of an earlier POST (the
            // customer changed their answer since), or the same answer sent again.
            let stale = generation < survey.answers;
            if generation > survey.answers {
                return Err(SurveyError::Forbidden);
            }
            if let Some(previous) =
                previous.as_ref().filter(|p| stale || (p.rating == form.rating && p.comment == comment))
            {
                return Ok(AnswerOutcome {
                    ticket: ticket.number,
                    rating: previous.rating,
                    changed: false,
                    follow_up: survey.follow_up,
                    lang,
                });
            }
            if previous.is_none() && stale {
                return Err(SurveyError::Forbidden);
            }
            let low = form.rating <= self.rules.low_rating;
            let mut next = ticket.clone();
            let mut events = Vec::new();
            let mut messages = Vec::new();
            let mut follow_up = survey.follow_up;
            if low && follow_up.is_none() {
                let reopened = self.rules.follow_up == FollowUpMode::Reopen
                    && next.status == Status::Solved
                    && next.merged_into.is_none();
                if reopened {
                    let note = self.note(&next, form.rating, comment.as_deref(), now);
                    events.extend(next.add_message(&Actor::System, &note, now).map_err(invalid)?);
                    if let Some(event) =
                        next.set_status(&Actor::System, Status::Open, now).map_err(invalid)?
                    {
                        events.push(event);
                    }
                    messages.push(note);
                    follow_up = Some(next.number);
                } else {
                    follow_up =
                        Some(self.open_follow_up(&ticket, form.rating, comment.as_deref(), now).await?);
                }
            }
            let answer = SurveyAnswer { rating: form.rating, comment: comment.clone(), at: now };
            let state = next.survey.get_or_insert_with(Default::default);
            state.answer = Some(answer);
            state.answers = survey.answers + 1;
            state.follow_up = follow_up;
            let kind = EventKind::SurveyAnswered {
                score: form.rating,
                channel: Some(ticket.channel),
                team: ticket.team.clone(),
                agent: ticket.assignee.clone(),
                previous: previous.map(|p| p.rating),
                follow_up: if low { follow_up } else { None },
            };
            events.push(next.record(Actor::Customer(ticket.requester.clone()), kind, now));
            self.settle(&mut next, &events);
            let commit = TicketCommit {
                ticket: next,
                expected_version: Some(ticket.version),
                messages,
                events,
                thread_claims: Vec::new(),
                idempotency: None,
            };
            match self.ports.tickets.commit(commit).await {
                Ok(()) => {
                    tracing::info!(ticket = ticket.number.0, rating = form.rating, "survey.answered");
                    return Ok(AnswerOutcome {
                        ticket: ticket.number,
                        rating: form.rating,
                        changed: true,
                        follow_up,
                        lang,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(SurveyError::Store(StoreError::Conflict("the ticket kept changing; try again".into())))
    }

    /// The opt-out page: the link works after the survey closes too (MAC still checked).
    pub async fn unsubscribe_view(&self, token: &str) -> Result<SurveyView, SurveyError> {
        let now = self.ports.clock.now();
        let opened = self.keys.open(token)?;
        let ticket = self.locate(&opened.id).await?;
        Ok(SurveyView {
            ticket: ticket.number,
            lang: Lang::from_tag(ticket.language.as_deref()),
            answer: None,
            form_field: self.keys.form_field(&opened.id, 0, now),
        })
    }

    /// Sets the customer's opt-out. `form_field` comes from the page; a mail client's RFC 8058
    /// one-click POST carries none and passes `one_click` instead. Idempotent.
    pub async fn unsubscribe(
        &self,
        token: &str,
        form_field: Option<&str>,
        one_click: bool,
    ) -> Result<Lang, SurveyError> {
        let now = self.ports.clock.now();
        let opened = self.keys.open(token)?;
        let field_ok = form_field.is_some_and(|f| self.keys.form_field_ok(&opened.id, f, now));
        if !field_ok && !one_click {
            return Err(SurveyError::Forbidden);
        }
        let ticket = self.locate(&opened.id).await?;
        let lang = Lang::from_tag(ticket.language.as_deref());
        for _ in 0..MAX_ATTEMPTS {
            let Some(customer) = self.ports.customers.customer(&ticket.requester).await? else {
                return Err(SurveyError::NotFound);
            };
            let customer = match &customer.merged_into {
                Some(into) => self.ports.customers.customer(into).await?.unwrap_or(customer),
                None => customer,
            };
            if customer.erased_at.is_some() {
                return Err(SurveyError::Gone);
            }
            if customer.survey_opt_out {
                return Ok(lang);
            }
            let next = Customer {
                survey_opt_out: true,
                updated_at: now,
                version: customer.version + 1,
                ..customer.clone()
            };
            match self.ports.customers.update(&next, customer.version).await {
                Ok(()) => {
                    tracing::info!(ticket = ticket.number.0, "survey.opted_out");
                    return Ok(lang);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(SurveyError::Store(StoreError::Conflict("the customer kept changing; try again".into())))
    }

    /// The ticket a link id names, if its survey is still the one sent.
    async fn locate(&self, id: &str) -> Result<Ticket, SurveyError> {
        let number = self.ports.tickets.thread_ticket(&token_key(id)).await?.ok_or(SurveyError::NotFound)?;
        let ticket = self.ports.tickets.ticket(number).await?.ok_or(SurveyError::NotFound)?;
        if ticket.survey.as_ref().and_then(|s| s.token_id.as_deref()) != Some(id) {
            return Err(SurveyError::NotFound);
        }
        if ticket.erased_at.is_some() {
            return Err(SurveyError::Gone);
        }
        Ok(ticket)
    }

    /// The follow-up ticket of a low rating of `rated`, created once (a thread key per rated
    /// ticket makes a second attempt find the first).
    async fn open_follow_up(
        &self,
        rated: &Ticket,
        rating: u8,
        comment: Option<&str>,
        now: Timestamp,
    ) -> Result<TicketNumber, SurveyError> {
        let key = follow_up_key(rated.number);
        if let Some(existing) = self.ports.tickets.thread_ticket(&key).await? {
            return Ok(existing);
        }
        let number = self.ports.tickets.allocate_number().await?;
        let subject = format!("Low satisfaction rating {rating}/{MAX_RATING} on {}", rated.number);
        let (mut ticket, created) =
            Ticket::open(number, rated.channel, subject, rated.requester.clone(), Some(rated.number), now);
        ticket.tags.insert(FOLLOW_UP_TAG.to_owned());
        ticket.language = rated.language.clone();
        let mut events = vec![created];
        let team = rated.team.clone();
        if let Some(event) =
            ticket.set_team(&Actor::System, team.clone(), "survey follow-up".into(), now).map_err(invalid)?
        {
            events.push(event);
        }
        if let Some(supervisor) = team.as_ref().and_then(|t| self.rules.supervisors.get(t)) {
            events.extend(ticket.assign(&Actor::System, Some(supervisor.clone()), now).map_err(invalid)?);
        }
        let note = self.note(&ticket, rating, comment, now);
        let note = Message { ticket: number, ..note };
        events.extend(ticket.add_message(&Actor::System, &note, now).map_err(invalid)?);
        self.settle(&mut ticket, &events);
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages: vec![note],
            events,
            thread_claims: vec![ThreadClaim { key: key.clone(), ticket: number, replaces: None }],
            idempotency: None,
        };
        match self.ports.tickets.commit(commit).await {
            Ok(()) => {
                tracing::info!(ticket = number.0, of = rated.number.0, "survey.follow_up_opened");
                Ok(number)
            }
            // Another submission made it first: use theirs (this number stays a gap).
            Err(StoreError::Conflict(_)) => {
                self.ports.tickets.thread_ticket(&key).await?.ok_or(SurveyError::Store(StoreError::Conflict(
                    "the follow-up could not be created; try again".into(),
                )))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The internal note that carries the rating and the customer's comment to the team.
    fn note(&self, ticket: &Ticket, rating: u8, comment: Option<&str>, now: Timestamp) -> Message {
        let follow = ticket.follow_up_of.unwrap_or(ticket.number);
        let mut text = format!("Satisfaction survey of {follow}: rated {rating} of {MAX_RATING}.");
        match comment {
            Some(comment) => text.push_str(&format!("\n\nCustomer's comment:\n{comment}")),
            None => text.push_str("\n\nNo comment."),
        }
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: ticket.number,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Internal,
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        }
    }

    /// SLA timers and the due index follow the events.
    fn settle(&self, ticket: &mut Ticket, events: &[TicketEvent]) {
        if let Some(sla) = &self.sla {
            sla.apply(ticket, events, None);
        }
        self.rules.apply(ticket, events);
    }
}

fn invalid(error: crate::lifecycle::LifecycleError) -> SurveyError {
    SurveyError::Invalid(error.to_string())
}
