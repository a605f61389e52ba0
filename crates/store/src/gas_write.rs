//! Writes of the gas module: detectors (create, edit; audited) and what the alarm engine records —
//! readings, its state and alarm transitions — in one transaction per batch (nothing half-written).

use crate::audit::{Actor, AuditEntry};
use crate::enterprises::to_e6;
use crate::error::{Error, Result};
use crate::gas::{DetectorInput, DetectorRow, DetectorSpec};
use crate::gas_minutes::MinuteIn;
use crate::sql::{Arg, Sql};
use crate::{Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::gas::retention::minute_of;
use dianxiaoer_core::gas::{AlarmKind, Event};
use serde_json::json;
use sqlx::Row;

/// One reading to store: (detector id, timestamp ms, value in thousandths).
pub type ReadingIn = (i64, i64, i64);

/// A detector's engine state after a batch.
#[derive(Debug, Clone)]
pub struct StateIn {
    pub detector_id: i64,
    pub last_ts: Option<i64>,
    pub last_value_milli: Option<i64>,
    pub last_seen: i64,
    pub offline: bool,
    /// `core::gas::DetectorState` as JSON.
    pub state: String,
}

/// One alarm transition, from the engine or from a person.
#[derive(Debug, Clone)]
pub struct AlarmChange {
    pub detector_id: i64,
    pub enterprise_id: i64,
    /// The change applies to the open alarm of (detector, the event's kind); an operator's action
    /// names the alarm it was taken on, so that it cannot land on a newer one.
    pub alarm_id: Option<i64>,
    pub event: Event,
    pub at: i64,
    /// Username of the person, or the engine's name.
    pub who: String,
    /// The reading that caused it, in thousandths.
    pub value_milli: Option<i64>,
    /// A disposal note, or context (the last message before going offline, a fault code).
    pub detail: String,
}

/// Everything one engine step writes.
#[derive(Debug, Clone, Default)]
pub struct GasWrite {
    /// Readings that may be stored already (late ones): each is inserted unless it is.
    pub readings: Vec<ReadingIn>,
    /// Readings newer than any stored reading of their detector, as the engine knows: inserted
    /// without asking the database which rows are new. Should one be stored after all (another
    /// writer), the step is written again with every reading checked.
    pub new_readings: Vec<ReadingIn>,
    pub states: Vec<StateIn>,
    pub changes: Vec<AlarmChange>,
    /// New readings of minutes at or after this are left to the caller, who keeps the open
    /// minutes' aggregates (`gas_minutes`); `None`: every new reading is added to its minute here.
    pub minutes_kept_from: Option<i64>,
    /// Aggregates of closed minutes the caller kept, to add to their rows.
    pub minutes: Vec<MinuteIn>,
    /// A new value of the setting [`crate::gas_minutes::OPEN_FROM`], and the time now.
    pub open_from: Option<(i64, i64)>,
}

/// What was written: the readings that were new (the rest were duplicates) and, per change, the
/// alarm it applied to (the new alarm's id for a raise; `None` when there was no open alarm).
#[derive(Debug, Clone, Default)]
pub struct GasWritten {
    pub inserted: Vec<ReadingIn>,
    pub alarm_ids: Vec<Option<i64>>,
}

/// The code stored for an alarm kind.
pub fn kind_code(kind: AlarmKind) -> &'static str {
    match kind {
        AlarmKind::Gas => "gas",
        AlarmKind::OxygenLow => "oxygen_low",
        AlarmKind::OxygenHigh => "oxygen_high",
        AlarmKind::Offline => "offline",
        AlarmKind::Fault => "fault",
    }
}

pub fn parse_kind(code: &str) -> Option<AlarmKind> {
    AlarmKind::ALL.into_iter().find(|k| kind_code(*k) == code)
}

/// The code stored for an event, and the audit action of a transition (`None`: not audited).
fn event_codes(e: &Event) -> (&'static str, Option<&'static str>) {
    match e {
        Event::Raised { .. } => ("raised", Some("gas_alarm_raised")),
        Event::LevelRaised { .. } => ("level_raised", Some("gas_alarm_level_raised")),
        Event::Repeated { .. } => ("repeated", Some("gas_alarm_repeated")),
        Event::Cleared { .. } => ("cleared", Some("gas_alarm_cleared")),
        Event::EscalatedToRole { .. } => ("escalated", Some("gas_alarm_escalated")),
        Event::Reminder { .. } => ("reminder", None),
        Event::Offline { .. } => ("offline", None),
        Event::Online => ("online", None),
        Event::Fault { .. } => ("fault", None),
        Event::Acknowledged { .. } => ("acknowledged", Some("gas_alarm_acknowledged")),
        Event::Disposed { .. } => ("disposed", Some("gas_alarm_disposed")),
        Event::Closed { .. } => ("closed", Some("gas_alarm_closed")),
    }
}

/// Rows per multi-row statement: readings carry 3 values, states 7.
const READING_ROWS: usize = 500;
const STATE_ROWS: usize = 100;

/// Whether a multi-row statement is worth keeping prepared: only a full chunk's text recurs. A
/// partial chunk's statement (any row count below the chunk's) would take a place in the
/// connection's statement cache, and a prepared SQLite statement of hundreds of rows holds hundreds
/// of kilobytes: at 100 cached statements per connection that grew the process by hundreds of MiB.
pub(crate) fn full<T>(chunk: &[T], rows: usize) -> bool {
    chunk.len() == rows
}

/// A multi-row insert of readings, skipping any stored already; `returning`: reporting the rows
/// that were new.
fn readings_insert(chunk: &[ReadingIn], returning: bool) -> Sql {
    let mut s = Sql::new("INSERT INTO gas_readings (detector_id, ts, value_milli) VALUES ");
    for (i, (d, ts, v)) in chunk.iter().enumerate() {
        s.push(if i == 0 { "(" } else { ", (" });
        s.i64(*d).push(", ").i64(*ts).push(", ").i64(*v).push(")");
    }
    s.push(" ON CONFLICT (detector_id, ts) DO NOTHING");
    if returning {
        s.push(" RETURNING detector_id, ts, value_milli");
    }
    s
}

fn summary(d: &DetectorInput) -> serde_json::Value {
    let s = &d.spec;
    json!({
        "enterprise_id": d.enterprise_id, "tag": d.tag, "name": d.name, "location": d.location,
        "plant_area": d.plant_area, "gas": s.gas, "unit": s.unit, "range_milli": [s.range_min_milli, s.range_max_milli],
        "set_points_milli": [s.set_point1_milli, s.set_point2_milli], "set_points_custom": s.set_points_custom,
        "deadband_milli": s.deadband_milli, "interval_s": s.interval_s, "status": d.status,
        "device_secret_changed": d.device_secret.is_some(),
    })
}

fn summary_of(d: &DetectorRow) -> serde_json::Value {
    let s = &d.spec;
    json!({
        "enterprise_id": d.enterprise_id, "tag": d.tag, "name": d.name, "location": d.location,
        "plant_area": d.plant_area, "gas": s.gas, "unit": s.unit, "range_milli": [s.range_min_milli, s.range_max_milli],
        "set_points_milli": [s.set_point1_milli, s.set_point2_milli], "set_points_custom": s.set_points_custom,
        "deadband_milli": s.deadband_milli, "interval_s": s.interval_s, "status": d.status,
    })
}

pub(crate) fn push_spec(s: &mut Sql, spec: &DetectorSpec) {
    s.text(spec.gas.clone()).push(", ").text(spec.unit.clone()).push(", ");
    s.i64(spec.range_min_milli).push(", ").i64(spec.range_max_milli).push(", ");
    s.i64(i64::from(spec.set_points_custom)).push(", ").i64(spec.set_point1_milli).push(", ");
    s.i64(spec.set_point2_milli).push(", ").bind(Arg::OptI64(spec.deadband_milli)).push(", ");
    s.i64(spec.interval_s).push(", ").i64(spec.offline_after_missed).push(", ");
    s.i64(spec.on_delay).push(", ").text(spec.on_delay_unit.clone()).push(", ");
    s.i64(spec.off_delay).push(", ").text(spec.off_delay_unit.clone()).push(", ");
    s.text(spec.out_of_range.clone());
}

impl Store {
    /// Whether enterprise `id` lies inside `scope`, seen from within `tx`.
    async fn enterprise_visible(&self, tx: &mut Tx<'_>, scope_: &Scope, id: i64) -> Result<bool> {
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
        check.i64(id);
        scope::enterprises(&mut check, scope_);
        let n: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        Ok(n > 0)
    }

    /// Registers a detector for an enterprise in scope.
    pub async fn create_detector(&self, actor: &Actor, scope_: &Scope, d: &DetectorInput, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.insert_detector(&mut tx, actor, scope_, d, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Registers the detectors of a sheet, all or none, each audited; returns their ids in order.
    pub async fn import_detectors(
        &self,
        actor: &Actor,
        scope_: &Scope,
        rows: &[DetectorInput],
        now: i64,
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for d in rows {
            ids.push(self.insert_detector(&mut tx, actor, scope_, d, now).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn insert_detector(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        scope_: &Scope,
        d: &DetectorInput,
        now: i64,
    ) -> Result<i64> {
        if !self.enterprise_visible(tx, scope_, d.enterprise_id).await? {
            return Err(Error::Invalid("只能为本人数据范围内的企业登记探测器".into()));
        }
        let mut s = Sql::new(
            "INSERT INTO gas_detectors (enterprise_id, tag, name, location, plant_area, lon_e6, lat_e6, gas, unit, \
             range_min_milli, range_max_milli, set_points_custom, set_point1_milli, set_point2_milli, deadband_milli, \
             interval_s, offline_after_missed, on_delay, on_delay_unit, off_delay, off_delay_unit, out_of_range, \
             device_secret_hash, status, created_at, updated_at) VALUES (",
        );
        s.i64(d.enterprise_id).push(", ").text(d.tag.clone()).push(", ").text(d.name.clone()).push(", ");
        s.text(d.location.clone()).push(", ").text(d.plant_area.clone()).push(", ");
        s.bind(Arg::OptI64(d.position.map(|p| to_e6(p.0)))).push(", ");
        s.bind(Arg::OptI64(d.position.map(|p| to_e6(p.1)))).push(", ");
        push_spec(&mut s, &d.spec);
        s.push(", ").bind(Arg::OptText(d.device_secret.as_deref().map(|k| self.token_hash(k)))).push(", ");
        s.text(d.status.clone()).push(", ").i64(now).push(", ").i64(now).push(") RETURNING id");
        let id: i64 = s
            .query()
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(|e| Error::from(e).unique_as(&format!("位号“{}”已登记", d.tag)))?
            .try_get(0)?;
        let entry = AuditEntry::ok("create_gas_detector", "gas_detector", id).detail(json!({"after": summary(d)}));
        self.audit(tx, actor, entry, now).await?;
        Ok(id)
    }

    /// Replaces a detector in scope; its (possibly new) enterprise must be in scope too.
    pub async fn update_detector(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        d: &DetectorInput,
        now: i64,
    ) -> Result<()> {
        let before = self.detector(scope_, id).await?;
        let mut tx = self.begin().await?;
        if !self.enterprise_visible(&mut tx, scope_, d.enterprise_id).await? {
            return Err(Error::Invalid("只能把探测器划归本人数据范围内的企业".into()));
        }
        let mut s = Sql::new("UPDATE gas_detectors SET enterprise_id = ");
        s.i64(d.enterprise_id).push(", tag = ").text(d.tag.clone()).push(", name = ").text(d.name.clone());
        s.push(", location = ").text(d.location.clone()).push(", plant_area = ").text(d.plant_area.clone());
        s.push(", lon_e6 = ").bind(Arg::OptI64(d.position.map(|p| to_e6(p.0))));
        s.push(", lat_e6 = ").bind(Arg::OptI64(d.position.map(|p| to_e6(p.1))));
        s.push(
            ", (gas, unit, range_min_milli, range_max_milli, set_points_custom, set_point1_milli, \
                set_point2_milli, deadband_milli, interval_s, offline_after_missed, on_delay, on_delay_unit, \
                off_delay, off_delay_unit, out_of_range) = (",
        );
        push_spec(&mut s, &d.spec);
        s.push("), status = ").text(d.status.clone()).push(", updated_at = ").i64(now);
        if let Some(secret) = &d.device_secret {
            s.push(", device_secret_hash = ").text(self.token_hash(secret));
        }
        s.push(" WHERE id = ").i64(id);
        s.push(" AND enterprise_id IN (SELECT e.id FROM enterprises e WHERE 1 = 1");
        scope::enterprises(&mut s, scope_);
        s.push(")");
        let n = s
            .query()
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| Error::from(e).unique_as(&format!("位号“{}”已登记", d.tag)))?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        let entry = AuditEntry::ok("update_gas_detector", "gas_detector", id)
            .detail(json!({"before": summary_of(&before), "after": summary(d)}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Writes one engine step in one transaction: new readings (duplicates of (detector, ts) are
    /// skipped), the one-minute aggregates of those the caller does not keep and of the closed
    /// minutes it kept, the detectors' states and the alarm transitions, each transition with an
    /// event row and (except reminders and status notes) an audit record under `actor`.
    pub async fn write_gas(&self, actor: &Actor, w: &GasWrite) -> Result<GasWritten> {
        if !w.new_readings.is_empty() {
            if let Some(out) = self.write_gas_once(actor, w, true).await? {
                return Ok(out);
            }
            tracing::warn!("a gas reading taken for new was stored already; writing the step again, checking each");
        }
        self.write_gas_once(actor, w, false).await?.ok_or_else(|| Error::Invalid("读数写入失败".into()))
    }

    /// One attempt of [`Store::write_gas`]; `None` (nothing written) when `trust` and one of the
    /// new readings was stored already.
    async fn write_gas_once(&self, actor: &Actor, w: &GasWrite, trust: bool) -> Result<Option<GasWritten>> {
        let mut tx = self.begin().await?;
        let n = w.readings.len() + w.new_readings.len();
        let mut out = GasWritten { inserted: Vec::with_capacity(n), alarm_ids: Vec::new() };
        let all: Vec<ReadingIn>;
        let checked = if trust {
            for chunk in w.new_readings.chunks(READING_ROWS) {
                let s = readings_insert(chunk, false).for_backend(tx.backend);
                let q = s.query().persistent(full(chunk, READING_ROWS));
                if q.execute(&mut *tx.tx).await?.rows_affected() != chunk.len() as u64 {
                    return Ok(None);
                }
            }
            out.inserted.extend_from_slice(&w.new_readings);
            &w.readings
        } else {
            all = [w.new_readings.as_slice(), w.readings.as_slice()].concat();
            &all
        };
        for chunk in checked.chunks(READING_ROWS) {
            let s = readings_insert(chunk, true);
            for r in
                s.for_backend(tx.backend).query().persistent(full(chunk, READING_ROWS)).fetch_all(&mut *tx.tx).await?
            {
                out.inserted.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
        }
        let direct: Vec<ReadingIn> = match w.minutes_kept_from {
            None => out.inserted.clone(),
            Some(from) => out.inserted.iter().filter(|r| minute_of(r.1) < from).copied().collect(),
        };
        crate::gas_minutes::add_minutes(&mut tx, &direct).await?;
        crate::gas_minutes::add_aggregates(&mut tx, &w.minutes).await?;
        if let Some((from, now)) = w.open_from {
            crate::gas_minutes::set_open_from(&mut tx, from, now).await?;
        }
        for chunk in w.states.chunks(STATE_ROWS) {
            let mut s = Sql::new(
                "INSERT INTO gas_detector_state (detector_id, last_ts, last_value_milli, last_seen, offline, state, \
                 updated_at) VALUES ",
            );
            for (i, st) in chunk.iter().enumerate() {
                s.push(if i == 0 { "(" } else { ", (" });
                s.i64(st.detector_id).push(", ").bind(Arg::OptI64(st.last_ts)).push(", ");
                s.bind(Arg::OptI64(st.last_value_milli)).push(", ").i64(st.last_seen).push(", ");
                s.i64(i64::from(st.offline)).push(", ").text(st.state.clone()).push(", ").i64(st.last_seen);
                s.push(")");
            }
            s.push(
                " ON CONFLICT (detector_id) DO UPDATE SET last_ts = excluded.last_ts, \
                 last_value_milli = excluded.last_value_milli, last_seen = excluded.last_seen, \
                 offline = excluded.offline, state = excluded.state, updated_at = excluded.updated_at",
            );
            s.for_backend(tx.backend).query().persistent(full(chunk, STATE_ROWS)).execute(&mut *tx.tx).await?;
        }
        for c in &w.changes {
            let id = self.apply_change(&mut tx, actor, c).await?;
            out.alarm_ids.push(id);
        }
        tx.commit().await?;
        Ok(Some(out))
    }

    /// Applies one change to the open alarm of (detector, kind) — a raise opens it — and records the
    /// event. Returns the alarm's id, or `None` when there was no open alarm to change: the engine's
    /// memory and the table disagree, which is logged but does not refuse the batch (its readings
    /// must not be lost for it).
    async fn apply_change(&self, tx: &mut Tx<'_>, actor: &Actor, c: &AlarmChange) -> Result<Option<i64>> {
        let kind = event_kind(&c.event);
        let id = if let Event::Raised { level, .. } = c.event {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO gas_alarms (detector_id, enterprise_id, kind, level, active, value_milli, raised_at, \
                 last_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(c.detector_id)
            .bind(c.enterprise_id)
            .bind(kind_code(kind))
            .bind(level as i64)
            .bind(c.value_milli)
            .bind(c.at)
            .fetch_optional(&mut *tx.tx)
            .await?;
            match inserted {
                Some(id) => Some(id),
                None => self.open_alarm(tx, c, kind).await?,
            }
        } else {
            match update_for(c) {
                Some(mut s) => {
                    s.push(" WHERE detector_id = ").i64(c.detector_id).push(" AND kind = ").text(kind_code(kind));
                    if let Some(id) = c.alarm_id {
                        s.push(" AND id = ").i64(id);
                    }
                    s.push(" AND closed_at IS NULL RETURNING id");
                    s.query().fetch_optional(&mut *tx.tx).await?.map(|r| r.try_get::<i64, _>(0)).transpose()?
                }
                None => self.open_alarm(tx, c, kind).await?,
            }
        };
        let Some(id) = id else {
            if !matches!(c.event, Event::Offline { .. } | Event::Online | Event::Fault { .. }) {
                tracing::warn!(detector = c.detector_id, event = ?c.event, "no open alarm for the change; skipped");
            }
            return Ok(None);
        };
        let (event, action) = event_codes(&c.event);
        sqlx::query("INSERT INTO gas_alarm_events (alarm_id, at, event, who, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(c.at)
            .bind(event)
            .bind(c.who.clone())
            .bind(c.detail.clone())
            .execute(&mut *tx.tx)
            .await?;
        if let Some(action) = action {
            let mut detail = serde_json::to_value(c.event).unwrap_or_default();
            if let Some(o) = detail.as_object_mut() {
                o.insert("detector_id".into(), json!(c.detector_id));
                o.insert("kind".into(), json!(kind_code(kind)));
                if let Some(v) = c.value_milli {
                    o.insert("value_milli".into(), json!(v));
                }
                if !c.detail.is_empty() {
                    o.insert("note".into(), json!(c.detail));
                }
            }
            self.audit(tx, actor, AuditEntry::ok(action, "gas_alarm", id).detail(detail), c.at).await?;
        }
        Ok(Some(id))
    }

    /// The open alarm of the change's detector and `kind`.
    async fn open_alarm(&self, tx: &mut Tx<'_>, c: &AlarmChange, kind: AlarmKind) -> Result<Option<i64>> {
        let mut s = Sql::new("SELECT id FROM gas_alarms WHERE detector_id = ");
        s.i64(c.detector_id).push(" AND kind = ").text(kind_code(kind)).push(" AND closed_at IS NULL");
        if let Some(id) = c.alarm_id {
            s.push(" AND id = ").i64(id);
        }
        Ok(s.query().fetch_optional(&mut *tx.tx).await?.map(|r| r.try_get::<i64, _>(0)).transpose()?)
    }

    /// Whether alarm `id` is open, with its detector and kind: what an operator action needs to know
    /// before the engine applies it. Unscoped; callers check scope with [`Store::alarm`] first.
    pub async fn alarm_key(&self, id: i64) -> Result<Option<(i64, AlarmKind, bool)>> {
        let row = sqlx::query("SELECT detector_id, kind, closed_at FROM gas_alarms WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let kind: String = r.try_get(1)?;
        let Some(kind) = parse_kind(&kind) else { return Ok(None) };
        Ok(Some((r.try_get(0)?, kind, r.try_get::<Option<i64>, _>(2)?.is_none())))
    }
}

/// The kind of alarm an event concerns (status events: offline and fault).
pub fn event_kind(e: &Event) -> AlarmKind {
    match *e {
        Event::Raised { kind, .. }
        | Event::LevelRaised { kind, .. }
        | Event::Repeated { kind, .. }
        | Event::Cleared { kind }
        | Event::EscalatedToRole { kind, .. }
        | Event::Reminder { kind, .. }
        | Event::Acknowledged { kind }
        | Event::Disposed { kind }
        | Event::Closed { kind } => kind,
        Event::Offline { .. } | Event::Online => AlarmKind::Offline,
        Event::Fault { .. } => AlarmKind::Fault,
    }
}

/// The UPDATE of a change that alters the alarm row (`None`: it only adds an event).
fn update_for(c: &AlarmChange) -> Option<Sql> {
    let mut s = Sql::new("UPDATE gas_alarms SET last_at = ");
    s.i64(c.at);
    match c.event {
        Event::LevelRaised { to, .. } => {
            s.push(", level = ").i64(to as i64).push(", value_milli = ").bind(Arg::OptI64(c.value_milli));
            s.push(", acked_at = NULL, acked_by = NULL, disposed_at = NULL, disposed_by = NULL, disposal_note = NULL");
        }
        Event::Repeated { count, .. } => {
            s.push(", active = 1, cleared_at = NULL, repeats = ").i64(i64::from(count));
        }
        Event::Cleared { .. } => {
            s.push(", active = 0, cleared_at = ").i64(c.at);
        }
        Event::EscalatedToRole { role, .. } => {
            s.push(", escalation_step = ").i64(i64::from(role));
        }
        Event::Acknowledged { .. } => {
            s.push(", acked_at = ").i64(c.at).push(", acked_by = ").text(c.who.clone());
        }
        Event::Disposed { .. } => {
            s.push(", disposed_at = ").i64(c.at).push(", disposed_by = ").text(c.who.clone());
            s.push(", disposal_note = ").text(c.detail.clone());
        }
        Event::Closed { .. } => {
            s.push(", closed_at = ").i64(c.at).push(", closed_by = ").text(c.who.clone());
        }
        Event::Raised { .. } | Event::Reminder { .. } | Event::Offline { .. } | Event::Online | Event::Fault { .. } => {
            return None;
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip() {
        for k in AlarmKind::ALL {
            assert_eq!(parse_kind(kind_code(k)), Some(k));
        }
        assert_eq!(parse_kind("nope"), None);
    }

    #[test]
    fn reminders_and_status_notes_are_not_audited() {
        assert_eq!(
            event_codes(&Event::Reminder { kind: AlarmKind::Gas, level: Default::default(), value: 1.0 }).1,
            None
        );
        assert_eq!(event_codes(&Event::Online).1, None);
        assert!(event_codes(&Event::Cleared { kind: AlarmKind::Gas }).1.is_some());
    }
}
