//! The working-day calendar's stored part: the system admin's entries (`calendar_overrides`), laid over
//! the compiled-in table of statutory holidays and 调休 (core: `approval/calendar.rs`). Every write is
//! one transaction with its audit record.

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use dianxiaoer_core::approval::{Calendar, Date, DayKind, DayOverride};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;

/// One stored entry and who last set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDayRow {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl CalendarDayRow {
    pub fn day(&self) -> Result<DayOverride> {
        DayOverride::new(self.date, self.kind, &self.name).map_err(|e| corrupt(format!("{}: {e}", self.date)))
    }
}

/// What an import of pasted lines did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CalendarImportCounts {
    /// Dates that had no entry of the admin's before.
    pub inserted: u64,
    /// Dates whose earlier entry was replaced.
    pub replaced: u64,
}

const UPSERT: &str = "INSERT INTO calendar_overrides (date, kind, name, updated_at, updated_by) \
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
    updated_at = excluded.updated_at, updated_by = excluded.updated_by";

fn kind_code(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Rest => "rest",
        DayKind::Work => "work",
    }
}

/// A stored value that the schema should have prevented: reported as a database error, never shown.
fn corrupt(what: String) -> Error {
    Error::Db(sqlx::Error::Decode(format!("calendar_overrides: {what}").into()))
}

fn row(r: &AnyRow) -> Result<CalendarDayRow> {
    let date: String = r.try_get("date")?;
    let kind: String = r.try_get("kind")?;
    Ok(CalendarDayRow {
        date: Date::parse(&date).map_err(|e| corrupt(format!("{date}: {e}")))?,
        kind: match kind.as_str() {
            "rest" => DayKind::Rest,
            "work" => DayKind::Work,
            other => return Err(corrupt(format!("{date}: kind {other}"))),
        },
        name: r.try_get("name")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

fn summary(d: &DayOverride) -> serde_json::Value {
    json!({"kind": d.kind().label(), "name": d.name()})
}

impl Store {
    /// The admin's entries, in date order.
    pub async fn calendar_days(&self) -> Result<Vec<CalendarDayRow>> {
        let rows = sqlx::query("SELECT date, kind, name, updated_at, updated_by FROM calendar_overrides ORDER BY date")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row).collect()
    }

    /// The calendar in force: the compiled-in table with the admin's entries on top.
    pub async fn calendar(&self) -> Result<Calendar> {
        let days = self.calendar_days().await?.iter().map(CalendarDayRow::day).collect::<Result<Vec<_>>>()?;
        Calendar::statutory().with_overrides(&days).map_err(|e| corrupt(e.message))
    }

    /// Sets one date, replacing the admin's earlier entry for it, if any.
    pub async fn set_calendar_day(&self, actor: &Actor, day: &DayOverride, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let before =
            sqlx::query("SELECT date, kind, name, updated_at, updated_by FROM calendar_overrides WHERE date = $1")
                .bind(day.date().to_string())
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| row(&r))
                .transpose()?;
        sqlx::query(UPSERT)
            .bind(day.date().to_string())
            .bind(kind_code(day.kind()))
            .bind(day.name().to_string())
            .bind(now)
            .bind(actor.username.clone())
            .execute(&mut *tx.tx)
            .await?;
        let before = before.map(|b| json!({"kind": b.kind.label(), "name": b.name}));
        let entry = AuditEntry::ok("set_calendar_day", "calendar_day", day.date())
            .detail(json!({"before": before, "after": summary(day)}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Sets many dates at once (a year's notice pasted by the admin): all of them or none, with one
    /// audit record listing them. A date given twice is refused.
    pub async fn import_calendar_days(
        &self,
        actor: &Actor,
        days: &[DayOverride],
        now: i64,
    ) -> Result<CalendarImportCounts> {
        if days.is_empty() {
            return Err(Error::Invalid("没有要导入的日期".into()));
        }
        let mut seen = BTreeSet::new();
        if let Some(twice) = days.iter().find(|d| !seen.insert(d.date())) {
            return Err(Error::Invalid(format!("日期{}重复设置，每个日期只能设置一次", twice.date())));
        }
        let mut tx = self.begin().await?;
        let existing: BTreeSet<String> = sqlx::query_scalar::<_, String>("SELECT date FROM calendar_overrides")
            .fetch_all(&mut *tx.tx)
            .await?
            .into_iter()
            .collect();
        let mut counts = CalendarImportCounts { inserted: 0, replaced: 0 };
        for d in days {
            let date = d.date().to_string();
            if existing.contains(&date) {
                counts.replaced += 1;
            } else {
                counts.inserted += 1;
            }
            sqlx::query(UPSERT)
                .bind(date)
                .bind(kind_code(d.kind()))
                .bind(d.name().to_string())
                .bind(now)
                .bind(actor.username.clone())
                .execute(&mut *tx.tx)
                .await?;
        }
        let first = days.iter().map(DayOverride::date).min();
        let last = days.iter().map(DayOverride::date).max();
        let listed: Vec<String> =
            days.iter().map(|d| format!("{} {} {}", d.date(), d.kind().label(), d.name())).collect();
        let object = match (first, last) {
            (Some(a), Some(b)) if a != b => format!("{a}..{b}"),
            (Some(a), _) => a.to_string(),
            _ => String::new(),
        };
        let entry = AuditEntry::ok("import_calendar_days", "calendar_day", object).detail(json!({
            "inserted": counts.inserted, "replaced": counts.replaced, "days": listed,
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Removes the admin's entry for a date, so the compiled-in table (or Monday to Friday) applies
    /// again. `NotFound` when the admin had set nothing for it.
    pub async fn delete_calendar_day(&self, actor: &Actor, date: Date, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let before =
            sqlx::query("SELECT date, kind, name, updated_at, updated_by FROM calendar_overrides WHERE date = $1")
                .bind(date.to_string())
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| row(&r))
                .transpose()?
                .ok_or(Error::NotFound)?;
        sqlx::query("DELETE FROM calendar_overrides WHERE date = $1")
            .bind(date.to_string())
            .execute(&mut *tx.tx)
            .await?;
        let entry = AuditEntry::ok("delete_calendar_day", "calendar_day", date)
            .detail(json!({"before": {"kind": before.kind.label(), "name": before.name}}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}
