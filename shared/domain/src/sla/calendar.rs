//! The business calendar: when a support team is at work, in its own time zone.
//!
//! A [`CalendarSpec`] is what an admin writes (plain serde data); a [`Calendar`] is the same
//! data once validated, with its time zone resolved. Only a `Calendar` can do arithmetic, so
//! a typo in a zone name or a backwards interval is reported once, naming the field, instead
//! of silently producing wrong deadlines.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};

/// Why a [`CalendarSpec`] was rejected. Every message starts with the offending field, e.g.
/// `hours.monday[0]: end must be after start`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("time_zone: unknown {name:?}")]
    UnknownTimeZone { name: String },
    #[error("{field}: end must be after start")]
    EndNotAfterStart { field: String },
    #[error("{field}: must start at or after the end of the previous interval")]
    Overlapping { field: String },
    #[error("hours: must be empty when always_open is true")]
    HoursWhileAlwaysOpen,
    #[error("make_up_days[{index}].hours: must not be empty")]
    MakeUpDayWithoutHours { index: usize },
    #[error("make_up_days[{index}].date: {date} is also a holiday")]
    MakeUpDayIsHoliday { index: usize, date: Date },
    #[error("make_up_days[{index}].date: {date} is listed twice")]
    DuplicateMakeUpDay { index: usize, date: Date },
}

/// A half-open span of civil time `[start, end)` within one day. An `end` of `00:00` means
/// midnight at the end of the day, so `00:00`–`00:00` is the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub start: Time,
    pub end: Time,
}

impl Interval {
    pub fn new(start: Time, end: Time) -> Self {
        Self { start, end }
    }

    fn ends_at_midnight(&self) -> bool {
        self.end == Time::midnight()
    }
}

/// Opening hours per weekday; a missing day is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeeklyHours {
    pub monday: Vec<Interval>,
    pub tuesday: Vec<Interval>,
    pub wednesday: Vec<Interval>,
    pub thursday: Vec<Interval>,
    pub friday: Vec<Interval>,
    pub saturday: Vec<Interval>,
    pub sunday: Vec<Interval>,
}

impl WeeklyHours {
    /// The same hours Monday to Friday, weekend closed.
    pub fn weekdays(hours: Vec<Interval>) -> Self {
        Self {
            monday: hours.clone(),
            tuesday: hours.clone(),
            wednesday: hours.clone(),
            thursday: hours.clone(),
            friday: hours,
            ..Self::default()
        }
    }

    pub fn on(&self, day: Weekday) -> &[Interval] {
        match day {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    fn days(&self) -> [(&'static str, &[Interval]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }

    fn is_empty(&self) -> bool {
        self.days().iter().all(|(_, hours)| hours.is_empty())
    }
}

/// A date that works although the weekly hours say it is off — in China a public holiday is
/// often paid back by working the weekend before or after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeUpDay {
    pub date: Date,
    pub hours: Vec<Interval>,
}

/// A business calendar as configured, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// 24×7: every instant is business time; `hours` must then be empty.
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub hours: WeeklyHours,
    /// Dates closed all day, whatever the weekday.
    #[serde(default)]
    pub holidays: Vec<Date>,
    #[serde(default)]
    pub make_up_days: Vec<MakeUpDay>,
}

/// The time zone database compiled into the binary, and only it: a calendar means the same
/// on every machine, and no start-up lists the system's zoneinfo.
static BUNDLED_ZONES: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// A validated business calendar. Build one with [`Calendar::new`] or by deserialising a
/// [`CalendarSpec`]; it serialises back to the same spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "CalendarSpec", into = "CalendarSpec")]
pub struct Calendar {
    pub(super) spec: CalendarSpec,
    pub(super) tz: TimeZone,
    holidays: BTreeSet<Date>,
    make_up_days: BTreeMap<Date, Vec<Interval>>,
}

impl Calendar {
    pub fn new(spec: CalendarSpec) -> Result<Self, CalendarError> {
        let tz = BUNDLED_ZONES
            .get(&spec.time_zone)
            .map_err(|_| CalendarError::UnknownTimeZone { name: spec.time_zone.clone() })?;
        if spec.always_open && !spec.hours.is_empty() {
            return Err(CalendarError::HoursWhileAlwaysOpen);
        }
        for (day, hours) in spec.hours.days() {
            check_intervals(&format!("hours.{day}"), hours)?;
        }
        let holidays: BTreeSet<Date> = spec.holidays.iter().copied().collect();
        let mut make_up_days = BTreeMap::new();
        for (index, day) in spec.make_up_days.iter().enumerate() {
            if day.hours.is_empty() {
                return Err(CalendarError::MakeUpDayWithoutHours { index });
            }
            check_intervals(&format!("make_up_days[{index}].hours"), &day.hours)?;
            let date = day.date;
            if holidays.contains(&date) {
                return Err(CalendarError::MakeUpDayIsHoliday { index, date });
            }
            if make_up_days.insert(date, day.hours.clone()).is_some() {
                return Err(CalendarError::DuplicateMakeUpDay { index, date });
            }
        }
        Ok(Self { spec, tz, holidays, make_up_days })
    }

    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn is_always_open(&self) -> bool {
        self.spec.always_open
    }

    /// The civil opening hours of `date`: a make-up day's own hours, nothing on a holiday,
    /// otherwise the weekday's.
    fn civil_hours(&self, date: Date) -> &[Interval] {
        if let Some(hours) = self.make_up_days.get(&date) {
            hours
        } else if self.holidays.contains(&date) {
            &[]
        } else {
            self.spec.hours.on(date.weekday())
        }
    }

    /// The opening hours of `date` as instants. Civil times that fall in a DST gap or fold
    /// are resolved with jiff's `compatible` rule (a gap moves later, a fold takes the
    /// earlier instant), as RFC 5545 and Temporal do. That rule is not monotonic around a
    /// gap, so a span may come out empty or overlap its neighbour; callers clip each span
    /// against the end of the previous one. Instants beyond jiff's range are dropped.
    pub(super) fn open_spans(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        self.civil_hours(date)
            .iter()
            .filter_map(|interval| {
                let start = self.instant(date, interval.start)?;
                let end = if interval.ends_at_midnight() {
                    self.instant(date.tomorrow().ok()?, Time::midnight())?
                } else {
                    self.instant(date, interval.end)?
                };
                Some((start, end))
            })
            .collect()
    }

    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        let zoned = self.tz.to_ambiguous_zoned(date.to_datetime(time));
        zoned.compatible().ok().map(|zoned| zoned.timestamp())
    }

    /// The civil date `at` falls on in this calendar's zone (never the process's zone).
    pub(super) fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }
}

impl TryFrom<CalendarSpec> for Calendar {
    type Error = CalendarError;

    fn try_from(spec: CalendarSpec) -> Result<Self, Self::Error> {
        Self::new(spec)
    }
}

impl From<Calendar> for CalendarSpec {
    fn from(calendar: Calendar) -> Self {
        calendar.spec
    }
}

/// Intervals of one day must each be non-empty and be listed in order without overlap, so a
/// day's business time is simply the sum of its intervals.
fn check_intervals(field: &str, hours: &[Interval]) -> Result<(), CalendarError> {
    let mut previous_end: Option<Time> = None;
    for (i, interval) in hours.iter().enumerate() {
        let field = format!("{field}[{i}]");
        if !interval.ends_at_midnight() && interval.end <= interval.start {
            return Err(CalendarError::EndNotAfterStart { field });
        }
        if let Some(end) = previous_end
            && (end == Time::midnight() || interval.start < end)
        {
            return Err(CalendarError::Overlapping { field });
        }
        previous_end = Some(interval.end);
    }
    Ok(())
}
