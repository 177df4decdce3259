//! The time zone `stats` and the desk's charts cut days, weeks, months, quarters and years
//! in (`stats --tz`, `[stats] time_zone`): UTC unless asked, an IANA zone read from the
//! system's tz database, or the local zone.
//!
//! Times in the store stay UTC instants; a zone only decides which calendar day an instant
//! falls on, and where a day begins. On a day whose midnight a clock change skips, the day
//! begins at its first instant.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use jiff::tz::TimeZone;

/// A zone and the name `stats` prints for it (`time_zone`).
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    /// `UTC`, `local` (the system's zone, named by its IANA name when the system says it), or
    /// an IANA name such as `Europe/Berlin` (spelled in any case; printed as the database
    /// spells it). The error says what is wrong; the caller names the flag.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") {
            return Ok(Zone::utc());
        }
        if t.eq_ignore_ascii_case("local") {
            let tz = TimeZone::try_system().map_err(|e| {
                format!("the system's time zone could not be read ({e}): name the zone, e.g. Europe/Berlin")
            })?;
            let name = tz.iana_name().unwrap_or("local").to_string();
            return Ok(Zone { name, tz });
        }
        // Names only: a POSIX TZ string or a path is not a zone name.
        let plausible = !t.is_empty()
            && !t.starts_with('/')
            && !t.split('/').any(|p| p.is_empty() || p == "." || p == "..")
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
        let tz = plausible
            .then(|| TimeZone::get(t).ok())
            .flatten()
            .ok_or_else(|| {
                format!(
                    "{t:?} is not a time zone: write an IANA name such as Europe/Berlin or \
                     America/New_York, UTC, or local"
                )
            })?;
        let name = tz.iana_name().unwrap_or(t).to_string();
        Ok(Zone { name, tz })
    }

    /// The name `time_zone` prints: `UTC`, or the IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wall-clock time in this zone at the instant `t`.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        let civil = jiff::Timestamp::from_second(t.timestamp())
            .map(|ts| self.tz.to_datetime(ts))
            .ok();
        civil
            .and_then(|c| {
                let date =
                    NaiveDate::from_ymd_opt(c.year().into(), c.month() as u32, c.day() as u32)?;
                let time =
                    NaiveTime::from_hms_opt(c.hour() as u32, c.minute() as u32, c.second() as u32)?;
                Some(date.and_time(time))
            })
            // Out of jiff's range (beyond the years -9999..=9999): as UTC.
            .unwrap_or_else(|| t.naive_utc())
    }

    /// The first instant of `day` in this zone.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        use chrono::Datelike;
        let utc_midnight = || {
            day.and_hms_opt(0, 0, 0)
                // Midnight exists on every date.
                .unwrap_or_default()
                .and_utc()
        };
        let Ok(year) = i16::try_from(day.year()) else {
            return utc_midnight();
        };
        jiff::civil::Date::new(year, day.month() as i8, day.day() as i8)
            .and_then(|d| d.to_zoned(self.tz.clone()))
            .ok()
            .and_then(|z| DateTime::from_timestamp(z.timestamp().as_second(), 0))
            .unwrap_or_else(utc_midnight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn names_are_checked_and_spelled_as_the_database_spells_them() {
        assert_eq!(Zone::parse("utc").unwrap().name(), "UTC");
        assert_eq!(
            Zone::parse("america/new_york").unwrap().name(),
            "America/New_York"
        );
        for bad in [
            "Mars/Olympus",
            "",
            "../../etc/passwd",
            "/etc/localtime",
            "EST5EDT,M3.2.0,M11.1.0",
        ] {
            let err = Zone::parse(bad).unwrap_err();
            assert!(err.contains("is not a time zone"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_late_new_years_eve_in_new_york_stays_in_its_year() {
        let ny = Zone::parse("America/New_York").unwrap();
        let t = at("2027-01-01T04:30:00Z");
        assert_eq!(ny.local(t).to_string(), "2026-12-31 23:30:00");
        assert_eq!(Zone::utc().local(t).to_string(), "2027-01-01 04:30:00");
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        assert_eq!(ny.start_of(day), at("2026-12-31T05:00:00Z"));
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_begins_at_its_first_instant() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2024-09-08.
        let santiago = Zone::parse("America/Santiago").unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 9, 8).unwrap();
        assert_eq!(santiago.start_of(day), at("2024-09-08T04:00:00Z"));
    }
}
