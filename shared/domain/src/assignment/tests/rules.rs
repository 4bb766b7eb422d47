use super::*;

/// The shipped teams plus `vip` and `social`, with only `rules`.
fn routing(rules: Vec<Rule>) -> Routing {
    let mut config = RoutingConfig { rules, tier_priority: Default::default(), ..RoutingConfig::default() };
    for id in ["vip", "social"] {
        config.teams.push(Team { id: id.into(), name: id.into(), tier: 1, skills_required: BTreeSet::new() });
    }
    config.validate().unwrap()
}

#[test]
fn channel_rule_matches_only_its_channels() {
    let routing = routing(vec![Rule {
        channels: vec![Channel::Social, Channel::Phone],
        ..Rule::new("social", "social")
    }]);
    for (channel, team) in [
        (Channel::Chat, FRONTLINE),
        (Channel::Email, FRONTLINE),
        (Channel::Phone, "social"),
        (Channel::Social, "social"),
    ] {
        let choice = routing.choose_team(&TicketFacts { channel, ..facts("hello") });
        assert_eq!(choice.team, team, "{channel:?}");
    }
}

#[test]
fn category_rule_matches_whole_category_ascii_case_insensitively() {
    let routing = Routing::default();
    for (category, team) in [
        (Some("technical"), TECHNICAL),
        (Some("Technical"), TECHNICAL),
        (Some(" REFUND "), COMPLAINTS),
        (Some("complaint"), COMPLAINTS),
        (Some("technical-ish"), FRONTLINE),
        (Some("shipping"), FRONTLINE),
        (None, FRONTLINE),
    ] {
        let choice = routing.choose_team(&TicketFacts { category, ..facts("hello") });
        assert_eq!(choice.team, team, "{category:?}");
    }
}

#[test]
fn chinese_keywords_route_with_the_shipped_rules() {
    let routing = Routing::default();
    for (text, team, keyword) in [
        ("我要退款，东西坏了", COMPLAINTS, "退款"),
        ("快点退钱", COMPLAINTS, "退钱"),
        ("我要投诉你们的快递", COMPLAINTS, "投诉"),
        ("付款时一直报错", TECHNICAL, "报错"),
        ("我无法登录账号", TECHNICAL, "无法登录"),
        ("App 打开就闪退", TECHNICAL, "闪退"),
        ("我的快递什么时候到？", FRONTLINE, ""),
    ] {
        let choice = routing.choose_team(&facts(text));
        assert_eq!(choice.team, team, "{text}");
        if !keyword.is_empty() {
            let Matched::Rule { on, .. } = &choice.matched else { panic!("{text}: no rule matched") };
            assert_eq!(on, &[Condition::Keyword(keyword.into())], "{text}");
        }
    }
}

#[test]
fn english_keywords_match_ascii_case_insensitively_as_substrings() {
    let routing = Routing::default();
    for (text, team) in [
        ("I want a REFUND", COMPLAINTS),
        ("Refunded twice?", COMPLAINTS),
        ("This is a Complaint about your courier", COMPLAINTS),
        ("I complained last week", COMPLAINTS),
        ("Found a bug in checkout", TECHNICAL),
        ("ERROR 500 when paying", TECHNICAL),
        ("I can't log in", TECHNICAL),
        ("Where is my parcel?", FRONTLINE),
    ] {
        assert_eq!(routing.choose_team(&facts(text)).team, team, "{text}");
    }
}

#[test]
fn keywords_are_read_in_the_subject_as_well_as_the_text() {
    let routing = Routing::default();
    let choice = routing.choose_team(&TicketFacts { subject: "Re: refund for order 88", ..facts("thanks") });
    assert_eq!(choice.team, COMPLAINTS);
}

#[test]
fn keywords_past_the_scan_limit_are_ignored() {
    let routing = Routing::default();
    let mut text = "好".repeat(MAX_SCANNED_TEXT_BYTES / 3 + 1);
    text.push_str(" refund");
    assert_eq!(routing.choose_team(&facts(&text)).team, FRONTLINE);
    assert_eq!(routing.choose_team(&facts(&text[..30])).team, FRONTLINE);
    assert_eq!(routing.choose_team(&facts("好 refund")).team, COMPLAINTS);
}

#[test]
fn first_matching_rule_wins() {
    let routing = Routing::default();
    // Both a complaint word and a technical word: complaints come first in the shipped rules.
    let choice = routing.choose_team(&facts("投诉：又报错了"));
    assert_eq!(choice.team, COMPLAINTS);
    assert!(matches!(choice.matched, Matched::Rule { index: 2, .. }), "{:?}", choice.matched);
    // An explicit category beats keywords.
    let choice = routing.choose_team(&TicketFacts { category: Some("technical"), ..facts("refund") });
    assert_eq!(choice.team, TECHNICAL);
}

#[test]
fn a_rule_with_several_conditions_needs_all_of_them() {
    let routing = routing(vec![Rule {
        channels: vec![Channel::Email],
        keywords: strings(&["invoice", "发票"]),
        ..Rule::new("email invoices", COMPLAINTS)
    }]);
    for (channel, text, team) in [
        (Channel::Email, "need an invoice", COMPLAINTS),
        (Channel::Email, "开发票", COMPLAINTS),
        (Channel::Chat, "need an invoice", FRONTLINE),
        (Channel::Email, "hello", FRONTLINE),
    ] {
        let choice = routing.choose_team(&TicketFacts { channel, ..facts(text) });
        assert_eq!(choice.team, team, "{channel:?} {text}");
    }
    let choice = routing.choose_team(&TicketFacts { channel: Channel::Email, ..facts("发票") });
    assert_eq!(choice.matched.to_string(), "rule \"email invoices\": channel email, keyword \"发票\"");
}

#[test]
fn unmatched_ticket_goes_to_the_default_team() {
    let choice = Routing::default().choose_team(&facts("hello"));
    assert_eq!(choice.team, FRONTLINE);
    assert_eq!(choice.matched, Matched::Default);
    assert_eq!(choice.matched.to_string(), "no rule matched: default team");
    assert_eq!(choice.priority, Priority::Normal);
}

#[test]
fn vip_rule_routes_vip_customers_to_the_vip_team() {
    let routing = routing(vec![
        Rule { customer_tiers: strings(&["VIP"]), priority: Some(Priority::High), ..Rule::new("vip", "vip") },
        Rule { keywords: strings(&["refund"]), ..Rule::new("refunds", COMPLAINTS) },
    ]);
    for (tier, team, priority) in [
        (Some("vip"), "vip", Priority::High),
        (Some("Vip"), "vip", Priority::High),
        (Some("gold"), COMPLAINTS, Priority::Normal),
        (None, COMPLAINTS, Priority::Normal),
    ] {
        let choice = routing.choose_team(&TicketFacts { customer_tier: tier, ..facts("refund please") });
        assert_eq!((choice.team.as_str(), choice.priority), (team, priority), "{tier:?}");
    }
    let choice = routing.choose_team(&TicketFacts { customer_tier: Some("vip"), ..facts("hi") });
    assert_eq!(choice.matched.to_string(), "rule \"vip\": customer tier \"VIP\"");
}

#[test]
fn vip_tier_raises_priority_on_any_team_but_never_lowers_it() {
    let routing = Routing::default();
    for (tier, before, after, team) in [
        (Some("vip"), Priority::Normal, Priority::High, COMPLAINTS),
        (Some("VIP"), Priority::Low, Priority::High, COMPLAINTS),
        (Some("vip"), Priority::Urgent, Priority::Urgent, COMPLAINTS),
        (None, Priority::Low, Priority::Low, COMPLAINTS),
        (Some("regular"), Priority::Normal, Priority::Normal, COMPLAINTS),
    ] {
        let choice =
            routing.choose_team(&TicketFacts { customer_tier: tier, priority: before, ..facts("refund") });
        assert_eq!((choice.team.as_str(), choice.priority), (team, after), "{tier:?} {before:?}");
    }
}

#[test]
fn agent_needs_the_team_skills_and_the_rule_skills() {
    let mut config = RoutingConfig::default();
    config.teams[1].skills_required = set(&["tech"]);
    config.rules.push(Rule {
        keywords: strings(&["api"]),
        skills: set(&["developer"]),
        priority: Some(Priority::Urgent),
        ..Rule::new("api", TECHNICAL)
    });
    let routing = config.validate().unwrap();
    let choice = routing.choose_team(&facts("the API is down"));
    assert_eq!(choice.team, TECHNICAL);
    assert_eq!(choice.skills, set(&["developer", "tech"]));
    assert_eq!(choice.priority, Priority::Urgent);
    // A ticket the team gets by another rule needs only the team's skills.
    assert_eq!(routing.choose_team(&facts("bug")).skills, set(&["tech"]));
}

#[test]
fn route_assigns_on_the_chosen_team_or_queues_there() {
    let routing = Routing::default();
    let tech = Agent { teams: set(&[TECHNICAL]), ..agent("tech.1") };
    let agents = vec![agent("front.1"), tech];
    let text = "报错了";
    let routed = routing.route(&TicketFacts { language: Some("zh"), ..facts(text) }, &agents);
    assert_eq!(routed.decision, Decision::Assign { team: TECHNICAL.into(), agent: "tech.1".into() });
    assert_eq!(routed.queued(crate::model::TicketNumber(5), at(0)), None);

    let routed = routing.route(&TicketFacts { language: Some("ja"), ..facts(text) }, &agents);
    assert_eq!(
        routed.decision,
        Decision::Queue { team: TECHNICAL.into(), reason: QueueReason::NoLanguage { language: "ja".into() } }
    );
    let queued = routed.queued(crate::model::TicketNumber(5), at(9)).unwrap();
    assert_eq!(queued.needs, needs(&[], Some("ja")));
    assert_eq!(queued.queued_at, at(9));
}
