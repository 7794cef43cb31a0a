//! Instants as the engine sees them: parsed from the `ts` of trace records (RFC 3339), never
//! read from a clock here. Front ends that do read the clock (the proxy) build a `Timestamp`
//! from `SystemTime` and hand it in with the event.

use std::fmt;

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    pub fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(1_000_000))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// The instant `us` microseconds after this one (saturating).
    pub fn after(self, us: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(us))
    }

    /// The instant `us` microseconds before this one (saturating).
    pub fn before(self, us: i64) -> Timestamp {
        Timestamp(self.0.saturating_sub(us))
    }

    /// Now, from the system clock. Only front ends call this, never the engine.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }

    /// Seconds (with fraction) from `earlier` to `self`.
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        #[expect(
            clippy::cast_precision_loss,
            reason = "durations in a trace are far below 2^52 µs"
        )]
        let us = self.0.saturating_sub(earlier.0) as f64;
        us / 1e6
    }

    /// Parses an RFC 3339 `date-time` (`2026-11-22T10:15:03.125Z`, `...+02:00`). The `T`
    /// and `Z` may be lower case (RFC 3339 §5.6 note); fractions beyond microseconds are
    /// truncated.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        let b = s.as_bytes();
        let err = |what: &'static str| TimeError { what };
        if b.len() < 20 {
            return Err(err("too short for an RFC 3339 date-time"));
        }
        if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(err("expected YYYY-MM-DDTHH:MM:SS"));
        }
        if !matches!(b[10], b'T' | b't') {
            return Err(err("expected `T` between date and time"));
        }
        // Every digit of the date and the time of day at once: a non-digit anywhere is the
        // same error, whichever field holds it.
        let fields = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
        if fields.iter().any(|&i| !b[i].is_ascii_digit()) {
            return Err(err("expected a digit"));
        }
        let year = two(b, 0) * 100 + two(b, 2);
        let (month, day) = (two(b, 5), two(b, 8));
        let (hour, minute, second) = (two(b, 11), two(b, 14), two(b, 17));
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(err("no such calendar date"));
        }
        // Second 60 is a leap second; accepted and folded into 59.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("time of day out of range"));
        }
        let mut i = 19;
        let mut micros = 0i64;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 6 {
                    micros = micros * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return Err(err("expected digits after `.`"));
            }
            if digits < 6 {
                micros *= [100_000, 10_000, 1_000, 100, 10][digits - 1];
            }
        }
        let offset_secs = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                if [1, 2, 4, 5].iter().any(|&k| !b[i + k].is_ascii_digit()) {
                    return Err(err("expected a digit"));
                }
                let (oh, om) = (two(b, i + 1), two(b, i + 4));
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let o = oh * 3600 + om * 60;
                if sign == b'+' { o } else { -o }
            }
            None => return Err(err("missing time zone offset (`Z` or `±HH:MM`)")),
            _ => return Err(err("bad time zone offset")),
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_secs;
        Ok(Timestamp(secs * 1_000_000 + micros))
    }

    /// Writes `2026-11-22T10:15:03.125Z` (milliseconds, UTC).
    pub fn to_rfc3339_millis(self) -> String {
        self.to_string()
    }

    /// Writes `2026-11-22T10:15:03.125041Z` (microseconds, UTC): the full precision of a
    /// `Timestamp`, so a recorded trace read back gives the engine the very same instants.
    pub fn to_rfc3339_micros(self) -> String {
        let mut s = self.to_string();
        s.pop(); // the `Z`
        let micros = self.0.rem_euclid(1000);
        s.push_str(&format!("{micros:03}Z"));
        s
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let millis = self.0.rem_euclid(1_000_000) / 1000;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )
    }
}

/// Why a timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}")]
pub struct TimeError {
    pub what: &'static str,
}

/// The two ASCII digits at `i` and `i + 1` of `b` as a number (the caller checked them).
#[inline]
fn two(b: &[u8], i: usize) -> i64 {
    i64::from(b[i] - b'0') * 10 + i64::from(b[i + 1] - b'0')
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let t = Timestamp::parse_rfc3339("2026-11-22T10:15:03.125Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T10:15:03.125Z");
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:00Z").unwrap(),
            Timestamp(0)
        );
        let off = Timestamp::parse_rfc3339("2026-11-22T12:15:03.125+02:00").unwrap();
        assert_eq!(off, t);
        let lower = Timestamp::parse_rfc3339("2026-11-22t10:15:03.125z").unwrap();
        assert_eq!(lower, t);
        let nanos = Timestamp::parse_rfc3339("2026-11-22T10:15:03.125999999Z").unwrap();
        assert_eq!(nanos.0 - t.0, 999);
        assert_eq!(
            Timestamp::parse_rfc3339("2024-02-29T00:00:00Z")
                .unwrap()
                .to_string(),
            "2024-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn micros_print_and_read_back_exactly() {
        for s in [
            "2026-11-22T10:15:03.125041Z",
            "1969-12-31T23:59:59.999999Z",
            "2026-11-22T10:15:03.000001Z",
        ] {
            let t = Timestamp::parse_rfc3339(s).unwrap();
            assert_eq!(t.to_rfc3339_micros(), s);
        }
    }

    /// The reading of RFC 3339 spelled out the slow way (a pattern, then the calendar by
    /// counting days), for the fast reader to agree with.
    fn slow_reading(s: &str) -> Option<i64> {
        let re = regex::Regex::new(
            r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))$",
        )
        .unwrap();
        let c = re.captures(s)?;
        let n = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<i64>().unwrap());
        let (y, mo, d, h, mi, se) = (n(1), n(2), n(3), n(4), n(5), n(6));
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = [
            31,
            if leap(y) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] {
            return None;
        }
        if h > 23 || mi > 59 || se > 60 || n(9) > 23 || n(10) > 59 {
            return None;
        }
        let mut days: i64 = 0;
        for year in y.min(1970)..y.max(1970) {
            days += if leap(year) { 366 } else { 365 };
        }
        if y < 1970 {
            days = -days;
        }
        days += month_days[..(mo - 1) as usize].iter().sum::<i64>() + d - 1;
        let frac = c.get(7).map_or(0, |m| {
            let digits: String = m.as_str().chars().chain("000000".chars()).take(6).collect();
            digits.parse::<i64>().unwrap()
        });
        let offset = (n(9) * 3600 + n(10) * 60)
            * if c.get(8).is_some_and(|m| m.as_str() == "-") {
                -1
            } else {
                1
            };
        Some((days * 86_400 + h * 3600 + mi * 60 + se.min(59) - offset) * 1_000_000 + frac)
    }

    proptest::proptest! {
        #[test]
        fn reads_as_the_slow_reading_does(
            (y, mo, d, h, mi, se) in (0..=9999i64, 0..=13i64, 0..=32i64, 0..=25i64, 0..=60i64, 0..=61i64),
            frac in proptest::option::of("[0-9]{0,9}"),
            zone in proptest::sample::select(vec!["Z", "z", "+02:00", "-11:30", "+24:00", "-05:60", "+0200", ""]),
            t in proptest::sample::select(vec!["T", "t", " "]),
            flip in proptest::option::of((0..30usize, proptest::sample::select(vec!['x', '-', ':', '9', '.', 'Z', 'é']))),
        ) {
            let mut s = format!("{y:04}-{mo:02}-{d:02}{t}{h:02}:{mi:02}:{se:02}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            s.push_str(zone);
            if let Some((at, c)) = flip
                && at < s.len()
                && s.is_char_boundary(at)
                && s.is_char_boundary(at + 1)
            {
                s.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
            }
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&s).ok().map(|t| t.0), slow_reading(&s), "{}", s);
        }
    }

    #[test]
    fn rejects_what_rfc3339_rejects() {
        for bad in [
            "2026-11-22 10:15:03Z",
            "2026-11-22T10:15:03",
            "2026-11-22T10:15:03.Z",
            "2026-02-30T10:15:03Z",
            "2025-02-29T10:15:03Z",
            "2026-13-01T10:15:03Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:15:03+0200",
            "20261122T101503Z",
            "",
            "2026-11-22T10:15:03Zjunk",
            "２０２６-11-22T10:15:03Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
