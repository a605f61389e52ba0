//! The page frame shared by every signed-in page, and small display helpers called from templates.

use crate::auth::CurrentUser;
use askama::Template;
use dianxiaoer_core::access::{Permission, permits};
use std::borrow::Borrow;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// Header, navigation and CSRF token of a signed-in page.
pub struct Chrome {
    pub user_name: String,
    pub role_label: &'static str,
    pub scope_label: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub title: &'static str,
    pub notice: Option<&'static str>,
}

const NAV: [(&str, &str, Permission); 29] = [
    ("/", "首页", Permission::OwnAccount),
    ("/enterprises", "企业档案", Permission::ReadEnterprises),
    ("/revenue/projects", "招商项目", Permission::ReadRevenue),
    ("/revenue/tax", "税收台账", Permission::ReadRevenue),
    ("/revenue/assessment", "考核加分", Permission::ReadRevenue),
    ("/revenue/coverage", "乡镇覆盖", Permission::ReadRevenue),
    ("/approval/cases", "审批办件", Permission::ReadApprovals),
    ("/approval/projects", "项目审批", Permission::ReadApprovals),
    ("/approval/checks", "承诺核查", Permission::ReadApprovals),
    ("/approval/service", "回访评价", Permission::ReadApprovals),
    ("/approval/stats", "审批统计", Permission::ReadApprovals),
    ("/approval/items", "事项目录", Permission::EditCatalogue),
    ("/guide", "办事指南", Permission::OwnAccount),
    ("/revenue/settlements", "分成结算", Permission::ReadRevenue),
    ("/revenue/statements", "分成对账单", Permission::ReadRevenue),
    ("/revenue/retained-shares", "县级留成比例", Permission::SettleRevenue),
    ("/gas/monitor", "实时监测", Permission::ReadGas),
    ("/gas/alarms", "气体报警", Permission::ReadGas),
    ("/gas/detectors", "气体探测器", Permission::ReadGas),
    ("/calendar/deadline", "期限计算", Permission::OwnAccount),
    ("/admin/users", "用户管理", Permission::ManageUsers),
    ("/admin/org", "部门与网格", Permission::ManageOrganisation),
    ("/admin/calendar", "工作日历", Permission::ManageOrganisation),
    ("/security/policy", "安全策略", Permission::ManageSecurityPolicy),
    ("/security/accounts", "账号状态", Permission::ManageAccess),
    ("/security/seal", "审批专用章", Permission::ManageSecurityPolicy),
    ("/audit/logs", "审计日志", Permission::ReadAudit),
    ("/audit/logins", "登录日志", Permission::ReadAudit),
    ("/account", "我的账号", Permission::OwnAccount),
];

impl Chrome {
    /// The frame for `user`, with the navigation showing only what the role may do.
    pub fn new(user: &CurrentUser, active: &'static str, title: &'static str) -> Chrome {
        let nav = NAV
            .iter()
            .filter(|(_, _, p)| permits(user.user.role, *p))
            .map(|(href, label, _)| NavItem { href, label, active: *href == active })
            .collect();
        Chrome {
            user_name: user.user.display_name.clone(),
            role_label: user.user.role.label(),
            scope_label: user.scope.label(),
            csrf: user.csrf.clone(),
            nav,
            title,
            notice: None,
        }
    }

    pub fn notice(mut self, code: Option<&str>) -> Chrome {
        self.notice = code.and_then(notice_text);
        self
    }
}

/// Fixed confirmation texts selected by a code in the query string (never echoing user input).
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "saved" => "已保存。",
        "created" => "已创建。",
        "disabled" => "账号已停用，其会话已全部结束。",
        "enabled" => "账号已启用。",
        "unlocked" => "账号已解锁。",
        "ended" => "该用户的会话已全部结束。",
        "password" => "密码已修改。",
        "totp" => "动态口令已绑定。",
        "revoked" => "API 密钥已吊销。",
        "deleted" => "已删除。",
        "filed" => "申请已保存为草稿；材料齐全后请点击“提交”。",
        "acted" => "已办理。",
        "committed" => "告知承诺书已提交；审批机关将据此作出决定，并在决定后核查。",
        "checked" => "核查结果已登记。",
        "rated" => "评价已提交，感谢您的反馈。",
        "handled" => "已登记。",
        "revised" => "已发布新版本；此前申请的办件仍按原版本办理。",
        "flow" => "已发布新版本的办理流程；此前申请的办件仍按原流程办理。",
        "document" => "材料已上传，将随下一步办理一并提交。",
        "assigned" => "承办人已更新。",
        "drafted" => "结算已起草，请交由另一位工作人员复核。",
        "drafted_range" => "所选月份中未确认的结算均已起草（已确认的月份保持不变），请交由另一位工作人员复核。",
        "reviewed" => "结算已复核，待领导确认。",
        "confirmed" => "结算已确认，此后不再改动。",
        "seal_generated" => "已生成新的审批专用章密钥并启用；此后的准予决定用它签章，旧密钥仅用于核验。",
        "seal_validity" => "审批专用章有效期已保存。",
        _ => return None,
    })
}

/// "2026-11-26 17:48:51", Beijing time.
pub fn ts(ms: impl Borrow<i64>) -> String {
    dianxiaoer_core::when::format_ms(*ms.borrow())
}

pub fn ts_opt(ms: impl Borrow<Option<i64>>) -> String {
    ms.borrow().map(dianxiaoer_core::when::format_ms).unwrap_or_else(|| "—".into())
}

pub fn or_dash(s: impl Borrow<Option<String>>) -> String {
    s.borrow().clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

/// A possibly empty text, or a dash.
pub fn or_dash_str(s: &str) -> String {
    if s.is_empty() { "—".into() } else { s.to_string() }
}

/// Page numbers to link: current ± 2, with first and last.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// The current query without `page`, urlencoded, ending in `&` when non-empty.
    pub base: String,
}

impl Pager {
    pub fn new<T>(p: &dianxiaoer_store::Page<T>, base: String) -> Pager {
        Pager { page: p.page, pages: p.pages(), total: p.total, base }
    }

    pub fn links(&self) -> Vec<i64> {
        let mut v: Vec<i64> = vec![1];
        for n in (self.page - 2).max(2)..=(self.page + 2).min(self.pages - 1) {
            v.push(n);
        }
        if self.pages > 1 {
            v.push(self.pages);
        }
        v
    }
}

/// Builds a query string from (key, value) pairs, skipping empty values; ends in `&` when non-empty.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    let mut out = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if !out.is_empty() {
        out.push('&');
    }
    out
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub code: u16,
    pub title: &'a str,
    pub detail: &'a str,
}
