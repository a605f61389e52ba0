//! Administrative divisions the system knows: 沂水县 (GB/T 2260 county code 371323) and its 18 towns
//! and streets (9-digit statistical division codes, 统计用区划代码; table in standards.md).
//!
//! The list is closed on purpose: data are only ever attached to these divisions, so anything else is
//! a typing or import error and is rejected at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::credit_code::CodeError;

/// GB/T 2260 code of 沂水县.
pub const COUNTY_CODE: &str = "371323";
pub const COUNTY_NAME: &str = "沂水县";

/// Kind of a town-level division. The statistical code says which: 0xx street, 1xx town, 2xx township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TownKind {
    /// 街道
    Street,
    /// 镇
    Town,
    /// 乡
    Township,
}

impl TownKind {
    pub fn label(self) -> &'static str {
        match self {
            TownKind::Street => "街道",
            TownKind::Town => "镇",
            TownKind::Township => "乡",
        }
    }
}

/// A town or street of 沂水县.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Town {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: TownKind,
}

const fn street(code: &'static str, name: &'static str) -> Town {
    Town { code, name, kind: TownKind::Street }
}

const fn town(code: &'static str, name: &'static str) -> Town {
    Town { code, name, kind: TownKind::Town }
}

const fn township(code: &'static str, name: &'static str) -> Town {
    Town { code, name, kind: TownKind::Township }
}

/// The 18 towns and streets of 沂水县, in code order.
pub const TOWNS: [Town; 18] = [
    street("371323001", "沂城街道"),
    street("371323002", "龙家圈街道"),
    town("371323101", "马站镇"),
    town("371323102", "高桥镇"),
    town("371323103", "许家湖镇"),
    town("371323104", "黄山铺镇"),
    town("371323106", "诸葛镇"),
    town("371323107", "崔家峪镇"),
    town("371323108", "四十里堡镇"),
    town("371323109", "杨庄镇"),
    town("371323110", "夏蔚镇"),
    town("371323111", "沙沟镇"),
    town("371323112", "高庄镇"),
    town("371323113", "院东头镇"),
    town("371323115", "富官庄镇"),
    town("371323116", "道托镇"),
    town("371323117", "泉庄镇"),
    township("371323201", "圈里乡"),
];

/// Looks up a town or street by its 9-digit code.
pub fn town_by_code(code: &str) -> Option<&'static Town> {
    TOWNS.iter().find(|t| t.code == code)
}

/// A known division code: the county itself or one of its 18 towns and streets. Holds the code from
/// the table above, so a copy costs nothing (every settled tax row names its units by town).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(&'static str);

impl DivisionCode {
    pub fn parse(raw: &str) -> Result<DivisionCode, CodeError> {
        if raw == COUNTY_CODE {
            Ok(DivisionCode(COUNTY_CODE))
        } else if let Some(t) = town_by_code(raw) {
            Ok(DivisionCode(t.code))
        } else {
            // Echo at most a short prefix: the message may be shown or logged.
            let mut shown: String = raw.chars().take(20).collect();
            if raw.chars().nth(20).is_some() {
                shown.push('…');
            }
            Err(CodeError::new(format!(
                "未知的行政区划代码“{shown}”（应为沂水县 371323 或其 18 个乡镇街道的 9 位代码）"
            )))
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Name of the division: 沂水县 or the town's name.
    pub fn name(&self) -> &'static str {
        self.town().map_or(COUNTY_NAME, |t| t.name)
    }

    /// The town, or `None` for the county itself.
    pub fn town(&self) -> Option<&'static Town> {
        town_by_code(self.0)
    }

    pub fn is_county(&self) -> bool {
        self.0 == COUNTY_CODE
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for DivisionCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<DivisionCode, CodeError> {
        DivisionCode::parse(s)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<DivisionCode, CodeError> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> String {
        c.0.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn eighteen_towns_with_unique_codes_and_names() {
        assert_eq!(TOWNS.len(), 18);
        let codes: HashSet<_> = TOWNS.iter().map(|t| t.code).collect();
        let names: HashSet<_> = TOWNS.iter().map(|t| t.name).collect();
        assert_eq!(codes.len(), 18);
        assert_eq!(names.len(), 18);
    }

    #[test]
    fn codes_belong_to_the_county_and_kinds_match_names_and_codes() {
        for t in TOWNS {
            assert_eq!(t.code.len(), 9);
            assert!(t.code.starts_with(COUNTY_CODE), "{}", t.code);
            assert!(t.code.bytes().all(|b| b.is_ascii_digit()));
            assert!(t.name.ends_with(t.kind.label()), "{}", t.name);
            let expected = match t.code.as_bytes()[6] {
                b'0' => TownKind::Street,
                b'1' => TownKind::Town,
                _ => TownKind::Township,
            };
            assert_eq!(t.kind, expected, "{}", t.name);
        }
        let streets = TOWNS.iter().filter(|t| t.kind == TownKind::Street).count();
        let townships = TOWNS.iter().filter(|t| t.kind == TownKind::Township).count();
        assert_eq!((streets, townships), (2, 1));
    }

    #[test]
    fn parses_the_county_and_its_towns() {
        let county = DivisionCode::parse("371323");
        assert_eq!(county.as_ref().map(DivisionCode::name), Ok("沂水县"));
        assert_eq!(county.as_ref().map(DivisionCode::is_county), Ok(true));
        let town = "371323103".parse::<DivisionCode>();
        assert_eq!(town.as_ref().map(DivisionCode::name), Ok("许家湖镇"));
        assert_eq!(town.as_ref().map(|d| d.town().map(|t| t.kind)), Ok(Some(TownKind::Town)));
        assert_eq!(town.map(|d| d.to_string()), Ok("371323103".to_owned()));
        assert_eq!(town_by_code("371323201").map(|t| t.name), Some("圈里乡"));
        assert_eq!(town_by_code("371323105"), None);
    }

    #[test]
    fn rejects_unknown_codes() {
        for bad in ["", "371324", "371323105", " 371323", "371323001 ", "37132300", "３７１３２３"] {
            let e = DivisionCode::parse(bad).err().map(|e| e.message).unwrap_or_default();
            assert_eq!(e, format!("未知的行政区划代码“{bad}”（应为沂水县 371323 或其 18 个乡镇街道的 9 位代码）"));
        }
    }
}
