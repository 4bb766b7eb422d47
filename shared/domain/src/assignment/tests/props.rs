//! Invariants over random staff and tickets: whoever is chosen fits, capacity is never
//! exceeded, no ticket is handed out twice, and nothing is left waiting that someone could take.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::model::TicketNumber;

const TEAMS: [&str; 3] = [FRONTLINE, TECHNICAL, COMPLAINTS];

fn subset(values: &'static [&'static str]) -> impl Strategy<Value = BTreeSet<String>> {
    proptest::sample::subsequence(values.to_vec(), 0..=values.len())
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![Just(Presence::Online), Just(Presence::Away), Just(Presence::Offline)]
}

/// Up to 8 agents with distinct ids; loads may exceed capacity (stale counts happen).
fn agents() -> impl Strategy<Value = Vec<Agent>> {
    let agent = (
        subset(&TEAMS),
        subset(&["a", "b", "c"]),
        subset(&["en", "zh", "ja"]),
        0u32..4,
        0u32..5,
        presence(),
        proptest::option::of(0i64..20),
    );
    proptest::collection::vec(agent, 0..8).prop_map(|agents| {
        agents
            .into_iter()
            .enumerate()
            .map(|(i, (teams, skills, languages, capacity, load, presence, last))| Agent {
                id: format!("agent{i}"),
                teams,
                skills,
                languages,
                capacity,
                load,
                presence,
                last_assigned_at: last.map(at),
            })
            .collect()
    })
}

fn language() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::sample::select(vec!["en", "zh", "ja", "zh-CN"]).prop_map(str::to_owned))
}

fn priority() -> impl Strategy<Value = Priority> {
    proptest::sample::select(vec![Priority::Low, Priority::Normal, Priority::High, Priority::Urgent])
}

/// The shipped routing, with skills to make them matter: technical needs `a`, API tickets `b`.
fn routing() -> Routing {
    let mut config = RoutingConfig::default();
    config.teams[1].skills_required = set(&["a"]);
    config.rules.insert(
        0,
        Rule { keywords: strings(&["api", "接口"]), skills: set(&["b"]), ..Rule::new("api", TECHNICAL) },
    );
    config.validate().unwrap()
}

fn text() -> impl Strategy<Value = String> {
    let words =
        vec!["hello", "refund", "退款", "投诉", "bug", "报错", "API", "接口", "where is it", "无法登录"];
    proptest::collection::vec(proptest::sample::select(words), 0..4).prop_map(|w| w.join(" "))
}

fn queue() -> impl Strategy<Value = Vec<QueuedTicket>> {
    let ticket = (0u64..20, priority(), 0i64..50, subset(&["a", "b"]), language());
    proptest::collection::vec(ticket, 0..30).prop_map(|tickets| {
        tickets
            .into_iter()
            .map(|(number, priority, queued_at, skills, language)| QueuedTicket {
                ticket: TicketNumber(number),
                priority,
                queued_at: at(queued_at),
                needs: Needs { skills, language },
            })
            .collect()
    })
}

fn rank(agent: &Agent) -> (u32, Option<Timestamp>, &str) {
    (agent.load, agent.last_assigned_at, agent.id.as_str())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_chosen_agent_always_fits_and_is_the_best_fit(
        agents in agents(),
        text in text(),
        language in language(),
        vip in any::<bool>(),
    ) {
        let routing = routing();
        let facts = TicketFacts {
            language: language.as_deref(),
            customer_tier: vip.then_some("vip"),
            ..facts(&text)
        };
        let routed = routing.route(&facts, &agents);
        let team = routed.choice.team.as_str();
        let fitting: Vec<&Agent> = agents.iter().filter(|a| a.fits(team, &routed.needs)).collect();
        match &routed.decision {
            Decision::Assign { team: assigned_team, agent } => {
                prop_assert_eq!(assigned_team, team);
                let chosen = agents.iter().find(|a| &a.id == agent).unwrap();
                prop_assert_eq!(chosen.presence, Presence::Online);
                prop_assert!(chosen.load < chosen.capacity);
                prop_assert!(chosen.teams.contains(team));
                prop_assert!(routed.needs.skills.is_subset(&chosen.skills));
                if let Some(language) = &routed.needs.language {
                    prop_assert!(chosen.speaks(language));
                }
                prop_assert!(fitting.iter().all(|other| rank(chosen) <= rank(other)));
            }
            Decision::Queue { team: queued_team, .. } => {
                prop_assert_eq!(queued_team, team);
                prop_assert!(fitting.is_empty(), "queued although {:?} fit", fitting);
            }
        }
    }

    #[test]
    fn reoffer_respects_capacity_and_assigns_each_ticket_once(
        agents in agents(),
        queue in queue(),
        team in proptest::sample::select(TEAMS.to_vec()),
    ) {
        let made = reoffer(team, &queue, &agents, at(100));
        let mut tickets = BTreeSet::new();
        let mut given: BTreeMap<&str, u32> = BTreeMap::new();
        for assignment in &made {
            prop_assert!(tickets.insert(assignment.ticket), "{} assigned twice", assignment.ticket);
            *given.entry(assignment.agent.as_str()).or_default() += 1;
            let agent = agents.iter().find(|a| a.id == assignment.agent).unwrap();
            prop_assert_eq!(agent.presence, Presence::Online);
            prop_assert!(agent.teams.contains(team));
            // The agent fits at least one queue entry of this ticket.
            let fits_entry = queue.iter().filter(|q| q.ticket == assignment.ticket).any(|q| {
                q.needs.skills.is_subset(&agent.skills)
                    && q.needs.language.as_deref().is_none_or(|l| agent.speaks(l))
            });
            prop_assert!(fits_entry);
        }
        let mut after = agents.clone();
        for agent in &mut after {
            let more = given.get(agent.id.as_str()).copied().unwrap_or(0);
            prop_assert!(more <= agent.capacity.saturating_sub(agent.load), "{} over capacity", agent.id);
            agent.load += more;
        }
        // Nothing left waiting that someone with room could take.
        for waiting in queue.iter().filter(|q| !tickets.contains(&q.ticket)) {
            prop_assert!(
                best_agent(team, &waiting.needs, &after).is_err(),
                "{} left queued although someone fits",
                waiting.ticket
            );
        }
    }
}
