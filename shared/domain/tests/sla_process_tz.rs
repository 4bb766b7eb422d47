//! A deadline never depends on the time zone of the process computing it: this test runs
//! the same SLA computations in child processes with other `TZ` settings (a Lambda runs in
//! UTC, a laptop in Beijing or New York) and compares every instant. Children, rather than
//! changing `TZ` here, because the environment is process-wide and tests run in parallel.

use std::process::Command;

use jiff::Timestamp;
use jiff::civil::{date, time};
use omnidesk_domain::model::{Channel, CustomerId, Priority, Ticket, TicketNumber};
use omnidesk_domain::sla::{CalendarSpec, Interval, PolicySpec, SlaConfig, TimerKind, WeeklyHours};

const CHILD: &str = "OMNIDESK_SLA_TZ_CHILD";
const TEST: &str = "deadlines_do_not_depend_on_the_process_time_zone";

/// First-reply and resolution deadlines of tickets opened around a weekend and both New York
/// DST transitions, on a Shanghai and a New York calendar.
fn deadlines() -> Vec<String> {
    let nine_to_six = vec![Interval::new(time(9, 0, 0, 0), time(18, 0, 0, 0))];
    let mut config = SlaConfig {
        policies: vec![
            PolicySpec {
                priority: Some(Priority::Normal),
                first_reply_minutes: Some(60),
                resolution_minutes: Some(1_200),
                ..PolicySpec::default()
            },
            PolicySpec {
                team: Some("ny".into()),
                first_reply_minutes: Some(90),
                resolution_minutes: Some(2_000),
                ..PolicySpec::default()
            },
        ],
        ..SlaConfig::default()
    };
    let new_york = CalendarSpec {
        time_zone: "America/New_York".into(),
        always_open: false,
        hours: WeeklyHours::weekdays(nine_to_six),
        holidays: vec![],
        make_up_days: vec![],
    };
    config.calendars.insert("new_york".into(), new_york);
    config.team_calendars.insert("ny".into(), "new_york".into());
    let policies = config.validate().expect("valid config");
    let openings = [
        date(2026, 11, 27).at(9, 55, 0, 0),
        date(2027, 3, 12).at(17, 30, 0, 0),
        date(2027, 11, 5).at(16, 45, 0, 0),
        date(2027, 2, 11).at(23, 10, 0, 0),
    ];
    let mut lines = Vec::new();
    for (i, civil) in openings.iter().enumerate() {
        for team in [None, Some("ny")] {
            let at = civil.in_tz("Asia/Shanghai").expect("valid instant").timestamp();
            let (mut ticket, created) = Ticket::open(
                TicketNumber(i as u64 + 1),
                Channel::Email,
                "s".into(),
                CustomerId::new("c"),
                None,
                at,
            );
            ticket.team = team.map(str::to_owned);
            policies.apply(&mut ticket, std::slice::from_ref(&created), None);
            for kind in [TimerKind::FirstReply, TimerKind::Resolution] {
                let due: Option<Timestamp> = ticket.sla.timer(kind).map(|t| t.due_at);
                lines.push(format!("DEADLINE {i} {team:?} {kind} {due:?}"));
            }
        }
    }
    lines
}

#[test]
fn deadlines_do_not_depend_on_the_process_time_zone() {
    if std::env::var_os(CHILD).is_some() {
        for line in deadlines() {
            println!("{line}");
        }
        return;
    }
    let expected = deadlines();
    let exe = std::env::current_exe().expect("test binary");
    for tz in ["UTC", "Asia/Shanghai", "America/New_York", "Pacific/Chatham", "Etc/GMT+12"] {
        let output = Command::new(&exe)
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("TZ", tz)
            .output()
            .expect("child test process");
        assert!(output.status.success(), "child with TZ={tz} failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // libtest may print its own "test … " prefix on the first line.
        let got: Vec<&str> = stdout.lines().filter_map(|l| l.find("DEADLINE ").map(|at| &l[at..])).collect();
        assert_eq!(got, expected, "TZ={tz}");
    }
}
