//! The route table: every route once, with the permission it needs. The router, the OpenAPI document
//! and the route × role test matrix are built from it, so no route can exist without a guard.

use crate::auth::guard;
use crate::{AppState, api, api_approval, metrics, pages};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post, put};
use dianxiaoer_core::access::Permission;

mod approval;
mod gas;
mod revenue;
mod seal;

/// Largest Excel upload: a 200,000-row sheet is about 20 MiB.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;
/// A case document and the multipart framing around it.
const DOCUMENT_LIMIT: usize = dianxiaoer_core::approval::document::MAX_DOCUMENT_BYTES + 64 * 1024;

/// Which half-finished login states may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Only a fully signed-in user.
    Full,
    /// Also while the second factor is pending (the TOTP challenge and enrolment).
    PendingMfa,
    /// Also while a password change is forced (the change page).
    PendingPassword,
    /// In any state (logout).
    Any,
}

/// What the guard needs to know about a route.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// `None`: public (login page, health, static files, the OpenAPI document, the published service
    /// guides, the verification of a certificate by its code). No public route reads data other than
    /// the published guides and the one certificate whose printed code is given.
    pub permission: Option<Permission>,
    pub gate: Gate,
    pub api: bool,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub permission: Option<Permission>,
    pub gate: Gate,
    pub summary: &'static str,
}

impl RouteSpec {
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}

struct Route {
    spec: RouteSpec,
    handler: MethodRouter<AppState>,
}

fn r(
    method: &'static str,
    path: &'static str,
    permission: Option<Permission>,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Route {
    Route { spec: RouteSpec { method, path, permission, gate: Gate::Full, summary }, handler }
}

fn gated(mut route: Route, gate: Gate) -> Route {
    route.spec.gate = gate;
    route
}

fn table() -> Vec<Route> {
    use Permission as P;
    let own = Some(P::OwnAccount);
    let mut table = vec![
        // Public.
        r("GET", "/login", None, "登录页", get(pages::login::form)),
        r("POST", "/login", None, "登录", post(pages::login::submit)),
        r("GET", "/healthz", None, "存活检查", get(metrics::healthz)),
        r("GET", "/readyz", None, "就绪检查（数据库可达）", get(metrics::readyz)),
        r("GET", "/static/{file}", None, "样式与脚本", get(pages::static_file)),
        r("GET", "/api/v1/openapi.json", None, "OpenAPI 3.1 文档", get(crate::openapi::document)),
        // The published service guides: public information, read without login.
        r("GET", "/guide", None, "办事指南（审批事项目录）", get(pages::guide::list)),
        r("GET", "/guide/{code}", None, "办事指南（单个事项）", get(pages::guide::guide)),
        // Any signed-in user.
        gated(r("POST", "/logout", own, "退出登录", post(pages::login::logout)), Gate::Any),
        gated(r("GET", "/login/totp", own, "动态口令验证页", get(pages::login::totp_form)), Gate::PendingMfa),
        gated(r("POST", "/login/totp", own, "动态口令验证", post(pages::login::totp_submit)), Gate::PendingMfa),
        gated(r("GET", "/account/totp", own, "动态口令绑定页", get(pages::account::totp_form)), Gate::PendingMfa),
        gated(r("POST", "/account/totp", own, "绑定动态口令", post(pages::account::totp_submit)), Gate::PendingMfa),
        gated(
            r("GET", "/account/password", own, "修改密码页", get(pages::account::password_form)),
            Gate::PendingPassword,
        ),
        gated(
            r("POST", "/account/password", own, "修改密码", post(pages::account::password_submit)),
            Gate::PendingPassword,
        ),
        r("GET", "/", own, "首页", get(pages::home::home)),
        r("GET", "/account", own, "我的账号", get(pages::account::overview)),
        r("POST", "/account/api-keys", own, "创建 API 密钥", post(pages::account::create_key)),
        r("POST", "/account/api-keys/{id}/revoke", own, "吊销 API 密钥", post(pages::account::revoke_key)),
        // System admin.
        r("GET", "/admin/users", Some(P::ManageUsers), "用户列表", get(pages::admin::users)),
        r("GET", "/admin/users/new", Some(P::ManageUsers), "新建用户页", get(pages::admin::new_user)),
        r("POST", "/admin/users", Some(P::ManageUsers), "新建用户", post(pages::admin::create_user)),
        r("GET", "/admin/users/{id}", Some(P::ManageUsers), "编辑用户页", get(pages::admin::edit_user)),
        r("POST", "/admin/users/{id}", Some(P::ManageUsers), "保存用户", post(pages::admin::update_user)),
        r(
            "POST",
            "/admin/users/{id}/reset-password",
            Some(P::ManageUsers),
            "重置密码",
            post(pages::admin::reset_password),
        ),
        r("POST", "/admin/users/{id}/disable", Some(P::ManageUsers), "停用账号", post(pages::admin::disable_user)),
        r("POST", "/admin/users/{id}/enable", Some(P::ManageUsers), "启用账号", post(pages::admin::enable_user)),
        r("GET", "/admin/org", Some(P::ManageOrganisation), "部门与网格", get(pages::admin::org)),
        r("POST", "/admin/departments", Some(P::ManageOrganisation), "新建部门", post(pages::admin::create_department)),
        r("POST", "/admin/grids", Some(P::ManageOrganisation), "新建网格", post(pages::admin::create_grid)),
        r("GET", "/admin/calendar", Some(P::ManageOrganisation), "工作日历", get(pages::calendar::page)),
        r(
            "POST",
            "/admin/calendar/days",
            Some(P::ManageOrganisation),
            "设置节假日或调休",
            post(pages::calendar::set_day),
        ),
        r(
            "POST",
            "/admin/calendar/days/{date}/delete",
            Some(P::ManageOrganisation),
            "删除节假日设置",
            post(pages::calendar::delete_day),
        ),
        r(
            "POST",
            "/admin/calendar/import",
            Some(P::ManageOrganisation),
            "粘贴导入全年节假日安排",
            post(pages::calendar::import),
        ),
        // Security admin.
        r("GET", "/security/policy", Some(P::ManageSecurityPolicy), "安全策略页", get(pages::security::policy_form)),
        r(
            "POST",
            "/security/policy",
            Some(P::ManageSecurityPolicy),
            "保存安全策略",
            post(pages::security::policy_submit),
        ),
        r("GET", "/security/accounts", Some(P::ManageAccess), "账号状态", get(pages::security::accounts)),
        r("POST", "/security/accounts/{id}/unlock", Some(P::ManageAccess), "解锁账号", post(pages::security::unlock)),
        r(
            "POST",
            "/security/accounts/{id}/end-sessions",
            Some(P::ManageAccess),
            "强制下线",
            post(pages::security::end_sessions),
        ),
        // Audit admin.
        r("GET", "/audit/logs", Some(P::ReadAudit), "审计日志", get(pages::audit::logs)),
        r("GET", "/audit/logs.xlsx", Some(P::ReadAudit), "导出审计日志", get(pages::audit::logs_xlsx)),
        r("GET", "/audit/logins", Some(P::ReadAudit), "登录日志", get(pages::audit::logins)),
        r("GET", "/audit/logins.xlsx", Some(P::ReadAudit), "导出登录日志", get(pages::audit::logins_xlsx)),
        r("POST", "/audit/verify", Some(P::ReadAudit), "校验审计链", post(pages::audit::verify)),
        // Business.
        r("GET", "/calendar/deadline", own, "办理期限计算", get(pages::calendar::deadline)),
        r("GET", "/enterprises", Some(P::ReadEnterprises), "企业列表", get(pages::enterprises::list)),
        r("GET", "/enterprises/export.xlsx", Some(P::ReadEnterprises), "导出企业", get(pages::enterprises::export)),
        r("GET", "/enterprises/new", Some(P::EditEnterprises), "登记企业页", get(pages::enterprise_form::new_form)),
        r("POST", "/enterprises", Some(P::EditEnterprises), "登记企业", post(pages::enterprise_form::create)),
        r("GET", "/enterprises/import", Some(P::ImportEnterprises), "导入企业页", get(pages::enterprise_import::form)),
        r(
            "POST",
            "/enterprises/import",
            Some(P::ImportEnterprises),
            "导入企业",
            post(pages::enterprise_import::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r(
            "GET",
            "/enterprises/import/template.xlsx",
            Some(P::ImportEnterprises),
            "下载导入模板",
            get(pages::enterprise_import::template),
        ),
        r(
            "GET",
            "/enterprises/{id}/edit",
            Some(P::EditEnterprises),
            "编辑企业页",
            get(pages::enterprise_form::edit_form),
        ),
        r(
            "POST",
            "/enterprises/{id}/edit",
            Some(P::EditEnterprises),
            "保存企业档案",
            post(pages::enterprise_form::update),
        ),
        r("GET", "/enterprises/{id}", Some(P::ReadEnterprises), "企业档案", get(pages::enterprises::detail)),
        r(
            "POST",
            "/enterprises/{id}/contact",
            Some(P::EditEnterpriseContact),
            "修改企业联系信息",
            post(pages::enterprises::update_contact),
        ),
        r(
            "POST",
            "/enterprises/{id}/contacts",
            Some(P::EditEnterpriseContact),
            "添加企业联系人",
            post(pages::enterprises::add_contact),
        ),
        r(
            "POST",
            "/enterprises/{id}/contacts/{contact}/delete",
            Some(P::EditEnterpriseContact),
            "删除企业联系人",
            post(pages::enterprises::remove_contact),
        ),
        // Independent approval.
        r("GET", "/approval/items", Some(P::EditCatalogue), "审批事项目录管理", get(pages::approval_items::list)),
        r(
            "GET",
            "/approval/items/{code}/edit",
            Some(P::EditCatalogue),
            "编辑办事指南页",
            get(pages::approval_items::edit_form),
        ),
        r(
            "POST",
            "/approval/items/{code}/edit",
            Some(P::EditCatalogue),
            "发布办事指南新版本",
            post(pages::approval_items::save),
        ),
        r(
            "GET",
            "/approval/items/{code}/workflow",
            Some(P::EditCatalogue),
            "流程配置页",
            get(pages::approval_workflow::form),
        ),
        r(
            "POST",
            "/approval/items/{code}/workflow",
            Some(P::EditCatalogue),
            "发布流程配置（随事项发布新版本）",
            post(pages::approval_workflow::save),
        ),
        r("GET", "/approval/cases", Some(P::ReadApprovals), "审批办件（待办与查询）", get(pages::approval_cases::list)),
        r(
            "GET",
            "/approval/cases/export.xlsx",
            Some(P::ReadApprovals),
            "导出审批办件",
            get(pages::approval_cases::export),
        ),
        r("GET", "/approval/cases/new", Some(P::FileApplications), "申请页", get(pages::approval_filing::new_form)),
        r(
            "POST",
            "/approval/cases",
            Some(P::FileApplications),
            "提交申请（草稿）",
            post(pages::approval_filing::create),
        ),
        r("GET", "/approval/stats", Some(P::ReadApprovals), "审批统计", get(pages::approval_stats::page)),
        r(
            "GET",
            "/approval/stats.xlsx",
            Some(P::ReadApprovals),
            "审批统计导出 Excel",
            get(pages::approval_stats::export),
        ),
        r("GET", "/approval/overdue", Some(P::ReadApprovals), "超期办件", get(pages::approval_stats::overdue)),
        r(
            "GET",
            "/approval/overdue.xlsx",
            Some(P::ReadApprovals),
            "超期办件导出 Excel",
            get(pages::approval_stats::overdue_export),
        ),
        r("GET", "/approval/cases/{id}", Some(P::ReadApprovals), "办件详情", get(pages::approval_cases::detail)),
        r(
            "POST",
            "/approval/cases/{id}/assign",
            Some(P::ProcessApprovals),
            "认领、指派或退回待认领（to=me|chosen|release，assignee）",
            post(pages::approval_assign::page),
        ),
        r(
            "POST",
            "/approval/cases/{id}/documents",
            Some(P::FileApplications),
            "上传电子材料（multipart：material、file）",
            post(pages::approval_documents::upload).layer(DefaultBodyLimit::max(DOCUMENT_LIMIT)),
        ),
        r(
            "GET",
            "/approval/cases/{id}/documents/{doc}",
            Some(P::ReadApprovals),
            "下载电子材料",
            get(pages::approval_documents::download),
        ),
        r(
            "POST",
            "/approval/cases/{id}/actions",
            Some(P::ProcessApprovals),
            "办理办件（按流程与角色）",
            post(pages::approval_cases::action),
        ),
        // JSON API.
        r("GET", "/api/v1/me", own, "当前用户", get(api::me)),
        r("GET", "/api/v1/towns", own, "乡镇街道", get(api::towns)),
        r("GET", "/api/v1/departments", own, "部门", get(api::departments)),
        r("GET", "/api/v1/api-keys", own, "我的 API 密钥", get(api::list_keys)),
        r("POST", "/api/v1/api-keys", own, "创建 API 密钥", post(api::create_key)),
        r("POST", "/api/v1/api-keys/{id}/revoke", own, "吊销 API 密钥", post(api::revoke_key)),
        r("GET", "/api/v1/users", Some(P::ManageUsers), "用户列表", get(api::users)),
        r("POST", "/api/v1/users", Some(P::ManageUsers), "新建用户", post(api::create_user)),
        r("GET", "/api/v1/security/policy", Some(P::ManageSecurityPolicy), "安全策略", get(api::policy)),
        r("POST", "/api/v1/security/policy", Some(P::ManageSecurityPolicy), "保存安全策略", post(api::set_policy)),
        r("POST", "/api/v1/security/accounts/{id}/unlock", Some(P::ManageAccess), "解锁账号", post(api::unlock)),
        r("GET", "/api/v1/audit/logs", Some(P::ReadAudit), "审计日志", get(api::audit_logs)),
        r("GET", "/api/v1/audit/logins", Some(P::ReadAudit), "登录日志", get(api::logins)),
        r("POST", "/api/v1/audit/verify", Some(P::ReadAudit), "校验审计链", post(api::verify)),
        r("GET", "/api/v1/enterprises", Some(P::ReadEnterprises), "企业列表", get(api::enterprises)),
        r("POST", "/api/v1/enterprises", Some(P::EditEnterprises), "登记企业", post(api::create_enterprise)),
        r(
            "POST",
            "/api/v1/enterprises/import",
            Some(P::ImportEnterprises),
            "导入企业（multipart，字段 file）",
            post(api::import_enterprises).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r("POST", "/api/v1/enterprises/{id}", Some(P::EditEnterprises), "修改企业档案", post(api::update_enterprise)),
        r("GET", "/api/v1/calendar", own, "某年的节假日与调休（year=YYYY）", get(api::calendar)),
        r(
            "PUT",
            "/api/v1/calendar/days",
            Some(P::ManageOrganisation),
            "设置一天的节假日或调休",
            put(api::set_calendar_day),
        ),
        r(
            "POST",
            "/api/v1/calendar/days",
            Some(P::ManageOrganisation),
            "设置一天的节假日或调休",
            post(api::set_calendar_day),
        ),
        r(
            "GET",
            "/api/v1/calendar/deadline",
            own,
            "办理期限计算（received=收件时间，days=工作日数）",
            get(api::calendar_deadline),
        ),
        r("GET", "/api/v1/industries", own, "行业分类查询（GB/T 4754-2017）", get(api::industries)),
        r("GET", "/api/v1/enterprises/{id}", Some(P::ReadEnterprises), "企业档案", get(api::enterprise)),
        r(
            "POST",
            "/api/v1/enterprises/{id}/contact",
            Some(P::EditEnterpriseContact),
            "修改企业联系信息",
            post(api::update_contact),
        ),
        r("GET", "/api/v1/enterprises/{id}/contacts", Some(P::ReadEnterprises), "企业其他联系人", get(api::contacts)),
        r(
            "POST",
            "/api/v1/enterprises/{id}/contacts",
            Some(P::EditEnterpriseContact),
            "添加企业联系人",
            post(api::add_contact),
        ),
        r(
            "POST",
            "/api/v1/enterprises/{id}/contacts/{contact}/delete",
            Some(P::EditEnterpriseContact),
            "删除企业联系人",
            post(api::remove_contact),
        ),
        r("GET", "/api/v1/approval/items", own, "审批事项目录（q、category）", get(api_approval::items)),
        r(
            "GET",
            "/api/v1/approval/items/{code}",
            own,
            "审批事项及其流程（version=N 取历史版本）",
            get(api_approval::item),
        ),
        r(
            "POST",
            "/api/v1/approval/items/{code}",
            Some(P::EditCatalogue),
            "发布事项新版本（请求体为编辑后的事项，version 为所依据的版本）",
            post(api_approval::revise_item),
        ),
        r(
            "PUT",
            "/api/v1/approval/items/{code}/workflow",
            Some(P::EditCatalogue),
            "发布流程配置（请求体 base_version 与 workflow；随事项发布新版本）",
            put(api_approval::configure_workflow),
        ),
        r(
            "GET",
            "/api/v1/approval/cases",
            Some(P::ReadApprovals),
            "审批办件（box=inbox|all、state、item、q、enterprise）",
            get(api_approval::cases),
        ),
        r(
            "POST",
            "/api/v1/approval/cases",
            Some(P::FileApplications),
            "提交申请（草稿）",
            post(api_approval::create_case),
        ),
        r(
            "GET",
            "/api/v1/approval/stats",
            Some(P::ReadApprovals),
            "审批统计（year、month 或 from、to）",
            get(api_approval::stats),
        ),
        r("GET", "/api/v1/approval/cases/{id}", Some(P::ReadApprovals), "办件详情", get(api_approval::case)),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/assign",
            Some(P::ProcessApprovals),
            "认领、指派、改派或退回待认领（请求体 to：用户 id、\"me\" 或 null）",
            post(pages::approval_assign::api),
        ),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/documents",
            Some(P::FileApplications),
            "上传电子材料（multipart：material、file；PDF、OFD、JPEG、PNG，≤10 MB）",
            post(pages::approval_documents::api_upload).layer(DefaultBodyLimit::max(DOCUMENT_LIMIT)),
        ),
        r(
            "GET",
            "/api/v1/approval/cases/{id}/documents/{doc}",
            Some(P::ReadApprovals),
            "下载电子材料",
            get(pages::approval_documents::download),
        ),
        r(
            "POST",
            "/api/v1/approval/cases/{id}/actions",
            Some(P::ProcessApprovals),
            "办理办件（action、comment、materials）",
            post(api_approval::case_action),
        ),
    ];
    table.extend(approval::pages());
    table.extend(approval::api());
    table.extend(approval::plans());
    table.extend(revenue::pages());
    table.extend(revenue::api());
    table.extend(gas::pages());
    table.extend(gas::api());
    table.extend(seal::pages());
    table.extend(seal::api());
    table
}

/// The table without handlers, for the OpenAPI document and the tests.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|r| r.spec).collect()
}

pub fn router(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for route in table() {
        let g = Guard { permission: route.spec.permission, gate: route.spec.gate, api: route.spec.is_api() };
        let handler = route.handler.route_layer(from_fn_with_state((state.clone(), g), guard));
        match by_path.iter_mut().find(|(p, _)| *p == route.spec.path) {
            Some((_, mr)) => *mr = std::mem::take(mr).merge(handler),
            None => by_path.push((route.spec.path, handler)),
        }
    }
    for (path, mr) in by_path {
        router = router.route(path, mr);
    }
    router
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), metrics::observe))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .with_state(state)
}
