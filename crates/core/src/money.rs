//! Money as an integer number of 分 (fen), so sums are exact (standards.md "Units": store integer fen).
//!
//! Pages show 元, 万元 (10⁴ 元) or 亿元 (10⁸ 元); rounding happens only when formatting, half away
//! from zero (四舍五入, as readers of statistical and financial tables expect).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user-facing error about an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MoneyError {
    pub message: String,
}

fn err(message: &str) -> MoneyError {
    MoneyError { message: message.to_owned() }
}

const FORMAT_HINT: &str = "金额格式不正确，应为数字，例如 1234.56 或 1,234.56";

/// An amount in 分. Serialised as the integer number of fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(i64);

/// Fen in 0.01 万元 and 0.01 亿元.
const FEN_PER_CENTI_WAN: u128 = 10_000;
const FEN_PER_CENTI_YI: u128 = 100_000_000;
/// Fen in 1 万元 and 1 亿元.
const FEN_PER_WAN: u64 = 1_000_000;
const FEN_PER_YI: u64 = 10_000_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn from_fen(fen: i64) -> Fen {
        Fen(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, rhs: Fen) -> Option<Fen> {
        self.0.checked_add(rhs.0).map(Fen)
    }

    pub fn checked_sub(self, rhs: Fen) -> Option<Fen> {
        self.0.checked_sub(rhs.0).map(Fen)
    }

    /// Parses an amount in 元 as typed: optional sign, digits with optional thousands commas, at most
    /// two decimals, optionally followed by 元. Half-width ASCII only, so nothing is silently converted.
    pub fn parse_yuan(raw: &str) -> Result<Fen, MoneyError> {
        let s = raw.trim();
        let s = s.strip_suffix('元').unwrap_or(s);
        if s.is_empty() {
            return Err(err("请填写金额"));
        }
        if !s.is_ascii() {
            return Err(err("金额只能使用半角数字、小数点、千分位逗号和负号"));
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, "00"),
        };
        let int_digits = ungroup(int_part).ok_or_else(|| err(FORMAT_HINT))?;
        if frac_part.is_empty() || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(FORMAT_HINT));
        }
        if frac_part.len() > 2 {
            return Err(err("金额最多两位小数"));
        }
        let overflow = || err("金额超出范围");
        let fen_digits = if frac_part.len() == 1 { "0" } else { "" };
        let mut magnitude: u128 = 0;
        for b in int_digits.bytes().chain(frac_part.bytes()).chain(fen_digits.bytes()) {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(b - b'0')))
                .filter(|m| *m <= u128::from(u64::MAX))
                .ok_or_else(overflow)?;
        }
        let signed = i128::try_from(magnitude).map_err(|_| overflow())?;
        let signed = if negative { -signed } else { signed };
        i64::try_from(signed).map(Fen).map_err(|_| overflow())
    }

    /// Parses a non-negative amount in 万元 (how registered capital is written), with at most six
    /// decimals so that it converts to whole fen exactly (1 万元 = 1,000,000 分).
    pub fn parse_wan(raw: &str) -> Result<Fen, MoneyError> {
        let s = raw.trim();
        let s = s.strip_suffix("万元").or_else(|| s.strip_suffix('万')).unwrap_or(s).trim();
        if s.is_empty() {
            return Err(err("请填写金额"));
        }
        if s.starts_with('-') {
            return Err(err("金额不能为负数"));
        }
        let (int_part, frac_part) = s.split_once('.').unwrap_or((s, ""));
        let int_digits = ungroup(int_part).ok_or_else(|| err("金额格式错误，例如 500 或 1,200.5（单位：万元）"))?;
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac_part.is_empty()) {
            return Err(err("金额格式错误，例如 500 或 1,200.5（单位：万元）"));
        }
        if frac_part.len() > 6 {
            return Err(err("以万元为单位时最多六位小数"));
        }
        let padded = format!("{int_digits}{frac_part:0<6}");
        let v: i64 = padded.parse().map_err(|_| err("金额超出范围"))?;
        Ok(Fen(v))
    }

    /// In 万元 with two decimals, e.g. "12.35万元".
    pub fn display_wan(self) -> String {
        self.scaled(FEN_PER_CENTI_WAN, "万元")
    }

    /// In 亿元 with two decimals, e.g. "1.41亿元".
    pub fn display_yi(self) -> String {
        self.scaled(FEN_PER_CENTI_YI, "亿元")
    }

    /// 亿元 from 1 亿元 up, 万元 from 1 万元 up, otherwise 元 (by magnitude, so debts read alike).
    pub fn display_auto(self) -> String {
        let abs = self.0.unsigned_abs();
        if abs >= FEN_PER_YI {
            self.display_yi()
        } else if abs >= FEN_PER_WAN {
            self.display_wan()
        } else {
            self.to_string()
        }
    }

    /// Rounds |self| to a multiple of `fen_per_hundredth`, half away from zero, and formats it with
    /// two decimals. A result of zero carries no sign.
    fn scaled(self, fen_per_hundredth: u128, suffix: &str) -> String {
        let abs = u128::from(self.0.unsigned_abs());
        let hundredths = (abs + fen_per_hundredth / 2) / fen_per_hundredth;
        let sign = if self.0 < 0 && hundredths > 0 { "-" } else { "" };
        format!("{sign}{}.{:02}{suffix}", group_thousands(hundredths / 100), hundredths % 100)
    }
}

/// Removes thousands commas after checking their places ("1,234,567"); `None` if malformed.
pub(crate) fn ungroup(int_part: &str) -> Option<String> {
    let groups: Vec<&str> = int_part.split(',').collect();
    let well_placed = groups.len() == 1
        || groups.iter().enumerate().all(|(i, g)| if i == 0 { (1..=3).contains(&g.len()) } else { g.len() == 3 });
    let digits = groups.concat();
    (well_placed && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// "1234567" → "1,234,567".
pub(crate) fn group_thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1,234.56元": 元 with two decimals and thousands separators.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scaled(1, "元"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wan_exactly() {
        assert_eq!(Fen::parse_wan("500").map(Fen::fen), Ok(500_000_000));
        assert_eq!(Fen::parse_wan("1,200.5万元").map(Fen::fen), Ok(1_200_500_000));
        assert_eq!(Fen::parse_wan("0.000001").map(Fen::fen), Ok(1));
        assert!(Fen::parse_wan("-1").is_err());
        assert!(Fen::parse_wan("1.0000001").is_err());
        assert!(Fen::parse_wan("abc").is_err());
        assert!(Fen::parse_wan("99999999999999999").is_err());
    }
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<i64, String> {
        Fen::parse_yuan(s).map(Fen::fen).map_err(|e| e.message)
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("1234.5"), Ok(123_450));
        assert_eq!(parse("1,234.56"), Ok(123_456));
        assert_eq!(parse("-12.30"), Ok(-1230));
        assert_eq!(parse("+7"), Ok(700));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("-0.00"), Ok(0));
        assert_eq!(parse(" 12,345,678.9元"), Ok(1_234_567_890));
        assert_eq!(parse("1234567"), Ok(123_456_700));
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        assert_eq!(parse("1.234"), Err("金额最多两位小数".to_owned()));
        assert_eq!(parse(""), Err("请填写金额".to_owned()));
        assert_eq!(parse("元"), Err("请填写金额".to_owned()));
        assert_eq!(parse("０"), Err("金额只能使用半角数字、小数点、千分位逗号和负号".to_owned()));
        for bad in ["12,34", "1,2345", ",123", "1,,234", "12.", ".5", "1.2.3", "--1", "1e5", "abc"] {
            assert_eq!(parse(bad), Err(FORMAT_HINT.to_owned()), "{bad}");
        }
        assert_eq!(parse("92233720368547758.08"), Err("金额超出范围".to_owned()));
        assert_eq!(parse("99999999999999999999999999999999999999999"), Err("金额超出范围".to_owned()));
    }

    #[test]
    fn extremes_round_trip() {
        assert_eq!(parse("92,233,720,368,547,758.07"), Ok(i64::MAX));
        assert_eq!(parse("-92233720368547758.08"), Ok(i64::MIN));
        assert_eq!(Fen(i64::MIN).to_string(), "-92,233,720,368,547,758.08元");
    }

    #[test]
    fn displays_yuan() {
        assert_eq!(Fen(123_456).to_string(), "1,234.56元");
        assert_eq!(Fen(-1230).to_string(), "-12.30元");
        assert_eq!(Fen(5).to_string(), "0.05元");
        assert_eq!(Fen(-5).to_string(), "-0.05元");
        assert_eq!(Fen(0).to_string(), "0.00元");
        assert_eq!(Fen(100_000).to_string(), "1,000.00元");
    }

    #[test]
    fn displays_wan_and_yi_rounding_half_away_from_zero() {
        assert_eq!(Fen(12_345_678).display_wan(), "12.35万元");
        assert_eq!(Fen(14_100_000_000).display_yi(), "1.41亿元");
        assert_eq!(Fen(5_000).display_wan(), "0.01万元");
        assert_eq!(Fen(4_999).display_wan(), "0.00万元");
        assert_eq!(Fen(-5_000).display_wan(), "-0.01万元");
        assert_eq!(Fen(-4_999).display_wan(), "0.00万元");
        assert_eq!(Fen(50_000_000).display_yi(), "0.01亿元");
        assert_eq!(Fen(49_999_999).display_yi(), "0.00亿元");
        assert_eq!(Fen(12_345_678_912_345).display_wan(), "12,345,678.91万元");
        assert_eq!(Fen(i64::MIN).display_yi(), "-922,337,203.69亿元");
    }

    #[test]
    fn auto_picks_the_unit_by_magnitude() {
        assert_eq!(Fen(999_999).display_auto(), "9,999.99元");
        assert_eq!(Fen(1_000_000).display_auto(), "1.00万元");
        assert_eq!(Fen(-1_000_000).display_auto(), "-1.00万元");
        assert_eq!(Fen(9_999_999_999).display_auto(), "10,000.00万元");
        assert_eq!(Fen(10_000_000_000).display_auto(), "1.00亿元");
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Fen(1).checked_add(Fen(2)), Some(Fen(3)));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen(1).checked_sub(Fen(3)), Some(Fen(-2)));
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
    }

    proptest! {
        #[test]
        fn parse_inverts_display(x in any::<i64>()) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(x).to_string()), Ok(Fen(x)));
            let plain = format!("{}{}.{:02}", if x < 0 { "-" } else { "" }, x.unsigned_abs() / 100, x.unsigned_abs() % 100);
            prop_assert_eq!(Fen::parse_yuan(&plain), Ok(Fen(x)));
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Fen::parse_yuan(&raw);
        }
    }
}
