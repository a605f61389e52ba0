//! One story through the storage API, run on SQLite and on PostgreSQL (atuin's `db_story` pattern).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::{Attachment, Role, Scope};
use dianxiaoer_core::password::PasswordPolicy;
use dianxiaoer_store::{
    Actor, AuditFilter, Contact, EnterpriseFilter, EnterpriseInput, EnterpriseSort, Error, Keys, LoginFilter, NewUser,
    Store,
};
use dianxiaoer_testkit::{Backend, SEAL_SECRET, START_MS, drop_database, dual, fresh_database};

async fn story(backend: Backend) {
    let Some((url, pg, _dir)) = fresh_database(backend).await else {
        return;
    };
    let store = Store::open(&url, Keys { audit: Some(b"k".to_vec()), token: None, seal: Some(SEAL_SECRET.to_vec()) })
        .await
        .unwrap();
    assert_eq!(store.migrate().await.unwrap(), 0, "migrations are applied once");
    store.seed_reference(START_MS).await.unwrap();
    store.seed_reference(START_MS).await.unwrap();
    assert_eq!(store.towns().await.unwrap().len(), 18);
    assert_eq!(store.project_areas().await.unwrap().len(), 3);
    store.ping().await.unwrap();

    let f = dianxiaoer_testkit::seed(&store, START_MS).await;
    let actor = Actor::cli();

    // Scope inside the store: each scope sees exactly its enterprises.
    let count = |s: Scope| {
        let store = store.clone();
        async move { store.list_enterprises(&s, &EnterpriseFilter::default(), 1, 50).await.unwrap().total }
    };
    assert_eq!(count(Scope::Zone).await, 4);
    assert_eq!(count(Scope::Nothing).await, 0);
    assert_eq!(count(Scope::Town("371323103".into())).await, 2, "hosted a, introduced c");
    assert_eq!(count(Scope::Town("371323101".into())).await, 1);
    assert_eq!(count(Scope::Grid(f.grids[0])).await, 2);
    assert_eq!(count(Scope::CountyDepartment(f.county_department)).await, 1);
    assert_eq!(count(Scope::Enterprise(f.enterprise("a"))).await, 1);
    assert_eq!(count(Scope::Assigned(f.user("supervisor"))).await, 1);
    assert!(matches!(
        store.enterprise(&Scope::Enterprise(f.enterprise("a")), f.enterprise("b")).await,
        Err(Error::NotFound)
    ));

    // The in-memory list index and SQL agree on every scope × filter, and the index sees writes at once.
    let scopes = [
        Scope::Zone,
        Scope::Nothing,
        Scope::Town("371323103".into()),
        Scope::Grid(f.grids[1]),
        Scope::CountyDepartment(f.county_department),
        Scope::Enterprise(f.enterprise("c")),
        Scope::Assigned(f.user("supervisor")),
    ];
    let filters = [
        EnterpriseFilter::default(),
        EnterpriseFilter { q: Some("化工".into()), ..Default::default() },
        EnterpriseFilter { q: Some("91371323".into()), ..Default::default() },
        EnterpriseFilter { town: Some("371323001".into()), ..Default::default() },
        EnterpriseFilter { project_area: Some("chengbei".into()), industry: Some("C26".into()), ..Default::default() },
        EnterpriseFilter { above_scale: Some(false), status: Some("operating".into()), ..Default::default() },
    ];
    for sc in &scopes {
        for fl in &filters {
            let listed = store.list_enterprises(sc, fl, 1, 200).await.unwrap();
            let counted = store.count_matching_in_sql(sc, fl).await.unwrap();
            assert_eq!(listed.total, counted, "{sc:?} {fl:?}");
            assert_eq!(listed.items.len() as i64, counted);
        }
    }

    // Search text is data, never SQL; LIKE wildcards are literal.
    for nasty in ["' OR 1=1 --", "%", "_", "\\", "甲化工'; DROP TABLE enterprises; --"] {
        let filter = EnterpriseFilter { q: Some(nasty.into()), ..Default::default() };
        assert_eq!(store.list_enterprises(&Scope::Zone, &filter, 1, 10).await.unwrap().total, 0, "{nasty}");
    }
    let filter = EnterpriseFilter { q: Some("化工".into()), sort: EnterpriseSort::Name, ..Default::default() };
    assert_eq!(store.list_enterprises(&Scope::Zone, &filter, 1, 10).await.unwrap().total, 1);

    // Writes outside scope change nothing.
    let other = Scope::Enterprise(f.enterprise("a"));
    let c = |a: &str| Contact { address: a.into(), contact_name: "王五".into(), contact_phone: "13800000000".into() };
    let r = store.update_enterprise_contact(&actor, &other, f.enterprise("b"), &c("x"), START_MS).await;
    assert!(matches!(r, Err(Error::NotFound)));
    store.update_enterprise_contact(&actor, &other, f.enterprise("a"), &c("新地址"), START_MS).await.unwrap();
    assert_eq!(store.enterprise(&Scope::Zone, f.enterprise("a")).await.unwrap().address, "新地址");

    // Bulk writes: all rows listed, paged and exported (exports are not capped at a page).
    let rows: Vec<EnterpriseInput> = (0..450)
        .map(|i| EnterpriseInput {
            credit_code: dianxiaoer_core::credit_code::CreditCode::with_check_digit(&format!("91371323MA3E{i:05}"))
                .unwrap(),
            name: format!("批量测试{i}有限公司"),
            legal_representative: "钱七".into(),
            industry_code: "C1419".into(),
            host_town: "371323001".into(),
            introducer_town: None,
            introducer_department: None,
            project_area: Some("chengbei".into()),
            grid_id: None,
            address: "城北".into(),
            contact_name: String::new(),
            contact_phone: String::new(),
            status: "operating".into(),
            location: Some((118.63, 35.84)),
            land_area_centi_m2: None,
            above_scale: i % 4 == 0,
            employees: Some(i),
            registered_capital_fen: None,
            established: None,
            tags: String::new(),
        })
        .collect();
    assert_eq!(store.insert_enterprises_bulk(&actor, &rows, START_MS).await.unwrap(), 450);
    let bulk =
        EnterpriseFilter { q: Some("批量测试".into()), sort: EnterpriseSort::Employees, ..Default::default() };
    let page3 = store.list_enterprises(&Scope::Zone, &bulk, 3, 200).await.unwrap();
    assert_eq!((page3.total, page3.items.len()), (450, 50));
    assert_eq!(page3.items[0].employees, Some(49), "sorted by employees, descending");
    assert_eq!(page3.items[0].lon, Some(118.63));
    assert_eq!(store.export_enterprises(&Scope::Zone, &bulk, 1_000_000).await.unwrap().len(), 450);
    assert!(store.insert_enterprises_bulk(&actor, &rows[..1], START_MS).await.is_err(), "duplicates refused whole");

    // Accounts.
    let dup = NewUser {
        username: "leader".into(),
        display_name: "重复".into(),
        role: Role::Leader,
        attachment: Attachment::default(),
        phone: String::new(),
        password_hash: "x".into(),
        must_change_password: true,
        demo: false,
    };
    assert!(matches!(store.create_user(&actor, &dup, START_MS).await, Err(Error::Conflict(_))));
    let uid = f.user("victim");
    store.create_session("a".repeat(64).as_str(), uid, "csrf", true, "127.0.0.1", "test", START_MS).await.unwrap();
    assert_eq!(store.count_sessions(uid).await.unwrap(), 1);
    store.set_disabled(&actor, uid, true, START_MS).await.unwrap();
    assert_eq!(store.count_sessions(uid).await.unwrap(), 0, "disabling ends sessions");
    assert!(store.user_by_id(uid).await.unwrap().disabled);
    store.record_login_failure(uid, Some(START_MS + 1000)).await.unwrap();
    assert!(store.user_by_id(uid).await.unwrap().is_locked(START_MS));
    store.unlock_user(&actor, uid, START_MS).await.unwrap();
    assert!(!store.user_by_id(uid).await.unwrap().is_locked(START_MS));
    assert!(store.use_totp_step(uid, 10).await.unwrap());
    assert!(!store.use_totp_step(uid, 10).await.unwrap(), "a TOTP step is used once");

    // Policy.
    let mut p = PasswordPolicy { min_length: 12, ..Default::default() };
    store.set_policy(&actor, &p, START_MS).await.unwrap();
    assert_eq!(store.policy().await.unwrap().min_length, 12);
    p.min_length = 2;
    assert!(matches!(store.set_policy(&actor, &p, START_MS).await, Err(Error::Invalid(_))));

    // Logs and the chain.
    store.log_login("leader", None, "127.0.0.1", "ua", false, "密码错误", START_MS).await.unwrap();
    let logins =
        store.list_logins(&LoginFilter { result: Some("失败".into()), ..Default::default() }, 1, 10).await.unwrap();
    assert_eq!(logins.total, 1);
    let audit = store
        .list_audit(&AuditFilter { action: Some("create_user".into()), ..Default::default() }, 1, 100)
        .await
        .unwrap();
    assert_eq!(audit.total, 14);
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.problem.is_none(), "{report:?}");
    // With the fixture's seal key generation.
    assert_eq!(report.checked, 30, "one record per change");

    // Pruning keeps at least 180 days.
    assert!(store.prune_audit(&actor, START_MS, START_MS + 86_400_000).await.is_err());
    let later = START_MS + 200 * 86_400_000;
    let removed = store.prune_audit(&actor, START_MS + 1, later).await.unwrap();
    assert!(removed > 0);
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.problem.is_none(), "the chain still verifies from its new anchor: {report:?}");

    store.close().await;
    drop_database(&pg).await;
}

dual!(storage_story, super::story);
