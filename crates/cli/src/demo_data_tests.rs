//! Tests of the demo generator: determinism, uniqueness, valid codes, points inside their areas, shares.
use super::*;
use dianxiaoer_core::division::town_by_code;
use std::collections::HashMap;

#[test]
fn same_inputs_same_output_and_prefix_stable() {
    let a = generate(300, 42);
    assert_eq!(a.len(), 300);
    assert_eq!(a, generate(300, 42));
    assert_eq!(generate(120, 42), a[..120].to_vec());
    assert_ne!(a, generate(300, 43));
}

#[test]
fn names_and_codes_unique_at_twenty_thousand() {
    let all = generate(20_000, 7);
    assert_eq!(all.len(), 20_000);
    let names: HashSet<_> = all.iter().map(|e| e.name.as_str()).collect();
    let codes: HashSet<_> = all.iter().map(|e| e.credit_code.as_str()).collect();
    assert_eq!(names.len(), all.len());
    assert_eq!(codes.len(), all.len());
    assert!(all.iter().all(|e| !e.name.chars().any(char::is_numeric)));
}

#[test]
fn credit_codes_are_valid() {
    for e in generate(2_000, 1) {
        let code = CreditCode::parse(&e.credit_code).expect(&e.credit_code);
        assert!(e.credit_code.starts_with("91371323"));
        assert_eq!(code.inner_check_warning(), None, "{}", e.credit_code);
        let new_style = (e.established.0, e.established.1) >= (2015, 10);
        assert_eq!(&e.credit_code[8..10] == "MA", new_style, "{e:?}");
    }
}

#[test]
fn points_lie_in_their_area_and_grid() {
    for (i, &(lon, lat)) in ANCHORS.iter().enumerate() {
        assert!(point_in_polygon(LonLat::parse(lon, lat).unwrap(), PROJECT_AREAS[i].ring));
    }
    for e in generate(3_000, 3) {
        let a = PROJECT_AREAS.iter().position(|a| a.code == e.project_area).unwrap();
        let p = LonLat::parse(e.lon, e.lat).unwrap();
        assert!(point_in_polygon(p, PROJECT_AREAS[a].ring), "{e:?}");
        assert_eq!(e.grid / 2, a);
        assert!(e.grid < GRIDS.len());
        assert!(e.address.contains(PROJECT_AREAS[a].name));
    }
}

#[test]
fn every_town_introduces_at_least_three() {
    let all = generate(300, 42);
    let mut per_town: HashMap<&str, usize> = HashMap::new();
    for e in &all {
        if let Some(t) = &e.introducer_town {
            *per_town.entry(t.as_str()).or_default() += 1;
        }
    }
    for t in TOWNS {
        assert!(per_town.get(t.code).copied().unwrap_or(0) >= 3, "{}", t.name);
    }
}

#[test]
fn shares_match_the_brief_at_three_hundred() {
    for seed in [0, 42, 2024] {
        let all = generate(300, seed);
        let share = |f: &dyn Fn(&DemoEnterprise) -> bool| all.iter().filter(|e| f(e)).count() as f64 / all.len() as f64;
        assert!((share(&|e| e.project_area == "binhe") - 0.40).abs() < 0.01);
        assert!((share(&|e| e.project_area == "lushan") - 0.25).abs() < 0.01);
        assert!((share(&|e| e.project_area == "chengbei") - 0.35).abs() < 0.01);
        let above = share(&|e| e.above_scale);
        assert!((0.25..=0.30).contains(&above), "{above}");
        let none = share(&|e| e.introducer_town.is_none());
        assert!((0.09..=0.11).contains(&none), "{none}");
        let operating = share(&|e| e.status == "operating");
        assert!((0.90..=0.94).contains(&operating), "{operating}");
        assert!(share(&|e| e.status == "cancelled") > 0.0);
        let large = all.iter().filter(|e| e.employees >= 1000).count();
        assert!((3..=5).contains(&large), "{large}");
        let typical = share(&|e| (20..=150).contains(&e.employees));
        assert!(typical > 0.6, "{typical}");
    }
}

#[test]
fn fields_are_well_formed() {
    let allowed: [&[&str]; 3] = [
        &["C17", "C18", "C29", "C30", "C34", "C35", "C39"],
        &["C26", "C27"],
        &["C13", "C14", "C22", "C23", "C33", "C34"],
    ];
    for e in generate(3_000, 9) {
        let a = PROJECT_AREAS.iter().position(|a| a.code == e.project_area).unwrap();
        assert!(allowed[a].contains(&&e.industry_code[..3]), "{e:?}");
        assert!(town_by_code(&e.host_town).is_some());
        assert!([YICHENG, XUJIAHU].contains(&e.host_town.as_str()));
        if let Some(t) = &e.introducer_town {
            assert!(town_by_code(t).is_some());
        }
        assert_eq!(e.contact_phone.len(), 11);
        assert!(e.contact_phone.chars().all(|c| c.is_ascii_digit()));
        assert!(["13", "15", "17", "18", "19"].contains(&&e.contact_phone[..2]));
        let (y, m, d) = e.established;
        assert!((2003..=2025).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
        let fen = e.registered_capital_fen;
        assert!((100_000_000..=100_000_000_000).contains(&fen));
        assert!((5_000..=400_000).contains(&e.land_area_m2));
        assert!((20..=5_000).contains(&e.employees));
        let len = e.legal_representative.chars().count();
        assert!((2..=3).contains(&len));
    }
}

#[test]
fn industry_table_is_consistent() {
    let mut seen = HashSet::new();
    for c in INDUSTRIES {
        assert!(seen.insert(c.code), "duplicate {}", c.code);
        assert_eq!(c.code.len(), 5);
        assert!(c.code.starts_with('C') && c.code[1..].chars().all(|d| d.is_ascii_digit()));
        assert!(c.area < 3 && c.weight > 0 && !c.words.is_empty() && !c.name.is_empty());
    }
}

#[test]
fn chemical_park_enterprises_name_safety_and_environment_officers() {
    let all = generate(300, 7);
    let mut finance = 0;
    for (i, d) in all.iter().enumerate() {
        let contacts = extra_contacts(7, i, d);
        assert_eq!(contacts, extra_contacts(7, i, d), "deterministic");
        if d.project_area == "lushan" {
            let positions: Vec<_> = contacts.iter().map(|c| c.1).collect();
            assert_eq!(positions, ["安全负责人", "环保专员"]);
        } else {
            finance += contacts.len();
        }
        for (name, _, phone) in &contacts {
            assert!((2..=3).contains(&name.chars().count()), "{name}");
            assert!(phone.len() == 11 && phone.starts_with('1'), "{phone}");
        }
    }
    assert!(finance > 20 && finance < 200, "{finance}");
}
