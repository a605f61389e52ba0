//! The enterprise form: every field parsed once at the edge into domain types, each problem reported
//! beside its field in Chinese. The Excel import validates each row with the same [`parse`].

use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::division::DivisionCode;
use dianxiaoer_core::geo::LonLat;
use dianxiaoer_core::industry::{IndustryCode, Level};
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::text;
use dianxiaoer_store::{DepartmentRow, EnterpriseInput, EnterpriseRow, GridRow, ProjectAreaRow, TownRow};
use serde::Deserialize;

/// Statuses of an enterprise (code, label).
pub const STATUSES: [(&str, &str); 5] =
    [("operating", "在营"), ("suspended", "停产"), ("cancelled", "注销"), ("revoked", "吊销"), ("moved", "迁出")];

/// The form as typed: strings only, so anything can be shown back.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawEnterprise {
    #[serde(deserialize_with = "de_text")]
    pub credit_code: String,
    #[serde(deserialize_with = "de_text")]
    pub name: String,
    #[serde(deserialize_with = "de_text")]
    pub legal_representative: String,
    #[serde(deserialize_with = "de_text")]
    pub industry_code: String,
    #[serde(deserialize_with = "de_text")]
    pub host_town: String,
    #[serde(deserialize_with = "de_text")]
    pub introducer_town: String,
    #[serde(deserialize_with = "de_text")]
    pub introducer_department: String,
    #[serde(deserialize_with = "de_text")]
    pub project_area: String,
    #[serde(deserialize_with = "de_text")]
    pub grid_id: String,
    #[serde(deserialize_with = "de_text")]
    pub address: String,
    #[serde(deserialize_with = "de_text")]
    pub lon: String,
    #[serde(deserialize_with = "de_text")]
    pub lat: String,
    #[serde(deserialize_with = "de_text")]
    pub land_area_mu: String,
    #[serde(deserialize_with = "de_text")]
    pub scale: String,
    #[serde(deserialize_with = "de_text")]
    pub employees: String,
    #[serde(deserialize_with = "de_text")]
    pub registered_capital_wan: String,
    #[serde(deserialize_with = "de_text")]
    pub established: String,
    #[serde(deserialize_with = "de_text")]
    pub status: String,
    #[serde(deserialize_with = "de_text")]
    pub contact_name: String,
    #[serde(deserialize_with = "de_text")]
    pub contact_phone: String,
    #[serde(deserialize_with = "de_text")]
    pub tags: String,
}

/// Accepts a string, a number, a boolean or null, so that JSON clients may send `"employees": 120`.
pub(crate) fn de_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize as _;
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => if b { "是" } else { "否" }.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        other => other.to_string(),
    })
}

impl RawEnterprise {
    pub fn of(e: &EnterpriseRow) -> RawEnterprise {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        RawEnterprise {
            credit_code: e.credit_code.clone(),
            name: e.name.clone(),
            legal_representative: e.legal_representative.clone(),
            industry_code: e.industry_code.clone(),
            host_town: e.host_town.clone(),
            introducer_town: e.introducer_town.clone().unwrap_or_default(),
            introducer_department: opt(e.introducer_department),
            project_area: e.project_area.clone().unwrap_or_default(),
            grid_id: opt(e.grid_id),
            address: e.address.clone(),
            lon: e.lon.map(|v| format!("{v:.6}")).unwrap_or_default(),
            lat: e.lat.map(|v| format!("{v:.6}")).unwrap_or_default(),
            land_area_mu: e
                .land_area_centi_m2
                .map(|a| format!("{:.2}", Area::from_m2_centi(a).mu()))
                .unwrap_or_default(),
            scale: if e.above_scale { "above" } else { "below" }.into(),
            employees: opt(e.employees),
            registered_capital_wan: e.registered_capital_fen.map(wan_text).unwrap_or_default(),
            established: e.established.clone().unwrap_or_default(),
            status: e.status.clone(),
            contact_name: e.contact_name.clone(),
            contact_phone: e.contact_phone.clone(),
            tags: e.tags.clone(),
        }
    }
}

/// Fen as a plain 万元 number with only the decimals it needs ("1200.5").
pub fn wan_text(fen: i64) -> String {
    let s = format!("{}.{:06}", fen / 1_000_000, (fen % 1_000_000).abs());
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What `parse` needs to know of the organisation.
pub struct Context {
    pub departments: Vec<DepartmentRow>,
    pub grids: Vec<GridRow>,
    pub areas: Vec<ProjectAreaRow>,
    /// Today as "YYYY-MM-DD" (the clock is passed in).
    pub today: String,
}

impl Context {
    pub async fn load(state: &AppState) -> Result<Context, dianxiaoer_store::Error> {
        let r = state.refdata().await?;
        Ok(Context {
            departments: r.departments.clone(),
            grids: r.grids.clone(),
            areas: r.areas.clone(),
            today: dianxiaoer_core::when::format_date(state.now()),
        })
    }
}

fn town(raw: &str) -> Result<String, String> {
    let d = DivisionCode::parse(raw.trim()).map_err(|e| e.message)?;
    if d.is_county() {
        return Err("请填写乡镇街道的 9 位代码，而不是县的代码".into());
    }
    Ok(d.as_str().to_string())
}

fn number(raw: &str, label: &str, max: i64) -> Result<Option<i64>, String> {
    let t = raw.trim().replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    let v: i64 = t.parse().map_err(|_| format!("{label}应为整数"))?;
    if v < 0 {
        return Err(format!("{label}不能为负数"));
    }
    if v > max {
        return Err(format!("{label}超出合理范围（不超过 {max}）"));
    }
    Ok(Some(v))
}

/// Parses the form; `Err` maps field names to messages.
pub fn parse(raw: &RawEnterprise, ctx: &Context) -> Result<EnterpriseInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut check = |field: &'static str, r: Result<(), String>| {
        if let Err(m) = r {
            errors.entry(field).or_insert(m);
        }
    };
    let credit_code = CreditCode::parse(raw.credit_code.trim()).map_err(|e| e.message);
    check("credit_code", credit_code.as_ref().map(|_| ()).map_err(Clone::clone));
    let name = text::required("企业名称", &raw.name, 100);
    check("name", name.as_ref().map(|_| ()).map_err(Clone::clone));
    let legal = text::required("法定代表人", &raw.legal_representative, 32);
    check("legal_representative", legal.as_ref().map(|_| ()).map_err(Clone::clone));
    let industry = IndustryCode::parse(&raw.industry_code).map_err(|e| e.message).and_then(|c| {
        if c.level() == Level::Class {
            Ok(c.code().to_string())
        } else {
            Err(format!("请填写到小类（4 位），“{}”是{}", c.code(), c.level().label()))
        }
    });
    check("industry_code", industry.as_ref().map(|_| ()).map_err(Clone::clone));
    let host = town(&raw.host_town);
    check("host_town", host.as_ref().map(|_| ()).map_err(Clone::clone));
    let introducer_town = match raw.introducer_town.trim() {
        "" => Ok(None),
        t => town(t).map(Some),
    };
    check("introducer_town", introducer_town.as_ref().map(|_| ()).map_err(Clone::clone));
    let introducer_department = match raw.introducer_department.trim() {
        "" => Ok(None),
        d => d
            .parse::<i64>()
            .ok()
            .filter(|id| ctx.departments.iter().any(|x| x.id == *id && x.kind == "county"))
            .map(Some)
            .ok_or_else(|| "请选择一个县直部门".to_string()),
    };
    check("introducer_department", introducer_department.as_ref().map(|_| ()).map_err(Clone::clone));
    if matches!((&introducer_town, &introducer_department), (Ok(Some(_)), Ok(Some(_)))) {
        check("introducer_town", Err("引资单位只能是一个乡镇或一个县直部门".into()));
    }
    let area = match raw.project_area.trim() {
        "" => Ok(None),
        a => ctx
            .areas
            .iter()
            .find(|x| x.code == a || x.name == a)
            .map(|x| Some(x.code.clone()))
            .ok_or_else(|| format!("未知片区“{a}”")),
    };
    check("project_area", area.as_ref().map(|_| ()).map_err(Clone::clone));
    let grid = match raw.grid_id.trim() {
        "" => Ok(None),
        g => ctx
            .grids
            .iter()
            .find(|x| x.id.to_string() == g || x.name == g)
            .map(|x| Some(x.id))
            .ok_or_else(|| format!("未知网格“{g}”")),
    };
    check("grid_id", grid.as_ref().map(|_| ()).map_err(Clone::clone));
    let address = text::required("地址", &raw.address, 120);
    check("address", address.as_ref().map(|_| ()).map_err(Clone::clone));
    let location = match (raw.lon.trim(), raw.lat.trim()) {
        ("", "") => Ok(None),
        ("", _) | (_, "") => Err("经度和纬度须同时填写".to_string()),
        (x, y) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => LonLat::parse(x, y).map(|p| Some((p.lon(), p.lat()))).map_err(|e| e.message),
            _ => Err("经纬度应为数字（度），如 118.6421、35.7712".into()),
        },
    };
    check("lon", location.as_ref().map(|_| ()).map_err(Clone::clone));
    let land = match raw.land_area_mu.trim() {
        "" => Ok(None),
        a => Area::from_mu_str(a).map(|a| Some(a.m2_centi())).map_err(|e| e.message),
    };
    check("land_area_mu", land.as_ref().map(|_| ()).map_err(Clone::clone));
    let above_scale = match raw.scale.trim() {
        "above" | "规上" | "是" => Ok(true),
        "below" | "规下" | "否" | "" => Ok(false),
        other => Err(format!("规模应为规上或规下，而不是“{other}”")),
    };
    check("scale", above_scale.as_ref().map(|_| ()).map_err(Clone::clone));
    let employees = number(&raw.employees, "从业人数", 1_000_000);
    check("employees", employees.as_ref().map(|_| ()).map_err(Clone::clone));
    let capital = match raw.registered_capital_wan.trim() {
        "" => Ok(None),
        c => Fen::parse_wan(c).map_err(|e| e.message).and_then(|f| {
            if f.fen() > 100_000_000 * 1_000_000 {
                Err("注册资本超出合理范围（不超过 1 万亿元）".into())
            } else {
                Ok(Some(f.fen()))
            }
        }),
    };
    check("registered_capital_wan", capital.as_ref().map(|_| ()).map_err(Clone::clone));
    let established = match raw.established.trim() {
        "" => Ok(None),
        d => match dianxiaoer_core::when::parse_date(d).map(dianxiaoer_core::when::format_date) {
            Some(iso) if iso.as_str() >= "1949-10-01" && iso <= ctx.today => Ok(Some(iso)),
            Some(_) => Err("成立日期应在 1949-10-01 与今天之间".to_string()),
            None => Err("成立日期格式应为 YYYY-MM-DD".to_string()),
        },
    };
    check("established", established.as_ref().map(|_| ()).map_err(Clone::clone));
    let status =
        STATUSES.iter().find(|(c, l)| *c == raw.status.trim() || *l == raw.status.trim()).map(|(c, _)| c.to_string());
    let status = match (raw.status.trim(), status) {
        ("", _) => Ok("operating".to_string()),
        (_, Some(s)) => Ok(s),
        (other, None) => Err(format!("未知状态“{other}”（在营、停产、注销、吊销、迁出）")),
    };
    check("status", status.as_ref().map(|_| ()).map_err(Clone::clone));
    let contact_name = text::optional("联系人", &raw.contact_name, 32).map(Option::unwrap_or_default);
    check("contact_name", contact_name.as_ref().map(|_| ()).map_err(Clone::clone));
    let contact_phone = text::optional("联系电话", &raw.contact_phone, 20).and_then(|p| match p {
        Some(p) if !(p.len() >= 7 && p.chars().all(|c| c.is_ascii_digit() || c == '-')) => {
            Err("联系电话应为手机号或带区号的固定电话".to_string())
        }
        p => Ok(p.unwrap_or_default()),
    });
    check("contact_phone", contact_phone.as_ref().map(|_| ()).map_err(Clone::clone));
    let tags = parse_tags(&raw.tags);
    check("tags", tags.as_ref().map(|_| ()).map_err(Clone::clone));
    match (credit_code, name, legal, industry, host, introducer_town, introducer_department, area, grid, address) {
        (
            Ok(credit_code),
            Ok(name),
            Ok(legal_representative),
            Ok(industry_code),
            Ok(host_town),
            Ok(introducer_town),
            Ok(introducer_department),
            Ok(project_area),
            Ok(grid_id),
            Ok(address),
        ) if errors.is_empty() => Ok(EnterpriseInput {
            credit_code,
            name,
            legal_representative,
            industry_code,
            host_town,
            introducer_town,
            introducer_department,
            project_area,
            grid_id,
            address,
            contact_name: contact_name.unwrap_or_default(),
            contact_phone: contact_phone.unwrap_or_default(),
            status: status.unwrap_or_default(),
            location: location.unwrap_or_default(),
            land_area_centi_m2: land.unwrap_or_default(),
            above_scale: above_scale.unwrap_or_default(),
            employees: employees.unwrap_or_default(),
            registered_capital_fen: capital.unwrap_or_default(),
            established: established.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
        }),
        _ => Err(errors),
    }
}

/// Tags separated by commas (half- or full-width) or 、; at most 10, each at most 16 characters.
pub fn parse_tags(raw: &str) -> Result<String, String> {
    let tags: Vec<&str> = raw.split([',', '，', '、']).map(str::trim).filter(|t| !t.is_empty()).collect();
    if tags.len() > 10 {
        return Err("标签最多 10 个".into());
    }
    if let Some(t) = tags.iter().find(|t| t.chars().count() > 16 || t.chars().any(char::is_control)) {
        return Err(format!("标签“{t}”过长或含非法字符（每个不超过 16 个字）"));
    }
    Ok(tags.join(","))
}

#[derive(Template)]
#[template(path = "enterprise_form.html")]
struct FormPage {
    chrome: Chrome,
    id: Option<i64>,
    f: RawEnterprise,
    errors: FieldErrors,
    towns: Vec<TownRow>,
    ctx: Context,
    statuses: [(&'static str, &'static str); 5],
}

async fn form_page(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    f: RawEnterprise,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let title = if id.is_some() { "编辑企业档案" } else { "登记企业" };
    let page = FormPage {
        chrome: Chrome::new(me, "/enterprises", title),
        id,
        f,
        errors,
        towns: state.store.towns().await?,
        ctx: Context::load(state).await?,
        statuses: STATUSES,
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
    let f = RawEnterprise { status: "operating".into(), scale: "below".into(), ..Default::default() };
    form_page(&state, &me, None, f, FieldErrors::new()).await
}

/// Conflicts and scope refusals from the store, placed beside the field they concern.
fn store_errors(e: dianxiaoer_store::Error) -> Result<FieldErrors, PageError> {
    let mut errors = FieldErrors::new();
    match e {
        dianxiaoer_store::Error::Conflict(m) => {
            errors.insert("credit_code", m);
        }
        dianxiaoer_store::Error::Invalid(m) => {
            errors.insert("host_town", m);
        }
        other => return Err(other.into()),
    }
    Ok(errors)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<RawEnterprise>,
) -> Result<Response, PageError> {
    let ctx = Context::load(&state).await?;
    let input = match parse(&f, &ctx) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &me, None, f, errors).await,
    };
    match state.store.create_enterprise(&me.actor(), &me.scope, &input, state.now()).await {
        Ok(id) => Ok(see_other(&format!("/enterprises/{id}?ok=created"))),
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
    let e = state.store.enterprise(&me.scope, id).await?;
    form_page(&state, &me, Some(id), RawEnterprise::of(&e), FieldErrors::new()).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RawEnterprise>,
) -> Result<Response, PageError> {
    state.store.enterprise(&me.scope, id).await?;
    let ctx = Context::load(&state).await?;
    let input = match parse(&f, &ctx) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &me, Some(id), f, errors).await,
    };
    match state.store.update_enterprise(&me.actor(), &me.scope, id, &input, state.now()).await {
        Ok(()) => Ok(see_other(&format!("/enterprises/{id}?ok=saved"))),
        Err(e) => {
            let errors = store_errors(e)?;
            form_page(&state, &me, Some(id), f, errors).await
        }
    }
}
