//! The stage of an investment project (招商项目) and the dates that go with it: signed (签约), landed
//! (落地), construction started (开工), producing (投产). A project counts as landed — and so as a
//! source of shared tax and of assessment points — from its landing date on.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::RevenueError;

/// Where a project stands. Ordered: signed < landed < started < producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Signed,
    Landed,
    Started,
    Producing,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Signed, Stage::Landed, Stage::Started, Stage::Producing];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Signed => "signed",
            Stage::Landed => "landed",
            Stage::Started => "started",
            Stage::Producing => "producing",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Signed => "已签约",
            Stage::Landed => "已落地",
            Stage::Started => "已开工",
            Stage::Producing => "已投产",
        }
    }

    /// Parses a code ("landed") or a label ("已落地", also without 已).
    pub fn parse(raw: &str) -> Result<Stage, RevenueError> {
        let s = raw.trim();
        Stage::ALL
            .into_iter()
            .find(|st| st.code() == s || st.label() == s || st.label().strip_prefix('已') == Some(s))
            .ok_or_else(|| RevenueError::new("项目阶段应为 已签约、已落地、已开工 或 已投产"))
    }

    /// Past signing: the project has landed, so it has a landing date.
    pub fn has_landed(self) -> bool {
        self != Stage::Signed
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Checks a project's dates ("YYYY-MM-DD", already parsed) against its stage: a project past signing
/// has a landing date, a merely signed one has none, and it cannot land before it was signed.
pub fn check_dates(stage: Stage, signed_on: &str, landed_on: Option<&str>) -> Result<(), RevenueError> {
    match landed_on {
        None if stage.has_landed() => Err(RevenueError::new(format!("项目{}，请填写落地日期", stage.label()))),
        Some(_) if !stage.has_landed() => {
            Err(RevenueError::new("项目仅签约、尚未落地时不应填写落地日期；已落地请把阶段改为“已落地”或之后"))
        }
        Some(l) if l < signed_on => Err(RevenueError::new(format!("落地日期 {l} 早于签约日期 {signed_on}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_labels() {
        for st in Stage::ALL {
            assert_eq!(Stage::parse(st.code()), Ok(st));
            assert_eq!(Stage::parse(st.label()), Ok(st));
        }
        assert_eq!(Stage::parse(" 投产 "), Ok(Stage::Producing));
        assert!(Stage::parse("竣工").is_err());
        assert!(Stage::Signed < Stage::Producing);
    }

    #[test]
    fn dates_must_fit_the_stage() {
        let msg = |st, l: Option<&str>| check_dates(st, "2022-03-01", l).map_err(|e| e.message);
        assert_eq!(msg(Stage::Signed, None), Ok(()));
        assert_eq!(msg(Stage::Landed, Some("2022-03-01")), Ok(()));
        assert_eq!(msg(Stage::Producing, Some("2023-01-15")), Ok(()));
        assert_eq!(msg(Stage::Started, None), Err("项目已开工，请填写落地日期".to_owned()));
        assert!(msg(Stage::Signed, Some("2022-04-01")).is_err_and(|m| m.contains("尚未落地")));
        assert_eq!(
            msg(Stage::Landed, Some("2022-02-28")),
            Err("落地日期 2022-02-28 早于签约日期 2022-03-01".to_owned())
        );
    }
}
