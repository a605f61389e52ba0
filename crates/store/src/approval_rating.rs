//! 好差评 in the database (core: `approval/rating.rs`): the enterprise rates a completed case; a bad
//! rating opens a call-back and a rectification, which staff record; after the rectification the
//! enterprise may rate again (every rating kept, `latest` marks the one that counts). Each write is one
//! transaction with its case event and audit record. The satisfaction figures are in
//! `approval_rating_stats.rs`.

use crate::approval_cases::{Caller, case_in, insert_event};
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, Tx, scope};
use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::rating::{
    Handling, Level, Previous, Refusal, Step, may_handle, may_rate, rating_comment, remedy_due,
};
use dianxiaoer_core::approval::{Calendar, Date};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// One rating of a case, with its call-back and rectification when bad.
#[derive(Debug, Clone, Serialize)]
pub struct RatingRow {
    pub id: i64,
    pub case_id: i64,
    /// The level's code, label and score (5 = 非常满意).
    pub level: String,
    pub level_name: String,
    pub score: i64,
    pub comment: String,
    pub rated_name: String,
    pub rated_at: i64,
    /// The rating that counts (the last one).
    pub latest: bool,
    /// 差评.
    pub bad: bool,
    pub callback_due: Option<String>,
    pub callback_at: Option<i64>,
    pub callback_name: Option<String>,
    pub callback_note: String,
    pub rectify_due: Option<String>,
    pub rectified_at: Option<i64>,
    pub rectified_name: Option<String>,
    pub rectify_note: String,
}

impl RatingRow {
    fn handling(&self) -> Handling {
        Handling { bad: self.bad, called_back: self.callback_at.is_some(), rectified: self.rectified_at.is_some() }
    }

    /// The next step staff owe on this rating, if any.
    pub fn open_step(&self) -> Option<Step> {
        match self.handling() {
            Handling { bad: false, .. } | Handling { rectified: true, .. } => None,
            Handling { called_back: false, .. } => Some(Step::CallBack),
            Handling { .. } => Some(Step::Rectify),
        }
    }
}

/// A bad rating on the list of call-backs and rectifications, with its case.
#[derive(Debug, Clone, Serialize)]
pub struct RatingTaskRow {
    #[serde(flatten)]
    pub rating: RatingRow,
    pub case_no: String,
    pub item_name: String,
    pub enterprise_name: String,
    /// `callback` or `rectify` while open, `None` once rectified.
    pub open_step: Option<String>,
    /// The open step's due date has passed.
    pub overdue: bool,
}

const COLUMNS: &str = "r.id, r.case_id, r.level, r.comment, r.rated_name, r.rated_at, r.latest, r.bad, \
    r.callback_due, r.callback_at, r.callback_name, r.callback_note, r.rectify_due, r.rectified_at, \
    r.rectified_name, r.rectify_note";

pub(crate) fn rating_row(r: &AnyRow) -> Result<RatingRow> {
    let score: i64 = r.try_get("level")?;
    let level = Level::from_score(score).ok_or_else(|| crate::approval::corrupt(format!("rating level {score}")))?;
    Ok(RatingRow {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        level: level.code().to_owned(),
        level_name: level.label().to_owned(),
        score,
        comment: r.try_get("comment")?,
        rated_name: r.try_get("rated_name")?,
        rated_at: r.try_get("rated_at")?,
        latest: r.try_get::<i64, _>("latest")? != 0,
        bad: r.try_get::<i64, _>("bad")? != 0,
        callback_due: r.try_get("callback_due")?,
        callback_at: r.try_get("callback_at")?,
        callback_name: r.try_get("callback_name")?,
        callback_note: r.try_get("callback_note")?,
        rectify_due: r.try_get("rectify_due")?,
        rectified_at: r.try_get("rectified_at")?,
        rectified_name: r.try_get("rectified_name")?,
        rectify_note: r.try_get("rectify_note")?,
    })
}

async fn ratings_in(tx: &mut Tx<'_>, case_id: i64) -> Result<Vec<RatingRow>> {
    let rows =
        sqlx::query(&format!("SELECT {COLUMNS} FROM approval_ratings r WHERE r.case_id = $1 ORDER BY r.id DESC"))
            .bind(case_id)
            .fetch_all(&mut *tx.tx)
            .await?;
    rows.iter().map(rating_row).collect()
}

/// Which bad ratings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskStatus {
    /// Call-back or rectification still owed (soonest due first).
    #[default]
    Open,
    /// Every bad rating (newest first).
    All,
}

impl Store {
    /// The enterprise rates a completed case of its own (core rules). A bad rating opens the
    /// call-back and the rectification with their due dates on `cal`.
    pub async fn rate_case(
        &self,
        caller: &Caller<'_>,
        case_id: i64,
        level: Level,
        comment: &str,
        cal: &Calendar,
        now: i64,
    ) -> Result<RatingRow> {
        let comment = rating_comment(comment).map_err(Error::Invalid)?;
        let mut tx = self.begin().await?;
        let case = case_in(&mut tx, caller.scope, case_id).await?;
        if caller.role != Role::EnterpriseUser {
            return Err(Error::Denied("好差评由申请企业本身评价".into()));
        }
        let before = ratings_in(&mut tx, case_id).await?;
        let previous = before.first().and_then(|r| {
            Level::from_score(r.score).map(|level| Previous { level, rectified: r.rectified_at.is_some() })
        });
        may_rate(&case.state, previous).map_err(Error::Refused)?;
        let facts = sqlx::query("SELECT completed_on, department FROM approval_cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        let (completed_on, department): (Option<String>, String) = (facts.try_get(0)?, facts.try_get(1)?);
        let remedy = level.is_bad().then(|| remedy_due(cal, now));
        sqlx::query("UPDATE approval_ratings SET latest = 0 WHERE case_id = $1 AND latest = 1")
            .bind(case_id)
            .execute(&mut *tx.tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO approval_ratings (case_id, enterprise_id, item_code, department, completed_on, level, \
             comment, rated_by, rated_name, rated_at, latest, bad, callback_due, rectify_due) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13) RETURNING id",
        )
        .bind(case_id)
        .bind(case.enterprise_id)
        .bind(case.item_code.clone())
        .bind(department)
        .bind(completed_on.unwrap_or_else(|| Date::from_ms(now).to_string()))
        .bind(level.score())
        .bind(comment.clone())
        .bind(caller.actor.user_id)
        .bind(caller.actor.username.clone())
        .bind(now)
        .bind(i64::from(level.is_bad()))
        .bind(remedy.map(|r| r.callback_due.to_string()))
        .bind(remedy.map(|r| r.rectify_due.to_string()))
        .fetch_one(&mut *tx.tx)
        .await?;
        let mut text =
            if comment.is_empty() { level.label().to_owned() } else { format!("{}：{comment}", level.label()) };
        if let Some(r) = remedy {
            text.push_str(&format!("（差评：{} 前回访核实，{} 前整改）", r.callback_due, r.rectify_due));
        }
        let name = if before.is_empty() { "评价" } else { "整改后再次评价" };
        let st = case.state.as_str();
        insert_event(&mut tx, case_id, caller.actor, "applicant", ("rate", name), (st, st), &text, None, now).await?;
        let entry = AuditEntry::ok("approval_rating", "approval_case", case_id).detail(json!({
            "case_no": case.case_no, "rating_id": id, "level": level.code(), "again": !before.is_empty(),
            "callback_due": remedy.map(|r| r.callback_due.to_string()),
            "rectify_due": remedy.map(|r| r.rectify_due.to_string()),
        }));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        crate::approval_rating_sums::refresh_rating_sums(&mut tx, &[case_id]).await?;
        let row = ratings_in(&mut tx, case_id).await?.into_iter().find(|r| r.id == id).ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Staff record the call-back or the rectification of a bad rating of a case in scope, with what
    /// was done (core rules: the call-back first, each once).
    pub async fn handle_rating(
        &self,
        caller: &Caller<'_>,
        rating_id: i64,
        step: Step,
        note: &str,
        now: i64,
    ) -> Result<RatingRow> {
        let mut tx = self.begin().await?;
        let case_id: Option<i64> = sqlx::query_scalar("SELECT case_id FROM approval_ratings WHERE id = $1")
            .bind(rating_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        let case = case_in(&mut tx, caller.scope, case_id.ok_or(Error::NotFound)?).await?;
        let rating =
            ratings_in(&mut tx, case.id).await?.into_iter().find(|r| r.id == rating_id).ok_or(Error::NotFound)?;
        let note = may_handle(step, caller.role, rating.handling(), note).map_err(|r| match r {
            Refusal::Role(m) => Error::Denied(m),
            Refusal::State(m) => Error::Refused(m),
        })?;
        let sql = match step {
            Step::CallBack => {
                "UPDATE approval_ratings SET callback_at = $1, callback_by = $2, callback_name = $3, \
                 callback_note = $4 WHERE id = $5 AND callback_at IS NULL"
            }
            Step::Rectify => {
                "UPDATE approval_ratings SET rectified_at = $1, rectified_by = $2, rectified_name = $3, \
                 rectify_note = $4 WHERE id = $5 AND rectified_at IS NULL AND callback_at IS NOT NULL"
            }
        };
        let n = sqlx::query(sql)
            .bind(now)
            .bind(caller.actor.user_id)
            .bind(caller.actor.username.clone())
            .bind(note.clone())
            .bind(rating_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(Error::Conflict("该差评已被他人处理，请刷新后查看".into()));
        }
        let st = case.state.as_str();
        let action = (step.code(), format!("差评{}", step.label()));
        let role = caller.role.code();
        insert_event(&mut tx, case.id, caller.actor, role, (action.0, &action.1), (st, st), &note, None, now).await?;
        let entry = AuditEntry::ok("approval_rating_handle", "approval_case", case.id)
            .detail(json!({"case_no": case.case_no, "rating_id": rating_id, "step": step.code(), "note": note}));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        crate::approval_rating_sums::refresh_rating_sums(&mut tx, &[case.id]).await?;
        let row = ratings_in(&mut tx, case.id).await?.into_iter().find(|r| r.id == rating_id).ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// The ratings of a case in scope, newest first.
    pub async fn case_ratings(&self, scope_: &Scope, case_id: i64) -> Result<Vec<RatingRow>> {
        self.case(scope_, case_id).await?;
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM approval_ratings r WHERE r.case_id = $1 ORDER BY r.id DESC"))
                .bind(case_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(rating_row).collect()
    }

    /// A page of the bad ratings in scope (`status`), with the step owed and whether it is overdue.
    pub async fn rating_tasks(
        &self,
        scope_: &Scope,
        status: TaskStatus,
        today: Date,
        page: i64,
        per_page: i64,
    ) -> Result<Page<RatingTaskRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let filter = |s: &mut Sql| {
            s.push(" AND r.bad = 1");
            if status == TaskStatus::Open {
                s.push(" AND r.rectified_at IS NULL");
            }
            scope::enterprises(s, scope_);
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) FROM approval_ratings r JOIN enterprises e ON e.id = r.enterprise_id WHERE 1 = 1",
        );
        filter(&mut count);
        let total = count.count(self.pool()).await?;
        let mut s = Sql::new(
            "SELECT r.id, r.case_id, r.level, r.comment, r.rated_name, r.rated_at, r.latest, r.bad, r.callback_due, \
             r.callback_at, r.callback_name, r.callback_note, r.rectify_due, r.rectified_at, r.rectified_name, \
             r.rectify_note, c.case_no, c.item_name, e.name AS enterprise_name FROM approval_ratings r \
             JOIN approval_cases c ON c.id = r.case_id JOIN enterprises e ON e.id = r.enterprise_id WHERE 1 = 1",
        );
        filter(&mut s);
        s.push(if status == TaskStatus::Open {
            " ORDER BY CASE WHEN r.callback_at IS NULL THEN r.callback_due ELSE r.rectify_due END, r.id"
        } else {
            " ORDER BY r.id DESC"
        });
        s.push(" LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let items = s
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let rating = rating_row(r)?;
                let step = rating.open_step();
                let due = match step {
                    Some(Step::CallBack) => rating.callback_due.clone(),
                    Some(Step::Rectify) => rating.rectify_due.clone(),
                    None => None,
                };
                Ok(RatingTaskRow {
                    overdue: due.as_deref().and_then(|d| Date::parse(d).ok()).is_some_and(|d| today > d),
                    open_step: step.map(|s| s.code().to_owned()),
                    rating,
                    case_no: r.try_get("case_no")?,
                    item_name: r.try_get("item_name")?,
                    enterprise_name: r.try_get("enterprise_name")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }
}
