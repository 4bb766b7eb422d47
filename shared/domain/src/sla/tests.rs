use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, date, time};
use proptest::prelude::*;

use super::*;

const HOUR: Duration = Duration::from_secs(3600);

fn nine_to_six() -> Vec<Interval> {
    vec![Interval::new(time(9, 0, 0, 0), time(18, 0, 0, 0))]
}

fn spec(zone: &str) -> CalendarSpec {
    CalendarSpec {
        time_zone: zone.into(),
        always_open: false,
        hours: WeeklyHours::weekdays(nine_to_six()),
        holidays: vec![],
        make_up_days: vec![],
    }
}

fn shanghai() -> CalendarSpec {
    spec("Asia/Shanghai")
}

fn at(zone: &str, d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz(zone).unwrap().timestamp()
}

fn sh(d: Date, h: i8, m: i8) -> Timestamp {
    at("Asia/Shanghai", d, h, m)
}

fn ny(d: Date, h: i8, m: i8) -> Timestamp {
    at("America/New_York", d, h, m)
}

// 2026-11-27 is a Friday.
const FRIDAY: Date = date(2026, 11, 27);
const SATURDAY: Date = date(2026, 11, 28);
const MONDAY: Date = date(2026, 11, 30);
const TUESDAY: Date = date(2026, 12, 1);

#[test]
fn acceptance_table() {
    let holiday_monday = CalendarSpec { holidays: vec![MONDAY], ..shanghai() };
    let make_up_saturday =
        CalendarSpec { make_up_days: vec![MakeUpDay { date: SATURDAY, hours: nine_to_six() }], ..shanghai() };
    let always_open = CalendarSpec { always_open: true, hours: WeeklyHours::default(), ..shanghai() };
    let cases = [
        ("friday 17:55 + 1h is monday 09:55", shanghai(), MONDAY, 9, 55),
        ("a holiday monday moves it to tuesday", holiday_monday, TUESDAY, 9, 55),
        ("a make-up saturday catches it", make_up_saturday, SATURDAY, 9, 55),
        ("24x7 is due in exactly one hour", always_open, FRIDAY, 18, 55),
    ];
    for (name, spec, day, h, m) in cases {
        let calendar = Calendar::new(spec).unwrap();
        let due = calendar.add_business(sh(FRIDAY, 17, 55), HOUR).unwrap();
        assert_eq!(due, sh(day, h, m), "{name}");
    }
}

#[test]
fn three_pending_business_hours_move_the_deadline_by_three_business_hours() {
    let calendar = Calendar::new(shanghai()).unwrap();
    let deadline = sh(MONDAY, 11, 0);
    // Pending from Friday 16:00 to Monday 10:00: 2h on Friday, 1h on Monday.
    let paused = calendar.business_between(sh(FRIDAY, 16, 0), sh(MONDAY, 10, 0));
    assert_eq!(paused, 3 * HOUR);
    assert_eq!(calendar.add_business(deadline, paused).unwrap(), sh(MONDAY, 14, 0));
}

#[test]
fn business_between_is_zero_when_the_end_is_not_after_the_start() {
    let calendar = Calendar::new(shanghai()).unwrap();
    assert_eq!(calendar.business_between(sh(MONDAY, 12, 0), sh(MONDAY, 10, 0)), Duration::ZERO);
    assert_eq!(calendar.business_between(sh(MONDAY, 12, 0), sh(MONDAY, 12, 0)), Duration::ZERO);
}

#[test]
fn a_deadline_on_closing_time_stays_there() {
    let calendar = Calendar::new(shanghai()).unwrap();
    assert_eq!(calendar.add_business(sh(FRIDAY, 17, 0), HOUR).unwrap(), sh(FRIDAY, 18, 0));
}

#[test]
fn a_calendar_that_never_opens_gives_up_instead_of_looping() {
    let closed = Calendar::new(CalendarSpec { hours: WeeklyHours::default(), ..shanghai() }).unwrap();
    assert_eq!(closed.add_business(sh(FRIDAY, 9, 0), HOUR), Err(BusinessTimeError::BeyondHorizon));
}

fn whole_days(zone: &str) -> Calendar {
    let day = vec![Interval::new(time(0, 0, 0, 0), time(0, 0, 0, 0))];
    let hours = WeeklyHours { saturday: day.clone(), sunday: day.clone(), ..WeeklyHours::weekdays(day) };
    Calendar::new(CalendarSpec { hours, ..spec(zone) }).unwrap()
}

fn sundays(zone: &str, start: (i8, i8), end: (i8, i8)) -> Calendar {
    let sunday = vec![Interval::new(time(start.0, start.1, 0, 0), time(end.0, end.1, 0, 0))];
    let hours = WeeklyHours { sunday, ..WeeklyHours::default() };
    Calendar::new(CalendarSpec { hours, ..spec(zone) }).unwrap()
}

// 2026 in New York: clocks spring forward on Sunday 8 March, fall back on Sunday 1 November.
const SPRING: Date = date(2026, 3, 8);
const FALL: Date = date(2026, 11, 1);

#[test]
fn new_york_dst_days_have_23_and_25_business_hours() {
    let calendar = whole_days("America/New_York");
    let day = |d: Date| calendar.business_between(ny(d, 0, 0), ny(d.tomorrow().unwrap(), 0, 0));
    assert_eq!(day(SPRING), 23 * HOUR);
    assert_eq!(day(FALL), 25 * HOUR);
    assert_eq!(day(date(2026, 3, 9)), 24 * HOUR);
}

#[test]
fn hours_spanning_the_transition_count_real_elapsed_time() {
    let calendar = sundays("America/New_York", (1, 0), (4, 0));
    let sunday = |d: Date| calendar.business_between(ny(d, 0, 0), ny(d, 12, 0));
    assert_eq!(sunday(SPRING), 2 * HOUR);
    assert_eq!(sunday(FALL), 4 * HOUR);
}

#[test]
fn an_opening_inside_the_spring_gap_moves_later() {
    // 02:30 does not exist on 8 March; compatible resolution opens at 03:30 EDT.
    let calendar = sundays("America/New_York", (2, 30), (5, 0));
    let saturday_noon = ny(date(2026, 3, 7), 12, 0);
    assert_eq!(calendar.add_business(saturday_noon, HOUR).unwrap(), ny(SPRING, 4, 30));
    assert_eq!(calendar.business_between(saturday_noon, ny(SPRING, 12, 0)), 3 * HOUR / 2);
}

#[test]
fn an_opening_inside_the_autumn_fold_takes_the_earlier_instant() {
    // 01:30 happens twice on 1 November; compatible resolution takes 01:30 EDT (05:30Z).
    let calendar = sundays("America/New_York", (1, 30), (2, 0));
    let due = calendar.add_business(ny(date(2026, 10, 31), 12, 0), HOUR).unwrap();
    assert_eq!(due, "2026-11-01T06:30:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(calendar.business_between(ny(FALL, 0, 0), ny(FALL, 12, 0)), 3 * HOUR / 2);
}

#[test]
fn a_weekday_deadline_across_spring_forward_keeps_local_opening_time() {
    let calendar = Calendar::new(spec("America/New_York")).unwrap();
    let due = calendar.add_business(ny(date(2026, 3, 6), 17, 30), HOUR).unwrap();
    assert_eq!(due, ny(date(2026, 3, 9), 9, 30));
    assert_eq!(due, "2026-03-09T13:30:00Z".parse::<Timestamp>().unwrap());
}

#[test]
fn validation_errors_name_the_field() {
    let err = |spec: CalendarSpec| Calendar::new(spec).unwrap_err().to_string();
    assert_eq!(err(spec("Asia/Shangai")), r#"time_zone: unknown "Asia/Shangai""#);
    let mut backwards = shanghai();
    backwards.hours.monday = vec![Interval::new(time(18, 0, 0, 0), time(9, 0, 0, 0))];
    assert_eq!(err(backwards), "hours.monday[0]: end must be after start");
    let mut overlapping = shanghai();
    overlapping.hours.friday.push(Interval::new(time(17, 0, 0, 0), time(20, 0, 0, 0)));
    assert_eq!(err(overlapping), "hours.friday[1]: must start at or after the end of the previous interval");
    let always_open_with_hours = CalendarSpec { always_open: true, ..shanghai() };
    assert_eq!(err(always_open_with_hours), "hours: must be empty when always_open is true");
    let empty_make_up =
        CalendarSpec { make_up_days: vec![MakeUpDay { date: SATURDAY, hours: vec![] }], ..shanghai() };
    assert_eq!(err(empty_make_up), "make_up_days[0].hours: must not be empty");
    let make_up_holiday = CalendarSpec {
        holidays: vec![SATURDAY],
        make_up_days: vec![MakeUpDay { date: SATURDAY, hours: nine_to_six() }],
        ..shanghai()
    };
    assert_eq!(err(make_up_holiday), "make_up_days[0].date: 2026-11-28 is also a holiday");
}

#[test]
fn a_calendar_deserialises_from_config_and_is_validated() {
    let json = r#"{
        "time_zone": "Asia/Shanghai",
        "hours": { "monday": [{ "start": "09:00", "end": "18:00" }] },
        "holidays": ["2026-10-01"],
        "make_up_days": [{ "date": "2026-10-10", "hours": [{ "start": "09:00", "end": "12:00" }] }]
    }"#;
    let calendar: Calendar = serde_json::from_str(json).unwrap();
    assert_eq!(calendar.spec().hours.monday, vec![Interval::new(time(9, 0, 0, 0), time(18, 0, 0, 0))]);
    let round_trip: Calendar = serde_json::from_value(serde_json::to_value(&calendar).unwrap()).unwrap();
    assert_eq!(round_trip.spec(), calendar.spec());
    let bad = json.replace("Asia/Shanghai", "Asia/Shangai");
    let err = serde_json::from_str::<Calendar>(&bad).unwrap_err().to_string();
    assert!(err.contains(r#"time_zone: unknown "Asia/Shangai""#), "{err}");
}

/// Calendars with holidays, make-up days, split shifts and DST, for the properties below.
fn calendars() -> Vec<Calendar> {
    let split = vec![
        Interval::new(time(8, 30, 0, 0), time(12, 0, 0, 0)),
        Interval::new(time(13, 0, 0, 0), time(17, 45, 0, 0)),
    ];
    let china = CalendarSpec {
        hours: WeeklyHours::weekdays(split),
        holidays: vec![date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)],
        make_up_days: vec![MakeUpDay { date: date(2026, 10, 10), hours: nine_to_six() }],
        ..shanghai()
    };
    vec![
        Calendar::new(china).unwrap(),
        Calendar::new(spec("America/New_York")).unwrap(),
        sundays("America/New_York", (1, 30), (3, 30)),
        whole_days("America/New_York"),
    ]
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2026-01-01 .. 2027-01-01, covering both New York transitions and the October holidays.
    (1_767_225_600i64..1_798_761_600).prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// Up to 100 hours, so that `a + b` fits the sparsest calendar (2 h a week) in the horizon.
fn duration() -> impl Strategy<Value = Duration> {
    (0u64..100 * 3600).prop_map(Duration::from_secs)
}

proptest! {
    #[test]
    fn add_business_is_monotonic_in_duration(c in 0..4usize, s in instant(), a in duration(), b in duration()) {
        let cal = &calendars()[c];
        let (short, long) = (a.min(b), a.max(b));
        prop_assert!(cal.add_business(s, short).unwrap() <= cal.add_business(s, long).unwrap());
    }

    #[test]
    fn add_business_is_monotonic_in_start(c in 0..4usize, a in instant(), b in instant(), d in duration()) {
        let cal = &calendars()[c];
        let (early, late) = (a.min(b), a.max(b));
        prop_assert!(cal.add_business(early, d).unwrap() <= cal.add_business(late, d).unwrap());
    }

    #[test]
    fn business_between_undoes_add_business(c in 0..4usize, s in instant(), d in duration()) {
        let cal = &calendars()[c];
        prop_assert_eq!(cal.business_between(s, cal.add_business(s, d).unwrap()), d);
    }

    #[test]
    fn adding_in_two_steps_equals_adding_once(c in 0..4usize, s in instant(), a in duration(), b in duration()) {
        let cal = &calendars()[c];
        let twice = cal.add_business(cal.add_business(s, a).unwrap(), b).unwrap();
        prop_assert_eq!(twice, cal.add_business(s, a + b).unwrap());
    }
}
