//! Calendars resolve their zones from the time zone database compiled into the binary, never
//! from the system's (`/usr/share/zoneinfo`, or `TZDIR`): a deadline means the same on every
//! machine, and no function's start-up spends time listing the system's zoneinfo. The check
//! runs in a child process whose `TZDIR` holds a false New York (UTC under that name), because
//! the environment is process-wide and tests run in parallel.

use std::path::PathBuf;
use std::process::Command;

use jiff::civil::date;
use omnidesk_domain::sla::{Calendar, CalendarSpec, WeeklyHours};

const CHILD: &str = "OMNIDESK_BUNDLED_TZ_CHILD";
const TEST: &str = "calendars_use_the_bundled_time_zone_database_not_the_systems";

/// New York's offset on a winter day, as the calendar resolved the zone.
fn new_york_offset_hours() -> i32 {
    let spec = CalendarSpec {
        time_zone: "America/New_York".into(),
        always_open: true,
        hours: WeeklyHours::default(),
        holidays: vec![],
        make_up_days: vec![],
    };
    let calendar = Calendar::new(spec).expect("valid calendar");
    let instant = date(2026, 12, 7).at(12, 0, 0, 0).in_tz("UTC").expect("valid instant").timestamp();
    calendar.time_zone().to_offset(instant).seconds() / 3600
}

#[test]
fn calendars_use_the_bundled_time_zone_database_not_the_systems() {
    if std::env::var_os(CHILD).is_some() {
        println!("offset={}", new_york_offset_hours());
        return;
    }
    let tzdir = std::env::temp_dir().join(format!("omnidesk-false-tzdir-{}", std::process::id()));
    let false_zone: PathBuf = tzdir.join("America").join("New_York");
    std::fs::create_dir_all(false_zone.parent().expect("a parent")).expect("temp dir");
    std::fs::write(&false_zone, utc_tzif()).expect("false zone");
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("TZDIR", &tzdir)
        .output()
        .expect("child runs");
    let _ = std::fs::remove_dir_all(&tzdir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    assert!(stdout.contains("offset=-5"), "New York is UTC-5 in December, not what TZDIR says: {stdout}");
}

/// A TZif file for UTC: version 2, no transitions, one zero offset, both data blocks.
fn utc_tzif() -> Vec<u8> {
    let block = |v2: bool| {
        let mut b = Vec::new();
        b.extend_from_slice(b"TZif2");
        b.extend_from_slice(&[0; 15]);
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        for count in [0u32, 0, 0, 0, 1, 4] {
            b.extend_from_slice(&count.to_be_bytes());
        }
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // utoff 0, isdst 0, desigidx 0
        b.extend_from_slice(b"UTC\0");
        if v2 {
            b.extend_from_slice(b"\nUTC0\n");
        }
        b
    };
    let mut file = block(false);
    file.extend(block(true));
    file
}
