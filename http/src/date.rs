//! The `Date` header, formatted at most once per second per thread, together with the
//! lines every response head starts with.

use std::cell::RefCell;

/// `Sun, 06 Nov 1994 08:49:37 GMT` is 29 bytes.
const DATE_LEN: usize = 29;

/// The status line of nearly every response: kept in the cache in front of the other
/// lines, so a 200's head starts with one constant-size copy instead of two.
const STATUS_OK: &[u8] = b"HTTP/1.1 200 OK\r\n";
/// What every response's head carries after its status line, up to the date.
const LINES_BEFORE_DATE: &[u8] = b"Server: simmer\r\nDate: ";
/// Where the date starts in the cached lines.
const DATE_AT: usize = STATUS_OK.len() + LINES_BEFORE_DATE.len();
const LINES_LEN: usize = DATE_AT + DATE_LEN + 2;

/// What follows the date in the two commonest heads, up to the length's digits.
const TEXT_TAIL: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: ";
const JSON_TAIL: &[u8] = b"Content-Type: application/json\r\nContent-Length: ";
const TEXT_HEAD_LEN: usize = LINES_LEN + TEXT_TAIL.len();
const JSON_HEAD_LEN: usize = LINES_LEN + JSON_TAIL.len();

struct Cached {
    /// The second the heads were formatted for.
    second: u64,
    /// `HTTP/1.1 200 OK\r\nServer: simmer\r\nDate: <IMF-fixdate>\r\n`.
    lines: [u8; LINES_LEN],
    /// `lines`, then `Content-Type: text/plain; charset=utf-8` and `Content-Length: `.
    text_head: [u8; TEXT_HEAD_LEN],
    /// `lines`, then `Content-Type: application/json` and `Content-Length: `.
    json_head: [u8; JSON_HEAD_LEN],
}

impl Cached {
    /// Brings the heads up to `second`.
    #[inline]
    fn refresh(&mut self, second: u64) {
        if self.second != second {
            self.format(second);
        }
    }

    /// Formats the heads for `second` (once a second: kept out of the inlined path).
    #[cold]
    fn format(&mut self, second: u64) {
        self.lines[..STATUS_OK.len()].copy_from_slice(STATUS_OK);
        self.lines[STATUS_OK.len()..DATE_AT].copy_from_slice(LINES_BEFORE_DATE);
        self.lines[DATE_AT..DATE_AT + DATE_LEN].copy_from_slice(&format_date(second));
        self.lines[DATE_AT + DATE_LEN..].copy_from_slice(b"\r\n");
        self.text_head[..LINES_LEN].copy_from_slice(&self.lines);
        self.text_head[LINES_LEN..].copy_from_slice(TEXT_TAIL);
        self.json_head[..LINES_LEN].copy_from_slice(&self.lines);
        self.json_head[LINES_LEN..].copy_from_slice(JSON_TAIL);
        self.second = second;
    }
}

thread_local! {
    static CACHE: RefCell<Cached> = const {
        RefCell::new(Cached {
            second: u64::MAX,
            lines: [0; LINES_LEN],
            text_head: [0; TEXT_HEAD_LEN],
            json_head: [0; JSON_HEAD_LEN],
        })
    };
}

/// Runs `f` on this thread's heads, brought up to the current second first.
///
/// `CACHE.with(|cache| ...)` with the copy inside the closure was not inlined: the
/// call, the thread-local's accessor called through a pointer and the saved registers
/// cost about 25 of the 60 instructions of every response's head (callgrind). Taking
/// only the address out of `with` lets the compiler inline it to one thread-pointer
/// offset.
#[inline(always)]
fn with_fresh_heads(f: impl FnOnce(&Cached)) {
    let second = unix_seconds();
    let cache: *const RefCell<Cached> = CACHE.with(|cache| cache as *const RefCell<Cached>);
    // SAFETY: `CACHE` is this thread's, initialised at compile time and without a
    // destructor, so it is valid for as long as this thread runs, and the reference
    // does not leave this call.
    let cache = unsafe { &*cache };
    let mut cache = cache.borrow_mut();
    cache.refresh(second);
    f(&cache);
}

/// Appends `HTTP/1.1 200 OK` (when `ok`) and the `Server` and `Date` header lines, the
/// date being the current IMF-fixdate (RFC 9110 §5.6.7). Without `ok` the caller has
/// written its own status line.
pub(crate) fn write_head_start(out: &mut Vec<u8>, ok: bool) {
    with_fresh_heads(|cache| {
        // Two copies of constant size (the compiler inlines them), not one of a
        // variable size (a call to `memcpy`).
        if ok {
            out.extend_from_slice(&cache.lines);
        } else {
            let lines: &[u8; LINES_LEN - STATUS_OK.len()] = cache.lines[STATUS_OK.len()..]
                .try_into()
                .expect("the lines after the status line");
            out.extend_from_slice(lines);
        }
    });
}

/// The constant content types whose whole head (up to the length) is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Common {
    Text,
    Json,
}

/// Appends a 200's head up to the digits of its `Content-Length`: status line,
/// `Server`, `Date`, the `Content-Type` of `kind` and `Content-Length: `, as one copy.
#[inline]
pub(crate) fn write_common_head(out: &mut Vec<u8>, kind: Common) {
    with_fresh_heads(|cache| match kind {
        Common::Text => out.extend_from_slice(&cache.text_head),
        Common::Json => out.extend_from_slice(&cache.json_head),
    });
}

/// Seconds since 1970 from the coarse real-time clock (a vDSO read, about 3 ns).
#[cfg(target_os = "linux")]
fn unix_seconds() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid and writable; CLOCK_REALTIME_COARSE exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    ts.tv_sec as u64
}

#[cfg(not(target_os = "linux"))]
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Formats `secs` since the epoch as `Www, DD Mmm YYYY hh:mm:ss GMT`.
pub(crate) fn format_date(secs: u64) -> [u8; DATE_LEN] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    two_digits(&mut out[5..7], day as u64);
    out[8..11].copy_from_slice(MONTHS[month as usize - 1]);
    let y = year as u64;
    two_digits(&mut out[12..14], y / 100);
    two_digits(&mut out[14..16], y % 100);
    two_digits(&mut out[17..19], h);
    two_digits(&mut out[20..22], m);
    two_digits(&mut out[23..25], s);
    out
}

fn two_digits(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_start_has_the_status_line_only_when_asked() {
        let (mut ok, mut other) = (Vec::new(), Vec::new());
        write_head_start(&mut ok, true);
        write_head_start(&mut other, false);
        let ok = String::from_utf8(ok).unwrap();
        let other = String::from_utf8(other).unwrap();
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\nServer: simmer\r\nDate: "));
        assert!(other.starts_with("Server: simmer\r\nDate: "));
        assert!(ok.ends_with(" GMT\r\n") && other.ends_with(" GMT\r\n"));
        assert_eq!(ok.len(), LINES_LEN);
    }

    #[test]
    fn common_heads_are_the_lines_and_the_content_type() {
        for (kind, content_type) in [
            (Common::Text, "text/plain; charset=utf-8"),
            (Common::Json, "application/json"),
        ] {
            let mut lines = Vec::new();
            write_head_start(&mut lines, true);
            let mut head = Vec::new();
            write_common_head(&mut head, kind);
            let mut want = String::from_utf8(lines).unwrap();
            want.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: "));
            assert_eq!(String::from_utf8(head).unwrap(), want);
        }
    }

    #[test]
    fn formats_known_dates() {
        assert_eq!(&format_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format_date(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format_date(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            &format_date(4_102_444_799),
            b"Thu, 31 Dec 2099 23:59:59 GMT"
        );
    }
}
