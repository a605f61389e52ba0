//! Registering many detectors at once, for the gas benchmark (`benches/gas.sh` needs 100,000 of
//! them): multi-row inserts in one transaction and one audit record for the whole set, where the
//! page and the sheet import write one statement and one audit record per detector.

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::enterprises::to_e6;
use crate::error::{Error, Result};
use crate::gas::DetectorInput;
use crate::gas_write::push_spec;
use crate::sql::{Arg, Sql};
use serde_json::json;

/// Rows per statement: 25 values each, positional on SQLite (see `Sql::for_backend`).
const ROWS: usize = 128;

impl Store {
    /// Registers `rows` (no device secrets) in one transaction, unscoped: a command of the server's
    /// operator, like `dianxiaoer user`. Returns how many were registered; a tag already registered
    /// refuses the whole set with nothing written.
    pub async fn insert_detectors_bulk(&self, actor: &Actor, rows: &[DetectorInput], now: i64) -> Result<usize> {
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(ROWS) {
            let mut s = Sql::new(
                "INSERT INTO gas_detectors (enterprise_id, tag, name, location, plant_area, lon_e6, lat_e6, gas, \
                 unit, range_min_milli, range_max_milli, set_points_custom, set_point1_milli, set_point2_milli, \
                 deadband_milli, interval_s, offline_after_missed, on_delay, on_delay_unit, off_delay, \
                 off_delay_unit, out_of_range, status, created_at, updated_at) VALUES ",
            );
            for (i, d) in chunk.iter().enumerate() {
                s.push(if i == 0 { "(" } else { ", (" });
                s.i64(d.enterprise_id).push(", ").text(d.tag.clone()).push(", ").text(d.name.clone()).push(", ");
                s.text(d.location.clone()).push(", ").text(d.plant_area.clone()).push(", ");
                s.bind(Arg::OptI64(d.position.map(|p| to_e6(p.0)))).push(", ");
                s.bind(Arg::OptI64(d.position.map(|p| to_e6(p.1)))).push(", ");
                push_spec(&mut s, &d.spec);
                s.push(", ").text(d.status.clone()).push(", ").i64(now).push(", ").i64(now).push(")");
            }
            s.for_backend(tx.backend)
                .query()
                .execute(&mut *tx.tx)
                .await
                .map_err(|e| Error::from(e).unique_as("有位号已登记，未登记任何探测器"))?;
        }
        let first = rows.first().map(|d| d.tag.as_str()).unwrap_or_default();
        let last = rows.last().map(|d| d.tag.as_str()).unwrap_or_default();
        let entry = AuditEntry::ok("bulk_create_gas_detectors", "gas_detector", rows.len())
            .detail(json!({"count": rows.len(), "first_tag": first, "last_tag": last}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(rows.len())
    }
}
