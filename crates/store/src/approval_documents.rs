//! Documents of a case (电子材料): uploaded by the applicant or by the staff or grid officer carrying
//! the case for it, each checked by the core (`check_document`), stored with its SM3 and attached to
//! the next transition of the case (see `insert_event`). Refused while the case is closed.

use crate::Store;
use crate::approval_cases::Caller;
use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::document::check_document;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Most documents one case may hold.
pub const MAX_DOCUMENTS_PER_CASE: i64 = 60;

/// A stored document, without its content.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRow {
    pub id: i64,
    pub case_id: i64,
    /// The transition it came with; none while it waits for the next one.
    pub event_id: Option<i64>,
    /// The material of the guide it is, or empty for another document.
    pub material: String,
    pub file_name: String,
    /// `pdf`, `ofd`, `jpeg` or `png`.
    pub kind: String,
    pub size_bytes: i64,
    pub sm3: String,
    pub uploaded_at: i64,
    pub uploaded_by_name: String,
}

/// An upload as received.
#[derive(Debug, Clone)]
pub struct DocumentUpload {
    pub material: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

const COLUMNS: &str =
    "id, case_id, event_id, material, file_name, kind, size_bytes, sm3, uploaded_at, uploaded_by_name";

fn document_row(r: &AnyRow) -> Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        event_id: r.try_get("event_id")?,
        material: r.try_get("material")?,
        file_name: r.try_get("file_name")?,
        kind: r.try_get("kind")?,
        size_bytes: r.try_get("size_bytes")?,
        sm3: r.try_get("sm3")?,
        uploaded_at: r.try_get("uploaded_at")?,
        uploaded_by_name: r.try_get("uploaded_by_name")?,
    })
}

impl Store {
    /// Adds a document to a case in the caller's scope. Only the applicant (its enterprise, or the
    /// filer of an agency case) and staff or grid officers may, only while the case is open, and only
    /// as a material of the case's item version (or as another document, `material` empty).
    pub async fn add_case_document(
        &self,
        caller: &Caller<'_>,
        case_id: i64,
        up: &DocumentUpload,
        now: i64,
    ) -> Result<DocumentRow> {
        let case = self.case(caller.scope, case_id).await?;
        let allowed = caller.is_applicant(&case) || matches!(caller.role, Role::DepartmentStaff | Role::GridOfficer);
        if !allowed {
            return Err(Error::Denied("只有申请人或代办的工作人员可以上传材料".into()));
        }
        let flow = self.approval_workflow(&case.item_code, case.item_version).await?;
        if flow.state(&case.state).is_none_or(|s| s.terminal) {
            return Err(Error::Refused("办件已终结，不能再上传材料".into()));
        }
        let material = up.material.trim().to_owned();
        if !material.is_empty() {
            let item = self.approval_item_version(&case.item_code, case.item_version).await?.item;
            if !item.materials.iter().any(|m| m.name == material) {
                return Err(Error::Invalid(format!("“{material}”不是该事项的申请材料，请从清单中选择或选“其他材料”")));
            }
        }
        let checked = check_document(&up.file_name, &up.bytes).map_err(|e| Error::Invalid(e.0))?;
        let mut tx = self.begin().await?;
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM approval_documents WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if held >= MAX_DOCUMENTS_PER_CASE {
            return Err(Error::Refused(format!("每件最多上传 {MAX_DOCUMENTS_PER_CASE} 份材料")));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO approval_documents (case_id, material, file_name, kind, size_bytes, sm3, content, \
             uploaded_at, uploaded_by, uploaded_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(case_id)
        .bind(material.clone())
        .bind(checked.file_name.clone())
        .bind(checked.kind.code())
        .bind(i64::try_from(checked.size).unwrap_or(i64::MAX))
        .bind(checked.sm3.clone())
        .bind(up.bytes.clone())
        .bind(now)
        .bind(caller.actor.user_id)
        .bind(caller.actor.username.clone())
        .fetch_one(&mut *tx.tx)
        .await?;
        let entry = AuditEntry::ok("upload_approval_document", "approval_case", case_id).detail(json!({
            "case_no": case.case_no, "document": id, "file_name": checked.file_name, "material": material,
            "size": checked.size, "sm3": checked.sm3,
        }));
        self.audit(&mut tx, caller.actor, entry, now).await?;
        tx.commit().await?;
        Ok(DocumentRow {
            id,
            case_id,
            event_id: None,
            material,
            file_name: checked.file_name,
            kind: checked.kind.code().to_owned(),
            size_bytes: i64::try_from(checked.size).unwrap_or(i64::MAX),
            sm3: checked.sm3,
            uploaded_at: now,
            uploaded_by_name: caller.actor.username.clone(),
        })
    }

    /// The documents of a case in scope, oldest first.
    pub async fn case_documents(&self, scope: &Scope, case_id: i64) -> Result<Vec<DocumentRow>> {
        self.case(scope, case_id).await?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM approval_documents WHERE case_id = $1 ORDER BY id"))
            .bind(case_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(document_row).collect()
    }

    /// One document of a case in scope, with its content.
    pub async fn case_document(&self, scope: &Scope, case_id: i64, id: i64) -> Result<(DocumentRow, Vec<u8>)> {
        self.case(scope, case_id).await?;
        let r =
            sqlx::query(&format!("SELECT {COLUMNS}, content FROM approval_documents WHERE case_id = $1 AND id = $2"))
                .bind(case_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(Error::NotFound)?;
        Ok((document_row(&r)?, r.try_get("content")?))
    }
}
