//! Configuring an item's workflow (流程配置): an edited flow is checked against the item
//! (`Workflow::check_configuration`) and published with the item as its next version, so that cases
//! filed earlier keep running on the flow they were filed under.

use crate::Store;
use crate::approval::{current_flow, current_version, insert_version, retire};
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use dianxiaoer_core::approval::{ApprovalItem, Workflow};
use serde_json::json;

impl Store {
    /// Publishes `flow` as the workflow of the item's next version (the guide unchanged). The edit
    /// must be based on the current version, and the flow must be a complete configuration of the
    /// item's default flow; every problem is reported in one message, nothing is written.
    pub async fn configure_approval_workflow(
        &self,
        actor: &Actor,
        code: &str,
        base_version: u32,
        mut flow: Workflow,
        now: i64,
    ) -> Result<(ApprovalItem, Workflow)> {
        let mut tx = self.begin().await?;
        let current = current_version(&mut tx, code, base_version).await?;
        let before = current_flow(&mut tx, &current).await?;
        let mut next = current.clone();
        next.version = current.version.saturating_add(1);
        flow.version = next.version;
        flow.check_configuration(&next).map_err(|e| Error::Invalid(e.to_string()))?;
        retire(&mut tx, &current).await?;
        insert_version(&mut tx.tx, &next, &flow, &actor.username, now, false).await?;
        let entry = AuditEntry::ok("configure_approval_workflow", "approval_item", next.code.as_str())
            .detail(json!({"version": next.version, "changes": changes(&before, &flow)}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok((next, flow))
    }
}

/// What the configuration changed, for the audit record: states and actions added, removed or
/// edited (by code), and the overall SLA.
fn changes(before: &Workflow, after: &Workflow) -> serde_json::Value {
    let key_s = |w: &Workflow| -> Vec<(String, String)> {
        w.states.iter().map(|s| (s.code.clone(), serde_json::to_string(s).unwrap_or_default())).collect()
    };
    let key_a = |w: &Workflow| -> Vec<(String, String)> {
        w.actions
            .iter()
            .map(|a| (format!("{}:{}", a.from, a.code), serde_json::to_string(a).unwrap_or_default()))
            .collect()
    };
    let diff = |b: Vec<(String, String)>, a: Vec<(String, String)>| {
        let added: Vec<&String> = a.iter().filter(|x| !b.iter().any(|y| y.0 == x.0)).map(|x| &x.0).collect();
        let removed: Vec<&String> = b.iter().filter(|x| !a.iter().any(|y| y.0 == x.0)).map(|x| &x.0).collect();
        let edited: Vec<&String> =
            a.iter().filter(|x| b.iter().any(|y| y.0 == x.0 && y.1 != x.1)).map(|x| &x.0).collect();
        json!({"added": added, "removed": removed, "edited": edited})
    };
    json!({
        "states": diff(key_s(before), key_s(after)),
        "actions": diff(key_a(before), key_a(after)),
        "overall_sla": {"before": before.overall_sla.get(), "after": after.overall_sla.get()},
    })
}
