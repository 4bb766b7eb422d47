//! The routing the desk ships with, for a shop whose customers write in Chinese and English.
//!
//! Three teams: `frontline` takes everything no rule claims; `technical` takes bugs and login
//! trouble; `complaints` takes complaints and refunds (there is no billing team by default:
//! money back is where unhappy customers end up, so the complaints team handles it).
//! An explicit category beats keywords, and complaint words beat technical ones: "投诉：又报错了"
//! is a complaint first. VIP customers keep their team but get at least high priority.
//!
//! No skills are required by default: a required skill nobody has leaves tickets waiting in
//! the queue, so a desk adds skills when it has staffed them.

use std::collections::{BTreeMap, BTreeSet};

use super::{RoutingConfig, Rule, Team};
use crate::model::Priority;

pub const FRONTLINE: &str = "frontline";
pub const TECHNICAL: &str = "technical";
pub const COMPLAINTS: &str = "complaints";

fn team(id: &str, name: &str, tier: u8) -> Team {
    Team { id: id.into(), name: name.into(), tier, skills_required: BTreeSet::new() }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|&v| v.to_owned()).collect()
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            teams: vec![
                team(FRONTLINE, "Frontline", 1),
                team(TECHNICAL, "Technical support", 2),
                team(COMPLAINTS, "Complaints", 2),
            ],
            rules: vec![
                Rule {
                    categories: strings(&["complaint", "refund"]),
                    ..Rule::new("complaint category", COMPLAINTS)
                },
                Rule { categories: strings(&["technical"]), ..Rule::new("technical category", TECHNICAL) },
                Rule {
                    // "complain" also catches "complaint", "complained".
                    keywords: strings(&["投诉", "complain"]),
                    ..Rule::new("complaint words", COMPLAINTS)
                },
                Rule {
                    keywords: strings(&["退款", "退钱", "refund", "chargeback"]),
                    ..Rule::new("refund words", COMPLAINTS)
                },
                Rule {
                    keywords: strings(&[
                        "bug",
                        "error",
                        "crash",
                        "can't log in",
                        "cannot log in",
                        "unable to log in",
                        "报错",
                        "错误",
                        "闪退",
                        "无法登录",
                        "登录不了",
                    ]),
                    ..Rule::new("technical words", TECHNICAL)
                },
            ],
            default_team: FRONTLINE.into(),
            tier_priority: BTreeMap::from([("vip".to_owned(), Priority::High)]),
        }
    }
}
