//! The string forms of values that JSON has no type for: dates and times as ISO 8601,
//! UUIDs in their usual hyphenated form, `numeric` as its exact decimal text, and
//! bytes as base64. Each is decoded from PostgreSQL's binary format.

use crate::error::Error;

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for dates and timestamps.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// `(year, month, day)` of the day `days` after 1970-01-01, in the proleptic Gregorian
/// calendar (year 0 is 1 BC). Counts 400-year eras of 146,097 days, then years within
/// the era with March as the first month, so that the leap day falls at the end.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153; // 0 = March ... 11 = February
    let day = (day_of_year - (153 * march_month + 2) / 5 + 1) as u32;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY`, or ISO 8601's signed form outside 0000–9999 (`-0044`, `+10000`).
fn year(y: i64) -> String {
    match y {
        0..=9999 => format!("{y:04}"),
        y if y < 0 => format!("-{:04}", -y),
        y => format!("+{y}"),
    }
}

/// `date`: days since 2000-01-01 as `YYYY-MM-DD` (`infinity` and `-infinity` as such).
pub(crate) fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        days => {
            let (y, m, d) = civil_date(i64::from(days) + PG_EPOCH_DAYS);
            format!("{}-{m:02}-{d:02}", year(y))
        }
    }
}

/// `time`: microseconds since midnight as `HH:MM:SS`, with `.ffffff` when not whole
/// (Python's `isoformat`).
pub(crate) fn time(micros: i64) -> String {
    let seconds = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let hms = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction == 0 {
        hms
    } else {
        format!("{hms}.{fraction:06}")
    }
}

/// `timestamp` (`utc` false) and `timestamptz` (`utc` true, always UTC on the wire):
/// microseconds since 2000-01-01 as `YYYY-MM-DDTHH:MM:SS[.ffffff]`, with `Z` for UTC.
pub(crate) fn timestamp(micros: i64, utc: bool) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        micros => {
            let (y, m, d) = civil_date(micros.div_euclid(MICROS_PER_DAY) + PG_EPOCH_DAYS);
            let clock = time(micros.rem_euclid(MICROS_PER_DAY));
            let zone = if utc { "Z" } else { "" };
            format!("{}-{m:02}-{d:02}T{clock}{zone}", year(y))
        }
    }
}

/// `uuid`: 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase.
pub(crate) fn uuid(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `numeric`: its exact decimal text, as PostgreSQL prints it (`12.50`, `-0.001`, `NaN`).
///
/// The binary form is a count of base-10,000 digits, the weight (power of 10,000) of
/// the first digit, a sign, the display scale (digits after the point), then the digits.
pub(crate) fn numeric(raw: &[u8]) -> Result<String, Error> {
    let bad = || Error::Conversion("malformed numeric from the server".into());
    let word = |i: usize| -> Result<u16, Error> {
        raw.get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(bad)
    };
    let count = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    let scale = usize::from(word(3)?);
    let digits = (0..count)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<_>, _>>()?;
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => return Err(bad()),
    };
    let digit = |position: i64| -> u16 {
        usize::try_from(position)
            .ok()
            .and_then(|p| digits.get(p).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&digit(0).to_string());
        for position in 1..=weight {
            out.push_str(&format!("{:04}", digit(position)));
        }
    }
    if scale > 0 {
        let mut fraction = String::with_capacity(scale + 4);
        let mut position = weight + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(position)));
            position += 1;
        }
        fraction.truncate(scale);
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

/// Bytes as base64: the standard alphabet with `=` padding and no line breaks, what
/// Python's `base64.b64encode` gives (and pydantic's `ser_json_bytes="base64"`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_from_2000_in_the_gregorian_calendar() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(59), "2000-02-29");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(-10_957), "1970-01-01");
        assert_eq!(date(i32::MAX), "infinity");
        assert_eq!(timestamp(1, true), "2000-01-01T00:00:00.000001Z");
        assert_eq!(timestamp(-1, false), "1999-12-31T23:59:59.999999");
        assert_eq!(time(45_296_000_000), "12:34:56");
    }

    #[test]
    fn base64_pads_like_python() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0, 1, 255]), "AAH/");
    }
}
