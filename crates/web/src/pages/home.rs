//! The home page of each role: what that role looks at first.

use super::approval_cases::with_caller;
use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, Role, permits};
use dianxiaoer_store::{AlarmSummary, AuditFilter, LoginFilter, UserFilter};

/// "Recent" in the gas alarm summaries: the last 7 days.
pub const GAS_RECENT_MS: i64 = 7 * 86_400_000;

pub struct Tile {
    pub href: &'static str,
    pub value: String,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    tiles: Vec<Tile>,
    lines_title: &'static str,
    lines: Vec<(String, String)>,
    /// (code, name, hosted, introduced) per town, for leadership.
    towns: Vec<(String, String, i64, i64)>,
    /// The gas alarm summary of the scope, for roles that read gas alarms.
    gas: Option<AlarmSummary>,
}

pub async fn home(State(state): State<AppState>, Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    let store = &state.store;
    let mut tiles = Vec::new();
    let mut lines = Vec::new();
    let lines_title;
    let mut towns = Vec::new();
    let role = me.user.role;
    let greeting = match role {
        Role::SystemAdmin => "系统管理：用户、角色、部门与网格。系统管理员不能查看业务数据。",
        Role::SecurityAdmin => "安全管理：口令与会话策略、账号锁定与强制下线、审批专用章密钥。",
        Role::AuditAdmin => "安全审计：审计日志、登录日志与审计链校验。",
        Role::Leader => "全区概览。",
        Role::DepartmentStaff => "本部门工作台。",
        Role::GridOfficer => "本网格企业与服务。",
        Role::TownOfficial => "本乡镇（部门）在开发区的企业与项目。",
        Role::EnterpriseUser => "本企业档案与服务。",
        Role::SafetySupervisor => "分配给您的企业。",
    };
    match role {
        Role::SystemAdmin => {
            let all = store.list_users(&UserFilter::default(), 1, 1).await?;
            tiles.push(Tile { href: "/admin/users", value: all.total.to_string(), label: "用户" });
            tiles.push(Tile {
                href: "/admin/org", value: store.departments().await?.len().to_string(), label: "部门"
            });
            tiles.push(Tile { href: "/admin/org", value: store.grids().await?.len().to_string(), label: "网格" });
            lines_title = "各角色用户数";
            for r in Role::ALL {
                let n = store.list_users(&UserFilter { q: None, role: Some(r) }, 1, 1).await?.total;
                lines.push((r.label().to_string(), n.to_string()));
            }
        }
        Role::SecurityAdmin => {
            let now = state.now();
            let users = store.list_users(&UserFilter::default(), 1, 200).await?;
            let locked = users.items.iter().filter(|u| u.is_locked(now)).count();
            let disabled = users.items.iter().filter(|u| u.disabled).count();
            tiles.push(Tile { href: "/security/accounts", value: locked.to_string(), label: "锁定中的账号" });
            tiles.push(Tile { href: "/security/accounts", value: disabled.to_string(), label: "已停用账号" });
            let seal = store.seal_keys().await?.into_iter().find(|k| k.active);
            let seal_until = seal.map_or_else(|| "未生成".to_owned(), |k| format!("至 {}", k.valid_to));
            tiles.push(Tile { href: "/security/seal", value: seal_until, label: "审批专用章有效期" });
            let p = state.policy();
            lines_title = "当前安全策略";
            lines.push(("密码最小长度".into(), p.min_length.to_string()));
            lines.push(("连续失败锁定次数".into(), p.max_failures.to_string()));
            lines.push(("锁定时长（分钟）".into(), p.lockout_minutes.to_string()));
            lines.push(("空闲超时（分钟）".into(), p.idle_timeout_minutes.to_string()));
        }
        Role::AuditAdmin => {
            let audit = store.list_audit(&AuditFilter::default(), 1, 8).await?;
            let failed =
                store.list_logins(&LoginFilter { result: Some("失败".into()), ..Default::default() }, 1, 1).await?;
            tiles.push(Tile { href: "/audit/logs", value: audit.total.to_string(), label: "审计记录" });
            tiles.push(Tile { href: "/audit/logins", value: failed.total.to_string(), label: "登录失败" });
            lines_title = "最近的审计记录";
            for a in audit.items {
                lines.push((format!("{} {} {}", crate::view::ts(a.at), a.username, a.action), a.result));
            }
        }
        _ => {
            let total = store.count_enterprises(&me.scope).await?;
            tiles.push(Tile { href: "/enterprises", value: total.to_string(), label: "企业（数据范围内）" });
            if permits(role, Permission::ReadApprovals) {
                let waiting = with_caller!(me, |caller| store.count_inbox(&caller).await?);
                tiles.push(Tile { href: "/approval/cases", value: waiting.to_string(), label: "待办审批办件" });
            }
            lines_title = "按片区";
            for (area, n) in store.count_enterprises_by_area(&me.scope).await? {
                lines.push((area, n.to_string()));
            }
            if role == Role::Leader {
                let counts = store.count_enterprises_by_town(&me.scope).await?;
                for t in &state.refdata().await?.towns {
                    let (hosted, introduced) = counts.iter().find(|c| c.0 == t.code).map_or((0, 0), |c| (c.1, c.2));
                    towns.push((t.code.clone(), t.name.clone(), hosted, introduced));
                }
            }
        }
    }
    let gas = if permits(role, Permission::ReadGas) {
        Some(store.alarm_summary(&me.scope, None, state.now() - GAS_RECENT_MS).await?)
    } else {
        None
    };
    let page = HomePage {
        chrome: Chrome::new(&me, "/", "首页"),
        greeting: format!("{}，您好。{greeting}", me.user.display_name),
        tiles,
        lines_title,
        lines,
        towns,
        gas,
    };
    render(&page)
}
