//! Taking and assigning approval cases (认领、指派、改派), in the manner of DIGIT's inbox: an open case
//! waits in the inbox of every role that may act on it until someone of that role takes it (or is
//! assigned it); from then on only that person acts for the role, the case is in their inbox alone,
//! and leadership may reassign or release it. The assignment lapses by itself when the case moves to
//! a state the assignee's role does not act in. Each change is an event of the case and audited.

use crate::approval_cases::{Caller, CaseRow, case_in, insert_event};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::{Store, Tx};
use dianxiaoer_core::access::Role;
use dianxiaoer_core::approval::Actor as FlowActor;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

/// The roles a case may be assigned to: those who work cases in the office.
const ASSIGNABLE: [Role; 3] = [Role::DepartmentStaff, Role::GridOfficer, Role::Leader];

/// Someone a case may be assigned to.
#[derive(Debug, Clone, Serialize)]
pub struct AssigneeOption {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub role_label: String,
}

/// Refuses an action by someone of the assignee's role other than the assignee.
pub(crate) fn check_assignee(case: &CaseRow, caller: &Caller<'_>, acting: FlowActor) -> Result<()> {
    let FlowActor::Role(role) = acting else { return Ok(()) };
    match (&case.assignee_id, &case.assignee_role) {
        (Some(id), Some(r)) if r == role.code() && *id != caller.user_id() => Err(Error::Denied(format!(
            "该办件已由{}认领，请由其办理，或请领导改派",
            case.assignee_name.as_deref().unwrap_or("他人")
        ))),
        _ => Ok(()),
    }
}

/// Clears the assignment of a case whose new state the assignee's role does not act in.
pub(crate) async fn lapse(tx: &mut Tx<'_>, case_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE approval_cases SET assignee_id = NULL, assignee_name = NULL, assignee_role = NULL \
         WHERE id = $1 AND assignee_role IS NOT NULL AND actors NOT LIKE '%,' || assignee_role || ',%'",
    )
    .bind(case_id)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

fn role_in(case: &CaseRow, role: Role) -> bool {
    case.actors.iter().any(|a| a == role.code())
}

/// [`Store::case_assignees`] on any connection: one query for every role acting on the case.
async fn assignees<'e, E>(db: E, case: &CaseRow) -> Result<Vec<AssigneeOption>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let roles: Vec<Role> = ASSIGNABLE.into_iter().filter(|r| role_in(case, *r)).collect();
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, u.role FROM users u WHERE u.disabled = 0 AND ($1 LIKE '%,' || u.role || ',%') \
         AND (u.role <> $2 OR u.grid_id = (SELECT e.grid_id FROM enterprises e WHERE e.id = $3)) ORDER BY u.id",
    )
    .bind(format!(",{},", roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")))
    .bind(Role::GridOfficer.code())
    .bind(case.enterprise_id)
    .fetch_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(role) = Role::parse(&r.try_get::<String, _>(2)?) else { continue };
        out.push(AssigneeOption {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            role: role.code().to_owned(),
            role_label: role.label().to_owned(),
        });
    }
    out.sort_by_key(|o| (ASSIGNABLE.iter().position(|r| r.code() == o.role), o.id));
    Ok(out)
}

impl Store {
    /// Who may be assigned `case` (read within the caller's scope) now: active accounts of a role
    /// that acts in its state (grid officers only of the enterprise's grid), by role, then id.
    pub async fn case_assignees(&self, case: &CaseRow) -> Result<Vec<AssigneeOption>> {
        assignees(self.pool(), case).await
    }

    /// Takes (`to` = the caller), assigns (`to` = someone else) or releases (`to` = `None`) a case.
    /// Taking needs the caller's role to act in the case's state and the case to be free (or already
    /// the caller's); assigning to someone else and releasing are for the current assignee (handing
    /// over within the role) and for leadership (改派) — a free case may be assigned by anyone of a
    /// role that acts on it. The target must be one of [`Store::case_assignees`].
    pub async fn assign_case(&self, caller: &Caller<'_>, case_id: i64, to: Option<i64>, now: i64) -> Result<CaseRow> {
        let mut tx = self.begin().await?;
        let case = case_in(&mut tx, caller.scope, case_id).await?;
        let options = assignees(&mut *tx.tx, &case).await?;
        if case.actors.is_empty() {
            return Err(Error::Refused("办件已办结或终止，无需认领".into()));
        }
        let me = caller.user_id();
        let leader = caller.role == Role::Leader;
        let mine = case.assignee_id == Some(me);
        let acts = role_in(&case, caller.role) && ASSIGNABLE.contains(&caller.role);
        let (action, name, target) = match to {
            None => {
                if case.assignee_id.is_none() {
                    return Err(Error::Refused("该办件尚无人认领".into()));
                }
                if !(mine || leader) {
                    return Err(Error::Denied("只有承办人本人或领导可以退回待认领".into()));
                }
                ("release", "退回待认领", None)
            }
            Some(id) if id == me => {
                if !acts {
                    return Err(Error::Denied(format!("办件当前状态“{}”不由您的角色办理，不能认领", case.state_name)));
                }
                if mine {
                    return Err(Error::Refused("您已认领该办件".into()));
                }
                if case.assignee_id.is_some() && !leader {
                    return Err(Error::Conflict(format!(
                        "该办件已由{}认领，请由其办理，或请领导改派",
                        case.assignee_name.as_deref().unwrap_or("他人")
                    )));
                }
                let o = options.iter().find(|o| o.id == me).ok_or_else(|| Error::Denied("您不能认领该办件".into()))?;
                ("take", "认领", Some(o.clone()))
            }
            Some(id) => {
                let free = case.assignee_id.is_none() && acts;
                if !(mine || leader || free) {
                    return Err(Error::Denied("只有承办人本人、领导或可办理该办件的人员可以指派".into()));
                }
                let o = options.iter().find(|o| o.id == id).ok_or_else(|| {
                    Error::Invalid("所选人员不能承办该办件：角色在当前状态不办理，或不在其网格".into())
                })?;
                if case.assignee_id == Some(id) {
                    return Err(Error::Refused(format!("该办件已由{}承办", o.name)));
                }
                ("assign", if case.assignee_id.is_some() { "改派" } else { "指派" }, Some(o.clone()))
            }
        };
        let n = sqlx::query(
            "UPDATE approval_cases SET assignee_id = $1, assignee_name = $2, assignee_role = $3, updated_at = $4 \
             WHERE id = $5 AND state = $6 AND COALESCE(assignee_id, 0) = $7",
        )
        .bind(target.as_ref().map(|o| o.id))
        .bind(target.as_ref().map(|o| o.name.clone()))
        .bind(target.as_ref().map(|o| o.role.clone()))
        .bind(now)
        .bind(case_id)
        .bind(case.state.clone())
        .bind(case.assignee_id.unwrap_or(0))
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(Error::Conflict("办件已被他人改变，请刷新后重试".into()));
        }
        let comment = match (&target, &case.assignee_name) {
            (Some(o), Some(before)) => format!("{before} → {}（{}）", o.name, o.role_label),
            (Some(o), None) => format!("{}（{}）", o.name, o.role_label),
            (None, Some(before)) => format!("{before} 退回待认领"),
            (None, None) => String::new(),
        };
        let role = caller.role.code();
        insert_event(
            &mut tx,
            case_id,
            caller.actor,
            role,
            (action, name),
            (&case.state, &case.state),
            &comment,
            None,
            now,
        )
        .await?;
        let entry = AuditEntry::ok("approval_assign", "approval_case", case_id).detail(json!({
            "case_no": case.case_no, "action": action, "from": case.assignee_id, "to": target.as_ref().map(|o| o.id),
        }));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        let row = case_in(&mut tx, caller.scope, case_id).await?;
        tx.commit().await?;
        Ok(row)
    }
}
