//! Gas detectors (气体探测器 / 监测点), read through the caller's scope: a detector belongs to an
//! enterprise, and the enterprise's scope predicate (`scope.rs`) decides who sees it. Writes are in
//! `gas_write.rs`, alarms in `gas_alarms.rs`.

use crate::error::{Error, Result};
use crate::sql::{Sql, paging_upto};
use crate::{Page, Store, scope};
use dianxiaoer_core::access::Scope;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A detector's alarm configuration as stored: measured values in thousandths of the unit. The gas
/// runtime turns it into a validated `core::gas::DetectorConfig`; the web layer builds it from one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectorSpec {
    /// Gas code of the gas table ("H2S", "EX", "O2").
    pub gas: String,
    /// "ppm", "mg/m3", "%LEL" or "%VOL".
    pub unit: String,
    pub range_min_milli: i64,
    pub range_max_milli: i64,
    /// The set-points were set by hand; otherwise they are the gas table's defaults.
    pub set_points_custom: bool,
    /// Level 1, or the oxygen deficiency set-point.
    pub set_point1_milli: i64,
    /// Level 2, or the oxygen enrichment set-point.
    pub set_point2_milli: i64,
    /// `None`: the default deadband.
    pub deadband_milli: Option<i64>,
    pub interval_s: i64,
    pub offline_after_missed: i64,
    pub on_delay: i64,
    /// "readings" or "ms".
    pub on_delay_unit: String,
    pub off_delay: i64,
    pub off_delay_unit: String,
    /// "clamp" or "reject".
    pub out_of_range: String,
}

/// A new or edited detector, already validated at the edge.
#[derive(Debug, Clone)]
pub struct DetectorInput {
    pub enterprise_id: i64,
    pub tag: String,
    pub name: String,
    pub location: String,
    pub plant_area: String,
    /// (longitude, latitude) in degrees.
    pub position: Option<(f64, f64)>,
    pub spec: DetectorSpec,
    /// "active" or "disabled".
    pub status: String,
    /// A new device secret (stored as its keyed hash); `None` keeps the current one.
    pub device_secret: Option<String>,
}

/// A detector as listed and shown, with its latest reading.
#[derive(Debug, Clone, Serialize)]
pub struct DetectorRow {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub tag: String,
    pub name: String,
    pub location: String,
    pub plant_area: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub spec: DetectorSpec,
    pub status: String,
    pub has_device_secret: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Timestamp of the latest applied reading.
    pub last_ts: Option<i64>,
    pub last_value_milli: Option<i64>,
    /// Server time of the latest message of any kind.
    pub last_seen: Option<i64>,
    pub offline: bool,
    /// Alarms not yet closed.
    pub open_alarms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DetectorFilter {
    /// Part of the tag, name or location.
    pub q: Option<String>,
    pub enterprise_id: Option<i64>,
    /// A gas code.
    pub gas: Option<String>,
    /// "active" or "disabled".
    pub status: Option<String>,
}

/// One stored reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadingRow {
    pub ts: i64,
    pub value_milli: i64,
}

/// What the alarm engine loads of a detector: its configuration and its saved state, unscoped.
#[derive(Debug, Clone)]
pub struct EngineDetector {
    pub id: i64,
    pub enterprise_id: i64,
    pub tag: String,
    pub spec: DetectorSpec,
    pub active: bool,
    /// The engine's saved `DetectorState` as JSON, if it ever ran for this detector.
    pub state: Option<String>,
}

pub(crate) const SPEC_COLUMNS: &str = "d.gas, d.unit, d.range_min_milli, d.range_max_milli, d.set_points_custom, \
    d.set_point1_milli, d.set_point2_milli, d.deadband_milli, d.interval_s, d.offline_after_missed, d.on_delay, \
    d.on_delay_unit, d.off_delay, d.off_delay_unit, d.out_of_range";

const SELECT: &str = "SELECT d.id, d.enterprise_id, e.name AS enterprise_name, d.tag, d.name, d.location, \
    d.plant_area, d.lon_e6, d.lat_e6, d.gas, d.unit, d.range_min_milli, d.range_max_milli, d.set_points_custom, \
    d.set_point1_milli, d.set_point2_milli, d.deadband_milli, d.interval_s, d.offline_after_missed, d.on_delay, \
    d.on_delay_unit, d.off_delay, d.off_delay_unit, d.out_of_range, \
    CASE WHEN d.device_secret_hash IS NULL THEN 0 ELSE 1 END AS has_secret, d.status, d.created_at, d.updated_at, \
    s.last_ts, s.last_value_milli, s.last_seen, s.offline, \
    (SELECT COUNT(*) FROM gas_alarms a WHERE a.detector_id = d.id AND a.closed_at IS NULL) AS open_alarms \
    FROM gas_detectors d JOIN enterprises e ON e.id = d.enterprise_id \
    LEFT JOIN gas_detector_state s ON s.detector_id = d.id WHERE 1 = 1";

pub(crate) fn spec(r: &AnyRow) -> Result<DetectorSpec> {
    Ok(DetectorSpec {
        gas: r.try_get("gas")?,
        unit: r.try_get("unit")?,
        range_min_milli: r.try_get("range_min_milli")?,
        range_max_milli: r.try_get("range_max_milli")?,
        set_points_custom: r.try_get::<i64, _>("set_points_custom")? != 0,
        set_point1_milli: r.try_get("set_point1_milli")?,
        set_point2_milli: r.try_get("set_point2_milli")?,
        deadband_milli: r.try_get("deadband_milli")?,
        interval_s: r.try_get("interval_s")?,
        offline_after_missed: r.try_get("offline_after_missed")?,
        on_delay: r.try_get("on_delay")?,
        on_delay_unit: r.try_get("on_delay_unit")?,
        off_delay: r.try_get("off_delay")?,
        off_delay_unit: r.try_get("off_delay_unit")?,
        out_of_range: r.try_get("out_of_range")?,
    })
}

fn from_e6(v: i64) -> f64 {
    v as f64 / 1e6
}

fn row(r: &AnyRow) -> Result<DetectorRow> {
    Ok(DetectorRow {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        tag: r.try_get("tag")?,
        name: r.try_get("name")?,
        location: r.try_get("location")?,
        plant_area: r.try_get("plant_area")?,
        lon: r.try_get::<Option<i64>, _>("lon_e6")?.map(from_e6),
        lat: r.try_get::<Option<i64>, _>("lat_e6")?.map(from_e6),
        spec: spec(r)?,
        status: r.try_get("status")?,
        has_device_secret: r.try_get::<i64, _>("has_secret")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        last_ts: r.try_get("last_ts")?,
        last_value_milli: r.try_get("last_value_milli")?,
        last_seen: r.try_get("last_seen")?,
        offline: r.try_get::<Option<i64>, _>("offline")?.unwrap_or(0) != 0,
        open_alarms: r.try_get("open_alarms")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &DetectorFilter) {
    scope::enterprises(s, scope_);
    if let Some(q) = &f.q {
        s.push(" AND (d.tag LIKE ").like(q);
        s.push(" OR d.name LIKE ").like(q);
        s.push(" OR d.location LIKE ").like(q).push(")");
    }
    if let Some(id) = f.enterprise_id {
        s.push(" AND d.enterprise_id = ").i64(id);
    }
    if let Some(g) = &f.gas {
        s.push(" AND d.gas = ").text(g.clone());
    }
    if let Some(st) = &f.status {
        s.push(" AND d.status = ").text(st.clone());
    }
}

impl Store {
    /// One page of the detectors `scope` may see that match `f`, by enterprise and tag.
    pub async fn list_detectors(
        &self,
        scope_: &Scope,
        f: &DetectorFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<DetectorRow>> {
        self.detectors_upto(scope_, f, page, per_page, crate::sql::PAGE_MAX).await
    }

    /// Every detector `scope` may see that matches `f`, up to `max` (for exports).
    pub async fn export_detectors(&self, scope_: &Scope, f: &DetectorFilter, max: i64) -> Result<Vec<DetectorRow>> {
        Ok(self.detectors_upto(scope_, f, 1, max, max).await?.items)
    }

    async fn detectors_upto(
        &self,
        scope_: &Scope,
        f: &DetectorFilter,
        page: i64,
        per_page: i64,
        max: i64,
    ) -> Result<Page<DetectorRow>> {
        let (page, per_page, offset) = paging_upto(page, per_page, max);
        let mut count =
            Sql::new("SELECT COUNT(*) FROM gas_detectors d JOIN enterprises e ON e.id = d.enterprise_id WHERE 1 = 1");
        filters(&mut count, scope_, f);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(SELECT);
        filters(&mut s, scope_, f);
        s.push(" ORDER BY d.enterprise_id, d.tag LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// One detector, or `NotFound` when it does not exist or lies outside `scope`.
    pub async fn detector(&self, scope_: &Scope, id: i64) -> Result<DetectorRow> {
        let mut s = Sql::new(SELECT);
        scope::enterprises(&mut s, scope_);
        s.push(" AND d.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)
    }

    /// The latest `limit` readings of a detector in scope, newest first.
    pub async fn recent_readings(&self, scope_: &Scope, id: i64, limit: i64) -> Result<Vec<ReadingRow>> {
        self.detector(scope_, id).await?;
        let rows =
            sqlx::query("SELECT ts, value_milli FROM gas_readings WHERE detector_id = $1 ORDER BY ts DESC LIMIT $2")
                .bind(id)
                .bind(limit.clamp(1, 1000))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(ReadingRow { ts: r.try_get(0)?, value_milli: r.try_get(1)? })).collect()
    }

    /// Detectors per gas code within scope, for filters: (code, count).
    pub async fn count_detectors_by_gas(&self, scope_: &Scope) -> Result<Vec<(String, i64)>> {
        let mut s = Sql::new(
            "SELECT d.gas, COUNT(*) FROM gas_detectors d JOIN enterprises e ON e.id = d.enterprise_id WHERE 1 = 1",
        );
        scope::enterprises(&mut s, scope_);
        s.push(" GROUP BY d.gas ORDER BY d.gas");
        let rows = s.fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// The enterprises `scope` may see, as (id, name), when there are at most `max` of them; `None`
    /// when there are more (the caller then asks for a credit code instead of offering a list).
    pub async fn enterprise_choices(&self, scope_: &Scope, max: i64) -> Result<Option<Vec<(i64, String)>>> {
        let mut s = Sql::new("SELECT e.id, e.name FROM enterprises e WHERE 1 = 1");
        scope::enterprises(&mut s, scope_);
        s.push(" ORDER BY e.name LIMIT ").i64(max + 1);
        let rows = s.fetch_all(self.pool()).await?;
        if rows.len() as i64 > max {
            return Ok(None);
        }
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>>>().map(Some)
    }

    /// The enterprises whose detectors a caller of `scope` may feed readings for: `None` means every
    /// enterprise (whole-zone and department scope), otherwise the listed ids.
    pub async fn ingest_enterprises(&self, scope_: &Scope) -> Result<Option<Vec<i64>>> {
        match scope_ {
            Scope::Zone | Scope::Department(_) => Ok(None),
            Scope::Enterprise(id) => Ok(Some(vec![*id])),
            other => {
                let mut s = Sql::new("SELECT e.id FROM enterprises e WHERE 1 = 1");
                scope::enterprises(&mut s, other);
                let rows = s.fetch_all(self.pool()).await?;
                rows.iter().map(|r| Ok(r.try_get(0)?)).collect::<Result<Vec<_>>>().map(Some)
            }
        }
    }

    /// Every detector (or only `only`) with its saved engine state, for the alarm engine. Unscoped:
    /// the engine is the system, not a user.
    pub async fn engine_detectors(&self, only: Option<i64>) -> Result<Vec<EngineDetector>> {
        self.engine_detectors_where(only, None).await
    }

    /// The detectors saved at or after `since` (epoch ms), for the engine's periodic refresh: edits
    /// made through another instance reach the leader without re-reading the whole registry.
    pub async fn engine_detectors_since(&self, since: i64) -> Result<Vec<EngineDetector>> {
        self.engine_detectors_where(None, Some(since)).await
    }

    async fn engine_detectors_where(&self, only: Option<i64>, since: Option<i64>) -> Result<Vec<EngineDetector>> {
        let mut s = Sql::new("SELECT d.id, d.enterprise_id, d.tag, d.status, s.state, ");
        s.push(SPEC_COLUMNS);
        s.push(" FROM gas_detectors d LEFT JOIN gas_detector_state s ON s.detector_id = d.id WHERE 1 = 1");
        if let Some(id) = only {
            s.push(" AND d.id = ").i64(id);
        }
        if let Some(t) = since {
            s.push(" AND d.updated_at >= ").i64(t);
        }
        let rows = s.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(EngineDetector {
                    id: r.try_get("id")?,
                    enterprise_id: r.try_get("enterprise_id")?,
                    tag: r.try_get("tag")?,
                    spec: spec(r)?,
                    active: r.try_get::<String, _>("status")? == "active",
                    state: r.try_get("state")?,
                })
            })
            .collect()
    }

    /// The newest stored reading of each detector whose saved engine state is older than it, as
    /// (detector id, ts, value in thousandths): the engine saves the last reading's time and value
    /// only every so often, and catches up on them from here when it loads the saved states.
    pub async fn engine_newest_readings(&self) -> Result<Vec<(i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT d.id, r.ts, r.value_milli FROM gas_detectors d \
             LEFT JOIN gas_detector_state s ON s.detector_id = d.id \
             JOIN gas_readings r ON r.detector_id = d.id \
             AND r.ts = (SELECT MAX(m.ts) FROM gas_readings m WHERE m.detector_id = d.id) \
             WHERE s.last_ts IS NULL OR r.ts > s.last_ts",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }

    /// The open alarms, as (detector id, kind code, alarm id), for the alarm engine.
    pub async fn engine_open_alarms(&self, only: Option<i64>) -> Result<Vec<(i64, String, i64)>> {
        let mut s = Sql::new("SELECT detector_id, kind, id FROM gas_alarms WHERE closed_at IS NULL");
        if let Some(id) = only {
            s.push(" AND detector_id = ").i64(id);
        }
        let rows = s.fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }
}
