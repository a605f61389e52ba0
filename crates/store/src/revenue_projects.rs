//! Investment projects (招商项目) of the enclave economy and their sharing agreements, always read and
//! written through the caller's scope (`scope::projects`).

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Arg, Sql, paging, paging_upto};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::agreement::{Agreement, Agreements, SharingRatio};
use dianxiaoer_core::revenue::party::{TownCode, Unit};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::stage::Stage;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub credit_code: String,
    pub introducer_town: Option<String>,
    pub introducer_town_name: Option<String>,
    pub introducer_department: Option<i64>,
    pub introducer_department_name: Option<String>,
    pub host_town: String,
    pub host_town_name: String,
    pub planned_investment_fen: i64,
    pub planned_fixed_assets_fen: i64,
    pub actual_investment_fen: i64,
    pub actual_fixed_assets_fen: i64,
    /// 清理地上附着物面积 in hundredths of a square metre.
    pub cleared_area_centi_m2: i64,
    /// "YYYY-MM-DD".
    pub signed_on: String,
    pub landed_on: Option<String>,
    pub stage: Stage,
    /// A China-top-500 investor's project (assessment bonus).
    pub top500: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ProjectRow {
    /// The introducer as a unit: a town, a county department, or the zone (its own project).
    pub fn introducer(&self) -> Unit {
        match (&self.introducer_town, self.introducer_department) {
            (Some(t), _) => TownCode::parse(t).map_or(Unit::Zone, Unit::Town),
            (None, Some(d)) => Unit::Department(dianxiaoer_core::revenue::party::DepartmentId::new(d)),
            (None, None) => Unit::Zone,
        }
    }

    /// The introducer's name: the town's, the department's, or 开发区自主招商.
    pub fn introducer_name(&self) -> String {
        self.introducer_town_name
            .clone()
            .or_else(|| self.introducer_department_name.clone())
            .unwrap_or_else(|| "开发区自主招商".into())
    }
}

/// The fields of a new or edited project, parsed at the edge.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    pub name: String,
    pub enterprise_id: i64,
    /// `Unit::Zone`: no introducer, the zone's own project.
    pub introducer: Unit,
    pub host_town: TownCode,
    pub planned_investment: Fen,
    pub planned_fixed_assets: Fen,
    pub actual_investment: Fen,
    pub actual_fixed_assets: Fen,
    pub cleared_area: Area,
    pub signed_on: String,
    pub landed_on: Option<String>,
    pub stage: Stage,
}

impl ProjectInput {
    fn introducer_town(&self) -> Option<String> {
        match &self.introducer {
            Unit::Town(t) => Some(t.as_str().to_string()),
            _ => None,
        }
    }

    fn introducer_department(&self) -> Option<i64> {
        match &self.introducer {
            Unit::Department(d) => Some(d.get()),
            _ => None,
        }
    }

    fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name, "enterprise_id": self.enterprise_id, "introducer_town": self.introducer_town(),
            "introducer_department": self.introducer_department(), "host_town": self.host_town.as_str(),
            "planned_investment_fen": self.planned_investment.fen(),
            "planned_fixed_assets_fen": self.planned_fixed_assets.fen(),
            "actual_investment_fen": self.actual_investment.fen(),
            "actual_fixed_assets_fen": self.actual_fixed_assets.fen(),
            "cleared_area_centi_m2": self.cleared_area.m2_centi(), "signed_on": self.signed_on,
            "landed_on": self.landed_on, "stage": self.stage.code(),
        })
    }
}

fn summary_of(p: &ProjectRow) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "enterprise_id": p.enterprise_id, "introducer_town": p.introducer_town,
        "introducer_department": p.introducer_department, "host_town": p.host_town,
        "planned_investment_fen": p.planned_investment_fen, "planned_fixed_assets_fen": p.planned_fixed_assets_fen,
        "actual_investment_fen": p.actual_investment_fen, "actual_fixed_assets_fen": p.actual_fixed_assets_fen,
        "cleared_area_centi_m2": p.cleared_area_centi_m2, "signed_on": p.signed_on, "landed_on": p.landed_on,
        "stage": p.stage.code(),
    })
}

/// Sort keys callers may ask for; anything else is refused at the edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProjectSort {
    /// Newest first.
    #[default]
    Newest,
    Name,
    Signed,
    Investment,
    Town,
    Updated,
}

impl ProjectSort {
    pub const KEYS: [(&'static str, &'static str); 6] = [
        ("newest", "最新登记"),
        ("name", "项目名称"),
        ("signed", "签约日期"),
        ("investment", "计划投资额"),
        ("town", "落地乡镇"),
        ("updated", "最近更新"),
    ];

    pub fn parse(key: &str) -> Option<ProjectSort> {
        Some(match key {
            "" | "newest" => ProjectSort::Newest,
            "name" => ProjectSort::Name,
            "signed" => ProjectSort::Signed,
            "investment" => ProjectSort::Investment,
            "town" => ProjectSort::Town,
            "updated" => ProjectSort::Updated,
            _ => return None,
        })
    }

    fn order_by(self) -> &'static str {
        match self {
            ProjectSort::Newest => " ORDER BY p.id DESC",
            ProjectSort::Name => " ORDER BY p.name, p.id",
            ProjectSort::Signed => " ORDER BY p.signed_on DESC, p.id DESC",
            ProjectSort::Investment => " ORDER BY p.planned_investment_fen DESC, p.id",
            ProjectSort::Town => " ORDER BY p.host_town, p.id",
            ProjectSort::Updated => " ORDER BY p.updated_at DESC, p.id DESC",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Part of the project's or the enterprise's name, or the start of the credit code.
    pub q: Option<String>,
    pub stage: Option<Stage>,
    /// `Unit::Zone` selects the zone's own projects (no introducer).
    pub introducer: Option<Unit>,
    pub host_town: Option<String>,
    pub sort: ProjectSort,
}

const SELECT: &str = "SELECT p.id, p.name, p.enterprise_id, e.name AS enterprise_name, e.credit_code, \
    p.introducer_town, ti.name AS introducer_town_name, p.introducer_department, d.name AS introducer_department_name, \
    p.host_town, th.name AS host_town_name, p.planned_investment_fen, p.planned_fixed_assets_fen, \
    p.actual_investment_fen, p.actual_fixed_assets_fen, p.cleared_area_centi_m2, p.signed_on, p.landed_on, p.stage, \
    p.top500, p.created_at, p.updated_at \
    FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id JOIN towns th ON th.code = p.host_town \
    LEFT JOIN towns ti ON ti.code = p.introducer_town LEFT JOIN departments d ON d.id = p.introducer_department \
    WHERE 1 = 1";

const COUNT: &str =
    "SELECT COUNT(*) FROM investment_projects p JOIN enterprises e ON e.id = p.enterprise_id WHERE 1 = 1";

fn row(r: &AnyRow) -> Result<ProjectRow> {
    let stage: String = r.try_get("stage")?;
    Ok(ProjectRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        credit_code: r.try_get("credit_code")?,
        introducer_town: r.try_get("introducer_town")?,
        introducer_town_name: r.try_get("introducer_town_name")?,
        introducer_department: r.try_get("introducer_department")?,
        introducer_department_name: r.try_get("introducer_department_name")?,
        host_town: r.try_get("host_town")?,
        host_town_name: r.try_get("host_town_name")?,
        planned_investment_fen: r.try_get("planned_investment_fen")?,
        planned_fixed_assets_fen: r.try_get("planned_fixed_assets_fen")?,
        actual_investment_fen: r.try_get("actual_investment_fen")?,
        actual_fixed_assets_fen: r.try_get("actual_fixed_assets_fen")?,
        cleared_area_centi_m2: r.try_get("cleared_area_centi_m2")?,
        signed_on: r.try_get("signed_on")?,
        landed_on: r.try_get("landed_on")?,
        stage: Stage::parse(&stage).map_err(|e| Error::Invalid(e.message))?,
        top500: r.try_get::<i64, _>("top500")? == 1,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &ProjectFilter) {
    scope::projects(s, scope_);
    if let Some(q) = &f.q {
        s.push(" AND (p.name LIKE ").like(q);
        s.push(" OR e.name LIKE ").like(q);
        if q.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
            s.push(" OR e.credit_code LIKE ").text(format!("{q}%"));
        }
        s.push(")");
    }
    if let Some(st) = f.stage {
        s.push(" AND p.stage = ").text(st.code());
    }
    match &f.introducer {
        None => {}
        Some(Unit::Town(t)) => {
            s.push(" AND p.introducer_town = ").text(t.as_str());
        }
        Some(Unit::Department(d)) => {
            s.push(" AND p.introducer_department = ").i64(d.get());
        }
        Some(Unit::Zone) => {
            s.push(" AND p.introducer_town IS NULL AND p.introducer_department IS NULL");
        }
    }
    if let Some(t) = &f.host_town {
        s.push(" AND p.host_town = ").text(t.clone());
    }
}

/// The SET list of an update, or the values of an insert, in `COLUMNS` order.
const COLUMNS: &str = "name, enterprise_id, introducer_town, introducer_department, host_town, \
    planned_investment_fen, planned_fixed_assets_fen, actual_investment_fen, actual_fixed_assets_fen, \
    cleared_area_centi_m2, signed_on, landed_on, stage";

fn push_values(s: &mut Sql, p: &ProjectInput) {
    s.text(p.name.clone()).push(", ").i64(p.enterprise_id).push(", ");
    s.bind(Arg::OptText(p.introducer_town())).push(", ").bind(Arg::OptI64(p.introducer_department())).push(", ");
    s.text(p.host_town.as_str()).push(", ").i64(p.planned_investment.fen()).push(", ");
    s.i64(p.planned_fixed_assets.fen()).push(", ").i64(p.actual_investment.fen()).push(", ");
    s.i64(p.actual_fixed_assets.fen()).push(", ").i64(p.cleared_area.m2_centi()).push(", ");
    s.text(p.signed_on.clone()).push(", ").bind(Arg::OptText(p.landed_on.clone())).push(", ");
    s.text(p.stage.code());
}

impl Store {
    pub async fn list_projects(
        &self,
        scope_: &Scope,
        f: &ProjectFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<ProjectRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let mut count = Sql::new(COUNT);
        filters(&mut count, scope_, f);
        let mut list = Sql::new(SELECT);
        filters(&mut list, scope_, f);
        list.push(f.sort.order_by()).push(" LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Every project `scope` may see that matches `f`, in order, up to `max` (for exports).
    pub async fn export_projects(&self, scope_: &Scope, f: &ProjectFilter, max: i64) -> Result<Vec<ProjectRow>> {
        let (_, max, _) = paging_upto(1, max, max);
        let mut list = Sql::new(SELECT);
        filters(&mut list, scope_, f);
        list.push(f.sort.order_by()).push(" LIMIT ").i64(max);
        list.fetch_all(self.pool()).await?.iter().map(row).collect()
    }

    /// One project, or `NotFound` when it does not exist or lies outside `scope`.
    pub async fn project(&self, scope_: &Scope, id: i64) -> Result<ProjectRow> {
        let mut s = Sql::new(SELECT);
        scope::projects(&mut s, scope_);
        s.push(" AND p.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)
    }

    /// Whether project `id` lies inside `scope`, seen from within `tx`.
    async fn project_visible(&self, tx: &mut Tx<'_>, scope_: &Scope, id: i64) -> Result<bool> {
        let mut check = Sql::new("SELECT COUNT(*) FROM investment_projects p WHERE p.id = ");
        check.i64(id);
        scope::projects(&mut check, scope_);
        let n: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        Ok(n > 0)
    }

    /// Refuses an enterprise that does not exist or lies outside `scope`.
    async fn check_enterprise(&self, tx: &mut Tx<'_>, scope_: &Scope, id: i64) -> Result<()> {
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
        check.i64(id);
        scope::enterprises(&mut check, scope_);
        let n: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        if n == 0 {
            return Err(Error::Invalid("项目企业未登记或不在本人数据范围内".into()));
        }
        Ok(())
    }

    /// Creates a project. It must fall inside the caller's scope, or nothing is written.
    pub async fn create_project(&self, actor: &Actor, scope_: &Scope, p: &ProjectInput, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        self.check_enterprise(&mut tx, scope_, p.enterprise_id).await?;
        let mut s = Sql::new("INSERT INTO investment_projects (");
        s.push(COLUMNS).push(", created_at, updated_at) VALUES (");
        push_values(&mut s, p);
        s.push(", ").i64(now).push(", ").i64(now).push(") RETURNING id");
        let id: i64 = s.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        if !self.project_visible(&mut tx, scope_, id).await? {
            return Err(Error::Invalid("只能登记本人数据范围内的项目".into()));
        }
        let entry = AuditEntry::ok("create_project", "investment_project", id)
            .detail(serde_json::json!({"after": p.summary()}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates many projects in one transaction with one audit record (demo data, into a database that
    /// has none yet, so without the duplicate check of an import): multi-row statements, positional
    /// parameters on SQLite (sql.rs `for_backend`), so 100,000 projects take seconds.
    pub async fn insert_projects_bulk(&self, actor: &Actor, rows: &[ProjectInput], now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        for part in rows.chunks(crate::enterprise_import::import_chunk(tx.backend)) {
            let mut s = Sql::new("INSERT INTO investment_projects (");
            s.push(COLUMNS).push(", created_at, updated_at) VALUES ");
            for (i, p) in part.iter().enumerate() {
                s.push(if i == 0 { "(" } else { ", (" });
                push_values(&mut s, p);
                s.push(", ").i64(now).push(", ").i64(now).push(")");
            }
            s.for_backend(tx.backend).query().execute(&mut *tx.tx).await?;
        }
        let entry = AuditEntry::ok("import", "investment_project", "batch")
            .detail(serde_json::json!({"rows": rows.len(), "source": "demo"}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Imports projects from a sheet: all or none, one audit record naming the source. Whole-zone or
    /// department scope only; a project already registered for the same enterprise under the same
    /// name is refused rather than duplicated.
    pub async fn import_projects(
        &self,
        actor: &Actor,
        scope_: &Scope,
        source: &str,
        rows: &[ProjectInput],
        now: i64,
    ) -> Result<u64> {
        if !matches!(scope_, Scope::Zone | Scope::Department(_)) {
            return Err(Error::Invalid("批量导入项目需全区或部门数据范围".into()));
        }
        self.insert_projects(actor, source, rows, now).await
    }

    async fn insert_projects(&self, actor: &Actor, source: &str, rows: &[ProjectInput], now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        for p in rows {
            let exists: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM investment_projects WHERE enterprise_id = $1 AND name = $2")
                    .bind(p.enterprise_id)
                    .bind(p.name.clone())
                    .fetch_one(&mut *tx.tx)
                    .await?;
            if exists > 0 {
                return Err(Error::Conflict(format!("项目“{}”已为该企业登记，未重复导入（整个文件均未写入）", p.name)));
            }
            let mut s = Sql::new("INSERT INTO investment_projects (");
            s.push(COLUMNS).push(", created_at, updated_at) VALUES (");
            push_values(&mut s, p);
            s.push(", ").i64(now).push(", ").i64(now).push(")");
            s.query().execute(&mut *tx.tx).await?;
        }
        let entry = AuditEntry::ok("import", "investment_project", "batch")
            .detail(serde_json::json!({"rows": rows.len(), "source": source}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Replaces every field of a project in scope; it must stay in scope after the change.
    pub async fn update_project(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        p: &ProjectInput,
        now: i64,
    ) -> Result<()> {
        let before = self.project(scope_, id).await?;
        let mut tx = self.begin().await?;
        self.check_enterprise(&mut tx, scope_, p.enterprise_id).await?;
        let mut s = Sql::new("UPDATE investment_projects AS p SET (");
        s.push(COLUMNS).push(", updated_at) = (");
        push_values(&mut s, p);
        s.push(", ").i64(now).push(") WHERE p.id = ").i64(id);
        scope::projects(&mut s, scope_);
        if s.query().execute(&mut *tx.tx).await?.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        if !self.project_visible(&mut tx, scope_, id).await? {
            return Err(Error::Invalid("修改后项目将超出本人数据范围".into()));
        }
        let entry = AuditEntry::ok("update_project", "investment_project", id)
            .detail(serde_json::json!({"before": summary_of(&before), "after": p.summary()}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}

/// A stored sharing agreement.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementRow {
    pub id: i64,
    pub project_id: i64,
    /// "5:3:2".
    pub ratio: SharingRatio,
    /// "2022-01".
    pub from_period: Period,
    pub to_period: Option<Period>,
}

impl AgreementRow {
    pub fn agreement(&self) -> Result<Agreement> {
        Agreement::new(self.ratio, self.from_period, self.to_period).map_err(|e| Error::Invalid(e.message))
    }
}

fn agreement_row(r: &AnyRow) -> Result<AgreementRow> {
    let weight = |name: &str| -> Result<u32> {
        let v: i64 = r.try_get(name)?;
        u32::try_from(v).map_err(|_| Error::Invalid("分成协议中的比例无效".into()))
    };
    let bad = |e: dianxiaoer_core::revenue::RevenueError| Error::Invalid(e.message);
    let to: Option<String> = r.try_get("to_period")?;
    Ok(AgreementRow {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        ratio: SharingRatio::new(weight("introducer")?, weight("host")?, weight("zone")?).map_err(bad)?,
        from_period: Period::parse(&r.try_get::<String, _>("from_period")?).map_err(bad)?,
        to_period: to.as_deref().map(Period::parse).transpose().map_err(bad)?,
    })
}

const AGREEMENTS: &str = "SELECT id, project_id, introducer, host, zone, from_period, to_period \
    FROM sharing_agreements WHERE project_id = $1 ORDER BY from_period, id";

impl Store {
    /// The agreements of a project in scope, by start month.
    pub async fn agreements(&self, scope_: &Scope, project_id: i64) -> Result<Vec<AgreementRow>> {
        self.project(scope_, project_id).await?;
        let rows = sqlx::query(AGREEMENTS).bind(project_id).fetch_all(self.pool()).await?;
        rows.iter().map(agreement_row).collect()
    }

    /// Adds an agreement to a project in scope; refused when it is in force in a month another one of
    /// the project already covers (core `Agreements::new`).
    pub async fn add_agreement(
        &self,
        actor: &Actor,
        scope_: &Scope,
        project_id: i64,
        a: &Agreement,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        // Touching the project first locks its row on PostgreSQL, so that two agreements added at
        // once are checked one after the other (SQLite has the writer lock).
        let mut touch = Sql::new("UPDATE investment_projects AS p SET updated_at = ");
        touch.i64(now).push(" WHERE p.id = ").i64(project_id);
        scope::projects(&mut touch, scope_);
        if touch.query().execute(&mut *tx.tx).await?.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        let rows = sqlx::query(AGREEMENTS).bind(project_id).fetch_all(&mut *tx.tx).await?;
        let mut list = rows.iter().map(|r| agreement_row(r)?.agreement()).collect::<Result<Vec<_>>>()?;
        list.push(*a);
        Agreements::new(list).map_err(|e| Error::Invalid(e.message))?;
        let [introducer, host, zone] = a.ratio().weights();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sharing_agreements (project_id, introducer, host, zone, from_period, to_period) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(project_id)
        .bind(i64::from(introducer))
        .bind(i64::from(host))
        .bind(i64::from(zone))
        .bind(a.from().to_string())
        .bind(a.to().map(|p| p.to_string()))
        .fetch_one(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("add_agreement", "investment_project", project_id).detail(serde_json::json!({
            "agreement_id": id, "ratio": a.ratio().to_string(), "from": a.from().to_string(),
            "to": a.to().map(|p| p.to_string()),
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }
}
