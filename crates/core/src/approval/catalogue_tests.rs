//! Tests of `catalogue.rs` (kept beside it to keep each file short).

use super::*;

fn builtin() -> Catalogue {
    Catalogue::parse_json(DATA).unwrap_or_else(|e| panic!("{e}"))
}

fn setup() -> ApprovalItem {
    builtin().get("371323-GS-001").cloned().unwrap_or_else(|| panic!("GS-001"))
}

fn wd(n: u32) -> WorkingDays {
    WorkingDays::new(n).unwrap_or_else(|| panic!("{n}"))
}

fn material(name: &str, key: bool, fetchable: bool) -> Material {
    Material { name: name.to_owned(), key, form: MaterialForm::Original, copies: 1, fetchable }
}

/// The (field, message) pairs of `validate`.
fn problems(item: &ApprovalItem) -> Vec<(&'static str, String)> {
    item.validate().into_iter().map(|e| (e.field, e.message)).collect()
}

fn only(item: &ApprovalItem, field: &'static str, message: &str) {
    assert_eq!(problems(item), vec![(field, message.to_owned())]);
}

#[test]
fn builtin_catalogue_has_54_valid_items_in_the_chosen_proportions() {
    let c = builtin();
    assert_eq!(c.len(), 54);
    assert_eq!(Catalogue::builtin().len(), 54);
    let counts: Vec<usize> = c.count_by_category().iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, vec![12, 12, 6, 10, 14]);
    let codes: BTreeSet<&str> = c.items().iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes.len(), 54);
    for item in c.items() {
        assert_eq!(problems(item), vec![], "{}", item.code);
        assert_eq!(item.version, 1);
        assert!((2..=8).contains(&item.materials.len()), "{}", item.code);
        assert_eq!(item.code.category(), Some(item.category));
        assert!(item.code.as_str().starts_with("371323-"));
    }
    // Numbered 001, 002, … within each category, in file order.
    for cat in Category::ALL {
        for (i, item) in c.in_category(cat).enumerate() {
            assert_eq!(item.code.as_str(), format!("371323-{}-{:03}", cat.code_segment(), i + 1));
        }
    }
}

#[test]
fn builtin_catalogue_covers_the_article_and_the_four_stages() {
    let c = builtin();
    for name in
        ["企业设立登记", "食品经营许可", "企业投资项目备案", "建设项目环境影响报告表审批", "建筑工程施工许可证核发"]
    {
        assert!(c.items().iter().any(|i| i.name == name), "{name}");
    }
    let planning_permit = c.items().iter().find(|i| i.name == "建设工程规划许可证核发");
    assert!(planning_permit.is_some_and(|i| i.legal_basis.iter().any(|b| b.contains("城乡规划法》第四十条"))));
    for stage in ConstructionStage::ALL {
        assert!(c.in_stage(stage).count() >= 5, "{}", stage.label());
    }
    assert_eq!(c.in_category(Category::Business).filter(|i| i.stage.is_some()).count(), 0);
    let filings: Vec<&ApprovalItem> = c.items().iter().filter(|i| i.kind == ItemKind::Filing).collect();
    assert!(filings.iter().all(|i| i.promised_limit <= wd(1)));
    assert!(c.items().iter().filter(|i| i.commitment_approval).all(|i| i.kind == ItemKind::Licence));
    assert!(c.items().iter().any(|i| i.commitment_approval) && c.items().iter().any(|i| i.deficiency_acceptance));
    assert!(c.items().iter().any(|i| matches!(i.fee, Fee::Charged { .. })));
    // 营业执照 is fetched via 电子证照 wherever it is listed.
    let licences = c.items().iter().flat_map(|i| &i.materials).filter(|m| m.name == "营业执照");
    assert!(licences.clone().count() > 20 && licences.clone().all(|m| m.fetchable));
}

#[test]
fn lookup_by_code_and_version_key() {
    let c = builtin();
    assert_eq!(c.get(" 371323-GC-001 ").map(|i| i.name.as_str()), Some("建筑工程施工许可证核发"));
    assert_eq!(c.get("371323-GC-099"), None);
    let key = setup().version_key();
    assert_eq!(key.to_string(), "371323-GS-001 第1版");
    assert_eq!(serde_json::to_string(&key).ok(), Some(r#"{"code":"371323-GS-001","version":1}"#.to_owned()));
}

#[test]
fn item_codes_parse_strictly() {
    assert_eq!(ItemCode::parse(" 371323-HP-004 ").map(|c| c.category()), Ok(Some(Category::Environment)));
    let msg = |s: &str| ItemCode::parse(s).map_err(|e| e.message);
    assert_eq!(msg(""), Err("请填写事项编码".to_owned()));
    for bad in ["371323-GS-1", "37132-GS-001", "371323GS001", "371323-GS-001-1", "371323-GS-000", "３71323-GS-001"] {
        assert_eq!(
            msg(bad),
            Err(format!("事项编码“{bad}”格式不正确，应为“行政区划代码-类别-序号”，例如 371323-GS-001")),
            "{bad}"
        );
    }
    assert_eq!(
        msg("371323-gs-001"),
        Err("事项编码“371323-gs-001”的类别“gs”无法识别，应为 GS、LX、HP、GH、GC 之一".into())
    );
}

#[test]
fn promised_limit_above_statutory_is_refused() {
    let mut item = setup();
    item.promised_limit = wd(4);
    only(&item, "promised_limit", "承诺时限（4个工作日）不能超过法定时限（3个工作日）");
    item.promised_limit = wd(3);
    assert_eq!(problems(&item), vec![]);
}

#[test]
fn an_item_needs_a_name_and_a_key_material() {
    let mut item = setup();
    item.name = "  ".into();
    only(&item, "name", "请填写事项名称");
    let mut item = setup();
    item.materials.iter_mut().for_each(|m| m.key = false);
    only(&item, "materials", "至少应有一项关键材料");
    item.materials.clear();
    let got = problems(&item);
    assert!(got.contains(&("materials", "请至少列出一项申请材料".to_owned())), "{got:?}");
}

#[test]
fn material_names_are_unique_and_copies_bounded() {
    let mut item = setup();
    item.materials.push(material(" 公司章程或合伙协议", false, false));
    only(&item, "materials", "材料“公司章程或合伙协议”重复列出");
    let mut item = setup();
    item.materials.push(material("", false, false));
    only(&item, "materials", "第7项材料：请填写材料名称");
    let mut item = setup();
    if let Some(m) = item.materials.first_mut() {
        m.copies = 0;
    }
    only(&item, "materials", "材料“公司登记（备案）申请书”的份数应为1至10份");
}

#[test]
fn rongque_needs_a_non_key_material_the_applicant_hands_in() {
    let mut item = setup();
    // Left: only key materials and the fetchable non-key 住所使用证明, which is never missing.
    item.materials.retain(|m| m.key || m.fetchable);
    only(
        &item,
        "deficiency_acceptance",
        "允许容缺受理的事项至少应有一项由申请人提交的非关键材料（只有这类材料可以容缺）",
    );
    item.deficiency_acceptance = false;
    assert_eq!(problems(&item), vec![]);
    let mut item = setup();
    item.promised_limit = WorkingDays::ZERO;
    only(&item, "deficiency_acceptance", "即办事项（承诺时限为0）不适用容缺受理：补齐期限不能超过承诺时限");
}

#[test]
fn commitment_approval_only_for_licences_outside_environment() {
    let mut item = setup();
    item.commitment_approval = true;
    assert_eq!(problems(&item), vec![]);
    item.kind = ItemKind::Filing;
    only(&item, "commitment_approval", "告知承诺制仅适用于行政许可事项（国办发〔2020〕42号）");
    let mut env = builtin().get("371323-HP-002").cloned().unwrap_or_else(|| panic!("HP-002"));
    env.commitment_approval = true;
    only(&env, "commitment_approval", "环评类事项涉及生态环境保护，不适用告知承诺制（国办发〔2020〕42号）");
}

#[test]
fn visits_stage_code_version_fee_and_texts() {
    let mut item = setup();
    item.visits = 2;
    only(&item, "visits", "到现场次数不能超过1次（最多跑一次）");
    let mut item = setup();
    item.stage = Some(ConstructionStage::ConstructionPermit);
    only(&item, "stage", "工商类事项不属于工程建设项目审批阶段");
    let mut item = setup();
    item.category = Category::Planning;
    only(&item, "code", "事项编码中的类别“GS”与事项类别“规划”不一致");
    let mut item = setup();
    item.version = 0;
    only(&item, "version", "版本号从1开始");
    let mut item = setup();
    item.fee = Fee::Charged { standard: " ".into(), basis: "《城市道路管理条例》".into() };
    only(&item, "fee", "请填写收费标准");
    let mut item = setup();
    item.legal_basis.clear();
    only(&item, "legal_basis", "请填写设定和实施依据");
    item.legal_basis = vec!["《行政许可法》".into(), "".into()];
    only(&item, "legal_basis", "请填写设定和实施依据第2条");
    let mut item = setup();
    item.conditions = vec!["有\u{202E}住所".into()];
    only(&item, "conditions", "受理条件第1条包含非法字符");
    let mut item = setup();
    item.department = String::new();
    item.unit = Some("科".repeat(201));
    assert_eq!(
        problems(&item),
        vec![("department", "请填写实施机关".to_owned()), ("unit", "承办科室不能超过 200 个字符".to_owned())]
    );
}

#[test]
fn revising_an_item_makes_the_next_version() {
    let v1 = setup();
    let mut edit = v1.clone();
    edit.promised_limit = wd(2);
    edit.version = 77;
    let v2 = v1.revise(edit).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!((v2.version, v2.promised_limit), (2, wd(2)));
    assert_ne!(v1.version_key(), v2.version_key());
    let mut renamed = v2.clone();
    renamed.code = ItemCode::parse("371323-GS-099").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v2.revise(renamed).map_err(|e| e[0].field), Err("code"));
    let mut bad = v2.clone();
    bad.promised_limit = wd(9);
    assert_eq!(v2.revise(bad).map_err(|e| e[0].field), Err("promised_limit"));
}

#[test]
fn edited_catalogues_are_parsed_and_checked_whole() {
    let c = builtin();
    let json = serde_json::to_string(&c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Catalogue::parse_json(&json), Ok(c.clone()));

    let msg = |raw: &str| Catalogue::parse_json(raw).map(|c| c.len()).map_err(|e| e.to_string());
    assert_eq!(msg(r#"{"items": []}"#), Err("目录中没有事项".to_owned()));
    assert_eq!(msg("{"), Err("第1行第1列：JSON格式错误".to_owned()));
    assert_eq!(msg(r#"{"items": [{"code": "371323-GS-001"}]}"#), Err("第1行第36列：缺少字段“version”".to_owned()));
    let tampered = json.replacen(r#""statutory_limit":3"#, r#""statutory_limit":366"#, 1);
    assert!(msg(&tampered).is_err_and(|m| m.ends_with("工作日数不能超过365")), "{:?}", msg(&tampered));
    let bad_code = json.replacen("371323-GS-001", "371323-XX-001", 1);
    assert!(msg(&bad_code).is_err_and(|m| m.contains("类别“XX”无法识别")));
    let unknown = json.replacen(r#""visits":0"#, r#""visits":0,"phone":"110""#, 1);
    assert!(msg(&unknown).is_err_and(|m| m.ends_with("未知字段“phone”")));

    // Item problems name the item; every problem is reported.
    let mut items = c.items().to_vec();
    items[1].code = items[0].code.clone();
    items[1].category = items[0].category;
    items[2].promised_limit = wd(300);
    let err = Catalogue::from_items(items).map(|c| c.len()).map_err(|e| e.problems);
    assert_eq!(
        err,
        Err(vec![
            "事项编码371323-GS-001重复".to_owned(),
            "371323-GS-003（企业注销登记）：承诺时限（300个工作日）不能超过法定时限（3个工作日）".to_owned(),
        ])
    );
}
