//! Organisation reference data: towns, departments, grids, project areas.

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use dianxiaoer_core::division::{TOWNS, TownKind};
use dianxiaoer_core::zone::PROJECT_AREAS;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct TownRow {
    pub code: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DepartmentRow {
    pub id: i64,
    pub name: String,
    /// `zone` for the committee's own departments, `county` for county departments.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridRow {
    pub id: i64,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectAreaRow {
    pub code: String,
    pub name: String,
    pub industries: String,
    /// GeoJSON Polygon in CGCS2000 longitude/latitude.
    pub polygon: String,
}

/// The committee's own departments (DESIGN.md: 审批, 企业服务, 招商, 土地, 安全, 党建, 经济运行).
pub const ZONE_DEPARTMENTS: [&str; 7] = [
    "行政审批服务部",
    "企业服务中心",
    "招商服务中心",
    "规划建设和自然资源部",
    "安全管理办公室",
    "党群工作部",
    "经济发展部",
];

pub const COUNTY_DEPARTMENTS: [&str; 16] = [
    "沂水县发展和改革局",
    "沂水县工业和信息化局",
    "沂水县财政局",
    "沂水县商务局",
    "沂水县自然资源和规划局",
    "临沂市生态环境局沂水县分局",
    "沂水县住房和城乡建设局",
    "沂水县市场监督管理局",
    "国家税务总局沂水县税务局",
    "沂水县应急管理局",
    "沂水县科学技术局",
    "沂水县人力资源和社会保障局",
    "沂水县农业农村局",
    "沂水县交通运输局",
    "沂水县水利局",
    "沂水县行政审批服务局",
];

fn polygon_json(ring: &[(f64, f64)]) -> String {
    let coords: Vec<[f64; 2]> = ring.iter().map(|(x, y)| [*x, *y]).collect();
    serde_json::json!({"type": "Polygon", "coordinates": [coords]}).to_string()
}

impl Store {
    /// Inserts the reference data that every installation has (towns, project areas, departments, the
    /// built-in approval catalogue); idempotent, run at every start.
    pub async fn seed_reference(&self, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        for t in TOWNS {
            let kind = match t.kind {
                TownKind::Street => "街道",
                TownKind::Town => "镇",
                TownKind::Township => "乡",
            };
            sqlx::query("INSERT INTO towns (code, name, kind) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING")
                .bind(t.code)
                .bind(t.name)
                .bind(kind)
                .execute(&mut *tx.tx)
                .await?;
        }
        for a in PROJECT_AREAS {
            sqlx::query(
                "INSERT INTO project_areas (code, name, industries, polygon) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
            )
            .bind(a.code)
            .bind(a.name)
            .bind(a.industries)
            .bind(polygon_json(a.ring))
            .execute(&mut *tx.tx)
            .await?;
        }
        for (names, kind) in [(&ZONE_DEPARTMENTS[..], "zone"), (&COUNTY_DEPARTMENTS[..], "county")] {
            for name in names {
                sqlx::query("INSERT INTO departments (name, kind, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                    .bind(*name)
                    .bind(kind)
                    .bind(now)
                    .execute(&mut *tx.tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.seed_approval_catalogue(now).await?;
        Ok(())
    }

    pub async fn towns(&self) -> Result<Vec<TownRow>> {
        let rows = sqlx::query("SELECT code, name, kind FROM towns ORDER BY code").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok(TownRow { code: r.try_get(0)?, name: r.try_get(1)?, kind: r.try_get(2)? })).collect()
    }

    pub async fn departments(&self) -> Result<Vec<DepartmentRow>> {
        let rows =
            sqlx::query("SELECT id, name, kind FROM departments ORDER BY kind DESC, id").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok(DepartmentRow { id: r.try_get(0)?, name: r.try_get(1)?, kind: r.try_get(2)? })).collect()
    }

    pub async fn department_by_name(&self, name: &str) -> Result<Option<DepartmentRow>> {
        let r = sqlx::query("SELECT id, name, kind FROM departments WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| Ok(DepartmentRow { id: r.try_get(0)?, name: r.try_get(1)?, kind: r.try_get(2)? })).transpose()
    }

    pub async fn create_department(&self, actor: &Actor, name: &str, kind: &str, now: i64) -> Result<i64> {
        if kind != "zone" && kind != "county" {
            return Err(Error::Invalid("部门类型应为开发区内设部门或县直部门".into()));
        }
        let mut tx = self.begin().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO departments (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(name.to_string())
                .bind(kind.to_string())
                .bind(now)
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(|e| Error::from(e).unique_as("部门名称已存在"))?;
        let entry = AuditEntry::ok("create_department", "department", id)
            .detail(serde_json::json!({"after": {"name": name, "kind": kind}}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn grids(&self) -> Result<Vec<GridRow>> {
        let rows = sqlx::query("SELECT id, name, description FROM grids ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok(GridRow { id: r.try_get(0)?, name: r.try_get(1)?, description: r.try_get(2)? }))
            .collect()
    }

    pub async fn create_grid(&self, actor: &Actor, name: &str, description: &str, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO grids (name, description, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(name.to_string())
                .bind(description.to_string())
                .bind(now)
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(|e| Error::from(e).unique_as("网格名称已存在"))?;
        let entry = AuditEntry::ok("create_grid", "grid", id).detail(serde_json::json!({"after": {"name": name}}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn project_areas(&self) -> Result<Vec<ProjectAreaRow>> {
        let rows = sqlx::query("SELECT code, name, industries, polygon FROM project_areas ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectAreaRow {
                    code: r.try_get(0)?,
                    name: r.try_get(1)?,
                    industries: r.try_get(2)?,
                    polygon: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn assign_supervisor(&self, actor: &Actor, user_id: i64, enterprise_id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO supervisor_assignments (user_id, enterprise_id) VALUES ($1, $2) ON CONFLICT (user_id, enterprise_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(enterprise_id)
        .execute(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("assign_supervisor", "user", user_id)
            .detail(serde_json::json!({"after": {"enterprise_id": enterprise_id}}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}
