//! The routes of what follows an approval decision (告知承诺 and its check, 回访, 好差评): pages and
//! JSON API. Part of the one route table (see `routes.rs`).

use super::{Route, r};
use crate::{api_approval_aftercare as api, pages};
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
