//! A small zone for tests: four enterprises in different towns, grids and areas, and accounts of
//! every role, including pairs of the same role with different scope for object-level checks.

use dianxiaoer_core::access::{Attachment, Role};
use dianxiaoer_core::approval::Date;
use dianxiaoer_core::approval::certificate::Validity;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::{Actor, EnterpriseInput, NewUser, Store};
use std::collections::BTreeMap;

/// The password of every fixture account.
pub const PASSWORD: &str = "Test#Pass2026";
/// The TOTP secret (base32) of every fixture admin.
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

#[derive(Debug, Clone)]
pub struct Fixture {
    /// Enterprise ids by key: a (许家湖镇, grid 1), b (沂城街道, grid 2), c (马站镇, introduced by
    /// 许家湖镇), d (沂城街道, introduced by a county department).
    pub enterprises: BTreeMap<&'static str, i64>,
    /// User ids by username.
    pub users: BTreeMap<&'static str, i64>,
    pub grids: [i64; 2],
    pub county_department: i64,
}

impl Fixture {
    pub fn enterprise(&self, key: &str) -> i64 {
        self.enterprises[key]
    }
    pub fn user(&self, name: &str) -> i64 {
        self.users[name]
    }
}

/// Every fixture account: (username, role).
pub const ACCOUNTS: [(&str, Role); 14] = [
    ("admin", Role::SystemAdmin),
    ("secadmin", Role::SecurityAdmin),
    ("auditor", Role::AuditAdmin),
    ("leader", Role::Leader),
    ("staff", Role::DepartmentStaff),
    ("grid1", Role::GridOfficer),
    ("grid2", Role::GridOfficer),
    ("xujiahu", Role::TownOfficial),
    ("mazhan", Role::TownOfficial),
    ("fagai", Role::TownOfficial),
    ("ent_a", Role::EnterpriseUser),
    ("ent_b", Role::EnterpriseUser),
    ("supervisor", Role::SafetySupervisor),
    ("victim", Role::DepartmentStaff),
];

fn code(first17: &str) -> CreditCode {
    CreditCode::with_check_digit(first17).expect("valid 17 characters")
}

pub async fn seed(store: &Store, now: i64) -> Fixture {
    let actor = Actor::cli();
    let g1 = store.create_grid(&actor, "测试一网格", "", now).await.unwrap();
    let g2 = store.create_grid(&actor, "测试二网格", "", now).await.unwrap();
    let depts = store.departments().await.unwrap();
    let dept = |n: &str| depts.iter().find(|d| d.name == n).unwrap().id;
    let county = dept("沂水县发展和改革局");
    let service = dept("企业服务中心");
    let mk = |c: &str, name: &str, town: &str, intro: Option<&str>, intro_dept: Option<i64>, area: &str, grid: i64| {
        EnterpriseInput {
            credit_code: code(c),
            name: name.into(),
            legal_representative: "张三".into(),
            industry_code: "C2614".into(),
            host_town: town.into(),
            introducer_town: intro.map(Into::into),
            introducer_department: intro_dept,
            project_area: Some(area.into()),
            grid_id: Some(grid),
            address: "沂水经济开发区".into(),
            contact_name: "李四".into(),
            contact_phone: "13812345678".into(),
            status: "operating".into(),
            location: None,
            land_area_centi_m2: None,
            above_scale: false,
            employees: None,
            registered_capital_fen: None,
            established: None,
            tags: String::new(),
        }
    };
    let rows = [
        ("a", mk("91371323MA3C00001", "山东甲化工有限公司", "371323103", None, None, "lushan", g1)),
        ("b", mk("91371323MA3C00002", "沂水乙电子科技有限公司", "371323001", None, None, "binhe", g2)),
        ("c", mk("91371323MA3C00003", "临沂丙食品有限公司", "371323101", Some("371323103"), None, "chengbei", g1)),
        ("d", mk("91371323MA3C00004", "沂水丁包装有限公司", "371323001", None, Some(county), "chengbei", g2)),
    ];
    let mut enterprises = BTreeMap::new();
    for (k, e) in rows {
        let id = store.create_enterprise(&actor, &dianxiaoer_core::access::Scope::Zone, &e, now).await.unwrap();
        enterprises.insert(k, id);
    }
    let hash = dianxiaoer_web::hash_password(PASSWORD).unwrap();
    let mut users = BTreeMap::new();
    for (name, role) in ACCOUNTS {
        let attachment = match name {
            "staff" | "victim" => Attachment { department_id: Some(service), ..Default::default() },
            "grid1" => Attachment { grid_id: Some(g1), ..Default::default() },
            "grid2" => Attachment { grid_id: Some(g2), ..Default::default() },
            "xujiahu" => Attachment { town_code: Some("371323103".into()), ..Default::default() },
            "mazhan" => Attachment { town_code: Some("371323101".into()), ..Default::default() },
            "fagai" => Attachment { department_id: Some(county), ..Default::default() },
            "ent_a" => Attachment { enterprise_id: Some(enterprises["a"]), ..Default::default() },
            "ent_b" => Attachment { enterprise_id: Some(enterprises["b"]), ..Default::default() },
            _ => Attachment::default(),
        };
        let new = NewUser {
            username: name.into(),
            display_name: format!("测试{name}"),
            role,
            attachment,
            phone: "13900000000".into(),
            password_hash: hash.clone(),
            must_change_password: false,
            demo: false,
        };
        let id = store.create_user(&actor, &new, now).await.unwrap();
        if role.is_admin() {
            store.set_totp(&actor, id, Some(TOTP_SECRET), None, now).await.unwrap();
        }
        users.insert(name, id);
    }
    store.assign_supervisor(&actor, users["supervisor"], enterprises["b"], now).await.unwrap();
    // The approval seal, so that decisions of 准予 can seal their certificates.
    store.rotate_seal_key(&actor, seal_validity("2020-01-01", "2035-12-31"), now).await.unwrap();
    Fixture { enterprises, users, grids: [g1, g2], county_department: county }
}

/// A seal validity from two dates.
pub fn seal_validity(from: &str, to: &str) -> Validity {
    Validity::new(Date::parse(from).unwrap(), Date::parse(to).unwrap()).unwrap()
}
