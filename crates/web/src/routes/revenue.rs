//! The enclave economy's routes (飞地经济): projects, the tax ledger, settlements, statements and
//! their configuration — pages and JSON API. Part of the one route table (see `routes.rs`).

use super::{Route, UPLOAD_LIMIT, r};
use crate::{api, pages};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use dianxiaoer_core::access::Permission;

pub(super) fn pages() -> Vec<Route> {
    use Permission as P;
    vec![
        r("GET", "/revenue/projects", Some(P::ReadRevenue), "招商项目列表", get(pages::revenue_projects::list)),
        r(
            "GET",
            "/revenue/projects/export.xlsx",
            Some(P::ReadRevenue),
            "导出招商项目",
            get(pages::revenue_projects::export),
        ),
        r(
            "GET",
            "/revenue/projects/new",
            Some(P::EditProjects),
            "登记招商项目页",
            get(pages::revenue_project_form::new_form),
        ),
        r(
            "POST",
            "/revenue/projects",
            Some(P::EditProjects),
            "登记招商项目",
            post(pages::revenue_project_form::create),
        ),
        r("GET", "/revenue/projects/{id}", Some(P::ReadRevenue), "招商项目详情", get(pages::revenue_projects::detail)),
        r(
            "GET",
            "/revenue/projects/{id}/edit",
            Some(P::EditProjects),
            "编辑招商项目页",
            get(pages::revenue_project_form::edit_form),
        ),
        r(
            "POST",
            "/revenue/projects/{id}/edit",
            Some(P::EditProjects),
            "保存招商项目",
            post(pages::revenue_project_form::update),
        ),
        r(
            "POST",
            "/revenue/projects/{id}/agreements",
            Some(P::EditProjects),
            "添加分成协议",
            post(pages::revenue_projects::add_agreement),
        ),
        r("GET", "/revenue/tax", Some(P::ReadRevenue), "税收台账", get(pages::revenue_tax::ledger)),
        r(
            "GET",
            "/revenue/tax/import",
            Some(P::ImportTaxLedger),
            "导入税收台账页",
            get(pages::revenue_tax::import_form),
        ),
        r(
            "POST",
            "/revenue/tax/import",
            Some(P::ImportTaxLedger),
            "导入税收台账",
            post(pages::revenue_tax::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r("GET", "/revenue/settlements", Some(P::ReadRevenue), "税收分成结算", get(pages::revenue_settlements::list)),
        r("POST", "/revenue/settlements", Some(P::SettleRevenue), "起草结算", post(pages::revenue_settlements::draft)),
        r(
            "GET",
            "/revenue/settlements/{period}",
            Some(P::ReadRevenue),
            "结算明细（各单位分成与未分成原因）",
            get(pages::revenue_settlements::detail),
        ),
        r(
            "POST",
            "/revenue/settlements/{period}/review",
            Some(P::SettleRevenue),
            "复核结算",
            post(pages::revenue_settlements::review),
        ),
        r(
            "POST",
            "/revenue/settlements/{period}/confirm",
            Some(P::ConfirmSettlement),
            "确认结算",
            post(pages::revenue_settlements::confirm),
        ),
        r("GET", "/revenue/statements", Some(P::ReadRevenue), "分成对账单", get(pages::revenue_statements::page)),
        r(
            "GET",
            "/revenue/statements.xlsx",
            Some(P::ReadRevenue),
            "导出分成对账单",
            get(pages::revenue_statements::xlsx),
        ),
        r("GET", "/revenue/retained-shares", Some(P::ReadRevenue), "县级留成比例", get(pages::revenue_retained::list)),
        r(
            "POST",
            "/revenue/retained-shares",
            Some(P::SettleRevenue),
            "新增县级留成比例",
            post(pages::revenue_retained::add),
        ),
        r(
            "POST",
            "/revenue/projects/{id}/host-moves",
            Some(P::EditProjects),
            "登记落地乡镇变更",
            post(pages::revenue_retained::move_host),
        ),
    ]
}

pub(super) fn api() -> Vec<Route> {
    use Permission as P;
    vec![
        r("GET", "/api/v1/revenue/projects", Some(P::ReadRevenue), "招商项目列表", get(api::revenue::projects)),
        r(
            "POST",
            "/api/v1/revenue/projects",
            Some(P::EditProjects),
            "登记招商项目",
            post(api::revenue::create_project),
        ),
        r(
            "GET",
            "/api/v1/revenue/projects/{id}",
            Some(P::ReadRevenue),
            "招商项目及分成协议",
            get(api::revenue::project),
        ),
        r(
            "POST",
            "/api/v1/revenue/projects/{id}",
            Some(P::EditProjects),
            "修改招商项目",
            post(api::revenue::update_project),
        ),
        r(
            "POST",
            "/api/v1/revenue/projects/{id}/agreements",
            Some(P::EditProjects),
            "添加分成协议",
            post(api::revenue::add_agreement),
        ),
        r("GET", "/api/v1/revenue/tax", Some(P::ReadRevenue), "税收台账明细", get(api::revenue::ledger)),
        r("GET", "/api/v1/revenue/tax/totals", Some(P::ReadRevenue), "税收台账按月合计", get(api::revenue::totals)),
        r(
            "GET",
            "/api/v1/revenue/tax/imports",
            Some(P::ImportTaxLedger),
            "税收台账导入记录",
            get(api::revenue::imports),
        ),
        r(
            "POST",
            "/api/v1/revenue/tax/import",
            Some(P::ImportTaxLedger),
            "导入税收台账（multipart，字段 file，可选 encoding = auto/utf8/gbk）",
            post(api::revenue::import).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r(
            "POST",
            "/api/v1/revenue/projects/{id}/host-moves",
            Some(P::EditProjects),
            "登记落地乡镇变更（host_town，from = 新乡镇起始月份）",
            post(api::revenue_settlement::move_host),
        ),
        r(
            "GET",
            "/api/v1/revenue/settlements",
            Some(P::ReadRevenue),
            "结算列表",
            get(api::revenue_settlement::settlements),
        ),
        r(
            "POST",
            "/api/v1/revenue/settlements",
            Some(P::SettleRevenue),
            "起草结算（period）",
            post(api::revenue_settlement::draft),
        ),
        r(
            "GET",
            "/api/v1/revenue/settlements/{period}",
            Some(P::ReadRevenue),
            "结算明细",
            get(api::revenue_settlement::settlement),
        ),
        r(
            "POST",
            "/api/v1/revenue/settlements/{period}/review",
            Some(P::SettleRevenue),
            "复核结算",
            post(api::revenue_settlement::review),
        ),
        r(
            "POST",
            "/api/v1/revenue/settlements/{period}/confirm",
            Some(P::ConfirmSettlement),
            "确认结算",
            post(api::revenue_settlement::confirm),
        ),
        r(
            "GET",
            "/api/v1/revenue/statements",
            Some(P::ReadRevenue),
            "分成对账单（period，unit = town:代码 / dept:编号 / zone）",
            get(api::revenue_settlement::statement),
        ),
        r(
            "GET",
            "/api/v1/revenue/retained-shares",
            Some(P::ReadRevenue),
            "县级留成比例",
            get(api::revenue_settlement::retained_shares),
        ),
        r(
            "POST",
            "/api/v1/revenue/retained-shares",
            Some(P::SettleRevenue),
            "新增县级留成比例",
            post(api::revenue_settlement::add_retained_share),
        ),
    ]
}
