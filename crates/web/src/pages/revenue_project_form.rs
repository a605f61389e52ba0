//! The investment project form: every field parsed once at the edge into domain types, each problem
//! reported beside its field in Chinese; the JSON API parses with the same [`parse`].

use super::enterprise_form::wan_text;
use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::party::{DepartmentId, TownCode, Unit};
use dianxiaoer_core::revenue::stage::{Stage, check_dates};
use dianxiaoer_core::text;
use dianxiaoer_store::{DepartmentRow, ProjectInput, ProjectRow, TownRow};
use serde::Deserialize;

/// The form as typed: strings only, so anything can be shown back.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawProject {
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub name: String,
    /// The enterprise's 统一社会信用代码.
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub credit_code: String,
    /// "" or "zone" (开发区自主招商), a town's 9-digit code or "town:<code>", "dept:<id>".
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub introducer: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub host_town: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub planned_investment_wan: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub planned_fixed_assets_wan: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub actual_investment_wan: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub actual_fixed_assets_wan: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub cleared_area_mu: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub signed_on: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub landed_on: String,
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub stage: String,
}

/// 亩 with the fewest decimals (at most six) that read back as the same stored area: an area typed as
/// "56.5" 亩 is stored to 0.01 m² and shown again as "56.5", and editing never drifts it.
pub fn mu_text(centi_m2: i64) -> String {
    // Millionths of a 亩: centi-m² × 15 exactly.
    let micro = i128::from(centi_m2) * 15;
    let text = |decimals: u32| {
        let unit = 10i128.pow(6 - decimals);
        let scaled = (micro + unit / 2).div_euclid(unit);
        let whole = 10i128.pow(decimals);
        if decimals == 0 {
            scaled.to_string()
        } else {
            format!("{}.{:0width$}", scaled.div_euclid(whole), scaled.rem_euclid(whole), width = decimals as usize)
        }
    };
    (0..=6).map(text).find(|t| Area::from_mu_str(t).map(Area::m2_centi) == Ok(centi_m2)).unwrap_or_else(|| text(6))
}

impl RawProject {
    pub fn of(p: &ProjectRow) -> RawProject {
        RawProject {
            name: p.name.clone(),
            credit_code: p.credit_code.clone(),
            introducer: match (&p.introducer_town, p.introducer_department) {
                (Some(t), _) => format!("town:{t}"),
                (None, Some(d)) => format!("dept:{d}"),
                (None, None) => String::new(),
            },
            host_town: p.host_town.clone(),
            planned_investment_wan: wan_text(p.planned_investment_fen),
            planned_fixed_assets_wan: wan_text(p.planned_fixed_assets_fen),
            actual_investment_wan: wan_text(p.actual_investment_fen),
            actual_fixed_assets_wan: wan_text(p.actual_fixed_assets_fen),
            cleared_area_mu: mu_text(p.cleared_area_centi_m2),
            signed_on: p.signed_on.clone(),
            landed_on: p.landed_on.clone().unwrap_or_default(),
            stage: p.stage.code().to_string(),
        }
    }
}

/// Parses the introducer select: the zone, a town, or a county department of `departments`.
pub fn parse_introducer(raw: &str, departments: &[DepartmentRow]) -> Result<Unit, String> {
    let s = raw.trim();
    if s.is_empty() || s == "zone" {
        return Ok(Unit::Zone);
    }
    if let Some(d) = s.strip_prefix("dept:") {
        let id =
            d.trim().parse::<i64>().ok().filter(|id| departments.iter().any(|x| x.id == *id && x.kind == "county"));
        return id.map(|id| Unit::Department(DepartmentId::new(id))).ok_or_else(|| "请选择一个县直部门".into());
    }
    TownCode::parse(s.strip_prefix("town:").unwrap_or(s)).map(Unit::Town).map_err(|e| e.message)
}

/// Largest amount a project field accepts: 1 万亿元.
const MAX_FEN: i64 = 100_000_000 * 1_000_000;

fn wan(raw: &str, label: &str, required: bool) -> Result<Fen, String> {
    match raw.trim() {
        "" if required => Err(format!("请填写{label}")),
        "" => Ok(Fen::ZERO),
        v => Fen::parse_wan(v).map_err(|e| format!("{label}：{}", e.message)).and_then(|f| {
            if f.fen() > MAX_FEN { Err(format!("{label}超出合理范围（不超过 1 万亿元）")) } else { Ok(f) }
        }),
    }
}

fn date(raw: &str, label: &str, today: &str) -> Result<Option<String>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let iso =
        dianxiaoer_core::when::parse_date(&crate::sheet::normalise_date(t)).map(dianxiaoer_core::when::format_date);
    match iso {
        Some(d) if d.as_str() >= "1990-01-01" && d.as_str() <= today => Ok(Some(d)),
        Some(_) => Err(format!("{label}应在 1990-01-01 与今天之间")),
        None => Err(format!("{label}格式应为 YYYY-MM-DD")),
    }
}

/// Parses the form; `Err` maps field names to messages. `enterprise_id` resolves a credit code to a
/// registered enterprise.
pub fn parse(
    raw: &RawProject,
    departments: &[DepartmentRow],
    today: &str,
    enterprise_id: &dyn Fn(&CreditCode) -> Option<i64>,
) -> Result<ProjectInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut keep = |field: &'static str, e: Option<&String>| {
        if let Some(m) = e {
            errors.entry(field).or_insert(m.clone());
        }
    };
    let name = text::required("项目名称", &raw.name, 100);
    keep("name", name.as_ref().err());
    let enterprise = CreditCode::parse(raw.credit_code.trim()).map_err(|e| e.message).and_then(|c| {
        enterprise_id(&c).ok_or_else(|| format!("统一社会信用代码 {c} 未在企业档案中登记，请先登记企业"))
    });
    keep("credit_code", enterprise.as_ref().err());
    let introducer = parse_introducer(&raw.introducer, departments);
    keep("introducer", introducer.as_ref().err());
    let host = match raw.host_town.trim() {
        "" => Err("请选择落地乡镇".to_string()),
        t => TownCode::parse(t).map_err(|e| e.message),
    };
    keep("host_town", host.as_ref().err());
    let planned = wan(&raw.planned_investment_wan, "计划总投资", true);
    keep("planned_investment_wan", planned.as_ref().err());
    let planned_fixed = wan(&raw.planned_fixed_assets_wan, "计划固定资产投资", false);
    keep("planned_fixed_assets_wan", planned_fixed.as_ref().err());
    let actual = wan(&raw.actual_investment_wan, "实际完成投资", false);
    keep("actual_investment_wan", actual.as_ref().err());
    let actual_fixed = wan(&raw.actual_fixed_assets_wan, "实际完成固定资产投资", false);
    keep("actual_fixed_assets_wan", actual_fixed.as_ref().err());
    let cleared = match raw.cleared_area_mu.trim() {
        "" => Ok(Area::ZERO),
        a => Area::from_mu_str(a).map_err(|e| e.message),
    };
    keep("cleared_area_mu", cleared.as_ref().err());
    let signed = date(&raw.signed_on, "签约日期", today).and_then(|d| d.ok_or_else(|| "请填写签约日期".to_string()));
    keep("signed_on", signed.as_ref().err());
    let landed = date(&raw.landed_on, "落地日期", today);
    keep("landed_on", landed.as_ref().err());
    let stage = match raw.stage.trim() {
        "" => Ok(Stage::Signed),
        s => Stage::parse(s).map_err(|e| e.message),
    };
    keep("stage", stage.as_ref().err());
    if let (Ok(st), Ok(s), Ok(l)) = (&stage, &signed, &landed)
        && let Err(e) = check_dates(*st, s, l.as_deref())
    {
        errors.entry("landed_on").or_insert(e.message);
    }
    if let (Ok(p), Ok(f)) = (&planned, &planned_fixed)
        && f > p
    {
        errors.entry("planned_fixed_assets_wan").or_insert("计划固定资产投资不能大于计划总投资".into());
    }
    if let (Ok(a), Ok(f)) = (&actual, &actual_fixed)
        && f > a
    {
        errors.entry("actual_fixed_assets_wan").or_insert("实际固定资产投资不能大于实际完成投资".into());
    }
    match (
        name,
        enterprise,
        introducer,
        host,
        planned,
        planned_fixed,
        actual,
        actual_fixed,
        cleared,
        signed,
        landed,
        stage,
    ) {
        (
            Ok(name),
            Ok(enterprise_id),
            Ok(introducer),
            Ok(host_town),
            Ok(p),
            Ok(pf),
            Ok(a),
            Ok(af),
            Ok(c),
            Ok(s),
            Ok(l),
            Ok(st),
        ) if errors.is_empty() => Ok(ProjectInput {
            name,
            enterprise_id,
            introducer,
            host_town,
            planned_investment: p,
            planned_fixed_assets: pf,
            actual_investment: a,
            actual_fixed_assets: af,
            cleared_area: c,
            signed_on: s,
            landed_on: l,
            stage: st,
        }),
        _ => Err(errors),
    }
}

/// Parses `raw` against the organisation and the registry (the page and the API share it).
pub async fn parse_with_store(
    state: &AppState,
    raw: &RawProject,
) -> Result<Result<ProjectInput, FieldErrors>, AppError> {
    let refdata = state.refdata().await?;
    let code = CreditCode::parse(raw.credit_code.trim()).ok();
    let id = match &code {
        Some(c) => state.store.enterprise_id_by_credit_code(c).await?,
        None => None,
    };
    let today = dianxiaoer_core::when::format_date(state.now());
    Ok(parse(raw, &refdata.departments, &today, &|_| id))
}

#[derive(Template)]
#[template(path = "revenue_project_form.html")]
struct FormPage {
    chrome: Chrome,
    id: Option<i64>,
    f: RawProject,
    errors: FieldErrors,
    towns: Vec<TownRow>,
    departments: Vec<DepartmentRow>,
    stages: [Stage; 4],
}

async fn form_page(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    f: RawProject,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let refdata = state.refdata().await?;
    let page = FormPage {
        chrome: Chrome::new(me, "/revenue/projects", if id.is_some() { "编辑招商项目" } else { "登记招商项目" }),
        id,
        f,
        errors,
        towns: refdata.towns.clone(),
        departments: refdata.departments.iter().filter(|d| d.kind == "county").cloned().collect(),
        stages: Stage::ALL,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    let f = RawProject { stage: Stage::Signed.code().into(), ..Default::default() };
    form_page(&state, &me, None, f, FieldErrors::new()).await
}

/// Scope refusals from the store, placed beside the field they concern.
fn store_errors(e: dianxiaoer_store::Error) -> Result<FieldErrors, PageError> {
    let mut errors = FieldErrors::new();
    match e {
        dianxiaoer_store::Error::Invalid(m) | dianxiaoer_store::Error::Conflict(m) => {
            errors.insert("credit_code", m);
        }
        other => return Err(other.into()),
    }
    Ok(errors)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<RawProject>,
) -> Result<Response, PageError> {
    let input = match parse_with_store(&state, &f).await? {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &me, None, f, errors).await,
    };
    match state.store.create_project(&me.actor(), &me.scope, &input, state.now()).await {
        Ok(id) => Ok(see_other(&format!("/revenue/projects/{id}?ok=created"))),
        Err(e) => {
            let errors = store_errors(e)?;
            form_page(&state, &me, None, f, errors).await
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let p = state.store.project(&me.scope, id).await?;
    form_page(&state, &me, Some(id), RawProject::of(&p), FieldErrors::new()).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RawProject>,
) -> Result<Response, PageError> {
    state.store.project(&me.scope, id).await?;
    let input = match parse_with_store(&state, &f).await? {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &me, Some(id), f, errors).await,
    };
    match state.store.update_project(&me.actor(), &me.scope, id, &input, state.now()).await {
        Ok(()) => Ok(see_other(&format!("/revenue/projects/{id}?ok=saved"))),
        Err(e) => {
            let errors = store_errors(e)?;
            form_page(&state, &me, Some(id), f, errors).await
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn departments() -> Vec<DepartmentRow> {
        vec![
            DepartmentRow { id: 3, name: "沂水县发展和改革局".into(), kind: "county".into() },
            DepartmentRow { id: 9, name: "招商服务中心".into(), kind: "zone".into() },
        ]
    }

    fn raw() -> RawProject {
        RawProject {
            name: "年产 5 万吨食品加工项目".into(),
            credit_code: "9137132352601815X3".into(),
            introducer: "town:371323103".into(),
            host_town: "371323001".into(),
            planned_investment_wan: "120,000".into(),
            planned_fixed_assets_wan: "90000".into(),
            cleared_area_mu: "56.5".into(),
            signed_on: "2022/3/1".into(),
            landed_on: "2022-06-18".into(),
            stage: "已落地".into(),
            ..Default::default()
        }
    }

    fn run(r: &RawProject) -> Result<ProjectInput, FieldErrors> {
        parse(r, &departments(), "2026-03-02", &|c| (c.as_str() == "9137132352601815X3").then_some(7))
    }

    #[test]
    fn parses_a_project() {
        let p = run(&raw()).unwrap();
        assert_eq!(p.enterprise_id, 7);
        assert_eq!(p.planned_investment.fen(), 120_000 * 1_000_000);
        assert_eq!(p.actual_investment, Fen::ZERO);
        assert_eq!(p.signed_on, "2022-03-01");
        assert_eq!(p.stage, Stage::Landed);
        assert!(matches!(&p.introducer, Unit::Town(t) if t.as_str() == "371323103"));
        assert_eq!(mu_text(p.cleared_area.m2_centi()), "56.5");
    }

    #[test]
    fn reports_each_bad_field() {
        let bad = RawProject {
            name: String::new(),
            credit_code: "91371323MA3C00001X".into(),
            introducer: "dept:9".into(),
            host_town: "371323".into(),
            planned_investment_wan: "-5".into(),
            signed_on: "2099-01-01".into(),
            stage: "竣工".into(),
            ..Default::default()
        };
        let e = run(&bad).unwrap_err();
        for field in ["name", "credit_code", "introducer", "host_town", "planned_investment_wan", "signed_on", "stage"]
        {
            assert!(e.contains_key(field), "{field}: {e:?}");
        }
        assert_eq!(e["introducer"], "请选择一个县直部门");
        let unknown = RawProject { credit_code: "913713239083016633".into(), ..raw() };
        assert!(run(&unknown).unwrap_err()["credit_code"].contains("未在企业档案中登记"));
        let no_landing = RawProject { landed_on: String::new(), ..raw() };
        assert_eq!(run(&no_landing).unwrap_err()["landed_on"], "项目已落地，请填写落地日期");
        let fixed = RawProject { planned_fixed_assets_wan: "130000".into(), ..raw() };
        assert!(run(&fixed).unwrap_err().contains_key("planned_fixed_assets_wan"));
    }

    #[test]
    fn introducers_and_exact_area_text() {
        assert!(matches!(parse_introducer("", &departments()), Ok(Unit::Zone)));
        assert!(matches!(parse_introducer("dept:3", &departments()), Ok(Unit::Department(d)) if d.get() == 3));
        assert!(matches!(parse_introducer("371323101", &departments()), Ok(Unit::Town(_))));
        assert!(parse_introducer("371323", &departments()).is_err());
        for centi in [0, 1, 2_000_000, 46_866_667, 123_456_789] {
            let text = mu_text(centi);
            assert_eq!(Area::from_mu_str(&text).map(Area::m2_centi), Ok(centi), "{text}");
        }
        assert_eq!(mu_text(Area::from_mu_str("703").unwrap().m2_centi()), "703");
    }

    proptest::proptest! {
        #[test]
        fn area_text_reads_back_exactly(centi in 0i64..=10_000_000_000) {
            let text = mu_text(centi);
            proptest::prop_assert_eq!(Area::from_mu_str(&text).map(Area::m2_centi), Ok(centi), "{}", text);
        }
    }
}
