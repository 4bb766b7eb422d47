//! Table tests per concern, then the properties.

mod agents;
mod config;
mod props;
mod reoffer;
mod rules;

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::*;
use crate::model::{Channel, Priority};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + second).unwrap()
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|&v| v.to_owned()).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&v| v.to_owned()).collect()
}

/// A chat ticket saying `text`, with nothing else known.
fn facts(text: &str) -> TicketFacts<'_> {
    TicketFacts {
        channel: Channel::Chat,
        category: None,
        subject: "",
        text,
        customer_tier: None,
        language: None,
        priority: Priority::Normal,
    }
}

/// An online frontline agent who reads English and Chinese, empty-handed, never assigned.
fn agent(id: &str) -> Agent {
    Agent {
        id: id.into(),
        teams: set(&[FRONTLINE]),
        skills: BTreeSet::new(),
        languages: set(&["en", "zh"]),
        capacity: 3,
        load: 0,
        presence: Presence::Online,
        last_assigned_at: None,
    }
}

fn needs(skills: &[&str], language: Option<&str>) -> Needs {
    Needs { skills: set(skills), language: language.map(str::to_owned) }
}
