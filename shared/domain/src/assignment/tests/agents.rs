use super::*;

fn best<'a>(needs: &Needs, agents: &'a [Agent]) -> Result<&'a str, QueueReason> {
    best_agent(FRONTLINE, needs, agents).map(|a| a.id.as_str())
}

#[test]
fn agent_without_a_needed_skill_is_skipped() {
    let agents = [
        Agent { skills: set(&["billing"]), load: 2, ..agent("a") },
        Agent { skills: set(&["billing", "tech"]), load: 2, ..agent("b") },
        agent("c"),
    ];
    for (skills, expected) in [
        (&[][..], Ok("c")),
        (&["billing"][..], Ok("a")),
        (&["billing", "tech"][..], Ok("b")),
        (&["legal"][..], Err(QueueReason::NoSkill { skills: set(&["legal"]) })),
    ] {
        assert_eq!(best(&needs(skills, None), &agents), expected, "{skills:?}");
    }
}

#[test]
fn agent_without_the_ticket_language_is_skipped() {
    let agents = [
        Agent { languages: set(&["en"]), ..agent("en.only") },
        Agent { languages: set(&["zh"]), load: 1, ..agent("zh.only") },
    ];
    for (language, expected) in [
        (None, Ok("en.only")),
        (Some("en"), Ok("en.only")),
        (Some("zh"), Ok("zh.only")),
        (Some("zh-CN"), Ok("zh.only")),
        (Some("ZH"), Ok("zh.only")),
        (Some("ja"), Err(QueueReason::NoLanguage { language: "ja".into() })),
    ] {
        assert_eq!(best(&needs(&[], language), &agents), expected, "{language:?}");
    }
}

#[test]
fn full_agents_are_skipped_and_all_full_queues() {
    let agents = [Agent { load: 3, ..agent("full") }, Agent { load: 2, ..agent("room") }];
    assert_eq!(best(&needs(&[], None), &agents), Ok("room"));
    let agents = [Agent { load: 3, ..agent("full") }, Agent { capacity: 0, ..agent("none") }];
    assert_eq!(best(&needs(&[], None), &agents), Err(QueueReason::AllAtCapacity));
}

#[test]
fn away_and_offline_agents_are_skipped() {
    let agents = [
        Agent { presence: Presence::Away, ..agent("a.away") },
        Agent { presence: Presence::Offline, ..agent("b.offline") },
        Agent { load: 2, ..agent("c.online") },
    ];
    assert_eq!(best(&needs(&[], None), &agents), Ok("c.online"));
    assert_eq!(best(&needs(&[], None), &agents[..2]), Err(QueueReason::NobodyOnline));
}

#[test]
fn agents_of_other_teams_are_ignored() {
    let agents = [Agent { teams: set(&[TECHNICAL]), ..agent("tech") }];
    assert_eq!(best(&needs(&[], None), &agents), Err(QueueReason::NoAgents));
    assert_eq!(best(&needs(&[], None), &[]), Err(QueueReason::NoAgents));
    let both = [Agent { teams: set(&[TECHNICAL, FRONTLINE]), ..agent("both") }];
    assert_eq!(best(&needs(&[], None), &both), Ok("both"));
}

#[test]
fn lowest_load_wins() {
    let agents =
        [Agent { load: 2, ..agent("a") }, Agent { load: 1, ..agent("b") }, Agent { load: 2, ..agent("c") }];
    assert_eq!(best(&needs(&[], None), &agents), Ok("b"));
}

#[test]
fn equal_load_goes_to_the_longest_idle_and_never_assigned_is_idlest() {
    let agents = [
        Agent { last_assigned_at: Some(at(50)), ..agent("a") },
        Agent { last_assigned_at: Some(at(10)), ..agent("b") },
        Agent { last_assigned_at: Some(at(30)), ..agent("c") },
    ];
    assert_eq!(best(&needs(&[], None), &agents), Ok("b"));
    let mut with_new = agents.to_vec();
    with_new.push(agent("z.new"));
    assert_eq!(best(&needs(&[], None), &with_new), Ok("z.new"));
}

#[test]
fn equal_load_and_idle_goes_to_the_smallest_id() {
    let agents = [
        Agent { last_assigned_at: Some(at(10)), ..agent("li.na") },
        Agent { last_assigned_at: Some(at(10)), ..agent("chen.jie") },
        Agent { last_assigned_at: Some(at(10)), ..agent("wang.fang") },
    ];
    assert_eq!(best(&needs(&[], None), &agents), Ok("chen.jie"));
}

#[test]
fn queue_reason_is_the_first_filter_that_leaves_nobody() {
    let away = Agent { presence: Presence::Away, skills: set(&["tech"]), ..agent("away") };
    let unskilled = Agent { languages: set(&["en"]), ..agent("unskilled") };
    let en_tech = Agent { languages: set(&["en"]), skills: set(&["tech"]), load: 3, ..agent("en.tech") };
    let tech_zh = needs(&["tech"], Some("zh"));
    for (agents, expected) in [
        (vec![], QueueReason::NoAgents),
        (vec![away.clone()], QueueReason::NobodyOnline),
        (vec![away.clone(), unskilled.clone()], QueueReason::NoSkill { skills: set(&["tech"]) }),
        (vec![away, unskilled, en_tech.clone()], QueueReason::NoLanguage { language: "zh".into() }),
        (vec![Agent { languages: set(&["zh"]), ..en_tech }], QueueReason::AllAtCapacity),
    ] {
        assert_eq!(best(&tech_zh, &agents), Err(expected.clone()), "{expected}");
    }
}

#[test]
fn queue_reasons_read_well_in_the_audit_log() {
    for (reason, text) in [
        (QueueReason::NoAgents, "the team has no agents"),
        (QueueReason::NobodyOnline, "nobody in the team is online"),
        (
            QueueReason::NoSkill { skills: set(&["tech", "billing"]) },
            "nobody online has the skills billing, tech",
        ),
        (QueueReason::NoLanguage { language: "zh".into() }, "nobody online reads zh"),
        (QueueReason::AllAtCapacity, "everyone who fits is at capacity"),
    ] {
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn agent_and_presence_are_stored_as_plain_json() {
    let agent = Agent { last_assigned_at: Some(at(0)), ..agent("li.na") };
    let json = serde_json::to_value(&agent).unwrap();
    assert_eq!(json["presence"], "online");
    assert_eq!(serde_json::from_value::<Agent>(json).unwrap(), agent);
    let reason = serde_json::to_value(QueueReason::NoLanguage { language: "zh".into() }).unwrap();
    assert_eq!(reason, serde_json::json!({"reason": "no_language", "language": "zh"}));
}
