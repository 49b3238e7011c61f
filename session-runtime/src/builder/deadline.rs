//! Reading the deadline of `accept_legacy_until` from the environment: unix seconds, or an
//! RFC 3339 date and time, the two forms deployment tools write.

/// Unix seconds of `value`: a number of seconds, or an RFC 3339 date and time
/// (`2027-01-31T00:00:00Z`, `2027-01-31T01:00:00+01:00`; fractions of a second are dropped).
pub(super) fn parse(value: &str) -> Result<u64, String> {
    let value = value.trim();
    value.parse().ok().or_else(|| rfc3339(value)).ok_or_else(|| {
        format!(
            "`{value}` is neither unix seconds nor an RFC 3339 date and time such as `2027-01-31T00:00:00Z`"
        )
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` as unix seconds; `None` for anything else or a
/// time before 1970.
fn rfc3339(value: &str) -> Option<u64> {
    let (date, rest) = value.split_at_checked(10)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, zone) = rest.split_at_checked(8)?;
    let [year, month, day] = fields(date, '-')?;
    let [hour, minute, second] = fields(time, ':')?;
    let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let [hours, minutes] = fields(zone.get(1..)?, ':')?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    valid.then(|| u64::try_from(local - offset).ok()).flatten()
}

/// `N` numbers of two or four ASCII digits separated by `separator`.
fn fields<const N: usize>(text: &str, separator: char) -> Option<[i64; N]> {
    let mut out = [0; N];
    let mut parts = text.split(separator);
    for slot in &mut out {
        let part = parts.next()?;
        if !part.bytes().all(|b| b.is_ascii_digit()) || !matches!(part.len(), 2 | 4) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_unix_seconds_and_rfc_3339() {
        assert_eq!(parse(" 1000000000 "), Ok(1_000_000_000));
        assert_eq!(parse("2001-09-09T01:46:40Z"), Ok(1_000_000_000));
        assert_eq!(parse("2001-09-09T03:46:40.25+02:00"), Ok(1_000_000_000));
        assert_eq!(parse("2001-09-08T20:46:40-05:00"), Ok(1_000_000_000));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "next tuesday",
            "2001-09-09",
            "2001-09-09T01:46:40",
            "2001-13-09T01:46:40Z",
            "2001-09-09T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2001-09-09T01:46:40+0200",
            "-5",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
