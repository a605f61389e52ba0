//! The demo's approval cases (审批办件): the year 2021 with exactly the article's 553 completed cases
//! (工商 125, 立项准入 181, 环评 39, 规划 61, 工程 147), and open cases in every state for today. Pure
//! and deterministic: the timelines follow the default workflow (submit → accept, some 容缺受理 →
//! review, some 补正 pauses → decide → complete → follow-up) on the statutory working-day calendar.
//!
//! Completions fall on 2021 working days with seasonal weights: few around the Spring Festival
//! (12 February 2021), more in the spring and autumn construction seasons. Most cases use 15–60 % of
//! the promised limit (the zone reports a speed-up of more than half), about 3 % finish late. About a
//! quarter are filed on the enterprise's behalf (帮代办) by a grid officer or staff. The ratings and the
//! 告知承诺 checks that follow the decisions come from `demo_aftercare.rs`.
//!
//! Every decision of 准予 has its sealed certificate: a seal key valid 2021–2023 signs the 2021 ones,
//! then a rotation brings the key in use today, which signs the open cases' decisions.

use crate::demo_data::{DemoEnterprise, Rng};
use dianxiaoer_core::access::{Attachment, Role, Scope};
use dianxiaoer_core::approval::Actor as FlowActor;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::{
    Actor as AuditActor, Caller, DocumentUpload, HistoricalAftercare, HistoricalBy, HistoricalCase,
    HistoricalCommitment, HistoricalEvent, HistoricalRating, HistoricalStep, NewUser, Store,
};
use std::collections::HashMap;

/// The demo's seed (the same as the rest of the demo).
const SEED: u64 = 371_323;
use dianxiaoer_core::approval::aftercare::AftercarePolicy;
use dianxiaoer_core::approval::certificate::Validity;
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::{ApprovalItem, Calendar, Catalogue, Category, Date};

/// The article's 553 approvals of 2021 by category.
pub const COUNTS_2021: [(Category, usize); 5] = [
    (Category::Business, 125),
    (Category::ProjectAdmission, 181),
    (Category::Environment, 39),
    (Category::Planning, 61),
    (Category::Construction, 147),
];

const TAG: u64 = 0x5350_2021;
const MINUTE: i64 = 60_000;

/// Who takes an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The filer, as the applicant.
    Filer,
    Staff,
    Leader,
    Grid,
}

/// Who filed the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    /// The enterprise's own account (the `n`-th enterprise with one).
    Enterprise,
    /// 帮代办 by the grid officer of the enterprise's grid.
    Grid,
    /// 帮代办 by staff of the service centre.
    Staff,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEvent {
    pub action: &'static str,
    pub at: i64,
    pub by: By,
    pub comment: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCase {
    pub item_code: String,
    pub category: Category,
    /// Index into the demo population.
    pub enterprise: usize,
    pub filer: Filer,
    pub filed_at: i64,
    pub materials: Vec<String>,
    pub missing: Vec<String>,
    pub events: Vec<DemoEvent>,
}

fn at(day: Date, minute: u32) -> i64 {
    day.start_ms() + i64::from(minute) * MINUTE
}

/// Relative weight of a completion day: seasons and the Spring Festival.
fn weight(d: Date) -> u32 {
    const MONTH: [u32; 12] = [80, 50, 120, 130, 120, 100, 90, 90, 125, 115, 105, 85];
    if d.month() == 2 && d.day() <= 26 {
        return 30;
    }
    MONTH.get(d.month() as usize - 1).copied().unwrap_or(100)
}

fn working_days(cal: &Calendar, year: i32) -> Vec<Date> {
    let (Some(mut d), Some(last)) = (Date::new(year, 1, 1), Date::new(year, 12, 31)) else { return Vec::new() };
    let mut out = Vec::new();
    while d <= last {
        if cal.is_working_day(d) {
            out.push(d);
        }
        d = d.next();
    }
    out
}

fn handed_in(item: &ApprovalItem) -> Vec<String> {
    item.materials.iter().filter(|m| !m.fetchable).map(|m| m.name.clone()).collect()
}

/// Non-key materials an applicant may still owe under 容缺受理.
fn deferrable(item: &ApprovalItem) -> Vec<String> {
    item.materials.iter().filter(|m| !m.fetchable && !m.key).map(|m| m.name.clone()).collect()
}

fn filer(rng: &mut Rng, enterprises: usize, accounts: usize, grid_of: &dyn Fn(usize) -> usize) -> (Filer, usize) {
    if accounts > 0 && rng.chance(0.75) {
        return (Filer::Enterprise, rng.below(accounts));
    }
    let e = rng.below(enterprises.max(1));
    (if grid_of(e) == 0 { Filer::Grid } else { Filer::Staff }, e)
}

/// The 553 completed cases of 2021 (module docs) over the first `enterprises` of the population, of
/// which the first `accounts` have their own user; `grid_of` gives an enterprise's grid index.
pub fn year_2021(seed: u64, enterprises: usize, accounts: usize, grid_of: &dyn Fn(usize) -> usize) -> Vec<DemoCase> {
    year_cases(seed, 2021, &COUNTS_2021, enterprises, accounts, grid_of)
}

/// The completed cases of a year, `counts` per category, spread over its working days like 2021's
/// (also the benchmark's millions of cases, year after year).
pub fn year_cases(
    seed: u64,
    year: i32,
    counts: &[(Category, usize)],
    enterprises: usize,
    accounts: usize,
    grid_of: &dyn Fn(usize) -> usize,
) -> Vec<DemoCase> {
    let cal = Calendar::statutory();
    let days = working_days(&cal, year);
    let mut cumulative = Vec::with_capacity(days.len());
    let mut total = 0u32;
    for d in &days {
        total += weight(*d);
        cumulative.push(total);
    }
    let catalogue = Catalogue::builtin();
    let mut out = Vec::with_capacity(counts.iter().map(|c| c.1).sum());
    for &(category, count) in counts {
        let items: Vec<&ApprovalItem> = catalogue.in_category(category).collect();
        for _ in 0..count {
            let mut rng = Rng::stream(seed, TAG, out.len() as u64);
            let Some(item) = rng.pick(&items).copied() else { continue };
            let pick = rng.range(0, total.saturating_sub(1));
            let idx = cumulative.partition_point(|&c| c <= pick).min(days.len().saturating_sub(1));
            if let Some(c) = one_2021(&mut rng, item, &days, idx, enterprises, accounts, grid_of) {
                out.push(c);
            }
        }
    }
    out
}

fn one_2021(
    rng: &mut Rng,
    item: &ApprovalItem,
    days: &[Date],
    idx: usize,
    enterprises: usize,
    accounts: usize,
    grid_of: &dyn Fn(usize) -> usize,
) -> Option<DemoCase> {
    let limit = item.promised_limit.get() as usize;
    let elapsed = if limit == 0 {
        0
    } else if rng.chance(0.03) {
        limit + rng.range(1, 3) as usize
    } else {
        ((limit as f64) * (0.15 + 0.45 * rng.unit())).round() as usize
    };
    let pause = if elapsed >= 2 && rng.chance(0.15) { rng.range(1, 3) as usize } else { 0 };
    let span = elapsed + pause;
    let deficient = item.deficiency_acceptance && span >= 1 && rng.chance(0.2);
    let early = usize::from(rng.chance(0.4));
    let idx = idx.max(span + early);
    let (day0, submit_day) = (idx - span, idx - span - early);
    let (who, enterprise) = filer(rng, enterprises, accounts, grid_of);
    let submit_minute = rng.range(520, 660);
    let filed_at = at(*days.get(submit_day)?, submit_minute - rng.range(5, 30));
    let mut ev = Vec::new();
    let mut push = |action, day: usize, minute: u32, by, comment| -> Option<()> {
        ev.push(DemoEvent { action, at: at(*days.get(day)?, minute), by, comment });
        Some(())
    };
    push(a::SUBMIT, submit_day, submit_minute, By::Filer, "")?;
    let accept_minute = if early == 0 { submit_minute + rng.range(20, 90) } else { rng.range(540, 660) };
    if deficient {
        push(a::ACCEPT_DEFICIENT, day0, accept_minute, By::Staff, "")?;
        push(a::SUPPLY, day0 + 1, 600, By::Filer, "")?;
    } else {
        push(a::ACCEPT, day0, accept_minute, By::Staff, "")?;
    }
    if pause > 0 {
        let from = day0 + rng.range(1, (elapsed - 1) as u32) as usize;
        push(a::REQUEST_CORRECTION, from, 660, By::Staff, "申请材料内容不完整，请补正")?;
        push(a::SUBMIT_CORRECTION, from + pause, 600, By::Filer, "")?;
    }
    push(a::SUBMIT_FOR_DECISION, idx, 840 + rng.range(0, 30), By::Staff, "")?;
    let decider = if rng.chance(0.3) { By::Leader } else { By::Staff };
    if rng.chance(0.03) {
        push(a::REFUSE, idx, 900 + rng.range(0, 30), decider, "不符合法定条件")?;
    } else {
        push(a::APPROVE, idx, 900 + rng.range(0, 30), decider, "")?;
    }
    push(a::COMPLETE, idx, 960 + rng.range(0, 40), By::Staff, "")?;
    let visit = idx + rng.range(2, 6) as usize;
    if visit < days.len() && rng.chance(0.9) {
        let by = if who == Filer::Grid { By::Grid } else { By::Staff };
        push(a::FOLLOW_UP, visit, 600, by, "")?;
    }
    Some(DemoCase {
        item_code: item.code.to_string(),
        category: item.category,
        enterprise,
        filer: who,
        filed_at,
        materials: handed_in(item),
        missing: Vec::new(),
        events: ev,
    })
}

/// The open cases of today: a few in every state of the default flow, dated by working days before
/// `today` (none on `today` itself, so all lie in the past whatever the hour), including one overdue
/// in review, one submitted long ago and never accepted, and one 容缺 case past its deadline.
pub fn open_today(
    seed: u64,
    today: Date,
    enterprises: usize,
    accounts: usize,
    grid_of: &dyn Fn(usize) -> usize,
) -> Vec<DemoCase> {
    let cal = Calendar::statutory();
    let mut back = Vec::new();
    let mut d = today;
    while back.len() < 250 {
        d = d.add_days(-1);
        if cal.is_working_day(d) {
            back.push(d);
        }
    }
    let catalogue = Catalogue::builtin();
    let with = |f: &dyn Fn(&ApprovalItem) -> bool| catalogue.items().iter().filter(|i| f(i)).collect::<Vec<_>>();
    let plain = with(&|i| i.promised_limit.get() >= 5);
    let deficient = with(&|i| i.promised_limit.get() >= 3 && i.deficiency_acceptance && !deferrable(i).is_empty());
    let commitment = with(&|i| i.promised_limit.get() >= 3 && i.commitment_approval);
    // (items, steps as (action, working days ago, minute, by)).
    type Step = (&'static str, usize, u32, By);
    let l = |i: &ApprovalItem| i.promised_limit.get() as usize;
    let mut scripts: Vec<(&ApprovalItem, Vec<Step>, bool)> = Vec::new();
    let mut rng = Rng::stream(seed, TAG + 1, 0);
    let item = |pool: &[&'static ApprovalItem], rng: &mut Rng| pool.get(rng.below(pool.len())).copied();
    use By::{Filer as F, Leader as L, Staff as S};
    for k in 0..3usize {
        if let Some(i) = item(&plain, &mut rng) {
            scripts.push((i, vec![], false));
            scripts.push((i, vec![(a::SUBMIT, 1 + k, 560, F)], false));
            scripts.push((i, vec![(a::SUBMIT, 3 + k, 560, F), (a::ACCEPT, 2 + k, 600, S)], false));
            let c = vec![(a::SUBMIT, 4 + k, 560, F), (a::ACCEPT, 3 + k, 600, S), (a::REQUEST_CORRECTION, 1, 660, S)];
            scripts.push((i, c, false));
            let dec = vec![(a::SUBMIT, 4 + k, 560, F), (a::ACCEPT, 3 + k, 600, S), (a::SUBMIT_FOR_DECISION, 1, 840, S)];
            scripts.push((i, dec.clone(), false));
            let mut ap = dec.clone();
            ap.push((a::APPROVE, 1, 900, L));
            scripts.push((i, ap.clone(), false));
            ap.push((a::COMPLETE, 1, 960, S));
            scripts.push((i, ap.clone(), false));
            if k == 0 {
                let mut fu = ap.clone();
                fu.push((a::FOLLOW_UP, 1, 1000, S));
                scripts.push((i, fu, false));
                scripts.push((i, vec![(a::SUBMIT, 2, 560, F), (a::NOT_ACCEPT, 1, 600, S)], false));
                scripts.push((i, vec![(a::SUBMIT, 2, 560, F), (a::WITHDRAW, 1, 600, F)], false));
                // Submitted long ago and never taken: the escalation job reports it.
                scripts.push((i, vec![(a::SUBMIT, 9, 560, F)], false));
                // In review past its deadline.
                let late = l(i) + 3;
                scripts.push((i, vec![(a::SUBMIT, late + 1, 560, F), (a::ACCEPT, late, 600, S)], false));
            }
        }
        if let Some(i) = item(&deficient, &mut rng) {
            scripts.push((i, vec![(a::SUBMIT, 2 + k, 560, F), (a::ACCEPT_DEFICIENT, 1 + k, 600, S)], true));
            if k == 0 {
                // 容缺 past its deadline: the job terminates it.
                let late = l(i) + 2;
                scripts.push((i, vec![(a::SUBMIT, late + 1, 560, F), (a::ACCEPT_DEFICIENT, late, 600, S)], true));
                let t = vec![(a::SUBMIT, 5, 560, F), (a::ACCEPT_DEFICIENT, 4, 600, S), (a::TERMINATE, 1, 600, S)];
                scripts.push((i, t, true));
            }
        }
        if k == 0
            && let Some(i) = item(&commitment, &mut rng)
        {
            // 告知承诺: decided so long ago that the check falls due in two working days; one that
            // passed its check; one revoked after a failed check (demo_aftercare.rs adds the
            // commitments and the checks' results).
            let d = AftercarePolicy::default().post_check_days.get() as usize - 2;
            let c = vec![
                (a::SUBMIT, d + 3, 560, F),
                (a::ACCEPT, d + 2, 600, S),
                (a::APPROVE_ON_COMMITMENT, d, 900, L),
                (a::COMPLETE, d - 1, 960, S),
            ];
            scripts.push((i, c, false));
            let mut passed = vec![(a::SUBMIT, 43, 560, F), (a::ACCEPT, 42, 600, S)];
            passed.extend([(a::APPROVE_ON_COMMITMENT, 40, 900, L), (a::COMPLETE, 39, 960, S), (a::VERIFY, 12, 640, S)]);
            scripts.push((i, passed, false));
            let mut revoked = vec![(a::SUBMIT, 47, 560, F), (a::ACCEPT, 46, 600, S)];
            revoked.extend([
                (a::APPROVE_ON_COMMITMENT, 45, 900, L),
                (a::COMPLETE, 44, 960, S),
                (a::REVOKE, 15, 640, S),
            ]);
            scripts.push((i, revoked, false));
        }
    }
    let mut out = Vec::new();
    for (n, (item, steps, owes)) in scripts.into_iter().enumerate() {
        let mut rng = Rng::stream(seed, TAG + 2, n as u64);
        let (who, enterprise) = filer(&mut rng, enterprises, accounts, grid_of);
        let day = |ago: usize| back.get(ago.saturating_sub(1)).copied().unwrap_or(today);
        let first = steps.first().map_or((day(1), 500), |s| (day(s.1), s.2));
        let missing = if owes { deferrable(item).into_iter().take(1).collect::<Vec<_>>() } else { Vec::new() };
        let events = steps
            .iter()
            .map(|&(action, ago, minute, by)| DemoEvent {
                action,
                at: at(day(ago), minute),
                by,
                comment: match action {
                    a::REQUEST_CORRECTION => "申请材料内容不完整，请补正",
                    a::NOT_ACCEPT => "不属于本机关职权范围",
                    a::TERMINATE => "申请人书面申请终止办理",
                    a::VERIFY => "现场核查：承诺属实",
                    a::REVOKE => "现场核查发现承诺不实：经营场所面积与承诺不符，卫生设施未按承诺配置",
                    _ => "",
                },
            })
            .collect();
        out.push(DemoCase {
            item_code: item.code.to_string(),
            category: item.category,
            enterprise,
            filer: who,
            filed_at: at(first.0, first.1.saturating_sub(10)),
            materials: handed_in(item).into_iter().filter(|m| !missing.contains(m)).collect(),
            missing,
            events,
        });
    }
    out
}

/// Enterprises among which the demo's cases are spread, and how many of them get their own account.
const ENTERPRISES: usize = 300;
const ACCOUNTS: usize = 40;

/// Writes the 2021 cases and today's open ones (one bulk transaction), creating accounts for the
/// enterprises that file themselves (the first is the demo's `qiye`). `users` maps the demo's
/// usernames to (id, name).
pub async fn load(
    store: &Store,
    actor: &AuditActor,
    population: &[DemoEnterprise],
    users: &HashMap<&str, (i64, String)>,
    hash: &str,
    now: i64,
) -> Result<(), String> {
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let subset = &population[..population.len().min(ENTERPRISES)];
    let mut enterprise_ids = Vec::with_capacity(subset.len());
    for d in subset {
        let code = CreditCode::parse(&d.credit_code).map_err(|x| x.message)?;
        enterprise_ids.push(store.enterprise_id_by_credit_code(&code).await.map_err(e)?.ok_or("演示企业缺失")?);
    }
    let user = |name: &str| users.get(name).cloned().ok_or_else(|| format!("演示账号 {name} 缺失"));
    let mut accounts = vec![user("qiye")?];
    for (i, d) in subset.iter().enumerate().take(ACCOUNTS).skip(1) {
        let new = NewUser {
            username: format!("qy{i:02}"),
            display_name: d.contact_name.clone(),
            role: Role::EnterpriseUser,
            attachment: Attachment { enterprise_id: enterprise_ids.get(i).copied(), ..Default::default() },
            phone: String::new(),
            password_hash: hash.to_owned(),
            must_change_password: false,
            demo: false,
        };
        accounts.push((store.create_user(actor, &new, now).await.map_err(e)?, d.contact_name.clone()));
    }
    let (staff, leader, grid) = (user("staff")?, user("leader")?, user("grid1")?);
    let grid_of = |i: usize| subset.get(i).map_or(1, |d| d.grid);
    let n = enterprise_ids.len();
    let today = Date::from_ms(now);
    let mut cases = year_2021(SEED, n, accounts.len(), &grid_of);
    let of_2021 = cases.len();
    cases.extend(open_today(SEED, today, n, accounts.len(), &grid_of));
    let after = crate::demo_aftercare::aftercare(SEED, &cases, accounts.len());
    let mut rows = Vec::with_capacity(cases.len());
    let mut people = Vec::with_capacity(cases.len());
    for c in cases {
        let (applicant, agency_role) = match c.filer {
            Filer::Enterprise => (accounts.get(c.enterprise).cloned().ok_or("演示企业账号缺失")?, None),
            Filer::Grid => (grid.clone(), Some(Role::GridOfficer.code().to_owned())),
            Filer::Staff => (staff.clone(), Some(Role::DepartmentStaff.code().to_owned())),
        };
        let events = c
            .events
            .iter()
            .map(|ev| {
                let ((id, name), as_) = match ev.by {
                    By::Filer => (applicant.clone(), FlowActor::Applicant),
                    By::Staff => (staff.clone(), FlowActor::Role(Role::DepartmentStaff)),
                    By::Leader => (leader.clone(), FlowActor::Role(Role::Leader)),
                    By::Grid => (grid.clone(), FlowActor::Role(Role::GridOfficer)),
                };
                HistoricalEvent {
                    action: ev.action.to_owned(),
                    at: ev.at,
                    actor_id: Some(id),
                    actor_name: name,
                    actor: as_,
                    comment: ev.comment.to_owned(),
                }
            })
            .collect();
        let rater = accounts.get(c.enterprise).cloned();
        people.push((applicant.clone(), rater));
        rows.push(HistoricalCase {
            item_code: c.item_code,
            enterprise_id: enterprise_ids.get(c.enterprise).copied().ok_or("演示企业缺失")?,
            applicant_id: applicant.0,
            applicant_name: applicant.1,
            agency_role,
            filed_at: c.filed_at,
            materials: c.materials,
            missing: c.missing,
            events,
        });
    }
    // The seal of those years signs the 2021 decisions; a rotation brings today's key, which signs
    // the open cases' decisions (store: seal.rs, certificates.rs).
    let seal = |from: Option<Date>, to: Option<Date>| match (from, to) {
        (Some(f), Some(t)) => Validity::new(f, t),
        _ => Err("演示印章有效期无效".to_owned()),
    };
    let open_rows = rows.split_off(of_2021.min(rows.len()));
    store.rotate_seal_key(actor, seal(Date::new(2021, 1, 1), Date::new(2023, 12, 31))?, now).await.map_err(e)?;
    let mut ids = store.insert_historical_case_ids(actor, &rows, now).await.map_err(e)?;
    store.seal_missing_certificates(actor, now).await.map_err(e)?;
    let current = seal(Date::new(2024, 1, 1), Date::new(today.year() + 5, 12, 31))?;
    store.rotate_seal_key(actor, current, now).await.map_err(e)?;
    ids.extend(store.insert_historical_case_ids(actor, &open_rows, now).await.map_err(e)?);
    store.seal_missing_certificates(actor, now).await.map_err(e)?;
    let by = |who: &(i64, String), at: i64| HistoricalBy { user_id: Some(who.0), name: who.1.clone(), at };
    let mut aftercare = Vec::with_capacity(after.len());
    for (n, x) in after {
        let (Some(case_id), Some((applicant, rater))) = (ids.get(n).copied(), people.get(n)) else { continue };
        let commitment = x.commitment.map(|k| HistoricalCommitment {
            text: k.text,
            by: by(applicant, k.at),
            check: k.check.map(|(r, at)| (r, by(&staff, at))),
        });
        let step = |(at, note): (i64, &str)| HistoricalStep {
            by: by(&staff, at),
            role: Role::DepartmentStaff,
            note: note.to_owned(),
        };
        let mut ratings = Vec::new();
        for r in x.ratings {
            let rater = rater.as_ref().ok_or("演示企业账号缺失")?;
            ratings.push(HistoricalRating {
                level: r.level,
                comment: r.comment.to_owned(),
                by: by(rater, r.at),
                callback: r.remedy.as_ref().map(|m| step(m.callback)),
                rectify: r.remedy.as_ref().map(|m| step(m.rectify)),
            });
        }
        aftercare.push(HistoricalAftercare { case_id, commitment, ratings });
    }
    store.insert_historical_aftercare(actor, &aftercare, now).await.map_err(e)?;
    // Staff carried scans of the application form for the open cases (帮代办); each waits for the
    // case's next step.
    let clerk = AuditActor {
        user_id: Some(staff.0),
        username: staff.1.clone(),
        role: "department_staff".into(),
        ip: String::new(),
    };
    let caller = Caller { actor: &clerk, role: Role::DepartmentStaff, scope: &Scope::Zone };
    for id in ids.iter().skip(of_2021) {
        let case = store.case(&Scope::Zone, *id).await.map_err(e)?;
        let up = DocumentUpload {
            material: String::new(),
            file_name: "申请表扫描件.pdf".into(),
            bytes: demo_pdf(&case.case_no),
        };
        match store.add_case_document(&caller, *id, &up, now).await {
            Ok(_) | Err(dianxiaoer_store::Error::Refused(_)) => {}
            Err(x) => return Err(e(x)),
        }
    }
    Ok(())
}

/// A small, valid one-page PDF naming the case (ASCII only: the demo needs no font).
fn demo_pdf(case_no: &str) -> Vec<u8> {
    let text = format!("BT /F1 14 Tf 72 760 Td (Application form - {case_no} - demo scan) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "demo_approval_tests.rs"]
mod tests;
