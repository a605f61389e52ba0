//! Sharing agreements: the ratio 引资单位 : 落地单位 : 开发区 and the months it is in force.
//!
//! The article's ratio is 5 : 3 : 2; Yishui earlier practised 7 : 3 between sending and hosting towns
//! (reference "Enclave economy tax sharing": keep the ratio per agreement, with a default). A ratio is
//! in tenths (it sums to 10), and a project's agreements may not be in force in the same month twice.
//! A month no agreement covers is shared by the default, [`SharingRatio::DEFAULT`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::RevenueError;
use super::period::{Period, Validity, check_no_overlap};

const RATIO_HINT: &str = "分成比例应为“引资单位:落地单位:开发区”三项，例如 5:3:2";

/// Introducer : host town : zone, three non-negative integers summing to 10. Displayed and
/// serialised as "5:3:2".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SharingRatio {
    introducer: u8,
    host: u8,
    zone: u8,
}

impl SharingRatio {
    /// 5 : 3 : 2, the article's ratio.
    pub const DEFAULT: SharingRatio = SharingRatio { introducer: 5, host: 3, zone: 2 };

    pub fn new(introducer: u32, host: u32, zone: u32) -> Result<SharingRatio, RevenueError> {
        let sum = u64::from(introducer) + u64::from(host) + u64::from(zone);
        if sum != 10 {
            return Err(RevenueError::new(format!("分成比例三项之和应为 10，实际为 {sum}")));
        }
        let part = |v: u32| u8::try_from(v).map_err(|_| RevenueError::new(RATIO_HINT));
        Ok(SharingRatio { introducer: part(introducer)?, host: part(host)?, zone: part(zone)? })
    }

    /// Parses "5:3:2", "5：3：2" (full-width colons, as typed with a Chinese input method), "5 : 3 : 2"
    /// or "5比3比2". Digits must be half-width.
    pub fn parse(raw: &str) -> Result<SharingRatio, RevenueError> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            return Err(RevenueError::new("请填写分成比例"));
        }
        let parts: Vec<&str> = s.split([':', '：', '比']).collect();
        let [a, b, c] = parts.as_slice() else {
            return Err(RevenueError::new(RATIO_HINT));
        };
        let mut values = [0u32; 3];
        for (i, (part, value)) in [a, b, c].into_iter().zip(values.iter_mut()).enumerate() {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RevenueError::new(format!(
                    "分成比例第{}项“{}”不是非负整数（请使用半角数字）",
                    i + 1,
                    part
                )));
            }
            *value = part.parse().unwrap_or(u32::MAX);
        }
        let [a, b, c] = values;
        SharingRatio::new(a, b, c)
    }

    pub fn introducer(self) -> u32 {
        u32::from(self.introducer)
    }

    pub fn host(self) -> u32 {
        u32::from(self.host)
    }

    pub fn zone(self) -> u32 {
        u32::from(self.zone)
    }

    /// [introducer, host, zone], the weights of a split.
    pub fn weights(self) -> [u32; 3] {
        [self.introducer(), self.host(), self.zone()]
    }
}

impl Default for SharingRatio {
    fn default() -> SharingRatio {
        SharingRatio::DEFAULT
    }
}

impl fmt::Display for SharingRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.introducer, self.host, self.zone)
    }
}

impl FromStr for SharingRatio {
    type Err = RevenueError;
    fn from_str(s: &str) -> Result<SharingRatio, RevenueError> {
        SharingRatio::parse(s)
    }
}

impl TryFrom<String> for SharingRatio {
    type Error = RevenueError;
    fn try_from(s: String) -> Result<SharingRatio, RevenueError> {
        SharingRatio::parse(&s)
    }
}

impl From<SharingRatio> for String {
    fn from(r: SharingRatio) -> String {
        r.to_string()
    }
}

/// A project's sharing agreement: a ratio in force from a month, up to and including another or
/// open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Agreement {
    ratio: SharingRatio,
    validity: Validity,
}

impl Agreement {
    pub fn new(ratio: SharingRatio, from: Period, to: Option<Period>) -> Result<Agreement, RevenueError> {
        Ok(Agreement { ratio, validity: Validity::new(from, to)? })
    }

    pub fn ratio(self) -> SharingRatio {
        self.ratio
    }

    pub fn from(self) -> Period {
        self.validity.from()
    }

    pub fn to(self) -> Option<Period> {
        self.validity.to()
    }

    pub fn validity(self) -> Validity {
        self.validity
    }
}

/// The agreements of one project, no two in force in the same month, ordered by start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Agreements(Vec<Agreement>);

impl Agreements {
    /// Validates a project's agreements: refused when two are in force in the same month (the message
    /// numbers them in the order given).
    pub fn new(mut list: Vec<Agreement>) -> Result<Agreements, RevenueError> {
        let validities: Vec<Validity> = list.iter().map(|a| a.validity).collect();
        check_no_overlap(&validities, "分成协议")?;
        list.sort_by_key(|a| a.from());
        Ok(Agreements(list))
    }

    /// The agreement in force in `period`, if any.
    pub fn in_force(&self, period: Period) -> Option<&Agreement> {
        self.0.iter().find(|a| a.validity.contains(period))
    }

    /// The ratio for `period`: the agreement's in force, otherwise the default 5 : 3 : 2.
    pub fn ratio_for(&self, period: Period) -> SharingRatio {
        self.in_force(period).map_or(SharingRatio::DEFAULT, |a| a.ratio)
    }

    pub fn as_slice(&self) -> &[Agreement] {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ratio(raw: &str) -> Result<String, String> {
        SharingRatio::parse(raw).map(|r| r.to_string()).map_err(|e| e.message)
    }

    fn month(raw: &str) -> Period {
        Period::parse(raw).unwrap()
    }

    fn agreement(r: &str, from: &str, to: Option<&str>) -> Agreement {
        Agreement::new(SharingRatio::parse(r).unwrap(), month(from), to.map(month)).unwrap()
    }

    #[test]
    fn parses_ratios_in_the_usual_spellings() {
        for raw in ["5:3:2", "5：3：2", " 5 : 3 : 2 ", "5比3比2"] {
            assert_eq!(ratio(raw), Ok("5:3:2".to_owned()), "{raw}");
        }
        assert_eq!(ratio("7:3:0"), Ok("7:3:0".to_owned()));
        assert_eq!(ratio("0:0:10"), Ok("0:0:10".to_owned()));
        assert_eq!(SharingRatio::DEFAULT.weights(), [5, 3, 2]);
        assert_eq!(SharingRatio::default(), SharingRatio::DEFAULT);
    }

    #[test]
    fn refuses_bad_ratios_with_reasons() {
        assert_eq!(ratio("5:3:3"), Err("分成比例三项之和应为 10，实际为 11".to_owned()));
        assert_eq!(ratio("5:3:1"), Err("分成比例三项之和应为 10，实际为 9".to_owned()));
        assert_eq!(ratio("7:3"), Err(RATIO_HINT.to_owned()));
        assert_eq!(ratio("5:3:2:0"), Err(RATIO_HINT.to_owned()));
        assert_eq!(ratio(""), Err("请填写分成比例".to_owned()));
        assert_eq!(ratio("5:-3:8"), Err("分成比例第2项“-3”不是非负整数（请使用半角数字）".to_owned()));
        assert_eq!(ratio("５:3:2"), Err("分成比例第1项“５”不是非负整数（请使用半角数字）".to_owned()));
        assert_eq!(ratio("5.5:2.5:2"), Err("分成比例第1项“5.5”不是非负整数（请使用半角数字）".to_owned()));
        assert_eq!(ratio("5::2"), Err("分成比例第2项“”不是非负整数（请使用半角数字）".to_owned()));
        assert!(ratio("99999999999:0:0").is_err_and(|e| e.starts_with("分成比例三项之和应为 10")));
        assert!(SharingRatio::new(4_294_967_295, 11, 0).is_err());
    }

    #[test]
    fn deserialising_validates() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StringDeserializer};
        let de: StringDeserializer<Error> = "5：3：2".to_owned().into_deserializer();
        assert_eq!(SharingRatio::deserialize(de), Ok(SharingRatio::DEFAULT));
        let de: StringDeserializer<Error> = "6:3:2".to_owned().into_deserializer();
        assert!(SharingRatio::deserialize(de).is_err());
    }

    #[test]
    fn looks_up_the_ratio_in_force_with_the_default_in_between() {
        let list =
            Agreements::new(vec![agreement("6:2:2", "2023-01", None), agreement("7:3:0", "2021-01", Some("2021-12"))]);
        let list = list.unwrap();
        assert_eq!(list.ratio_for(month("2020-12")), SharingRatio::DEFAULT);
        assert_eq!(list.ratio_for(month("2021-01")).to_string(), "7:3:0");
        assert_eq!(list.ratio_for(month("2021-12")).to_string(), "7:3:0");
        assert_eq!(list.ratio_for(month("2022-06")), SharingRatio::DEFAULT);
        assert_eq!(list.ratio_for(month("2023-01")).to_string(), "6:2:2");
        assert_eq!(list.ratio_for(month("2040-01")).to_string(), "6:2:2");
        assert_eq!(list.as_slice().first().map(|a| a.from()), Some(month("2021-01")));
        assert_eq!(Agreements::default().ratio_for(month("2022-01")), SharingRatio::DEFAULT);
    }

    #[test]
    fn refuses_overlapping_agreements() {
        let e =
            Agreements::new(vec![agreement("7:3:0", "2021-01", Some("2022-03")), agreement("6:2:2", "2022-03", None)]);
        assert_eq!(
            e.map_err(|e| e.message),
            Err("第2条分成协议（2022-03 起）与第1条（2021-01 至 2022-03）的有效期重叠，同一月份只能有一条".to_owned())
        );
        let open = Agreements::new(vec![agreement("6:2:2", "2023-01", None), agreement("7:3:0", "2021-01", None)]);
        assert!(open.is_err());
        let end_before_start = Agreement::new(SharingRatio::DEFAULT, month("2022-03"), Some(month("2022-02")));
        assert!(end_before_start.is_err());
    }
}
