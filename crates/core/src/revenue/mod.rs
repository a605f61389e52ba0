//! Enclave economy (飞地经济): the tax of projects landed in the zone is shared among the unit that
//! attracted the investment (引资单位, introducer), the host town (落地单位) and the zone, 5 : 3 : 2 by
//! default (reference/land-revenue-evaluation.md, "Enclave economy tax sharing").
//!
//! Pure rules only, in the order data flows through them:
//! - [`sheet_text`]: bytes of a tax-bureau CSV export → text (UTF-8 or GBK, mismatch detected) → records;
//! - [`ledger_sheet`]: records (from CSV, or xlsx rows read by the web layer) → [`tax::TaxRow`]s, with
//!   every bad cell reported;
//! - [`tax`]: tax types and the county-retained share (县级留成) that is subject to sharing;
//! - [`agreement`], [`party`]: sharing ratios in force, projects, and who benefits in a period;
//! - [`stage`]: a project's stage (signed, landed, started, producing) and its dates;
//! - [`split`]: exact largest-remainder split in fen;
//! - [`settlement`]: balanced ledger entries for a period, adjustments of confirmed periods.

pub mod agreement;
pub mod assessment;
pub mod ledger_sheet;
pub mod party;
pub mod period;
pub mod settlement;
pub mod sheet_text;
pub mod split;
pub mod stage;
pub mod tax;

/// A user-facing error of the revenue rules; the message is Chinese and says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RevenueError {
    pub message: String,
}

impl RevenueError {
    pub(crate) fn new(message: impl Into<String>) -> RevenueError {
        RevenueError { message: message.into() }
    }
}

/// Echoes at most 40 characters of user input in a message (it may be shown or logged).
pub(crate) fn shown(raw: &str) -> String {
    let mut s: String = raw.chars().take(40).collect();
    if raw.chars().nth(40).is_some() {
        s.push('…');
    }
    s
}
