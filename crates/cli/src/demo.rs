//! The demo: a deterministic Yishui zone with one account per role, created when missing.

use crate::demo_data::{GRIDS, generate};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::access::{Attachment, Role};
use dianxiaoer_core::area::Area;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::ledger_sheet::read_csv_ledger;
use dianxiaoer_core::revenue::sheet_text::DeclaredEncoding;
use dianxiaoer_core::totp;
use dianxiaoer_store::{Actor, EnterpriseInput, NewContact, NewUser, Store, UserFilter};
use dianxiaoer_web::hash_password;

/// The password of every demo account (shown on the login page in demo mode).
pub const DEMO_PASSWORD: &str = "Demo@2026";
const SEED: u64 = 371_323;

struct DemoUser {
    username: &'static str,
    name: &'static str,
    role: Role,
}

const USERS: [DemoUser; 11] = [
    DemoUser { username: "admin", name: "王建国", role: Role::SystemAdmin },
    DemoUser { username: "secadmin", name: "刘海燕", role: Role::SecurityAdmin },
    DemoUser { username: "auditor", name: "赵立新", role: Role::AuditAdmin },
    DemoUser { username: "leader", name: "张志强", role: Role::Leader },
    DemoUser { username: "staff", name: "李晓梅", role: Role::DepartmentStaff },
    DemoUser { username: "caiwu", name: "王丽华", role: Role::DepartmentStaff },
    DemoUser { username: "grid1", name: "孙明亮", role: Role::GridOfficer },
    DemoUser { username: "xujiahu", name: "高振华", role: Role::TownOfficial },
    DemoUser { username: "fagai", name: "陈秀英", role: Role::TownOfficial },
    DemoUser { username: "qiye", name: "马俊峰", role: Role::EnterpriseUser },
    DemoUser { username: "anjian", name: "徐国庆", role: Role::SafetySupervisor },
];

/// Creates the demo data unless the database already has accounts.
pub async fn ensure(store: &Store, scale: usize, now: i64) -> Result<(), String> {
    let e = |e: dianxiaoer_store::Error| e.to_string();
    store.seed_reference(now).await.map_err(e)?;
    if store.count_users().await.map_err(e)? > 0 {
        return Ok(());
    }
    eprintln!("生成演示数据：{scale} 家企业 …");
    let actor = Actor { user_id: None, username: "演示数据".into(), role: "cli".into(), ip: "local".into() };
    let mut grid_ids = Vec::new();
    for (name, description) in GRIDS {
        grid_ids.push(store.create_grid(&actor, name, description, now).await.map_err(e)?);
    }
    let population = generate(scale, SEED);
    let mut rows = Vec::with_capacity(population.len());
    for d in &population {
        let credit_code = CreditCode::parse(&d.credit_code).map_err(|x| x.message)?;
        rows.push(EnterpriseInput {
            credit_code,
            name: d.name.clone(),
            legal_representative: d.legal_representative.clone(),
            industry_code: d.industry_code.clone(),
            host_town: d.host_town.clone(),
            introducer_town: d.introducer_town.clone(),
            introducer_department: None,
            project_area: Some(d.project_area.to_string()),
            grid_id: grid_ids.get(d.grid).copied(),
            address: d.address.clone(),
            contact_name: d.contact_name.clone(),
            contact_phone: d.contact_phone.clone(),
            status: d.status.to_string(),
            location: Some((d.lon, d.lat)),
            land_area_centi_m2: Some(i64::from(d.land_area_m2) * 100),
            above_scale: d.above_scale,
            employees: Some(i64::from(d.employees)),
            registered_capital_fen: Some(d.registered_capital_fen),
            established: Some(format!("{:04}-{:02}-{:02}", d.established.0, d.established.1, d.established.2)),
            tags: demo_tags(d),
        });
    }
    store.insert_enterprises_bulk(&actor, &rows, now).await.map_err(e)?;
    // Further contacts for the first thousand: enough to look real, cheap at benchmark scale.
    let contacts: Vec<(String, NewContact)> = population
        .iter()
        .enumerate()
        .take(1000)
        .flat_map(|(i, d)| {
            crate::demo_data::extra_contacts(SEED, i, d).into_iter().map(|(name, position, phone)| {
                (d.credit_code.clone(), NewContact { name, position: position.to_string(), phone })
            })
        })
        .collect();
    store.insert_contacts_bulk(&actor, &contacts, now).await.map_err(e)?;
    let first =
        store.enterprise_id_by_credit_code(&rows.first().ok_or("演示企业数为 0")?.credit_code).await.map_err(e)?;
    let departments = store.departments().await.map_err(e)?;
    let dept = |name: &str| departments.iter().find(|d| d.name == name).map(|d| d.id);
    let hash = hash_password(DEMO_PASSWORD).map_err(|x| format!("{x:?}"))?;
    let mut ids = std::collections::HashMap::new();
    for u in &USERS {
        let attachment = match u.username {
            "staff" => Attachment { department_id: dept("企业服务中心"), ..Default::default() },
            "caiwu" => Attachment { department_id: dept("经济发展部"), ..Default::default() },
            "grid1" => Attachment { grid_id: grid_ids.first().copied(), ..Default::default() },
            "xujiahu" => Attachment { town_code: Some("371323103".into()), ..Default::default() },
            "fagai" => Attachment { department_id: dept("沂水县发展和改革局"), ..Default::default() },
            "qiye" => Attachment { enterprise_id: first, ..Default::default() },
            _ => Attachment::default(),
        };
        let new = NewUser {
            username: u.username.into(),
            display_name: u.name.into(),
            role: u.role,
            attachment,
            phone: String::new(),
            password_hash: hash.clone(),
            must_change_password: false,
            demo: true,
        };
        let id = store.create_user(&actor, &new, now).await.map_err(e)?;
        ids.insert(u.username, (id, u.name.to_string()));
        if u.role.is_admin() {
            let mut raw = [0u8; 20];
            rand_fill(&mut raw);
            store.set_totp(&actor, id, Some(&totp::base32_encode(&raw)), None, now).await.map_err(e)?;
        }
        if u.role == Role::SafetySupervisor {
            let chemical = store
                .list_enterprises(
                    &dianxiaoer_core::access::Scope::Zone,
                    &dianxiaoer_store::EnterpriseFilter { project_area: Some("lushan".into()), ..Default::default() },
                    1,
                    12,
                )
                .await
                .map_err(e)?;
            for c in &chemical.items {
                store.assign_supervisor(&actor, id, c.id, now).await.map_err(e)?;
            }
            let ids: Vec<(i64, Option<(f64, f64)>)> = chemical.items.iter().map(|c| (c.id, c.lon.zip(c.lat))).collect();
            demo_detectors(store, &actor, &ids, now).await?;
        }
    }
    crate::demo_approval::load(store, &actor, &population, &ids, &hash, now).await?;
    revenue(store, &actor, &population, now).await?;
    let codes: Vec<String> =
        population.iter().take(crate::demo_projects::SCENARIOS.len()).map(|d| d.credit_code.clone()).collect();
    crate::demo_projects::load(store, &actor, &codes, &ids, now).await
}

/// The demo tag of the one detector with a device secret, and that secret: enough to try the MQTT
/// listener by hand (`mosquitto_pub -u GT-0101-H2S -P …`).
pub const DEMO_DEVICE: (&str, &str) = ("GT-0101-H2S", "demo-device-secret-0101");

/// Twenty-five gas detectors in each chemical-park enterprise (about 300 in the park): hydrogen
/// sulfide and chlorine by the tanks, combustible gas and carbon monoxide in the units, ammonia at
/// the refrigeration plant, oxygen in confined spaces, with the GB/T 50493-2019 default set-points,
/// placed on a grid about 50 m apart around the plant. The demo's simulator feeds them.
async fn demo_detectors(
    store: &Store,
    actor: &Actor,
    enterprises: &[(i64, Option<(f64, f64)>)],
    now: i64,
) -> Result<(), String> {
    use dianxiaoer_core::gas::{DetectorConfig, DetectorSettings, Gas, MeasuringRange, Tag};
    // (gas, label, plant area, range maximum, how many)
    let kinds = [
        (Gas::HydrogenSulfide, "硫化氢", "罐区", 100.0, 4),
        (Gas::Chlorine, "氯气", "罐区", 20.0, 2),
        (Gas::Combustible, "可燃气体", "装置区", 100.0, 8),
        (Gas::CarbonMonoxide, "一氧化碳", "装置区", 500.0, 3),
        (Gas::Ammonia, "氨气", "冷冻站", 200.0, 3),
        (Gas::Oxygen, "氧气", "受限空间", 30.0, 3),
        (Gas::Methane, "甲烷", "锅炉房", 100.0, 2),
    ];
    for (n, (enterprise_id, site)) in enterprises.iter().enumerate() {
        let mut k = 0usize;
        for (gas, label, area, max, count) in kinds {
            for i in 0..count {
                // A 5 × 5 grid around the plant's location (0.0006° ≈ 50 m).
                let (gx, gy) = ((k % 5) as f64 - 2.0, (k / 5) as f64 - 2.0);
                let position = site.map(|(lon, lat)| (lon + 0.0006 * gx, lat + 0.0005 * gy));
                k += 1;
                let tag = format!("GT-{:02}{:02}-{}", n + 1, k, gas.code());
                let settings = DetectorSettings { interval_ms: 10_000, ..DetectorSettings::default() };
                let range = MeasuringRange::new(0.0, max).map_err(|x| x.message)?;
                let cfg = DetectorConfig::new(
                    Tag::parse(&tag).map_err(|x| x.message)?,
                    gas,
                    gas.default_unit(),
                    range,
                    &settings,
                )
                .map_err(|x| format!("{tag}: {}", x.message))?;
                let device_secret = (tag == DEMO_DEVICE.0).then(|| DEMO_DEVICE.1.to_owned());
                let input = dianxiaoer_store::DetectorInput {
                    enterprise_id: *enterprise_id,
                    tag,
                    name: format!("{area}{label}探测器{}", i + 1),
                    location: format!("{area}{}号", i + 1),
                    plant_area: area.to_owned(),
                    position,
                    spec: dianxiaoer_gas::spec::spec(&cfg, &settings),
                    status: "active".to_owned(),
                    device_secret,
                };
                store
                    .create_detector(actor, &dianxiaoer_core::access::Scope::Zone, &input, now)
                    .await
                    .map_err(|x| x.to_string())?;
            }
        }
    }
    Ok(())
}

/// A project for every demo enterprise (so that any tax of the registry settles, as the benchmark at
/// 100,000 enterprises needs), and 36 months of the tax bureau's exports for the first thousand,
/// imported through the same parser and store operation as an uploaded sheet.
async fn revenue(
    store: &Store,
    actor: &Actor,
    population: &[crate::demo_data::DemoEnterprise],
    now: i64,
) -> Result<(), String> {
    use crate::demo_revenue::{Introducer, months_before, project, tax_month_csv};
    use dianxiaoer_core::revenue::party::{DepartmentId, TownCode, Unit};
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let r = |e: dianxiaoer_core::revenue::RevenueError| e.message;
    let departments = store.departments().await.map_err(e)?;
    let this_year: i32 = dianxiaoer_core::when::format_date(now).get(0..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let subset = &population[..population.len().min(1000)];
    let ids = store.enterprise_ids_by_credit_code().await.map_err(e)?;
    let mut projects = Vec::with_capacity(population.len());
    for (i, d) in population.iter().enumerate() {
        let p = project(SEED, i, d, this_year);
        let Some(&enterprise_id) = ids.get(&d.credit_code) else {
            continue;
        };
        let introducer = match &p.introducer {
            Introducer::Town(t) => Unit::Town(TownCode::parse(t).map_err(r)?),
            Introducer::Department(name) => match departments.iter().find(|x| x.name == *name) {
                Some(x) => Unit::Department(DepartmentId::new(x.id)),
                None => Unit::Zone,
            },
            Introducer::Zone => Unit::Zone,
        };
        let input = dianxiaoer_store::ProjectInput {
            name: p.name,
            enterprise_id,
            introducer,
            host_town: TownCode::parse(&d.host_town).map_err(r)?,
            planned_investment: Fen::from_fen(p.planned_investment_fen),
            planned_fixed_assets: Fen::from_fen(p.planned_fixed_assets_fen),
            actual_investment: Fen::from_fen(p.actual_investment_fen),
            actual_fixed_assets: Fen::from_fen(p.actual_fixed_assets_fen),
            cleared_area: Area::from_m2_centi(p.cleared_area_centi_m2),
            signed_on: p.signed_on,
            landed_on: p.landed_on,
            stage: dianxiaoer_core::revenue::stage::Stage::parse(p.stage).map_err(r)?,
        };
        projects.push(input);
    }
    store.insert_projects_bulk(actor, &projects, now).await.map_err(e)?;
    // The two largest projects come from China-top-500 investors; every town has a quota of two
    // newly landed projects this year, so the assessment board shows bonuses and deductions.
    let largest = store
        .list_projects(
            &Scope::Zone,
            &dianxiaoer_store::ProjectFilter {
                sort: dianxiaoer_store::ProjectSort::parse("investment").unwrap_or_default(),
                ..Default::default()
            },
            1,
            2,
        )
        .await
        .map_err(e)?;
    for p in largest.items {
        store.set_project_top500(actor, &Scope::Zone, p.id, true, now).await.map_err(e)?;
    }
    for t in dianxiaoer_core::division::TOWNS.iter() {
        let quota = dianxiaoer_core::revenue::assessment::Quota {
            unit: Unit::Town(TownCode::parse(t.code).map_err(r)?),
            year: this_year,
            projects: 2,
        };
        store.set_assessment_quota(actor, &quota, now).await.map_err(e)?;
    }
    let town_name = |code: &str| {
        dianxiaoer_core::division::town_by_code(code).map_or_else(|| code.to_string(), |t| t.name.to_string())
    };
    for m in months_before(now, 36) {
        let csv = tax_month_csv(SEED, m, subset, &town_name);
        let sheet = read_csv_ledger(csv.as_bytes(), DeclaredEncoding::Utf8).map_err(|x| x.to_string())?;
        let source = format!("沂水县税务局-{:04}{:02}.csv", m.year, m.month);
        let sha = dianxiaoer_store::sha256_hex(csv.as_bytes());
        match store.import_tax_ledger(actor, &Scope::Zone, &source, &sha, &sheet.rows, now).await.map_err(e)? {
            dianxiaoer_store::TaxImportOutcome::Refused { problems } => {
                return Err(format!("演示税收台账 {source} 未通过校验：{:?}", problems.first()));
            }
            _ => continue,
        }
    }
    settle(store, &months_before(now, 36), now).await
}

/// Settles the demo months in order as the zone does: staff draft, the finance officer reviews,
/// leadership confirms; the latest month stays a draft awaiting review.
async fn settle(store: &Store, months: &[crate::demo_revenue::Month], now: i64) -> Result<(), String> {
    use dianxiaoer_core::revenue::period::Period;
    let e = |e: dianxiaoer_store::Error| e.to_string();
    let mut actors = Vec::new();
    for username in ["staff", "caiwu", "leader"] {
        let u = store.user_by_username(username).await.map_err(e)?.ok_or("演示账号缺失")?;
        actors.push(Actor {
            user_id: Some(u.id),
            username: u.username,
            role: u.role.code().into(),
            ip: "local".into(),
        });
    }
    let [drafter, reviewer, confirmer] = &actors[..] else {
        return Err("演示账号缺失".into());
    };
    for (i, m) in months.iter().enumerate() {
        let p = Period::new(u32::try_from(m.year).unwrap_or(2026), m.month).map_err(|x| x.message)?;
        store.draft_settlement(drafter, &Scope::Zone, p, now).await.map_err(e)?;
        if i + 1 < months.len() {
            store.review_settlement(reviewer, &Scope::Zone, p, now).await.map_err(e)?;
            store.confirm_settlement(confirmer, &Scope::Zone, p, now).await.map_err(e)?;
        }
    }
    Ok(())
}

/// Tags a zone's staff would set: 规上, 高新技术企业 for some, 化工园区 for the chemical park.
fn demo_tags(d: &crate::demo_data::DemoEnterprise) -> String {
    let mut tags = Vec::new();
    if d.above_scale {
        tags.push("规上工业");
    }
    if d.project_area == "lushan" {
        tags.push("化工园区");
    }
    if d.employees > 300 || d.credit_code.as_bytes().last().is_some_and(|b| b % 7 == 0) {
        tags.push("高新技术企业");
    }
    tags.join(",")
}

fn rand_fill(buf: &mut [u8]) {
    let hex = dianxiaoer_store::sessions::random_token(buf.len());
    for (i, b) in buf.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
}

/// Prints the demo accounts, their password and the admin accounts' TOTP secrets.
pub async fn print_logins(store: &Store) -> Result<(), String> {
    let users = store.list_users(&UserFilter::default(), 1, 100).await.map_err(|e| e.to_string())?;
    println!("演示账号（密码均为 {DEMO_PASSWORD}）：");
    for u in users.items.iter().filter(|u| u.demo) {
        let scope = match (&u.department_name, &u.town_name, &u.grid_name, &u.enterprise_name) {
            (Some(d), _, _, _) => d.clone(),
            (_, Some(t), _, _) => t.clone(),
            (_, _, Some(g), _) => g.clone(),
            (_, _, _, Some(e)) => e.clone(),
            _ => String::new(),
        };
        print!("  {:<10} {:<6} {}", u.username, u.role.label(), scope);
        if let Some(s) = &u.totp_secret {
            print!("  动态口令密钥 {s}");
        }
        println!();
    }
    println!("管理员登录时另需输入动态口令：把上面的密钥加入任一 TOTP 验证器（RFC 6238，SHA1，6 位，30 秒）。");
    Ok(())
}
