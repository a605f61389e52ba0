//! Certificates (批准文书): sealed in the transaction of a decision of 准予, read within scope, marked
//! when the decision is revoked, sealed in bulk for decisions loaded without one, and verified by
//! anyone from the printed code (core: `approval/certificate.rs`).
//!
//! Verification trusts nothing stored but the seal's public keys: it rebuilds the canonical content
//! from the stored columns, re-hashes it, checks the code, the key and the SM2 signature, and that the
//! case the certificate hangs on still carries the same case number. A revoked decision answers
//! 已撤销 rather than 有效; the revoked mark, made after the seal, must agree with the case's state
//! (a mark removed or forged on one of the two alone reads as altered).

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::seal::{Signer, validity_of};
use crate::sql::Sql;
use crate::{Store, Tx};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::certificate::{
    CertificateContent, KeyOnFile, SealedRecord, check, grouped, title_of, validity_for, verification_code,
};
use dianxiaoer_core::approval::{ApprovalItem, Date};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// Rows per bulk insert: 19 parameters each, well under SQLite's limit.
const CHUNK: usize = 500;

/// A stored certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateRow {
    pub id: i64,
    pub case_id: i64,
    pub content: CertificateContent,
    /// Ungrouped, and as printed.
    pub code: String,
    pub code_grouped: String,
    /// Hex SM3 of the canonical content.
    pub hash: String,
    /// Hex SM2 `r || s`.
    pub signature: String,
    pub seal_key_id: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: String,
}

/// The answer of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStatus {
    /// 有效: sealed by the zone's seal and unchanged since.
    Valid,
    /// 已撤销: genuine, but the decision was revoked.
    Revoked,
    /// 已被篡改: a certificate with this code exists but does not verify.
    Altered,
    /// 不存在: no certificate has this code.
    Unknown,
}

impl VerifyStatus {
    pub fn label(self) -> &'static str {
        match self {
            VerifyStatus::Valid => "有效",
            VerifyStatus::Revoked => "已撤销",
            VerifyStatus::Altered => "已被篡改",
            VerifyStatus::Unknown => "不存在",
        }
    }
}

/// What the public verification shows: the content only for a genuine certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub status: VerifyStatus,
    pub label: &'static str,
    /// The code as asked, grouped.
    pub code: String,
    pub reason: Option<String>,
    pub certificate: Option<CertificateContent>,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

impl Verification {
    fn new(status: VerifyStatus, code: &str) -> Verification {
        Verification {
            status,
            label: status.label(),
            code: grouped(code),
            reason: None,
            certificate: None,
            revoked_at: None,
            revoked_reason: None,
        }
    }

    fn altered(code: &str, reason: &str) -> Verification {
        Verification { reason: Some(reason.to_owned()), ..Verification::new(VerifyStatus::Altered, code) }
    }
}

const REVOKED_STATE: &str = dianxiaoer_core::approval::default_flow::state::REVOKED;

const COLUMNS: &str = "a.id, a.case_id, a.code, a.title, a.case_no, a.item_code, a.item_name, a.enterprise_name, \
    a.credit_code, a.decision, a.decision_date, a.valid_from, a.valid_until, a.issuer, a.sealed_at, a.seal_key_id, \
    a.hash, a.signature, a.revoked_at, a.revoked_reason";

/// The content of a row; `seal` is filled by the caller from the key.
fn row(r: &AnyRow, seal: String) -> Result<CertificateRow> {
    let code: String = r.try_get("code")?;
    Ok(CertificateRow {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        content: CertificateContent {
            title: r.try_get("title")?,
            case_no: r.try_get("case_no")?,
            item_code: r.try_get("item_code")?,
            item_name: r.try_get("item_name")?,
            enterprise_name: r.try_get("enterprise_name")?,
            credit_code: r.try_get("credit_code")?,
            decision: r.try_get("decision")?,
            decision_date: r.try_get("decision_date")?,
            valid_from: r.try_get("valid_from")?,
            valid_until: r.try_get("valid_until")?,
            issuer: r.try_get("issuer")?,
            sealed_at: r.try_get("sealed_at")?,
            seal,
        },
        code_grouped: grouped(&code),
        code,
        hash: r.try_get("hash")?,
        signature: r.try_get("signature")?,
        seal_key_id: r.try_get("seal_key_id")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_reason: r.try_get("revoked_reason")?,
    })
}

/// A decision to seal: the case, its item version, the enterprise and the decision.
pub(crate) struct Decision<'a> {
    pub case_id: i64,
    pub case_no: &'a str,
    pub item: &'a ApprovalItem,
    pub item_name: &'a str,
    pub enterprise_name: &'a str,
    pub credit_code: &'a str,
    pub decision: &'a str,
    pub at: i64,
}

/// Seals one decision with `signer`: the content, its hash, code and signature.
fn seal(signer: &Signer, d: &Decision<'_>) -> Result<(i64, CertificateContent, String, String, String)> {
    let day = Date::from_ms(d.at);
    let (valid_from, valid_until) = validity_for(d.item.code.as_str(), day);
    let content = CertificateContent {
        title: title_of(d.item.kind).to_owned(),
        case_no: d.case_no.to_owned(),
        item_code: d.item.code.as_str().to_owned(),
        item_name: d.item_name.trim().to_owned(),
        enterprise_name: d.enterprise_name.to_owned(),
        credit_code: d.credit_code.to_owned(),
        decision: d.decision.to_owned(),
        decision_date: day.to_string(),
        valid_from,
        valid_until,
        issuer: d.item.department.trim().to_owned(),
        sealed_at: d.at,
        seal: signer.fingerprint.clone(),
    };
    let digest = content.digest();
    let signature = signer.secret.sign(&digest).map_err(|e| Error::Refused(e.to_string()))?;
    Ok((d.case_id, content, verification_code(&digest), hex::encode(digest), hex::encode(signature)))
}

type Sealed = (i64, CertificateContent, String, String, String);

async fn insert(tx: &mut Tx<'_>, key_id: i64, rows: &[Sealed]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let mut s = Sql::new(
            "INSERT INTO approval_certificates (case_id, code, title, case_no, item_code, item_name, enterprise_name, \
             credit_code, decision, decision_date, valid_from, valid_until, issuer, sealed_at, seal_key_id, hash, \
             signature) VALUES ",
        );
        for (i, (case_id, c, code, hash, sig)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" });
            s.i64(*case_id).push(", ").text(code.clone()).push(", ").text(c.title.clone());
            s.push(", ").text(c.case_no.clone()).push(", ").text(c.item_code.clone());
            s.push(", ").text(c.item_name.clone()).push(", ").text(c.enterprise_name.clone());
            s.push(", ").text(c.credit_code.clone()).push(", ").text(c.decision.clone());
            s.push(", ").text(c.decision_date.clone()).push(", ").text(c.valid_from.clone());
            s.push(", ").text(c.valid_until.clone()).push(", ").text(c.issuer.clone());
            s.push(", ").i64(c.sealed_at).push(", ").i64(key_id).push(", ").text(hash.clone());
            s.push(", ").text(sig.clone()).push(")");
        }
        s.for_backend(tx.backend)
            .query()
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| Error::from(e).unique_as("批准文书校验码重复，请重试"))?;
    }
    Ok(())
}

impl Store {
    /// Seals the certificate of a decision inside its transaction (`approval_actions.rs`); refused,
    /// and with it the decision, when the seal cannot sign now (no key, outside its validity, the
    /// wrapping secret changed). A case that already has one keeps it.
    pub(crate) async fn seal_decision(&self, tx: &mut Tx<'_>, d: &Decision<'_>) -> Result<Option<String>> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM approval_certificates WHERE case_id = $1")
            .bind(d.case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let signer = self.signer(tx, Some(d.at)).await?;
        let sealed = seal(&signer, d)?;
        let code = sealed.2.clone();
        insert(tx, signer.id, &[sealed]).await?;
        Ok(Some(code))
    }

    /// Marks a case's certificate revoked with the decision (告知承诺 found false).
    pub(crate) async fn revoke_certificate(&self, tx: &mut Tx<'_>, case_id: i64, reason: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE approval_certificates SET revoked_at = $1, revoked_reason = $2 WHERE case_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason.to_owned())
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?;
        Ok(())
    }

    /// The certificate of a case in scope, if it has one.
    pub async fn case_certificate(&self, scope: &Scope, case_id: i64) -> Result<Option<CertificateRow>> {
        self.case(scope, case_id).await?;
        let sql = format!(
            "SELECT {COLUMNS}, k.fingerprint AS seal FROM approval_certificates a \
             JOIN seal_keys k ON k.id = a.seal_key_id WHERE a.case_id = $1"
        );
        match sqlx::query(&sql).bind(case_id).fetch_optional(self.pool()).await? {
            Some(r) => Ok(Some(row(&r, r.try_get("seal")?)?)),
            None => Ok(None),
        }
    }

    /// Verifies the certificate of a (normalised) code: public, no scope (module docs).
    pub async fn verify_certificate(&self, code: &str) -> Result<Verification> {
        let sql = format!(
            "SELECT {COLUMNS}, c.case_no AS on_case, c.state AS case_state, k.fingerprint AS k_fingerprint, k.public_key AS k_public, \
             k.valid_from AS k_from, k.valid_to AS k_to, k.retired_at AS k_retired FROM approval_certificates a \
             LEFT JOIN approval_cases c ON c.id = a.case_id LEFT JOIN seal_keys k ON k.id = a.seal_key_id \
             WHERE a.code = $1"
        );
        let Some(r) = sqlx::query(&sql).bind(code.to_owned()).fetch_optional(self.pool()).await? else {
            return Ok(Verification::new(VerifyStatus::Unknown, code));
        };
        let Some(fingerprint) = r.try_get::<Option<String>, _>("k_fingerprint")? else {
            return Ok(Verification::altered(code, "签章所用的印章密钥不存在"));
        };
        let key = KeyOnFile {
            fingerprint: fingerprint.clone(),
            public_key: r.try_get::<Option<String>, _>("k_public")?.unwrap_or_default(),
            validity: match validity_of(
                &r.try_get::<Option<String>, _>("k_from")?.unwrap_or_default(),
                &r.try_get::<Option<String>, _>("k_to")?.unwrap_or_default(),
            ) {
                Ok(v) => v,
                Err(_) => return Ok(Verification::altered(code, "印章密钥的有效期记录已损坏")),
            },
            retired_at: r.try_get("k_retired")?,
        };
        let cert = row(&r, fingerprint)?;
        if r.try_get::<Option<String>, _>("on_case")?.as_deref() != Some(cert.content.case_no.as_str()) {
            return Ok(Verification::altered(code, "批准文书与办件记录不符"));
        }
        let record = SealedRecord {
            content: cert.content.clone(),
            code: cert.code.clone(),
            hash: cert.hash.clone(),
            signature: cert.signature.clone(),
        };
        if let Err(why) = check(&record, &key) {
            return Ok(Verification::altered(code, why));
        }
        // The revoked mark is not under the seal (it comes after it), so it must agree with the case:
        // a mark removed from a revoked decision's certificate, or put on a standing one, is a change
        // of the record, not a state of the decision.
        let case_revoked = r.try_get::<Option<String>, _>("case_state")?.as_deref() == Some(REVOKED_STATE);
        if case_revoked != cert.revoked_at.is_some() {
            return Ok(Verification::altered(code, "撤销记录与办件记录不符"));
        }
        let status = if case_revoked { VerifyStatus::Revoked } else { VerifyStatus::Valid };
        Ok(Verification {
            certificate: Some(cert.content),
            revoked_at: cert.revoked_at,
            revoked_reason: cert.revoked_at.map(|_| cert.revoked_reason),
            ..Verification::new(status, code)
        })
    }

    /// Seals the decisions of 准予 that have no certificate (cases loaded with their history, such as
    /// the demo's year or a migration) whose decision instant the active key's validity covers, each
    /// dated at its decision. One transaction and one audit record; returns how many were sealed.
    pub async fn seal_missing_certificates(&self, actor: &Actor, now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let signer = self.signer(&mut tx, None).await?;
        let (from, until) = (signer.validity.from.start_ms(), signer.validity.to.next().start_ms());
        let rows = sqlx::query(
            "SELECT c.id, c.case_no, c.item_code, c.item_version, c.item_name, e.name AS enterprise_name, \
             e.credit_code, ev.action, ev.at FROM approval_case_events ev \
             JOIN approval_cases c ON c.id = ev.case_id JOIN enterprises e ON e.id = c.enterprise_id \
             LEFT JOIN approval_certificates a ON a.case_id = c.id \
             WHERE ev.action IN ('approve', 'approve_on_commitment') AND a.id IS NULL AND c.state <> 'revoked' \
             AND ev.at >= $1 AND ev.at < $2 ORDER BY ev.at, c.id",
        )
        .bind(from)
        .bind(until)
        .fetch_all(&mut *tx.tx)
        .await?;
        let mut items: HashMap<(String, i64), ApprovalItem> = HashMap::new();
        let mut sealed = Vec::with_capacity(rows.len());
        for r in &rows {
            let key: (String, i64) = (r.try_get("item_code")?, r.try_get("item_version")?);
            if !items.contains_key(&key) {
                let raw: String =
                    sqlx::query_scalar("SELECT item_json FROM approval_items WHERE code = $1 AND version = $2")
                        .bind(key.0.clone())
                        .bind(key.1)
                        .fetch_one(&mut *tx.tx)
                        .await?;
                items.insert(key.clone(), crate::approval::parse_item(&raw)?);
            }
            let Some(item) = items.get(&key) else { continue };
            let action: String = r.try_get("action")?;
            let Some(decision) = dianxiaoer_core::approval::certificate::decision_of(&action) else { continue };
            let (case_no, item_name): (String, String) = (r.try_get("case_no")?, r.try_get("item_name")?);
            let (enterprise_name, credit_code): (String, String) =
                (r.try_get("enterprise_name")?, r.try_get("credit_code")?);
            let d = Decision {
                case_id: r.try_get("id")?,
                case_no: &case_no,
                item,
                item_name: &item_name,
                enterprise_name: &enterprise_name,
                credit_code: &credit_code,
                decision,
                at: r.try_get("at")?,
            };
            sealed.push(seal(&signer, &d)?);
        }
        insert(&mut tx, signer.id, &sealed).await?;
        let entry = AuditEntry::ok("seal_certificates", "approval_certificate", "batch")
            .detail(json!({"rows": sealed.len(), "seal": signer.fingerprint}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(sealed.len() as u64)
    }
}
