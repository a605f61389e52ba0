//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Parsing is strict on purpose: the code is an identifier, so it is not trimmed, upper-cased or
//! converted from full-width. Instead each common slip (lower case, spaces, full-width characters,
//! the excluded letters I O S V Z) gets its own message telling the user what to fix.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The 31 symbols of GB 32100-2015 §4.1, in value order (0–30). I, O, S, V and Z are excluded.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const SYMBOLS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights wᵢ = 3^(i−1) mod 31 for positions 1–17 (GB 32100-2015 §5).
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Weights of the organisation code's check character (GB 11714-1997 §5).
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A user-facing error about a code; the message is Chinese and says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CodeError {
    pub message: String,
}

impl CodeError {
    pub(crate) fn new(message: impl Into<String>) -> CodeError {
        CodeError { message: message.into() }
    }
}

/// A valid 统一社会信用代码: 18 symbols whose 18th is the GB 32100-2015 check character.
/// Held inline (18 ASCII symbols, checked by [`CreditCode::parse`]): a tax ledger row carries one, and
/// a settlement copies hundreds of thousands of rows (issue 5, Measure), so a copy allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode([u8; 18]);

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CreditCode").field(&self.as_str()).finish()
    }
}

/// Value (0–30) of a symbol, or `None` if it is not one of the 31.
fn value_of(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    SYMBOLS.iter().position(|&s| s == b).and_then(|p| u32::try_from(p).ok())
}

fn symbol_of(v: u32) -> Option<char> {
    usize::try_from(v).ok().and_then(|i| SYMBOLS.get(i)).map(|&b| char::from(b))
}

/// Check character for the first 17 symbols (GB 32100-2015 §5: c = (31 − Σ vᵢwᵢ mod 31) mod 31).
fn check_char(first17: &[u32]) -> Option<char> {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    symbol_of((31 - sum % 31) % 31)
}

fn is_full_width(c: char) -> bool {
    matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{FFE0}'..='\u{FFE6}')
}

impl CreditCode {
    /// Parses a code exactly as typed; see the module docs for why nothing is normalised.
    pub fn parse(raw: &str) -> Result<CreditCode, CodeError> {
        if raw.is_empty() {
            return Err(CodeError::new("请填写统一社会信用代码"));
        }
        if raw.chars().any(char::is_whitespace) {
            return Err(CodeError::new("包含空格"));
        }
        if raw.chars().any(is_full_width) {
            return Err(CodeError::new("包含全角字符"));
        }
        if raw.chars().any(|c| c.is_ascii_lowercase()) {
            return Err(CodeError::new("包含小写字母，请使用大写"));
        }
        let len = raw.chars().count();
        if len != 18 {
            return Err(CodeError::new(format!("统一社会信用代码应为18位，实际为{len}位")));
        }
        let mut values = Vec::with_capacity(18);
        for (i, c) in raw.chars().enumerate() {
            let pos = i + 1;
            match value_of(c) {
                Some(v) => values.push(v),
                None if matches!(c, 'I' | 'O' | 'S' | 'V' | 'Z') => {
                    return Err(CodeError::new(format!(
                        "第{pos}位字符“{c}”不允许（统一社会信用代码不使用 I、O、S、V、Z）"
                    )));
                }
                None => {
                    return Err(CodeError::new(format!("第{pos}位字符“{c}”不允许（只能使用数字和大写字母）")));
                }
            }
        }
        let expected = values.get(..17).and_then(check_char);
        let actual = raw.chars().nth(17);
        match (expected, actual) {
            (Some(e), Some(a)) if e == a => {
                raw.as_bytes().try_into().map(CreditCode).map_err(|_| CodeError::new("统一社会信用代码格式不正确"))
            }
            (Some(e), Some(a)) => Err(CodeError::new(format!("校验码错误：第18位应为“{e}”，实际为“{a}”"))),
            _ => Err(CodeError::new("统一社会信用代码格式不正确")),
        }
    }

    /// Completes 17 valid symbols with their check character (used by the demo data generator).
    pub fn with_check_digit(first17: &str) -> Option<CreditCode> {
        let values: Vec<u32> = first17.chars().map(value_of).collect::<Option<_>>()?;
        if values.len() != 17 {
            return None;
        }
        let c = check_char(&values)?;
        format!("{first17}{c}").as_bytes().try_into().ok().map(CreditCode)
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: only `parse` and `with_check_digit` make one.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Administrative division code of the registering office: positions 3–8 (GB 32100-2015 §4.2).
    pub fn division(&self) -> &str {
        self.as_str().get(2..8).unwrap_or("")
    }

    /// The organisation code in positions 9–17 carries its own GB 11714-1997 check character. Old
    /// codes exist whose inner check fails, so a failure is only a warning for the user to verify.
    pub fn inner_check_warning(&self) -> Option<String> {
        let org = self.as_str().get(8..17)?;
        let mut sum = 0u32;
        for (c, w) in org.chars().zip(ORG_WEIGHTS) {
            // GB 11714: digits are 0–9, letters A=10 … Z=35.
            sum += c.to_digit(36)? * w;
        }
        let expected = match 11 - sum % 11 {
            10 => 'X',
            11 => '0',
            d => char::from_digit(d, 10)?,
        };
        let actual = org.chars().nth(8)?;
        (expected != actual)
            .then(|| format!("第9–17位（组织机构代码）校验位应为“{expected}”，实际为“{actual}”，请核对代码是否抄错"))
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CreditCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<CreditCode, CodeError> {
        CreditCode::parse(s)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<CreditCode, CodeError> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "91110000600037341L";

    fn err(raw: &str) -> String {
        CreditCode::parse(raw).err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn accepts_a_valid_code() {
        let c = CreditCode::parse(VALID);
        assert_eq!(c.as_ref().map(CreditCode::as_str), Ok(VALID));
        assert_eq!(c.as_ref().map(CreditCode::division), Ok("110000"));
        assert_eq!(c.as_ref().map(CreditCode::inner_check_warning), Ok(None));
        assert_eq!(VALID.parse::<CreditCode>().map(|c| c.to_string()), Ok(VALID.to_owned()));
    }

    #[test]
    fn explains_each_mistake() {
        assert_eq!(err("91110000600037341"), "统一社会信用代码应为18位，实际为17位");
        assert_eq!(err(""), "请填写统一社会信用代码");
        assert_eq!(err("9111I000600037341L"), "第5位字符“I”不允许（统一社会信用代码不使用 I、O、S、V、Z）");
        for bad in ['O', 'S', 'V', 'Z'] {
            assert!(err(&format!("9111{bad}000600037341L")).contains("不使用 I、O、S、V、Z"));
        }
        assert_eq!(err("91110000600037341l"), "包含小写字母，请使用大写");
        assert_eq!(err("９1110000600037341L"), "包含全角字符");
        assert_eq!(err("91110000600037341Ｌ"), "包含全角字符");
        assert_eq!(err(" 91110000600037341L"), "包含空格");
        assert_eq!(err("9111000 600037341L"), "包含空格");
        assert_eq!(err("91110000600037341L\u{3000}"), "包含空格");
        assert_eq!(err("91110000600037341X"), "校验码错误：第18位应为“L”，实际为“X”");
        assert_eq!(err("9111-000600037341L"), "第5位字符“-”不允许（只能使用数字和大写字母）");
        assert_eq!(err("9111中000600037341L"), "第5位字符“中”不允许（只能使用数字和大写字母）");
    }

    #[test]
    fn inner_check_failure_is_only_a_warning() {
        // 60003734 → check 1; replace it with 2 and recompute the outer check.
        let c = CreditCode::with_check_digit("91110000600037342");
        let warning = c.as_ref().and_then(CreditCode::inner_check_warning);
        assert!(warning.is_some_and(|w| w.contains("应为“1”")));
        assert!(c.is_some_and(|c| CreditCode::parse(c.as_str()).is_ok()));
    }

    #[test]
    fn inner_check_maps_ten_to_x_and_eleven_to_zero() {
        // 00000006: Σ = 12, 12 mod 11 = 1, C = 10 → X.
        let ok = CreditCode::with_check_digit("9137132300000006X");
        assert_eq!(ok.map(|c| c.inner_check_warning()), Some(None));
        let bad = CreditCode::with_check_digit("91371323000000062");
        let warning = bad.and_then(|c| c.inner_check_warning());
        assert!(warning.is_some_and(|w| w.contains("应为“X”")));
        // 00000000: Σ = 0, C = 11 → 0.
        let zero = CreditCode::with_check_digit("91371323000000000");
        assert_eq!(zero.map(|c| c.inner_check_warning()), Some(None));
    }

    #[test]
    fn deserializing_validates() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StringDeserializer};
        let de: StringDeserializer<Error> = VALID.to_owned().into_deserializer();
        assert_eq!(CreditCode::deserialize(de).map(String::from), Ok(VALID.to_owned()));
        let de: StringDeserializer<Error> = "91110000600037341X".to_owned().into_deserializer();
        assert!(CreditCode::deserialize(de).is_err());
    }

    #[test]
    fn with_check_digit_rejects_bad_input() {
        assert!(CreditCode::with_check_digit("9111000060003734").is_none());
        assert!(CreditCode::with_check_digit("9111000060003734I").is_none());
        assert_eq!(CreditCode::with_check_digit("91110000600037341").map(String::from), Some(VALID.to_owned()));
    }

    fn symbol() -> impl Strategy<Value = char> {
        (0usize..31).prop_map(|i| char::from(SYMBOLS[i]))
    }

    proptest! {
        #[test]
        fn generated_codes_parse_and_any_single_change_is_caught(
            first17 in proptest::collection::vec(symbol(), 17),
            pos in 0usize..18,
            replacement in symbol(),
        ) {
            let first17: String = first17.into_iter().collect();
            let code = CreditCode::with_check_digit(&first17);
            prop_assert!(code.is_some());
            let code = code.map(String::from).unwrap_or_default();
            prop_assert!(CreditCode::parse(&code).is_ok());

            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[pos] != replacement);
            chars[pos] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err());
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = CreditCode::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_code_like_input(raw in "[0-9A-Za-z ０-９Ａ-Ｚ]{0,20}") {
            if let Ok(c) = CreditCode::parse(&raw) {
                prop_assert_eq!(c.as_str(), raw.as_str());
                prop_assert_eq!(c.division().len(), 6);
            }
        }
    }
}
