//! omnidesk's business logic, free of AWS and HTTP: the ticket model and its lifecycle, the
//! ports every adapter implements, their in-memory twins, and the workflows (router,
//! dispatcher) that the Lambda functions and the local desk run unchanged.

pub mod analytics;
pub mod assignment;
pub mod bot;
pub mod canned;
pub mod cursor;
pub mod desk;
pub mod dispatch;
pub mod email;
pub mod envelope;
pub mod faults;
pub mod forum_watch;
pub mod heat;
pub mod inbound;
pub mod kb;
pub mod lifecycle;
pub mod log_id;
pub mod mail_auth;
pub mod markup;
pub mod memory;
pub mod model;
pub mod orders;
pub mod outbound;
pub mod partitions;
pub mod phone;
pub mod ports;
pub mod query;
pub mod redrive;
pub mod request_blocks;
pub mod roster;
pub mod router;
pub mod secrets;
pub mod sla;
pub mod social;
pub mod survey;
pub mod system;
pub mod text;
pub mod ticket_numbers;
pub mod uploads;

pub use model::*;
