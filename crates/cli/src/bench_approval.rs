//! Data and timings for `benches/approval.sh` (issue 4, Measure): a million completed cases over the
//! years 2020–2025 in the proportions of the zone's 2021 (工商 125 : 立项准入 181 : 环评 39 : 规划 61 :
//! 工程 147), each with its whole history replayed through the store's bulk loader, plus open cases of
//! this year stopped after filing, acceptance or a 补正 request, many past their deadline; about 60 % of
//! the completed cases rated (好差评) as the demo's 2021, bad ratings called back and rectified; and the
//! escalation job's pass over them, timed. Deterministic for a given database and clock.

use crate::demo_approval::{By, COUNTS_2021, DemoCase, Filer, year_cases};
use dianxiaoer_core::access::Role;
use dianxiaoer_core::approval::Actor as FlowActor;
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_store::{
    Actor as AuditActor, HistoricalAftercare, HistoricalBy, HistoricalCase, HistoricalEvent, HistoricalRating,
    HistoricalStep, Store,
};
use std::time::Instant;

const SEED: u64 = 0xA99_2020;
/// Cases written per transaction.
const BATCH: usize = 5_000;
const YEARS: std::ops::RangeInclusive<i32> = 2020..=2025;

struct People {
    enterprises: Vec<i64>,
    applicant: (i64, String),
    staff: (i64, String),
    leader: (i64, String),
    grid: (i64, String),
}

async fn people(store: &Store) -> Result<People, String> {
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let user = |name: &'static str| async move {
        store
            .user_by_username(name)
            .await
            .map_err(e)?
            .map(|u| (u.id, u.display_name))
            .ok_or(format!("缺少演示账号 {name}"))
    };
    let mut enterprises: Vec<i64> = store.enterprise_ids_by_credit_code().await.map_err(e)?.into_values().collect();
    enterprises.sort_unstable();
    enterprises.truncate(1_000);
    if enterprises.is_empty() {
        return Err("数据库中没有企业：请先运行 demo".into());
    }
    Ok(People {
        enterprises,
        applicant: user("qiye").await?,
        staff: user("staff").await?,
        leader: user("leader").await?,
        grid: user("grid1").await?,
    })
}

fn historical(p: &People, c: DemoCase, keep: usize) -> HistoricalCase {
    let (filer, agency_role) = match c.filer {
        Filer::Enterprise => (p.applicant.clone(), None),
        Filer::Grid => (p.grid.clone(), Some(Role::GridOfficer.code().to_owned())),
        Filer::Staff => (p.staff.clone(), Some(Role::DepartmentStaff.code().to_owned())),
    };
    let events = c
        .events
        .iter()
        .take(keep)
        .map(|ev| {
            let ((id, name), actor) = match ev.by {
                By::Filer => (filer.clone(), FlowActor::Applicant),
                By::Staff => (p.staff.clone(), FlowActor::Role(Role::DepartmentStaff)),
                By::Leader => (p.leader.clone(), FlowActor::Role(Role::Leader)),
                By::Grid => (p.grid.clone(), FlowActor::Role(Role::GridOfficer)),
            };
            HistoricalEvent {
                action: ev.action.to_owned(),
                at: ev.at,
                actor_id: Some(id),
                actor_name: name,
                actor,
                comment: ev.comment.to_owned(),
            }
        })
        .collect();
    HistoricalCase {
        item_code: c.item_code,
        enterprise_id: p.enterprises[c.enterprise % p.enterprises.len()],
        applicant_id: filer.0,
        applicant_name: filer.1,
        agency_role,
        filed_at: c.filed_at,
        materials: c.materials,
        missing: Vec::new(),
        events,
    }
}

/// The ratings of a chunk of completed cases just written (`ids` in the chunk's order), given by the
/// enterprise's user and handled by staff, as the demo rates its 2021.
fn ratings_of(p: &People, chunk: &[DemoCase], ids: &[i64]) -> Vec<HistoricalAftercare> {
    let by = |who: &(i64, String), at: i64| HistoricalBy { user_id: Some(who.0), name: who.1.clone(), at };
    let step = |(at, note): (i64, &str)| HistoricalStep {
        by: by(&p.staff, at),
        role: Role::DepartmentStaff,
        note: note.to_owned(),
    };
    crate::demo_aftercare::ratings(SEED, chunk)
        .into_iter()
        .filter_map(|(n, ratings)| {
            let case_id = *ids.get(n)?;
            let ratings = ratings
                .into_iter()
                .map(|r| HistoricalRating {
                    level: r.level,
                    comment: r.comment.to_owned(),
                    by: by(&p.applicant, r.at),
                    callback: r.remedy.as_ref().map(|m| step(m.callback)),
                    rectify: r.remedy.as_ref().map(|m| step(m.rectify)),
                })
                .collect();
            Some(HistoricalAftercare { case_id, commitment: None, ratings })
        })
        .collect()
}

/// Writes about `cases` completed cases and `open` open ones; prints what it wrote and how long it took.
pub async fn write(store: &Store, cases: usize, open: usize, now: i64) -> Result<(), String> {
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let p = people(store).await?;
    let actor = AuditActor::cli();
    let per_year = cases.div_ceil(YEARS.count());
    let scale = |n: usize| (n * per_year).div_ceil(553);
    let counts: Vec<_> = COUNTS_2021.iter().map(|&(c, n)| (c, scale(n))).collect();
    let grid_of = |_: usize| 1;
    let started = Instant::now();
    let mut written = 0u64;
    let mut rated = 0u64;
    for year in YEARS {
        let all = year_cases(SEED ^ year as u64, year, &counts, p.enterprises.len(), 1, &grid_of);
        for chunk in all.chunks(BATCH) {
            let rows: Vec<HistoricalCase> = chunk.iter().cloned().map(|c| historical(&p, c, usize::MAX)).collect();
            let ids = store.insert_historical_case_ids(&actor, &rows, now).await.map_err(e)?;
            written += ids.len() as u64;
            rated += store.insert_historical_aftercare(&actor, &ratings_of(&p, chunk, &ids), now).await.map_err(e)?;
        }
        println!(
            "{year}: {written} completed cases and {rated} ratings so far, {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    // Open cases: this year's, filed before now, stopped after filing, acceptance or a 补正 request.
    let this_year = dianxiaoer_core::approval::Date::from_ms(now).year();
    let share = |n: usize| (n * open).div_ceil(553) * 2;
    let counts: Vec<_> = COUNTS_2021.iter().map(|&(c, n)| (c, share(n))).collect();
    let mut opened = 0u64;
    let candidates = year_cases(SEED ^ 0x0BE7, this_year, &counts, p.enterprises.len(), 1, &grid_of);
    let mut rows = Vec::new();
    for (i, c) in candidates.into_iter().enumerate() {
        if rows.len() + opened as usize >= open {
            break;
        }
        let stop = match i % 3 {
            0 => 1,
            1 => 2,
            _ => c.events.iter().position(|ev| ev.action == a::REQUEST_CORRECTION).map_or(2, |k| k + 1),
        };
        if c.events.iter().take(stop).any(|ev| ev.at >= now) {
            continue;
        }
        rows.push(historical(&p, c, stop));
        if rows.len() == BATCH {
            opened += store.insert_historical_cases(&actor, &rows, now).await.map_err(e)?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        opened += store.insert_historical_cases(&actor, &rows, now).await.map_err(e)?;
    }
    println!(
        "written: {written} completed cases ({rated} ratings) and {opened} open cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the escalation job's pass `runs` times at `now`, printing each pass's time and findings.
pub async fn escalate(store: &Store, runs: usize, now: i64) -> Result<(), String> {
    for i in 1..=runs {
        let t = Instant::now();
        let r = store.escalate_overdue(now).await.map_err(|e| e.to_string())?;
        println!(
            "escalation pass {i}: {:.0} ms (overdue {}, unaccepted {}, terminated {}, post_check {}, callback {}, rectify {})",
            t.elapsed().as_secs_f64() * 1000.0,
            r.overdue.len(),
            r.unaccepted.len(),
            r.terminated.len(),
            r.post_check.len(),
            r.callback.len(),
            r.rectify.len()
        );
    }
    Ok(())
}
