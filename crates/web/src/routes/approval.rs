//! The routes of what follows an approval decision (告知承诺 and its check, 回访, 好差评) and of the
//! approval plans of investment projects (压茬审批): pages and JSON API. Part of the one route table
//! (see `routes.rs`).

use super::{Route, r};
use crate::{api_approval_aftercare as api, api_approval_projects as plans_api, pages};
use axum::routing::{get, post};
use dianxiaoer_core::access::Permission;

pub(super) fn pages() -> Vec<Route> {
    use Permission as P;
    use pages::{approval_aftercare as after, approval_service as service};
    vec![
        r("GET", "/approval/checks", Some(P::ReadApprovals), "告知承诺核查", get(service::checks)),
        r("POST", "/approval/settings", Some(P::EditCatalogue), "设置核查与回访期限", post(service::settings)),
        r("GET", "/approval/service", Some(P::ReadApprovals), "回访与好差评", get(service::service)),
        r(
            "POST",
            "/approval/cases/{id}/commitment",
            Some(P::FileApplications),
            "提交告知承诺书（申请人）",
            post(after::commit),
        ),
        r("POST", "/approval/cases/{id}/check", Some(P::ProcessApprovals), "登记承诺核查结果", post(after::check)),
        r("POST", "/approval/cases/{id}/rating", Some(P::FileApplications), "评价办件（好差评）", post(after::rate)),
        r(
            "POST",
            "/approval/ratings/{id}/callback",
            Some(P::ProcessApprovals),
            "登记差评回访核实",
            post(after::callback),
        ),
        r(
            "POST",
            "/approval/ratings/{id}/rectification",
            Some(P::ProcessApprovals),
            "登记差评整改",
            post(after::rectification),
        ),
    ]
}

pub(super) fn api() -> Vec<Route> {
    use Permission as P;
    vec![
        r(
            "GET",
            "/api/v1/approval/checks",
            Some(P::ReadApprovals),
            "告知承诺核查（status=pending|done|all）",
            get(api::checks),
        ),
        r(
            "GET",
            "/api/v1/approval/ratings",
            Some(P::ReadApprovals),
            "差评回访与整改（status=open|all）",
            get(api::ratings),
        ),
        r("GET", "/api/v1/approval/follow-ups", Some(P::ReadApprovals), "待回访的办结办件", get(api::follow_ups)),
        r("GET", "/api/v1/approval/aftercare-policy", Some(P::ReadApprovals), "核查与回访期限", get(api::policy)),
        r(
            "POST",
            "/api/v1/approval/aftercare-policy",
            Some(P::EditCatalogue),
            "设置核查与回访期限（post_check_days、follow_up_days）",
            post(api::set_policy),
        ),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/commitment",
            Some(P::FileApplications),
            "提交告知承诺书（text）",
            post(api::commit),
        ),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/check",
            Some(P::ProcessApprovals),
            "登记承诺核查结果（result=passed|failed、method、findings）",
            post(api::check),
        ),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/rating",
            Some(P::FileApplications),
            "评价办件（level、comment）",
            post(api::rate),
        ),
        r(
            "POST",
            "/api/v1/approval/ratings/{id}/callback",
            Some(P::ProcessApprovals),
            "登记差评回访核实（note）",
            post(api::callback),
        ),
        r(
            "POST",
            "/api/v1/approval/ratings/{id}/rectification",
            Some(P::ProcessApprovals),
            "登记差评整改（note）",
            post(api::rectification),
        ),
    ]
}

/// The approval plans of investment projects (压茬审批): read within the scope of the project's
/// enterprise by whoever reads its cases, edited by whoever may file them.
pub(super) fn plans() -> Vec<Route> {
    use Permission as P;
    use pages::approval_projects as plan;
    let (read, edit) = (Some(P::ReadApprovals), Some(P::FileApplications));
    vec![
        r("GET", "/approval/projects", read, "项目审批计划（压茬审批）", get(plan::list)),
        r("GET", "/approval/projects/export.xlsx", read, "导出项目审批计划列表", get(plan::export)),
        r("GET", "/approval/projects/{id}", read, "项目审批计划（阶段、关键路径、用时）", get(plan::detail)),
        r("POST", "/approval/projects/{id}/default", edit, "按典型项目生成默认审批计划", post(plan::default_plan)),
        r("POST", "/approval/projects/{id}/items", edit, "审批计划加入事项", post(plan::add_items)),
        r("POST", "/approval/projects/{id}/items/{code}/delete", edit, "审批计划移出事项", post(plan::remove_item)),
        r("POST", "/approval/projects/{id}/edges", edit, "审批计划添加前置关系", post(plan::add_edge)),
        r("POST", "/approval/projects/{id}/edges/delete", edit, "审批计划删除前置关系", post(plan::remove_edge)),
        r("POST", "/approval/projects/{id}/cases", edit, "审批计划关联办件", post(plan::attach)),
        r("GET", "/api/v1/approval/projects", read, "项目审批计划列表（q、all=1）", get(plans_api::projects)),
        r(
            "GET",
            "/api/v1/approval/projects/{id}",
            read,
            "项目审批计划（事项、前置关系、关键路径、用时）",
            get(plans_api::project),
        ),
        r(
            "POST",
            "/api/v1/approval/projects/{id}/default",
            edit,
            "按典型项目生成默认审批计划（仅限空计划）",
            post(plans_api::default_plan),
        ),
        r(
            "POST",
            "/api/v1/approval/projects/{id}/items",
            edit,
            "审批计划加入事项（items）",
            post(plans_api::add_items),
        ),
        r(
            "POST",
            "/api/v1/approval/projects/{id}/items/{code}/delete",
            edit,
            "审批计划移出事项",
            post(plans_api::remove_item),
        ),
        r(
            "POST",
            "/api/v1/approval/projects/{id}/edges",
            edit,
            "审批计划添加前置关系（item、requires）",
            post(plans_api::add_edge),
        ),
        r(
            "POST",
            "/api/v1/approval/projects/{id}/edges/delete",
            edit,
            "审批计划删除前置关系（item、requires）",
            post(plans_api::remove_edge),
        ),
        r("POST", "/api/v1/approval/projects/{id}/cases", edit, "审批计划关联办件（case_id）", post(plans_api::attach)),
    ]
}
