//! A desk configuration at a real desk's size, generated: 200 agents in 20 teams, three SLA
//! calendars each with a year of holidays and make-up days, 10 mail templates, routing
//! rules, SLA policies and escalations, and chat inboxes whose secrets are `sm:` references
//! (one in rotation). The same text every run.

use std::fmt::Write as _;

/// Agents, teams, calendars and templates in [`large_desk_config`].
pub const AGENTS: usize = 200;
pub const TEAMS: usize = 20;
pub const CALENDARS: usize = 3;
pub const TEMPLATES: usize = 10;

/// The chat inboxes' secret references and the values a test stores behind them.
pub const INBOX_SECRETS: [(&str, &str, &str); 3] = [
    ("web", "omnidesk/chat/web", "web-secret-value-0123456789"),
    ("app", "omnidesk/chat/app", "app-secret-value-0123456789"),
    ("partner", "omnidesk/chat/partner", "partner-secret-value-0123456789"),
];
/// The secret `partner` is rotating to.
pub const NEXT_SECRET: (&str, &str) = ("omnidesk/chat/partner-next", "partner-next-secret-value-0123");

const LANGUAGES: [&str; TEMPLATES] = ["en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru"];
const ZONES: [&str; CALENDARS] = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"];
const SKILLS: [&str; 6] = ["refunds", "billing", "shipping", "returns", "api", "vip"];

pub fn team_id(n: usize) -> String {
    format!("team-{n:02}")
}

/// A date of 2027 by its day of the year (1-based), as `YYYY-MM-DD`.
fn day_of_2027(day: i16) -> String {
    jiff::civil::date(2027, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(day - 1)))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

pub fn large_desk_config() -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# Generated: {AGENTS} agents, {TEAMS} teams, {CALENDARS} calendars, {TEMPLATES} templates.\n"
    );
    for (id, name, _) in INBOX_SECRETS {
        let _ = writeln!(w, "[[chat_inboxes]]\nid = \"{id}\"\nname = \"{id} chat\"\nsecret = \"sm:{name}\"");
        if id == "partner" {
            let _ = writeln!(w, "next_secret = \"sm:{}\"", NEXT_SECRET.0);
        }
        let _ = writeln!(w, "callback_url = \"https://{id}.shop.example/omnidesk/callback\"\n");
    }

    let _ =
        writeln!(w, "[email]\naddress = \"support@shop.example\"\nother_addresses = [\"help@shop.example\"]");
    for lang in LANGUAGES {
        let _ = writeln!(
            w,
            "[email.templates.{lang}]\nsubject = \"[{{ticket}}] {{subject}}\"\ntext = \"({lang}) Hello,\\n\\nWe received your message; your ticket is {{ticket}}. We answer within one business day.\\n\\nShop support\""
        );
    }

    let _ = writeln!(
        w,
        "\n[routing]\ndefault_team = \"{}\"\ntier_priority = {{ vip = \"high\", gold = \"normal\" }}\nteams = [",
        team_id(0)
    );
    for t in 0..TEAMS {
        let tier = 1 + t % 3;
        let _ = writeln!(w, "    {{ id = \"{}\", name = \"Team {t}\", tier = {tier} }},", team_id(t));
    }
    let _ = writeln!(w, "]");
    for t in 1..TEAMS {
        let _ = writeln!(
            w,
            "[[routing.rules]]\nname = \"rule {t}\"\nteam = \"{}\"\nkeywords = [\"order-{t}\", \"订单{t}\", \"product line {t}\"]\nchannels = [\"{}\"]",
            team_id(t),
            if t % 2 == 0 { "email" } else { "chat" }
        );
    }

    for a in 0..AGENTS {
        let teams = [team_id(a % TEAMS), team_id((a * 7 + 3) % TEAMS)];
        let languages = [LANGUAGES[a % 3], LANGUAGES[3 + a % 7]];
        let _ = writeln!(
            w,
            "\n[[agents]]\nid = \"agent-{a:03}\"\nteams = [\"{}\", \"{}\"]\nskills = [\"{}\", \"{}\"]\nlanguages = [\"{}\", \"{}\"]\ncapacity = {}",
            teams[0],
            teams[1],
            SKILLS[a % SKILLS.len()],
            SKILLS[(a / 2) % SKILLS.len()],
            languages[0],
            languages[1],
            3 + a % 6
        );
    }

    let _ = writeln!(
        w,
        "\n[sla]\nwarning_percent = 75\ndefault_calendar = \"cal-0\"\nurgent_calendar = \"24x7\""
    );
    let mapping: Vec<String> =
        (0..TEAMS).map(|t| format!("\"{}\" = \"cal-{}\"", team_id(t), t % CALENDARS)).collect();
    let _ = writeln!(w, "team_calendars = {{ {} }}", mapping.join(", "));
    for (c, zone) in ZONES.iter().enumerate() {
        // A year of closures: every 10th day (spread over all weekdays) plus a week at New Year.
        let holidays: Vec<String> = (1..=365)
            .filter(|d| d % 10 == c as i16 || (32..=38).contains(d))
            .map(|d| format!("\"{}\"", day_of_2027(d)))
            .collect();
        let _ = writeln!(w, "\n[sla.calendars.cal-{c}]\ntime_zone = \"{zone}\"");
        for day in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
            let _ = writeln!(
                w,
                "hours.{day} = [{{ start = \"08:30\", end = \"12:00\" }}, {{ start = \"13:00\", end = \"18:30\" }}]"
            );
        }
        let _ = writeln!(w, "hours.saturday = [{{ start = \"10:00\", end = \"14:00\" }}]");
        let _ = writeln!(w, "holidays = [{}]", holidays.join(", "));
        // Sundays worked to make up for the New Year week (2027-01-03 is a Sunday).
        let make_up: Vec<String> = [3_i16, 17, 24]
            .iter()
            .map(|d| {
                format!(
                    "{{ date = \"{}\", hours = [{{ start = \"09:00\", end = \"17:00\" }}] }}",
                    day_of_2027(*d)
                )
            })
            .collect();
        let _ = writeln!(w, "make_up_days = [{}]", make_up.join(", "));
    }
    for (priority, minutes) in [("urgent", 30), ("high", 60), ("normal", 240), ("low", 480)] {
        let _ = writeln!(
            w,
            "\n[[sla.policies]]\npriority = \"{priority}\"\nfirst_reply_minutes = {minutes}\nnext_reply_minutes = {}\nresolution_minutes = {}",
            minutes * 2,
            minutes * 9
        );
    }
    for t in (0..TEAMS).step_by(4) {
        let _ = writeln!(
            w,
            "\n[[sla.policies]]\nname = \"team {t}\"\nteam = \"{}\"\nfirst_reply_minutes = 45\nresolution_minutes = 1440",
            team_id(t)
        );
    }
    for t in 0..5 {
        let _ = writeln!(
            w,
            "\n[[sla.escalations]]\nname = \"escalate {t}\"\ntimers = [\"first_reply\"]\nteams = [\"{}\"]\nto_team = \"{}\"\nnotify_emails = [\"leads-{t}@shop.example\"]",
            team_id(t),
            team_id(t + 10)
        );
    }
    out
}
