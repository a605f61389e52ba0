//! Bulk loading of finished and running cases with their whole history (the demo's year of cases, a
//! migration from an older system): each case's events are replayed on its item's workflow, so the
//! state, the clock (acceptance, 补正 pauses, deadline), the working days left at each event and the
//! completion figures (and the follow-up's due date) come out exactly as if the actions had been taken
//! one by one. One transaction and one audit record for the whole batch; case numbers from the same
//! yearly counter as filing.

use crate::approval::{category_code, corrupt, parse_flow, parse_item};
use crate::approval_actions::is_completion;
use crate::approval_cases::{actors_text, clean_names, names_json};
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::{Store, Tx};
use dianxiaoer_core::approval::case::{actors_in, case_no, clock_effect, days_left};
use dianxiaoer_core::approval::{ApprovalItem, Calendar, Date, Pause, Workflow, WorkingDays};
use std::collections::{BTreeMap, HashMap};

/// One action of a historical case, in the order taken.
#[derive(Debug, Clone)]
pub struct HistoricalEvent {
    /// The action's code in the item's workflow.
    pub action: String,
    pub at: i64,
    /// Who took it, and as whom (the applicant or a role).
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub actor: dianxiaoer_core::approval::Actor,
    pub comment: String,
}

/// A case with its history, filed under the item's current version.
#[derive(Debug, Clone)]
pub struct HistoricalCase {
    pub item_code: String,
    pub enterprise_id: i64,
    /// The filer: the enterprise's user, or staff / a grid officer (`agency`, 帮代办).
    pub applicant_id: i64,
    pub applicant_name: String,
    /// The filer's role code when `agency`.
    pub agency_role: Option<String>,
    pub filed_at: i64,
    pub materials: Vec<String>,
    /// Non-key materials still missing at the end (容缺待补).
    pub missing: Vec<String>,
    pub events: Vec<HistoricalEvent>,
}

/// A replayed case, ready to be written.
struct Replayed {
    state: String,
    state_name: String,
    actors: String,
    received: Option<i64>,
    deadline: Option<String>,
    paused: Option<i64>,
    pauses: Vec<Pause>,
    /// (from, to, action name, working days left) per event.
    steps: Vec<(String, String, String, Option<i64>)>,
    completed: Option<(i64, i64)>,
    /// When the case first entered 办结 proper (its follow-up is due from then).
    finished: Option<i64>,
}

fn replay(flow: &Workflow, cal: &Calendar, limit: WorkingDays, c: &HistoricalCase) -> Result<Replayed> {
    let bad = |what: String| Error::Invalid(format!("历史办件（{}）：{what}", c.item_code));
    let mut state = flow.initial_state().ok_or_else(|| corrupt(format!("flow of {} has no initial", c.item_code)))?;
    let mut r = Replayed {
        state: String::new(),
        state_name: String::new(),
        actors: String::new(),
        received: None,
        deadline: None,
        paused: None,
        pauses: Vec::new(),
        steps: Vec::new(),
        completed: None,
        finished: None,
    };
    let mut last = c.filed_at;
    for e in &c.events {
        if e.at < last {
            return Err(bad(format!("“{}”早于上一步", e.action)));
        }
        last = e.at;
        let to = flow.apply(&state.code, &e.action, e.actor).map_err(|x| bad(x.to_string()))?;
        let name =
            flow.actions_from(&state.code).find(|a| a.code == e.action).map_or(e.action.clone(), |a| a.name.clone());
        let effect = clock_effect(state, to, r.received.is_some());
        if effect.start {
            r.received = Some(e.at);
            r.deadline = Some(cal.deadline(e.at, limit).to_string());
        }
        if effect.pause {
            r.pauses.push(Pause::new(e.at, None).map_err(|x| corrupt(x.message))?);
            r.paused = Some(e.at);
        }
        if effect.resume {
            r.pauses = r
                .pauses
                .iter()
                .map(|p| if p.is_running() { Pause::new(p.from_ms(), Some(e.at.max(p.from_ms()))) } else { Ok(*p) })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|x| corrupt(x.message))?;
            r.paused = None;
            if let Some(rec) = r.received {
                r.deadline = cal.deadline_paused(rec, limit, &r.pauses).map(|d| d.to_string());
            }
        }
        let left = r.received.map(|rec| days_left(cal, rec, e.at, limit.get(), &r.pauses));
        if is_completion(&to.code) && r.completed.is_none() {
            let used = r.received.map_or(0, |rec| cal.elapsed_working_days_paused(rec, e.at, &r.pauses));
            r.completed = Some((e.at, i64::from(used)));
        }
        if to.code == dianxiaoer_core::approval::default_flow::state::COMPLETED && r.finished.is_none() {
            r.finished = Some(e.at);
        }
        r.steps.push((state.code.clone(), to.code.clone(), name, left));
        state = to;
    }
    r.state = state.code.clone();
    r.state_name = state.name.clone();
    r.actors = actors_text(&actors_in(flow, &state.code));
    Ok(r)
}

impl Store {
    /// Writes `cases` with their events and pauses (module docs). Every item must be in the catalogue
    /// and every event allowed by its workflow, or nothing is written. Returns how many were written.
    pub async fn insert_historical_cases(&self, actor: &Actor, cases: &[HistoricalCase], now: i64) -> Result<u64> {
        Ok(self.insert_historical_case_ids(actor, cases, now).await?.len() as u64)
    }

    /// [`Store::insert_historical_cases`], answering the new cases' ids in the order of `cases` (to
    /// attach their ratings and checks, `approval_aftercare_history.rs`).
    pub async fn insert_historical_case_ids(
        &self,
        actor: &Actor,
        cases: &[HistoricalCase],
        now: i64,
    ) -> Result<Vec<i64>> {
        let cal = self.calendar().await?;
        let mut tx = self.begin().await?;
        let mut items: HashMap<String, (ApprovalItem, Workflow)> = HashMap::new();
        for c in cases {
            if items.contains_key(&c.item_code) {
                continue;
            }
            let raw: Option<String> =
                sqlx::query_scalar("SELECT item_json FROM approval_items WHERE code = $1 AND active = 1")
                    .bind(c.item_code.clone())
                    .fetch_optional(&mut *tx.tx)
                    .await?;
            let item = parse_item(&raw.ok_or_else(|| Error::Invalid(format!("审批事项 {} 不存在", c.item_code)))?)?;
            let flow_json: String = sqlx::query_scalar(
                "SELECT flow_json FROM approval_workflows WHERE item_code = $1 AND item_version = $2",
            )
            .bind(c.item_code.clone())
            .bind(i64::from(item.version))
            .fetch_one(&mut *tx.tx)
            .await?;
            items.insert(c.item_code.clone(), (item, parse_flow(&flow_json)?));
        }
        // Case numbers: a block per year from the counter, given in filing order.
        let mut order: Vec<usize> = (0..cases.len()).collect();
        order.sort_by_key(|&i| cases.get(i).map_or(0, |c| c.filed_at));
        let mut per_year: BTreeMap<i32, i64> = BTreeMap::new();
        for c in cases {
            *per_year.entry(Date::from_ms(c.filed_at).year()).or_default() += 1;
        }
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for (year, n) in &per_year {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO approval_counters (year, last) VALUES ($1, $2) \
                 ON CONFLICT (year) DO UPDATE SET last = approval_counters.last + $2 RETURNING last",
            )
            .bind(i64::from(*year))
            .bind(*n)
            .fetch_one(&mut *tx.tx)
            .await?;
            next.insert(*year, last - n + 1);
        }
        let policy = crate::approval_aftercare::policy_in(&mut tx).await?;
        let mut ids = vec![0; cases.len()];
        for i in order {
            let Some(c) = cases.get(i) else { continue };
            let Some((item, flow)) = items.get(&c.item_code) else { continue };
            let year = Date::from_ms(c.filed_at).year();
            let seq = next.get(&year).copied().unwrap_or(1);
            next.insert(year, seq + 1);
            let follow_up = |at: i64| policy.follow_up_due(&cal, at).to_string();
            let id = self.insert_one(&mut tx, &cal, item, flow, c, &case_no(year, seq), &follow_up).await?;
            if let Some(slot) = ids.get_mut(i) {
                *slot = id;
            }
        }
        crate::approval_stats_days::count_completions(&mut tx, &ids).await?;
        let entry =
            AuditEntry::ok("bulk_insert", "approval_case", "batch").detail(serde_json::json!({"rows": cases.len()}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(ids)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_one(
        &self,
        tx: &mut Tx<'_>,
        cal: &Calendar,
        item: &ApprovalItem,
        flow: &Workflow,
        c: &HistoricalCase,
        no: &str,
        follow_up: &dyn Fn(i64) -> String,
    ) -> Result<i64> {
        let r = replay(flow, cal, item.promised_limit, c)?;
        let mut s = Sql::new(
            "INSERT INTO approval_cases (case_no, item_code, item_version, item_name, enterprise_id, applicant_id, \
             agency, state, state_name, actors, materials, missing, limit_days, received_at, deadline, paused_ms, \
             note, created_at, updated_at, category, department, statutory_days, completed_at, completed_on, \
             elapsed_days, follow_up_due) VALUES (",
        );
        s.text(no).push(", ").text(item.code.as_str()).push(", ").i64(i64::from(item.version));
        s.push(", ").text(item.name.trim()).push(", ").i64(c.enterprise_id).push(", ").i64(c.applicant_id);
        s.push(", ").i64(i64::from(c.agency_role.is_some())).push(", ").text(r.state.clone());
        s.push(", ").text(r.state_name.clone()).push(", ").text(r.actors.clone());
        s.push(", ").text(names_json(&clean_names(&c.materials))).push(", ").text(names_json(&c.missing));
        s.push(", ").i64(i64::from(item.promised_limit.get())).push(", ").opt_i64(r.received);
        s.push(", ").opt_text(r.deadline.clone()).push(", ").opt_i64(r.paused).push(", ").text("");
        let updated = c.events.last().map_or(c.filed_at, |e| e.at);
        s.push(", ").i64(c.filed_at).push(", ").i64(updated).push(", ").text(category_code(item.category));
        s.push(", ").text(item.department.trim()).push(", ").i64(i64::from(item.statutory_limit.get()));
        s.push(", ").opt_i64(r.completed.map(|x| x.0));
        s.push(", ").opt_text(r.completed.map(|x| Date::from_ms(x.0).to_string()));
        s.push(", ").opt_i64(r.completed.map(|x| x.1)).push(", ").opt_text(r.finished.map(follow_up));
        s.push(") RETURNING id");
        let id: i64 = sqlx::Row::try_get(&s.for_backend(self.backend()).query().fetch_one(&mut *tx.tx).await?, 0)?;

        let mut ev = Sql::new(
            "INSERT INTO approval_case_events (case_id, at, actor_id, actor_name, actor_role, action, action_name, \
             from_state, to_state, comment, sla_left_days) VALUES (",
        );
        let (file_role, file_name) = match &c.agency_role {
            Some(role) => (role.clone(), "帮代办申请"),
            None => ("applicant".to_owned(), "申请"),
        };
        let initial = flow.initial.clone();
        ev.i64(id).push(", ").i64(c.filed_at).push(", ").i64(c.applicant_id).push(", ");
        ev.text(c.applicant_name.clone()).push(", ").text(file_role).push(", ").text("file").push(", ");
        ev.text(file_name).push(", ").text("").push(", ").text(initial).push(", ").text("").push(", NULL)");
        for (e, (from, to, name, left)) in c.events.iter().zip(&r.steps) {
            ev.push(", (").i64(id).push(", ").i64(e.at).push(", ").opt_i64(e.actor_id).push(", ");
            ev.text(e.actor_name.clone()).push(", ").text(e.actor.code()).push(", ").text(e.action.clone());
            ev.push(", ").text(name.clone()).push(", ").text(from.clone()).push(", ").text(to.clone());
            ev.push(", ").text(e.comment.clone()).push(", ").opt_i64(*left).push(")");
        }
        ev.for_backend(self.backend()).query().execute(&mut *tx.tx).await?;
        if !r.pauses.is_empty() {
            let mut ps = Sql::new("INSERT INTO approval_case_pauses (case_id, from_ms, until_ms) VALUES ");
            for (k, p) in r.pauses.iter().enumerate() {
                ps.push(if k == 0 { "(" } else { ", (" });
                ps.i64(id).push(", ").i64(p.from_ms()).push(", ").opt_i64(p.until_ms()).push(")");
            }
            ps.for_backend(self.backend()).query().execute(&mut *tx.tx).await?;
        }
        Ok(id)
    }
}
