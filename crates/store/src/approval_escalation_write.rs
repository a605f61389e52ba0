//! Writing escalations in bulk for the escalation job (`approval_escalation.rs`). A batch of up to
//! [`ESCALATION_BATCH`] cases costs five statements and one audit record whatever its size: the keys
//! (which also tell which cases a second run or a second instance already escalated), the cases'
//! facts, the pauses of those whose working days left are shown, the events, and one audit record
//! naming every case. A backlog of thousands (after a holiday, an import or an outage) is then
//! written in well under a second instead of one case at a time.

use crate::approval::corrupt;
use crate::audit::{Actor, AuditEntry};
use crate::error::Result;
use crate::sql::Sql;
use crate::{Store, Tx};
use dianxiaoer_core::approval::case::days_left;
use dianxiaoer_core::approval::{Calendar, Pause};
use serde_json::json;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// Escalations written per transaction: bounded so that a statement stays far below either
/// backend's parameter limit (11 per event) and a failing batch costs little to retry.
pub(crate) const ESCALATION_BATCH: usize = 500;

/// One escalation to record.
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub id: i64,
    pub no: String,
    /// `overdue`, `unaccepted`, `remind`, `post_check`, `callback:<rating>`, `rectify:<rating>`.
    pub level: String,
    pub comment: String,
}

impl Due {
    pub(crate) fn new(id: i64, no: String, level: impl Into<String>, comment: impl Into<String>) -> Due {
        Due { id, no, level: level.into(), comment: comment.into() }
    }

    /// Whether the event shows the working days left of the case's own limit: only while the case
    /// is open (after the decision they say nothing about the check or the rating).
    fn counts_days(&self) -> bool {
        matches!(self.level.as_str(), "overdue" | "unaccepted" | "remind")
    }
}

/// The event name of an escalation level.
pub(crate) fn level_name(level: &str) -> &'static str {
    match level.split(':').next().unwrap_or_default() {
        "overdue" => "超期督办",
        "unaccepted" => "受理督办",
        "post_check" => "核查督办",
        "callback" => "回访核实督办",
        "rectify" => "整改督办",
        "remind" => "容缺补正提醒",
        _ => "督办",
    }
}

struct Facts {
    state: String,
    received: Option<i64>,
    limit: i64,
    deadline: Option<String>,
}

/// `(… $a, $b …)` of the ids, for `IN`.
fn id_list(s: &mut Sql, ids: &[i64]) {
    s.push("(");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.i64(*id);
    }
    s.push(")");
}

impl Store {
    /// Records `due`, [`ESCALATION_BATCH`] to a transaction; a batch that fails is retried case by
    /// case, and a case that fails alone is logged and skipped, so one bad case holds up no other.
    /// Answers the case numbers escalated (those already escalated at that level are left out).
    pub(crate) async fn escalate_many(
        &self,
        actor: &Actor,
        cal: &Calendar,
        due: Vec<Due>,
        now: i64,
    ) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for chunk in due.chunks(ESCALATION_BATCH) {
            let mut tx = self.begin().await?;
            match self.escalate_batch(&mut tx, actor, cal, chunk, now).await {
                Ok(nos) => {
                    tx.commit().await?;
                    done.extend(nos);
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "escalation batch failed; retrying case by case"),
            }
            drop(tx);
            for one in chunk.chunks(1) {
                let mut tx = self.begin().await?;
                match self.escalate_batch(&mut tx, actor, cal, one, now).await {
                    Ok(nos) => {
                        tx.commit().await?;
                        done.extend(nos);
                    }
                    Err(e) => {
                        let no = one.first().map(|d| d.no.as_str()).unwrap_or_default();
                        tracing::warn!(case = %no, error = %e, "escalation failed; skipped until the next run");
                    }
                }
            }
        }
        Ok(done)
    }

    /// One batch in `tx` (module docs).
    async fn escalate_batch(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        cal: &Calendar,
        chunk: &[Due],
        now: i64,
    ) -> Result<Vec<String>> {
        if chunk.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = Sql::new("INSERT INTO approval_escalations (case_id, level, at) VALUES ");
        for (i, d) in chunk.iter().enumerate() {
            keys.push(if i == 0 { "(" } else { ", (" });
            keys.i64(d.id).push(", ").text(d.level.clone()).push(", ").i64(now).push(")");
        }
        keys.push(" ON CONFLICT DO NOTHING RETURNING case_id, level");
        let keys = keys.into_backend(tx.backend);
        let mut new = HashSet::new();
        for r in keys.query().fetch_all(&mut *tx.tx).await? {
            new.insert((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?));
        }
        let fresh: Vec<&Due> = chunk.iter().filter(|d| new.contains(&(d.id, d.level.clone()))).collect();
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = fresh.iter().map(|d| d.id).collect();
        let mut q = Sql::new("SELECT id, state, received_at, limit_days, deadline FROM approval_cases WHERE id IN ");
        id_list(&mut q, &ids);
        let mut facts = HashMap::with_capacity(ids.len());
        for r in q.into_backend(tx.backend).query().fetch_all(&mut *tx.tx).await? {
            let f =
                Facts { state: r.try_get(1)?, received: r.try_get(2)?, limit: r.try_get(3)?, deadline: r.try_get(4)? };
            facts.insert(r.try_get::<i64, _>(0)?, f);
        }
        let clocked: Vec<i64> = fresh.iter().filter(|d| d.counts_days()).map(|d| d.id).collect();
        let mut pauses: HashMap<i64, Vec<Pause>> = HashMap::new();
        if !clocked.is_empty() {
            let mut q = Sql::new("SELECT case_id, from_ms, until_ms FROM approval_case_pauses WHERE case_id IN ");
            id_list(&mut q, &clocked);
            q.push(" ORDER BY case_id, id");
            for r in q.into_backend(tx.backend).query().fetch_all(&mut *tx.tx).await? {
                let id: i64 = r.try_get(0)?;
                let p = Pause::new(r.try_get(1)?, r.try_get(2)?).map_err(|e| corrupt(format!("pause of {id}: {e}")))?;
                pauses.entry(id).or_default().push(p);
            }
        }
        let mut events = Sql::new(
            "INSERT INTO approval_case_events (case_id, at, actor_id, actor_name, actor_role, action, action_name, \
             from_state, to_state, comment, sla_left_days) VALUES ",
        );
        let mut listed = Vec::with_capacity(fresh.len());
        let mut nos = Vec::with_capacity(fresh.len());
        for (i, d) in fresh.iter().enumerate() {
            let f = facts.get(&d.id).ok_or_else(|| corrupt(format!("escalated case {} is missing", d.id)))?;
            let left = match (d.counts_days(), f.received) {
                (true, Some(rec)) => {
                    let limit = u32::try_from(f.limit).unwrap_or(0);
                    Some(days_left(cal, rec, now, limit, pauses.get(&d.id).map_or(&[][..], Vec::as_slice)))
                }
                _ => None,
            };
            events.push(if i == 0 { "(" } else { ", (" });
            events.i64(d.id).push(", ").i64(now).push(", ").opt_i64(actor.user_id).push(", ");
            events.text(actor.username.clone()).push(", ").text("system").push(", ").text("escalate").push(", ");
            events.text(level_name(&d.level)).push(", ").text(f.state.clone()).push(", ").text(f.state.clone());
            events.push(", ").text(d.comment.clone()).push(", ").opt_i64(left).push(")");
            listed.push(json!({
                "case_id": d.id, "case_no": d.no, "level": d.level, "state": f.state, "deadline": f.deadline,
                "sla_left_days": left, "to": if d.level == "remind" { "applicant" } else { "leader" },
            }));
            nos.push(d.no.clone());
        }
        events.into_backend(tx.backend).query().execute(&mut *tx.tx).await?;
        let object = match fresh.as_slice() {
            [one] => one.id.to_string(),
            _ => "batch".to_owned(),
        };
        let entry = AuditEntry::ok("approval_escalate", "approval_case", object)
            .detail(json!({ "count": listed.len(), "cases": listed }));
        self.audit(tx, actor, entry, now).await?;
        Ok(nos)
    }
}
