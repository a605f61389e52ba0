use super::*;
use dianxiaoer_core::approval::Workflow;

fn grid(i: usize) -> usize {
    i % 10
}

#[test]
fn the_year_2021_has_the_articles_counts_by_category() {
    let cases = year_2021(7, 300, 40, &grid);
    assert_eq!(cases.len(), 553);
    for (category, n) in COUNTS_2021 {
        assert_eq!(cases.iter().filter(|c| c.category == category).count(), n, "{category:?}");
    }
}

#[test]
fn everything_happens_on_2021_working_days_in_order_and_on_the_flow() {
    let cal = Calendar::statutory();
    let cases = year_2021(7, 300, 40, &grid);
    for c in &cases {
        let filed = Date::from_ms(c.filed_at);
        assert_eq!(filed.year(), 2021);
        assert!(cal.is_working_day(filed), "{filed}");
        let mut last = c.filed_at;
        let item = Catalogue::builtin().get(&c.item_code).unwrap();
        let flow = Workflow::default_for(item);
        let mut state = flow.initial.clone();
        for e in &c.events {
            let d = Date::from_ms(e.at);
            assert_eq!(d.year(), 2021);
            assert!(cal.is_working_day(d), "{d}");
            assert!(e.at >= last);
            last = e.at;
            let next = flow.actions_from(&state).find(|x| x.code == e.action).unwrap_or_else(|| {
                panic!("{} cannot {} from {state}", c.item_code, e.action);
            });
            state = next.to.clone();
        }
        assert!(["completed", "followed_up"].contains(&state.as_str()), "{state}");
    }
    // Agency filings exist, and enterprises with accounts file the rest.
    assert!(cases.iter().any(|c| c.filer != Filer::Enterprise));
    assert!(cases.iter().filter(|c| c.filer == Filer::Enterprise).all(|c| c.enterprise < 40));
    // Fewer completions in February (Spring Festival) than in April.
    let month = |m: u32| cases.iter().filter(|c| Date::from_ms(c.events.last().unwrap().at).month() == m).count();
    assert!(month(2) < month(4));
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(year_2021(7, 300, 40, &grid), year_2021(7, 300, 40, &grid));
    assert_ne!(year_2021(7, 300, 40, &grid), year_2021(8, 300, 40, &grid));
    let today = Date::new(2026, 11, 26).unwrap();
    assert_eq!(open_today(7, today, 300, 40, &grid), open_today(7, today, 300, 40, &grid));
}

#[test]
fn open_cases_cover_every_state_and_stay_in_the_past() {
    let today = Date::new(2026, 11, 26).unwrap();
    let cases = open_today(7, today, 300, 40, &grid);
    let mut states = std::collections::BTreeSet::new();
    for c in &cases {
        let item = Catalogue::builtin().get(&c.item_code).unwrap();
        let flow = Workflow::default_for(item);
        let mut state = flow.initial.clone();
        let mut last = c.filed_at;
        for e in &c.events {
            assert!(e.at >= last && e.at < today.start_ms(), "{} {}", c.item_code, e.action);
            last = e.at;
            let next = flow.actions_from(&state).find(|x| x.code == e.action).unwrap().to.clone();
            state = next;
        }
        states.insert(state);
    }
    for s in [
        "draft",
        "pre_review",
        "deficient",
        "reviewing",
        "correction",
        "deciding",
        "approved",
        "completed",
        "followed_up",
        "not_accepted",
        "withdrawn",
        "terminated",
        "post_check",
        "revoked",
    ] {
        assert!(states.contains(s), "{s}: {states:?}");
    }
}
