use super::*;

#[test]
fn shipped_default_config_is_valid() {
    let routing = RoutingConfig::default().validate().unwrap();
    assert_eq!(routing, Routing::default());
    let ids: Vec<&str> = routing.config().teams.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [FRONTLINE, TECHNICAL, COMPLAINTS]);
    assert_eq!(routing.team(FRONTLINE).map(|t| t.tier), Some(1));
    assert_eq!(routing.team("billing"), None);
}

#[test]
fn invalid_configs_name_the_bad_field() {
    type Edit = fn(&mut RoutingConfig);
    let cases: [(Edit, &str, &str); 17] = [
        (|c| c.teams.clear(), "teams", "teams: at least one team is required"),
        (|c| c.teams[1].id = "".into(), "teams[1].id", "teams[1].id: must not be empty"),
        (
            |c| c.teams[1].id = "Tech Support".into(),
            "teams[1].id",
            "teams[1].id: \"Tech Support\" may hold only a-z, 0-9, '-' and '_', at most 64 of them",
        ),
        (|c| c.teams[1].id = "x".repeat(65), "teams[1].id", ""),
        (|c| c.teams[2].id = FRONTLINE.into(), "teams[2].id", "teams[2].id: duplicate team \"frontline\""),
        (|c| c.teams[0].name = "  ".into(), "teams[0].name", "teams[0].name: must not be empty"),
        (|c| c.teams[0].tier = 0, "teams[0].tier", "teams[0].tier: must be at least 1"),
        (
            |c| c.teams[2].skills_required = set(&["ok", ""]),
            "teams[2].skills_required[0]",
            "teams[2].skills_required[0]: must not be empty",
        ),
        (|c| c.rules[2].team = "billing".into(), "rules[2].team", "rules[2].team: unknown team \"billing\""),
        (|c| c.rules[1].name = "".into(), "rules[1].name", "rules[1].name: must not be empty"),
        (
            |c| c.rules[3].name = c.rules[0].name.clone(),
            "rules[3].name",
            "rules[3].name: duplicate rule \"complaint category\"",
        ),
        (
            |c| c.rules.push(Rule::new("everything", FRONTLINE)),
            "rules[5]",
            "rules[5]: a rule needs at least one of channels, categories, keywords, customer_tiers \
             (use default_team for a catch-all)",
        ),
        (
            |c| c.rules[4].keywords.push(" ".into()),
            "rules[4].keywords[11]",
            "rules[4].keywords[11]: must not be empty",
        ),
        (|c| c.rules[0].categories[1] = "".into(), "rules[0].categories[1]", ""),
        (
            |c| c.rules.push(Rule { customer_tiers: strings(&[""]), ..Rule::new("t", FRONTLINE) }),
            "rules[5].customer_tiers[0]",
            "",
        ),
        (|c| c.default_team = "sales".into(), "default_team", "default_team: unknown team \"sales\""),
        (|c| _ = c.tier_priority.insert("".into(), Priority::High), "tier_priority (a customer tier)", ""),
    ];
    for (edit, field, message) in cases {
        let mut config = RoutingConfig::default();
        edit(&mut config);
        let error = config.validate().unwrap_err();
        assert_eq!(error.field(), field, "{error}");
        if !message.is_empty() {
            assert_eq!(error.to_string(), message);
        }
    }
}

#[test]
fn config_round_trips_through_json_and_reads_plainly() {
    let json = serde_json::json!({
        "teams": [
            {"id": "frontline", "name": "Frontline", "tier": 1},
            {"id": "vip", "name": "VIP desk", "tier": 1, "skills_required": ["vip"]},
        ],
        "rules": [
            {"name": "vip", "team": "vip", "customer_tiers": ["vip"], "priority": "high"},
            {"name": "social", "team": "frontline", "channels": ["social"], "keywords": ["退款"]},
        ],
        "default_team": "frontline",
    });
    let config: RoutingConfig = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(config.rules[1].channels, [Channel::Social]);
    assert_eq!(serde_json::to_value(&config).unwrap(), json);
    let routing: Routing = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&routing).unwrap(), json);
}

#[test]
fn deserializing_a_routing_validates_it() {
    let json = serde_json::json!({
        "teams": [{"id": "frontline", "name": "Frontline", "tier": 1}],
        "rules": [{"name": "r", "team": "billing", "keywords": ["refund"]}],
        "default_team": "frontline",
    });
    let error = serde_json::from_value::<Routing>(json).unwrap_err();
    assert!(error.to_string().contains("rules[0].team: unknown team \"billing\""), "{error}");
}

#[test]
fn unknown_fields_are_refused() {
    let json = serde_json::json!({
        "teams": [{"id": "frontline", "name": "Frontline", "tier": 1, "skill": ["x"]}],
        "default_team": "frontline",
    });
    let error = serde_json::from_value::<RoutingConfig>(json).unwrap_err();
    assert!(error.to_string().contains("unknown field `skill`"), "{error}");
}
