//! Gas alarms as people see them: lists and single alarms with their events, through the caller's
//! scope (an alarm belongs to the enterprise its detector belonged to when it was raised). Alarms
//! change only through the engine (`gas_write.rs`), which holds their live state.

use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, scope};
use dianxiaoer_core::access::Scope;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct AlarmRow {
    pub id: i64,
    pub detector_id: i64,
    pub tag: String,
    pub detector_name: String,
    pub location: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub gas: String,
    pub unit: String,
    /// "gas", "oxygen_low", "oxygen_high", "offline" or "fault".
    pub kind: String,
    /// 1 (一级) or 2 (二级).
    pub level: i64,
    /// The condition still holds.
    pub active: bool,
    pub value_milli: Option<i64>,
    pub raised_at: i64,
    pub last_at: i64,
    pub repeats: i64,
    pub cleared_at: Option<i64>,
    pub acked_at: Option<i64>,
    pub acked_by: Option<String>,
    pub disposed_at: Option<i64>,
    pub disposed_by: Option<String>,
    pub disposal_note: Option<String>,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub escalation_step: i64,
}

/// One transition of an alarm.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmEventRow {
    pub at: i64,
    pub event: String,
    pub who: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    /// `Some(true)`: only alarms not closed; `Some(false)`: only closed ones.
    pub open: Option<bool>,
    pub level: Option<i64>,
    /// A kind code.
    pub kind: Option<String>,
    pub enterprise_id: Option<i64>,
    pub detector_id: Option<i64>,
}

const SELECT: &str = "SELECT a.id, a.detector_id, d.tag, d.name AS detector_name, d.location, a.enterprise_id, \
    e.name AS enterprise_name, d.gas, d.unit, a.kind, a.level, a.active, a.value_milli, a.raised_at, a.last_at, \
    a.repeats, a.cleared_at, a.acked_at, a.acked_by, a.disposed_at, a.disposed_by, a.disposal_note, a.closed_at, \
    a.closed_by, a.escalation_step \
    FROM gas_alarms a JOIN gas_detectors d ON d.id = a.detector_id JOIN enterprises e ON e.id = a.enterprise_id \
    WHERE 1 = 1";

fn row(r: &AnyRow) -> Result<AlarmRow> {
    Ok(AlarmRow {
        id: r.try_get("id")?,
        detector_id: r.try_get("detector_id")?,
        tag: r.try_get("tag")?,
        detector_name: r.try_get("detector_name")?,
        location: r.try_get("location")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        gas: r.try_get("gas")?,
        unit: r.try_get("unit")?,
        kind: r.try_get("kind")?,
        level: r.try_get("level")?,
        active: r.try_get::<i64, _>("active")? != 0,
        value_milli: r.try_get("value_milli")?,
        raised_at: r.try_get("raised_at")?,
        last_at: r.try_get("last_at")?,
        repeats: r.try_get("repeats")?,
        cleared_at: r.try_get("cleared_at")?,
        acked_at: r.try_get("acked_at")?,
        acked_by: r.try_get("acked_by")?,
        disposed_at: r.try_get("disposed_at")?,
        disposed_by: r.try_get("disposed_by")?,
        disposal_note: r.try_get("disposal_note")?,
        closed_at: r.try_get("closed_at")?,
        closed_by: r.try_get("closed_by")?,
        escalation_step: r.try_get("escalation_step")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &AlarmFilter) {
    scope::enterprises(s, scope_);
    match f.open {
        Some(true) => {
            s.push(" AND a.closed_at IS NULL");
        }
        Some(false) => {
            s.push(" AND a.closed_at IS NOT NULL");
        }
        None => {}
    }
    if let Some(l) = f.level {
        s.push(" AND a.level = ").i64(l);
    }
    if let Some(k) = &f.kind {
        s.push(" AND a.kind = ").text(k.clone());
    }
    if let Some(id) = f.enterprise_id {
        s.push(" AND a.enterprise_id = ").i64(id);
    }
    if let Some(id) = f.detector_id {
        s.push(" AND a.detector_id = ").i64(id);
    }
}

impl Store {
    /// One page of the alarms `scope` may see: open ones first (active before cleared), then the
    /// newest.
    pub async fn list_alarms(
        &self,
        scope_: &Scope,
        f: &AlarmFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<AlarmRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let mut count =
            Sql::new("SELECT COUNT(*) FROM gas_alarms a JOIN enterprises e ON e.id = a.enterprise_id WHERE 1 = 1");
        filters(&mut count, scope_, f);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(SELECT);
        filters(&mut s, scope_, f);
        s.push(
            " ORDER BY CASE WHEN a.closed_at IS NULL THEN 0 ELSE 1 END, a.active DESC, a.level DESC, \
             a.raised_at DESC, a.id DESC LIMIT ",
        )
        .i64(per_page)
        .push(" OFFSET ")
        .i64(offset);
        let items = s.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// One alarm, or `NotFound` when it does not exist or lies outside `scope`.
    pub async fn alarm(&self, scope_: &Scope, id: i64) -> Result<AlarmRow> {
        let mut s = Sql::new(SELECT);
        scope::enterprises(&mut s, scope_);
        s.push(" AND a.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)
    }

    /// The transitions of an alarm in scope, oldest first.
    pub async fn alarm_events(&self, scope_: &Scope, id: i64) -> Result<Vec<AlarmEventRow>> {
        self.alarm(scope_, id).await?;
        let rows = sqlx::query("SELECT at, event, who, detail FROM gas_alarm_events WHERE alarm_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AlarmEventRow { at: r.try_get(0)?, event: r.try_get(1)?, who: r.try_get(2)?, detail: r.try_get(3)? })
            })
            .collect()
    }
}

impl Store {
    /// The active (not cleared, not closed) alarms of detectors in scope as (detector, kind, level),
    /// from which the live monitor colours each detector.
    pub async fn active_gas_alarms(&self, scope_: &Scope) -> Result<Vec<(i64, String, i64)>> {
        let mut s = Sql::new(
            "SELECT a.detector_id, a.kind, a.level FROM gas_alarms a JOIN enterprises e ON e.id = a.enterprise_id \
             WHERE a.closed_at IS NULL AND a.active = 1",
        );
        scope::enterprises(&mut s, scope_);
        s.fetch_all(self.pool()).await?.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }
}

/// The alarm picture of some enterprises at a glance, for the enterprise file and the home pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlarmSummary {
    /// Detectors in use.
    pub detectors: i64,
    /// Of those, offline now.
    pub offline: i64,
    /// Alarms not closed.
    pub open: i64,
    /// Gas and oxygen alarms whose condition holds, by level.
    pub active_level2: i64,
    pub active_level1: i64,
    /// Open alarms nobody acknowledged yet.
    pub unacknowledged: i64,
    /// Alarms raised since the `since` instant asked for.
    pub raised_since: i64,
}

impl Store {
    /// The [`AlarmSummary`] of the enterprises in scope (or of one of them), counting alarms raised
    /// since `since`.
    pub async fn alarm_summary(&self, scope_: &Scope, enterprise_id: Option<i64>, since: i64) -> Result<AlarmSummary> {
        // SUM is NUMERIC on PostgreSQL and NULL over no rows: cast and coalesce.
        let mut s = Sql::new(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN s.offline = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM gas_detectors d JOIN enterprises e ON e.id = d.enterprise_id \
             LEFT JOIN gas_detector_state s ON s.detector_id = d.id WHERE d.status = 'active'",
        );
        scope::enterprises(&mut s, scope_);
        if let Some(id) = enterprise_id {
            s.push(" AND d.enterprise_id = ").i64(id);
        }
        let r = s.query().fetch_one(self.pool()).await?;
        let mut out = AlarmSummary { detectors: r.try_get(0)?, offline: r.try_get(1)?, ..AlarmSummary::default() };
        let mut s = Sql::new(
            "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN a.active = 1 AND a.level >= 2 AND a.kind IN ('gas', 'oxygen_low', 'oxygen_high') \
                 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN a.active = 1 AND a.level = 1 AND a.kind IN ('gas', 'oxygen_low', 'oxygen_high') \
                 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN a.acked_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM gas_alarms a JOIN enterprises e ON e.id = a.enterprise_id WHERE a.closed_at IS NULL",
        );
        scope::enterprises(&mut s, scope_);
        if let Some(id) = enterprise_id {
            s.push(" AND a.enterprise_id = ").i64(id);
        }
        let r = s.query().fetch_one(self.pool()).await?;
        out.open = r.try_get(0)?;
        out.active_level2 = r.try_get(1)?;
        out.active_level1 = r.try_get(2)?;
        out.unacknowledged = r.try_get(3)?;
        let mut s = Sql::new(
            "SELECT COUNT(*) FROM gas_alarms a JOIN enterprises e ON e.id = a.enterprise_id WHERE a.raised_at >= ",
        );
        s.i64(since);
        scope::enterprises(&mut s, scope_);
        if let Some(id) = enterprise_id {
            s.push(" AND a.enterprise_id = ").i64(id);
        }
        out.raised_since = s.count(self.pool()).await?;
        Ok(out)
    }
}
