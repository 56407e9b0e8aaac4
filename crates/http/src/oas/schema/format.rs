//! The `format` values that are checked; any other format is an annotation.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A checked format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Date,
    DateTime,
    Time,
    Email,
    Uuid,
    Ipv4,
    Ipv6,
    Uri,
    Byte,
    Int32,
    Int64,
}

impl Format {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "date" => Self::Date,
            "date-time" => Self::DateTime,
            "time" => Self::Time,
            "email" => Self::Email,
            "uuid" => Self::Uuid,
            "ipv4" => Self::Ipv4,
            "ipv6" => Self::Ipv6,
            "uri" | "url" => Self::Uri,
            "byte" => Self::Byte,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::DateTime => "date-time",
            Self::Time => "time",
            Self::Email => "email",
            Self::Uuid => "uuid",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Uri => "uri",
            Self::Byte => "byte",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
        }
    }

    /// Checks a string value (numeric formats accept every string).
    pub(crate) fn check_str(self, text: &str) -> bool {
        match self {
            Self::Date => date(text),
            Self::DateTime => date_time(text),
            Self::Time => time(text),
            Self::Email => email(text),
            Self::Uuid => uuid(text),
            Self::Ipv4 => text.parse::<Ipv4Addr>().is_ok(),
            Self::Ipv6 => text.parse::<Ipv6Addr>().is_ok(),
            Self::Uri => uri(text),
            Self::Byte => base64(text),
            Self::Int32 | Self::Int64 => true,
        }
    }

    /// Checks a number (string formats accept every number).
    pub(crate) fn check_number(self, number: f64) -> bool {
        match self {
            Self::Int32 => number >= f64::from(i32::MIN) && number <= f64::from(i32::MAX),
            Self::Int64 => number.abs() <= 9_007_199_254_740_991.0,
            _ => true,
        }
    }
}

fn digits(text: &str, count: usize) -> Option<u32> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn date(text: &str) -> bool {
    let mut parts = text.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`; the offset is optional for `time` and required for
/// `date-time` (RFC 3339).
fn time_with(text: &str, offset_required: bool) -> bool {
    if text.len() < 8 || !text.is_char_boundary(8) || !text[..8].is_ascii() {
        return false;
    }
    let (clock, rest) = text.split_at(8);
    let b = clock.as_bytes();
    if b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (
        digits(&clock[0..2], 2),
        digits(&clock[3..5], 2),
        digits(&clock[6..8], 2),
    ) else {
        return false;
    };
    if h > 23 || m > 59 || s > 60 {
        return false;
    }
    let mut rest = rest;
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        // `n` counts ASCII digits, so `fraction[n..]` is on a character boundary.
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        "" => !offset_required,
        "Z" | "z" => true,
        offset => {
            let b = offset.as_bytes();
            offset.len() == 6
                && offset.is_ascii()
                && (b[0] == b'+' || b[0] == b'-')
                && b[3] == b':'
                && digits(&offset[1..3], 2).is_some_and(|h| h <= 23)
                && digits(&offset[4..6], 2).is_some_and(|m| m <= 59)
        }
    }
}

fn time(text: &str) -> bool {
    time_with(text, false)
}

fn date_time(text: &str) -> bool {
    match text.find(['T', 't', ' ']) {
        Some(10) => date(&text[..10]) && time_with(&text[11..], true),
        _ => false,
    }
}

fn email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !text.contains(char::is_whitespace)
        && domain.split('.').all(|label| !label.is_empty())
}

fn uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.contains(char::is_whitespace)
}

fn base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    text.len().is_multiple_of(4)
        && text.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_accept_valid_and_reject_invalid_text() {
        let cases = [
            (Format::Date, "2024-02-29", true),
            (Format::Date, "2023-02-29", false),
            (Format::Date, "2024-2-1", false),
            (Format::DateTime, "2024-01-31T23:59:59.123Z", true),
            (Format::DateTime, "2024-01-31T23:59:59+01:00", true),
            (Format::DateTime, "2024-01-31T23:59:59", false),
            (Format::Time, "12:30:00", true),
            (Format::Time, "25:00:00", false),
            (Format::Email, "a@b.c", true),
            (Format::Email, "a b@c", false),
            (Format::Uuid, "0190a6f4-1b2c-7d3e-8f40-123456789abc", true),
            (Format::Uuid, "0190a6f4-1b2c-7d3e-8f40", false),
            (Format::Ipv4, "127.0.0.1", true),
            (Format::Ipv6, "::1", true),
            (Format::Ipv4, "::1", false),
            (Format::Uri, "https://example.com/x", true),
            (Format::Uri, "/relative", false),
            (Format::Byte, "aGVsbG8=", true),
            (Format::Byte, "aGVsbG8", false),
        ];
        for (format, text, valid) in cases {
            assert_eq!(format.check_str(text), valid, "{format:?} {text}");
        }
        assert!(Format::Int32.check_number(2_147_483_647.0));
        assert!(!Format::Int32.check_number(2_147_483_648.0));
    }
}
