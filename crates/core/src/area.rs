//! Land area, stored as an integer number of hundredths of a square metre (standards.md "Units").
//!
//! Cadastral areas are published to 0.01 m², so centi-m² keeps them exact; 亩 are converted with the
//! exact ratio 1 亩 = 10000/15 m² (standards.md) and rounded to 0.01 m² only once, when parsed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::{group_thousands, ungroup};

/// A user-facing error about an area.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AreaError {
    pub message: String,
}

fn err(message: &str) -> AreaError {
    AreaError { message: message.to_owned() }
}

/// Upper bound of a plausible single area: 100 km² = 10⁸ m² = 10¹⁰ centi-m² (the whole zone is far
/// smaller; larger values are typing or unit errors).
const MAX_CENTI_M2: u128 = 10_000_000_000;

/// Decimals accepted on input; finer values are meaningless for land and would hide unit mix-ups.
const MAX_DECIMALS: usize = 6;

/// An area in hundredths of a square metre. Serialised as that integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Area(i64);

impl Area {
    pub const ZERO: Area = Area(0);

    pub const fn from_m2_centi(centi_m2: i64) -> Area {
        Area(centi_m2)
    }

    pub const fn m2_centi(self) -> i64 {
        self.0
    }

    /// Parses square metres as typed, e.g. "468666.67" or "468,666.67".
    pub fn from_m2_str(raw: &str) -> Result<Area, AreaError> {
        // centi-m² = value × 100.
        Area::parse_scaled(raw, 100, 1)
    }

    /// Parses 亩 as typed, e.g. "703" or "12.5".
    pub fn from_mu_str(raw: &str) -> Result<Area, AreaError> {
        // centi-m² = value × 10000/15 × 100.
        Area::parse_scaled(raw, 1_000_000, 15)
    }

    /// Parses a non-negative decimal and converts it to centi-m² as value × num / den, rounded half up.
    fn parse_scaled(raw: &str, num: u128, den: u128) -> Result<Area, AreaError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(err("请填写面积"));
        }
        if !s.is_ascii() {
            return Err(err("面积只能使用半角数字和小数点"));
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int_part, frac_part) = body.split_once('.').unwrap_or((body, "0"));
        let format_error = || err("面积格式不正确，应为数字，例如 703 或 703.5");
        let int_digits = ungroup(int_part).ok_or_else(format_error)?;
        if frac_part.is_empty() || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format_error());
        }
        if frac_part.len() > MAX_DECIMALS {
            return Err(err("面积最多六位小数"));
        }
        let too_large = || err("面积超出合理范围");
        if int_digits.trim_start_matches('0').len() > 12 {
            return Err(too_large());
        }
        let mut n: u128 = 0;
        for b in int_digits.bytes().chain(frac_part.bytes()) {
            n = n * 10 + u128::from(b - b'0');
        }
        if negative && n > 0 {
            return Err(err("面积不能为负数"));
        }
        let den = den * 10u128.pow(frac_part.len().try_into().map_err(|_| format_error())?);
        let centi = (n * num + den / 2) / den;
        if centi > MAX_CENTI_M2 {
            return Err(too_large());
        }
        i64::try_from(centi).map(Area).map_err(|_| too_large())
    }

    pub fn checked_add(self, rhs: Area) -> Option<Area> {
        self.0.checked_add(rhs.0).map(Area)
    }

    /// Square metres as a float, for display and charts only; computations use [`Area::m2_centi`].
    pub fn m2(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// 亩 as a float, for display and charts only.
    pub fn mu(self) -> f64 {
        self.0 as f64 * 15.0 / 1_000_000.0
    }

    /// "703.00亩": 亩 with two decimals, rounded half away from zero.
    pub fn mu_display(self) -> String {
        // Hundredths of a 亩 = centi-m² × 15 / 10⁴.
        let scaled = u128::from(self.0.unsigned_abs()) * 15;
        let hundredths = (scaled + 5_000) / 10_000;
        with_two_decimals(self.0 < 0 && hundredths > 0, hundredths, "亩")
    }

    /// "666.67平方米".
    pub fn m2_display(self) -> String {
        with_two_decimals(self.0 < 0, u128::from(self.0.unsigned_abs()), "平方米")
    }
}

fn with_two_decimals(negative: bool, hundredths: u128, unit: &str) -> String {
    let sign = if negative { "-" } else { "" };
    format!("{sign}{}.{:02}{unit}", group_thousands(hundredths / 100), hundredths % 100)
}

/// Shows square metres; pages that need 亩 call [`Area::mu_display`].
impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.m2_display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mu(s: &str) -> Result<i64, String> {
        Area::from_mu_str(s).map(Area::m2_centi).map_err(|e| e.message)
    }

    fn m2(s: &str) -> Result<i64, String> {
        Area::from_m2_str(s).map(Area::m2_centi).map_err(|e| e.message)
    }

    #[test]
    fn one_mu_is_666_67_square_metres() {
        let a = Area::from_mu_str("1");
        assert_eq!(a.map(Area::m2_display), Ok("666.67平方米".to_owned()));
        assert_eq!(mu("15"), Ok(1_000_000));
        assert_eq!(mu("0.0015"), Ok(100));
    }

    #[test]
    fn seven_hundred_three_mu_round_trip() {
        let a = Area::from_mu_str("703");
        assert_eq!(a.as_ref().map(|a| a.m2_centi()), Ok(46_866_667));
        assert_eq!(a.as_ref().map(|a| a.mu_display()), Ok("703.00亩".to_owned()));
        assert_eq!(a.map(|a| a.m2_display()), Ok("468,666.67平方米".to_owned()));
    }

    #[test]
    fn parses_square_metres() {
        assert_eq!(m2("468666.67"), Ok(46_866_667));
        assert_eq!(m2("468,666.67"), Ok(46_866_667));
        assert_eq!(m2(" 12.345 "), Ok(1235));
        assert_eq!(m2("0"), Ok(0));
        assert_eq!(m2("-0"), Ok(0));
        assert_eq!(m2("100000000"), Ok(10_000_000_000));
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        assert_eq!(m2("-1"), Err("面积不能为负数".to_owned()));
        assert_eq!(mu("-0.5"), Err("面积不能为负数".to_owned()));
        assert_eq!(m2("100000000.01"), Err("面积超出合理范围".to_owned()));
        assert_eq!(mu("150001"), Err("面积超出合理范围".to_owned()));
        assert_eq!(m2("99999999999999999999999999999999999999999"), Err("面积超出合理范围".to_owned()));
        assert_eq!(m2(""), Err("请填写面积".to_owned()));
        assert_eq!(m2("１２"), Err("面积只能使用半角数字和小数点".to_owned()));
        assert_eq!(m2("1.1234567"), Err("面积最多六位小数".to_owned()));
        for bad in ["abc", "1.", ".5", "1.2.3", "1e3", "12,34", "--1"] {
            assert_eq!(m2(bad), Err("面积格式不正确，应为数字，例如 703 或 703.5".to_owned()));
        }
    }

    #[test]
    fn float_views_and_negative_display() {
        let a = Area::from_m2_centi(66_667);
        assert!((a.m2() - 666.67).abs() < 1e-9);
        assert!((a.mu() - 1.000_005).abs() < 1e-9);
        assert_eq!(Area::from_m2_centi(-66_667).mu_display(), "-1.00亩");
        assert_eq!(Area::from_m2_centi(-1).mu_display(), "0.00亩");
        assert_eq!(Area::from_m2_centi(-1).to_string(), "-0.01平方米");
        assert_eq!(Area::from_m2_centi(i64::MIN).m2_display(), "-92,233,720,368,547,758.08平方米");
    }

    proptest! {
        #[test]
        fn mu_with_two_decimals_round_trips(h in 0u64..=15_000_000) {
            let typed = format!("{}.{:02}", h / 100, h % 100);
            let shown = Area::from_mu_str(&typed).map(Area::mu_display);
            prop_assert_eq!(shown, Ok(format!("{}亩", group_thousands(u128::from(h / 100)) + &typed[typed.len() - 3..])));
        }

        #[test]
        fn m2_with_two_decimals_is_exact(c in 0i64..=10_000_000_000) {
            let typed = format!("{}.{:02}", c / 100, c % 100);
            prop_assert_eq!(Area::from_m2_str(&typed), Ok(Area(c)));
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Area::from_mu_str(&raw);
            let _ = Area::from_m2_str(&raw);
        }
    }
}
