//! Whether an application can be accepted with the materials handed in, and if so whether as
//! 容缺受理 (deficiency acceptance: accepted while non-key materials are missing).
//!
//! Rules (reference "容缺受理"):
//! - materials the government fetches itself (电子证照, data sharing) are never asked of the applicant;
//! - a missing key material refuses acceptance, 容缺 or not;
//! - missing non-key materials are accepted only when the item allows 容缺受理; the applicant then
//!   signs a commitment and supplies them by a deadline no longer than the promised limit;
//! - a name that is not in the guide is refused, so a typo or a guide of another version cannot make
//!   a material look missing or supplied.

use std::collections::BTreeSet;

use super::catalogue::ApprovalItem;

/// The outcome of a successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// Everything the applicant must hand in is there.
    Complete,
    /// 容缺受理: accepted; these non-key materials are still to be supplied, in the guide's order.
    Deficient { missing: Vec<String> },
}

/// Why the application cannot be accepted; the message names the materials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AcceptanceError {
    pub message: String,
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join("、")
}

/// Checks the materials handed in (names as in the guide) against the item's guide (module docs).
pub fn check_acceptance<S: AsRef<str>>(item: &ApprovalItem, provided: &[S]) -> Result<Acceptance, AcceptanceError> {
    let provided: BTreeSet<&str> = provided.iter().map(|s| s.as_ref().trim()).filter(|s| !s.is_empty()).collect();
    let unknown: Vec<&str> =
        provided.iter().copied().filter(|p| !item.materials.iter().any(|m| m.name.trim() == *p)).collect();
    if !unknown.is_empty() {
        return Err(AcceptanceError {
            message: format!("材料{}不在本事项办事指南（{}）中", quoted(&unknown), item.version_key()),
        });
    }
    let missing = item.materials.iter().filter(|m| !m.fetchable && !provided.contains(m.name.trim()));
    let (key, non_key): (Vec<_>, Vec<_>) = missing.partition(|m| m.key);
    if !key.is_empty() {
        let names: Vec<&str> = key.iter().map(|m| m.name.trim()).collect();
        return Err(AcceptanceError {
            message: format!("缺少关键材料{}，不予受理（关键材料不能容缺）", quoted(&names)),
        });
    }
    let names: Vec<&str> = non_key.iter().map(|m| m.name.trim()).collect();
    if names.is_empty() {
        return Ok(Acceptance::Complete);
    }
    if !item.deficiency_acceptance {
        return Err(AcceptanceError {
            message: format!("缺少材料{}；本事项不适用容缺受理，请补齐后再受理", quoted(&names)),
        });
    }
    Ok(Acceptance::Deficient { missing: names.into_iter().map(str::to_owned).collect() })
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::approval::catalogue::Catalogue;

    fn item(code: &str) -> ApprovalItem {
        Catalogue::builtin().get(code).cloned().unwrap_or_else(|| panic!("{code}"))
    }

    /// 企业设立登记: 容缺 allowed; key 申请书/章程/任职文件 handed in, 股东资格证明 fetched;
    /// non-key 住所使用证明 fetched, 授权委托书 handed in.
    const SETUP: &str = "371323-GS-001";
    const KEYS: [&str; 3] = ["公司登记（备案）申请书", "公司章程或合伙协议", "法定代表人、董事、监事和经理的任职文件"];
    const PROXY: &str = "授权委托书及受托人身份证件";

    #[test]
    fn complete_when_everything_not_fetchable_is_there() {
        let mut all = KEYS.to_vec();
        all.push(PROXY);
        assert_eq!(check_acceptance(&item(SETUP), &all), Ok(Acceptance::Complete));
        // Fetchable materials handed in anyway are fine too; surrounding spaces are ignored.
        all.push(" 住所（经营场所）使用证明 ");
        assert_eq!(check_acceptance(&item(SETUP), &all), Ok(Acceptance::Complete));
    }

    #[test]
    fn missing_non_key_material_is_deficient_when_the_item_allows_it() {
        let got = check_acceptance(&item(SETUP), &KEYS);
        assert_eq!(got, Ok(Acceptance::Deficient { missing: vec![PROXY.to_owned()] }));
    }

    #[test]
    fn missing_key_material_is_refused_by_name() {
        let got = check_acceptance(&item(SETUP), &[KEYS[0], PROXY]);
        assert_eq!(
            got.map_err(|e| e.message),
            Err("缺少关键材料“公司章程或合伙协议”、“法定代表人、董事、监事和经理的任职文件”，不予受理（关键材料不能容缺）"
                .to_owned())
        );
        let none: [&str; 0] = [];
        assert!(check_acceptance(&item(SETUP), &none).is_err());
    }

    #[test]
    fn missing_non_key_material_is_refused_without_rongque() {
        // 特种设备使用登记 does not allow 容缺.
        let it = item("371323-GS-010");
        assert!(!it.deficiency_acceptance);
        let keys: Vec<&str> = it.materials.iter().filter(|m| m.key && !m.fetchable).map(|m| m.name.as_str()).collect();
        let got = check_acceptance(&it, &keys).map_err(|e| e.message);
        assert_eq!(got, Err(format!("缺少材料“{PROXY}”；本事项不适用容缺受理，请补齐后再受理")));
    }

    #[test]
    fn names_outside_the_guide_are_refused() {
        let mut all = KEYS.to_vec();
        all.push("公司章程");
        let got = check_acceptance(&item(SETUP), &all).map_err(|e| e.message);
        assert_eq!(got, Err("材料“公司章程”不在本事项办事指南（371323-GS-001 第1版）中".to_owned()));
    }

    #[test]
    fn the_check_holds_for_every_builtin_item() {
        for it in Catalogue::builtin().items() {
            let all: Vec<&str> = it.materials.iter().filter(|m| !m.fetchable).map(|m| m.name.as_str()).collect();
            assert_eq!(check_acceptance(it, &all), Ok(Acceptance::Complete), "{}", it.code);
            let keys: Vec<&str> =
                it.materials.iter().filter(|m| m.key && !m.fetchable).map(|m| m.name.as_str()).collect();
            let got = check_acceptance(it, &keys);
            let deficient = all.len() > keys.len();
            match got {
                Ok(Acceptance::Complete) => assert!(!deficient, "{}", it.code),
                Ok(Acceptance::Deficient { missing }) => {
                    assert!(it.deficiency_acceptance && missing.len() == all.len() - keys.len(), "{}", it.code)
                }
                Err(_) => assert!(deficient && !it.deficiency_acceptance, "{}", it.code),
            }
        }
    }
}
