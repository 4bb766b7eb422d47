//! The nouns of the desk: tickets, messages, customers and the events that record every change.

mod customer;
mod event;
mod identity;
mod ids;
mod message;
mod ticket;

pub use customer::{BOUNCE_MARK_TTL, Customer, LastSurvey, MAX_UNVERIFIED};
pub use event::{Actor, EventKind, TicketEvent};
pub use identity::{Identity, IdentityError};
pub use ids::{CustomerId, MessageId, TicketNumber};
pub use message::{AttachmentRef, AuthorKind, ChannelRef, Direction, Message, MessageFlag, Visibility};
pub use ticket::{Channel, MAX_MISSED_CALLS, MissedCall, Priority, Status, Ticket};
