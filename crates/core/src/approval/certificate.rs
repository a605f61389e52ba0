//! The certificate (批准文书) that a decision of 准予 produces, sealed with the zone's approval seal
//! (`crate::seal`), and the short code that anyone can check it by.
//!
//! Canonical form, version 1 (what the seal signs; security.md "Electronic seals"):
//! - a JSON object of exactly the fields of [`CertificateContent`] plus `"v": 1`, keys in ascending
//!   byte order, no whitespace outside strings, UTF-8 with non-ASCII characters written as they are;
//!   strings escaped as JSON requires (`"`, `\` and U+0000–U+001F only), integers in decimal;
//! - dates `YYYY-MM-DD` in Beijing; `valid_until` is `""` for a certificate without a term (长期有效);
//!   `sealed_at` is the sealing instant in epoch milliseconds; `seal` is the signing key's fingerprint
//!   (hex SM3 of its public key), so the content names the key that must verify it.
//!
//! The hash is SM3 of those bytes. The verification code is its first 60 bits in Crockford base32:
//! 12 characters, printed in groups of four (`ABCD-EFGH-JKMN`); typing is forgiving (case, spaces,
//! dashes, O for 0, I and L for 1).
//!
//! The term of validity follows the item's legal basis where the law sets one ([`term_of`]);
//! otherwise the certificate has none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

use super::catalogue::ItemKind;
use super::date::Date;
use super::default_flow::action;

/// The version of the canonical form (module docs).
pub const FORMAT_VERSION: i64 = 1;

/// The seal's name as printed (沂水经济开发区 uses its own approval seal).
pub const SEAL_NAME: &str = "沂水经济开发区行政审批专用章";

/// Characters of a verification code.
pub const CODE_LEN: usize = 12;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What the seal signs. Every field is stored, and every field is in the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateContent {
    /// 准予行政许可决定书, 备案证明, … ([`title_of`]).
    pub title: String,
    pub case_no: String,
    pub item_code: String,
    pub item_name: String,
    pub enterprise_name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// 准予, or 准予（告知承诺）.
    pub decision: String,
    pub decision_date: String,
    pub valid_from: String,
    /// Empty: no term (长期有效).
    pub valid_until: String,
    /// The implementing department (实施机关).
    pub issuer: String,
    pub sealed_at: i64,
    /// Fingerprint of the signing key.
    pub seal: String,
}

impl CertificateContent {
    /// The canonical bytes (module docs).
    pub fn canonical(&self) -> Vec<u8> {
        use serde_json::Value as V;
        let s = |x: &str| V::String(x.to_owned());
        let fields: BTreeMap<&str, V> = BTreeMap::from([
            ("case_no", s(&self.case_no)),
            ("credit_code", s(&self.credit_code)),
            ("decision", s(&self.decision)),
            ("decision_date", s(&self.decision_date)),
            ("enterprise_name", s(&self.enterprise_name)),
            ("issuer", s(&self.issuer)),
            ("item_code", s(&self.item_code)),
            ("item_name", s(&self.item_name)),
            ("seal", s(&self.seal)),
            ("sealed_at", V::from(self.sealed_at)),
            ("title", s(&self.title)),
            ("v", V::from(FORMAT_VERSION)),
            ("valid_from", s(&self.valid_from)),
            ("valid_until", s(&self.valid_until)),
        ]);
        // A BTreeMap serialises in key order whatever serde_json's features; it cannot fail.
        serde_json::to_vec(&fields).unwrap_or_default()
    }

    /// SM3 of the canonical bytes.
    pub fn digest(&self) -> [u8; 32] {
        Sm3::digest(self.canonical()).into()
    }
}

/// The verification code of a hash (module docs), ungrouped.
pub fn verification_code(digest: &[u8; 32]) -> String {
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(head) >> 4;
    (0..CODE_LEN)
        .map(|i| {
            let idx = (bits >> (5 * (CODE_LEN - 1 - i))) & 31;
            char::from(CROCKFORD[idx as usize])
        })
        .collect()
}

/// `ABCD-EFGH-JKMN`.
pub fn grouped(code: &str) -> String {
    code.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// A code as typed, normalised (module docs).
pub fn parse_code(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in raw.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
            return Err(format!("校验码只含数字和字母（不含 U），“{c}”不是校验码中的字符"));
        }
        out.push(c);
    }
    if out.chars().count() != CODE_LEN {
        return Err(format!("校验码应为 {CODE_LEN} 位，例如 ABCD-EFGH-JKMN"));
    }
    Ok(out)
}

/// The decision an action records on the certificate, for the actions that produce one.
pub fn decision_of(action_code: &str) -> Option<&'static str> {
    match action_code {
        action::APPROVE => Some("准予"),
        action::APPROVE_ON_COMMITMENT => Some("准予（告知承诺）"),
        _ => None,
    }
}

/// The certificate's title by the item's kind.
pub fn title_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Licence => "准予行政许可决定书",
        ItemKind::Filing => "备案证明",
        ItemKind::Confirmation => "行政确认决定书",
        ItemKind::OtherPower | ItemKind::PublicService => "审批决定书",
    }
}

/// A term of validity set by law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    Years(u32),
    Months(u32),
}

/// The term of the items of the built-in catalogue whose legal basis sets one, with that basis.
const TERMS: [(&str, Term, &str); 14] = [
    ("371323-GS-005", Term::Years(5), "《食品生产许可管理办法》：食品生产许可证有效期为5年"),
    ("371323-GS-006", Term::Years(5), "《食品经营许可和备案管理办法》：食品经营许可证有效期为5年"),
    ("371323-GS-007", Term::Years(4), "《公共场所卫生管理条例实施细则》：卫生许可证有效期四年"),
    ("371323-GS-008", Term::Years(5), "《中华人民共和国药品管理法》：药品经营许可证有效期为5年"),
    ("371323-GS-009", Term::Years(3), "《危险化学品经营许可证管理办法》：经营许可证有效期为3年"),
    ("371323-LX-003", Term::Years(2), "《企业投资项目核准和备案管理条例》第十二条：核准文件自作出之日起2年内有效"),
    ("371323-LX-008", Term::Years(2), "《固定资产投资项目节能审查办法》：节能审查意见自印发之日起2年内有效"),
    ("371323-LX-010", Term::Years(5), "《取水许可和水资源费征收管理条例》：取水许可证有效期限一般为5年"),
    ("371323-HP-001", Term::Years(5), "《中华人民共和国环境影响评价法》第二十四条：超过五年方开工的应重新审核"),
    ("371323-HP-002", Term::Years(5), "《中华人民共和国环境影响评价法》第二十四条：超过五年方开工的应重新审核"),
    ("371323-HP-005", Term::Years(5), "《排污许可管理条例》第十四条：排污许可证有效期为5年"),
    ("371323-GH-010", Term::Years(2), "《中华人民共和国土地管理法》第五十七条：临时使用土地期限一般不超过二年"),
    ("371323-GC-001", Term::Months(3), "《中华人民共和国建筑法》第九条：自领取施工许可证之日起三个月内开工"),
    ("371323-GC-011", Term::Years(5), "《城镇污水排入排水管网许可管理办法》：排水许可证有效期为5年"),
];

/// The legal term of an item's certificate and its basis, or `None` (长期有效).
pub fn term_of(item_code: &str) -> Option<(Term, &'static str)> {
    TERMS.iter().find(|(c, _, _)| *c == item_code).map(|(_, t, b)| (*t, *b))
}

/// The last day of a term that starts on `from`: the day before the same date `term` later (a
/// 29 February start ends on 27 or 28 February).
pub fn valid_until(from: Date, term: Term) -> Date {
    let months = match term {
        Term::Years(y) => i64::from(y) * 12,
        Term::Months(m) => i64::from(m),
    };
    let total = i64::from(from.year()) * 12 + i64::from(from.month()) - 1 + months;
    let (y, m) = (i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX), (total.rem_euclid(12) + 1) as u32);
    let mut day = from.day();
    loop {
        if let Some(d) = Date::new(y, m, day) {
            return d.add_days(-1);
        }
        if day <= 28 {
            return from;
        }
        day -= 1;
    }
}

/// The validity columns of a certificate decided on `decision_date` for `item_code`.
pub fn validity_for(item_code: &str, decision_date: Date) -> (String, String) {
    let until = term_of(item_code).map(|(t, _)| valid_until(decision_date, t).to_string()).unwrap_or_default();
    (decision_date.to_string(), until)
}

/// The period in which a seal key may sign (valid-from and valid-to, both inclusive, Beijing dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub from: Date,
    pub to: Date,
}

impl Validity {
    pub fn new(from: Date, to: Date) -> Result<Validity, String> {
        if from > to {
            return Err(format!("印章有效期的起始日期（{from}）不能晚于截止日期（{to}）"));
        }
        Ok(Validity { from, to })
    }

    pub fn contains(&self, at_ms: i64) -> bool {
        let day = Date::from_ms(at_ms);
        self.from <= day && day <= self.to
    }

    /// Why the seal may not sign at `at_ms`, or `None` when it may.
    pub fn refusal(&self, at_ms: i64) -> Option<String> {
        let day = Date::from_ms(at_ms);
        if day < self.from {
            Some(format!("审批专用章自 {} 起启用，{day} 尚不能签发批准文书；请安全管理员调整印章有效期", self.from))
        } else if day > self.to {
            Some(format!(
                "审批专用章已于 {} 到期，不能签发批准文书（{day}）；请安全管理员延长有效期或轮换新密钥",
                self.to
            ))
        } else {
            None
        }
    }
}

/// A seal key on file, as verification needs it.
#[derive(Debug, Clone)]
pub struct KeyOnFile {
    pub fingerprint: String,
    /// Uncompressed SEC1, hex.
    pub public_key: String,
    pub validity: Validity,
    /// When a rotation replaced it.
    pub retired_at: Option<i64>,
}

/// A stored certificate: its content and what the seal left on it.
#[derive(Debug, Clone)]
pub struct SealedRecord {
    pub content: CertificateContent,
    /// Ungrouped verification code.
    pub code: String,
    /// Hex SM3 of the canonical content at sealing.
    pub hash: String,
    /// Hex `r || s`.
    pub signature: String,
}

/// Checks a stored certificate against the key that sealed it: the content still hashes to the
/// stored hash and code, the key is the one the content names, the signature verifies, and the key
/// could sign at the sealing instant (within its validity, not replaced before it; a rotation in the
/// same millisecond still counts as before). The reason otherwise.
pub fn check(record: &SealedRecord, key: &KeyOnFile) -> Result<(), &'static str> {
    let digest = record.content.digest();
    if hex::encode(digest) != record.hash {
        return Err("内容与签章时的摘要不一致");
    }
    if verification_code(&digest) != record.code {
        return Err("校验码与内容不符");
    }
    let public = hex::decode(&key.public_key).map_err(|_| "印章公钥记录已损坏")?;
    if crate::seal::fingerprint(&public) != key.fingerprint || key.fingerprint != record.content.seal {
        return Err("签章所用的印章密钥与记录不符");
    }
    let signature = hex::decode(&record.signature).map_err(|_| "签名记录已损坏")?;
    if !crate::seal::verify(&public, &digest, &signature).unwrap_or(false) {
        return Err("印章签名验证失败");
    }
    let sealed_at = record.content.sealed_at;
    if !key.validity.contains(sealed_at) || key.retired_at.is_some_and(|r| sealed_at > r) {
        return Err("签章时该印章密钥不在有效期内");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn sample() -> CertificateContent {
        CertificateContent {
            title: "准予行政许可决定书".into(),
            case_no: "SP2021-000123".into(),
            item_code: "371323-GS-006".into(),
            item_name: "食品经营许可".into(),
            enterprise_name: "临沂丙食品有限公司".into(),
            credit_code: "91371323MA3C000036".into(),
            decision: "准予".into(),
            decision_date: "2021-03-04".into(),
            valid_from: "2021-03-04".into(),
            valid_until: "2026-03-03".into(),
            issuer: "沂水经济开发区行政审批服务局".into(),
            sealed_at: 1_614_841_212_000,
            seal: "ab".repeat(32),
        }
    }

    #[test]
    fn canonical_form_is_sorted_compact_json() {
        let text = String::from_utf8(sample().canonical()).unwrap();
        let expected = concat!(
            r#"{"case_no":"SP2021-000123","credit_code":"91371323MA3C000036","decision":"准予","#,
            r#""decision_date":"2021-03-04","enterprise_name":"临沂丙食品有限公司","#,
            r#""issuer":"沂水经济开发区行政审批服务局","item_code":"371323-GS-006","item_name":"食品经营许可","#,
            r#""seal":"abababababababababababababababababababababababababababababababab","#,
            r#""sealed_at":1614841212000,"title":"准予行政许可决定书","v":1,"#,
            r#""valid_from":"2021-03-04","valid_until":"2026-03-03"}"#
        );
        assert_eq!(text, expected);
        // Quotes and control characters are escaped, so no field can imitate another.
        let mut odd = sample();
        odd.enterprise_name = "甲\",\"issuer\":\"乙\n".into();
        let text = String::from_utf8(odd.canonical()).unwrap();
        assert!(text.contains(r#""enterprise_name":"甲\",\"issuer\":\"乙\n""#), "{text}");
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = sample().digest();
        let edits: [fn(&mut CertificateContent); 13] = [
            |c| c.title.push('x'),
            |c| c.case_no.push('1'),
            |c| c.item_code.push('1'),
            |c| c.item_name.push('x'),
            |c| c.enterprise_name.push('x'),
            |c| c.credit_code.push('1'),
            |c| c.decision = "不予".into(),
            |c| c.decision_date = "2021-03-05".into(),
            |c| c.valid_from = "2021-03-05".into(),
            |c| c.valid_until = String::new(),
            |c| c.issuer.push('x'),
            |c| c.sealed_at += 1,
            |c| c.seal = "cd".repeat(32),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut c = sample();
            edit(&mut c);
            assert_ne!(c.digest(), base, "field {i}");
        }
    }

    #[test]
    fn sm3_of_the_canonical_bytes_signs_and_verifies() {
        use crate::seal::{SealSecret, verify};
        let key = SealSecret::generate(&mut rand_core::OsRng);
        let mut c = sample();
        c.seal = key.fingerprint();
        let digest = c.digest();
        let sig = key.sign(&digest).unwrap();
        assert!(verify(&key.public_key(), &digest, &sig).unwrap());
        c.enterprise_name.push('x');
        assert!(!verify(&key.public_key(), &c.digest(), &sig).unwrap());
    }

    #[test]
    fn code_is_the_first_60_bits_in_crockford_base32() {
        let mut d = [0u8; 32];
        assert_eq!(verification_code(&d), "000000000000");
        d[..8].copy_from_slice(&[0xff; 8]);
        assert_eq!(verification_code(&d), "ZZZZZZZZZZZZ");
        // The 5-bit groups 2, 4, 6, … 24, then four bits that the code leaves out.
        d[..8].copy_from_slice(&[0x11, 0x0c, 0x85, 0x31, 0xd0, 0x95, 0x2d, 0x8f]);
        assert_eq!(verification_code(&d), "2468ACEGJMPR");
        assert_eq!(grouped("2468ACEGJMPR"), "2468-ACEG-JMPR");
        let code = verification_code(&sample().digest());
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn typed_codes_are_forgiven_case_dashes_and_look_alikes() {
        assert_eq!(parse_code(" 2468-aceg-jmpr ").unwrap(), "2468ACEGJMPR");
        assert_eq!(parse_code("O1LI 2345 6789").unwrap(), "011123456789");
        assert!(parse_code("2468-ACEG-JMP").unwrap_err().contains("12 位"));
        assert!(parse_code("2468-ACEG-JMPU").unwrap_err().contains("U"));
        assert!(parse_code("审批").is_err());
        assert!(parse_code("").is_err());
    }

    #[test]
    fn decisions_and_titles() {
        assert_eq!(decision_of(action::APPROVE), Some("准予"));
        assert_eq!(decision_of(action::APPROVE_ON_COMMITMENT), Some("准予（告知承诺）"));
        assert_eq!(decision_of(action::REFUSE), None);
        assert_eq!(title_of(ItemKind::Filing), "备案证明");
        assert_eq!(title_of(ItemKind::Licence), "准予行政许可决定书");
    }

    #[test]
    fn terms_end_the_day_before_the_anniversary() {
        let d = |s: &str| Date::parse(s).unwrap();
        assert_eq!(valid_until(d("2021-03-04"), Term::Years(5)), d("2026-03-03"));
        assert_eq!(valid_until(d("2024-02-29"), Term::Years(1)), d("2025-02-27"));
        assert_eq!(valid_until(d("2021-11-30"), Term::Months(3)), d("2022-02-27"));
        assert_eq!(valid_until(d("2021-01-01"), Term::Months(3)), d("2021-03-31"));
        assert_eq!(validity_for("371323-GS-006", d("2021-03-04")), ("2021-03-04".into(), "2026-03-03".into()));
        assert_eq!(validity_for("371323-GS-001", d("2021-03-04")), ("2021-03-04".into(), String::new()));
    }

    #[test]
    fn every_term_names_an_item_of_the_builtin_catalogue() {
        let cat = crate::approval::Catalogue::builtin();
        for (code, _, basis) in TERMS {
            let item = cat.get(code).unwrap_or_else(|| panic!("{code}"));
            assert_eq!(item.kind, ItemKind::Licence, "{code}");
            assert!(!basis.is_empty());
        }
    }

    fn sealed(key: &crate::seal::SealSecret, at: i64) -> SealedRecord {
        let mut content = sample();
        content.seal = key.fingerprint();
        content.sealed_at = at;
        let digest = content.digest();
        SealedRecord {
            code: verification_code(&digest),
            hash: hex::encode(digest),
            signature: hex::encode(key.sign(&digest).unwrap()),
            content,
        }
    }

    fn on_file(key: &crate::seal::SealSecret, from: &str, to: &str, retired_at: Option<i64>) -> KeyOnFile {
        KeyOnFile {
            fingerprint: key.fingerprint(),
            public_key: hex::encode(key.public_key()),
            validity: Validity::new(Date::parse(from).unwrap(), Date::parse(to).unwrap()).unwrap(),
            retired_at,
        }
    }

    #[test]
    fn a_record_checks_against_its_key_and_any_change_fails() {
        let key = crate::seal::SealSecret::generate(&mut rand_core::OsRng);
        let at = Date::parse("2021-03-04").unwrap().start_ms() + 10 * 3_600_000;
        let rec = sealed(&key, at);
        let k = on_file(&key, "2021-01-01", "2023-12-31", None);
        assert_eq!(check(&rec, &k), Ok(()));
        // Rotated out later: still valid for what it sealed before.
        assert_eq!(check(&rec, &on_file(&key, "2021-01-01", "2023-12-31", Some(at))), Ok(()));
        // Sealed after it was replaced: whoever signed had a key no longer in use.
        let late = on_file(&key, "2021-01-01", "2023-12-31", Some(at - 1));
        assert_eq!(check(&rec, &late), Err("签章时该印章密钥不在有效期内"));
        assert!(check(&rec, &on_file(&key, "2022-01-01", "2023-12-31", None)).is_err());
        let mut r = rec.clone();
        r.content.enterprise_name.push('x');
        assert_eq!(check(&r, &k), Err("内容与签章时的摘要不一致"));
        let mut r = rec.clone();
        r.code = "000000000000".into();
        assert_eq!(check(&r, &k), Err("校验码与内容不符"));
        let mut r = rec.clone();
        let mut sig = hex::decode(&r.signature).unwrap();
        sig[5] ^= 1;
        r.signature = hex::encode(sig);
        assert!(check(&r, &k).is_err());
        // Another key, even one on file, does not verify it.
        let other = crate::seal::SealSecret::generate(&mut rand_core::OsRng);
        assert_eq!(
            check(&rec, &on_file(&other, "2021-01-01", "2023-12-31", None)),
            Err("签章所用的印章密钥与记录不符")
        );
        // A forger who re-hashes edited content and names the real key still lacks the signature.
        let mut r = rec.clone();
        r.content.decision_date = "2021-03-05".into();
        let digest = r.content.digest();
        r.hash = hex::encode(digest);
        r.code = verification_code(&digest);
        assert_eq!(check(&r, &k), Err("印章签名验证失败"));
    }

    #[test]
    fn validity_refuses_signing_outside_it() {
        let d = |s: &str| Date::parse(s).unwrap();
        assert!(Validity::new(d("2026-12-31"), d("2026-01-01")).unwrap_err().contains("不能晚于"));
        let v = Validity::new(d("2026-01-01"), d("2026-12-31")).unwrap();
        assert_eq!(v.refusal(d("2026-12-31").start_ms() + 86_399_999), None);
        assert!(v.refusal(d("2027-01-01").start_ms()).unwrap().contains("已于 2026-12-31 到期"));
        assert!(v.refusal(d("2025-12-31").start_ms()).unwrap().contains("自 2026-01-01 起启用"));
    }
}
