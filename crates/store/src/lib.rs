//! Storage of dianxiaoer: one SQL text for SQLite and PostgreSQL through sqlx's `Any` driver, with the
//! backend chosen once from the URL. Every read and write of business data takes the caller's
//! [`Scope`](dianxiaoer_core::access::Scope) and turns it into bound-parameter predicates here, so no
//! layer above can forget it (DESIGN.md, principle 6).

mod apikeys;
mod approval;
mod approval_actions;
mod approval_aftercare;
mod approval_aftercare_history;
mod approval_assign;
mod approval_cases;
mod approval_commitment;
mod approval_documents;
mod approval_escalation;
mod approval_escalation_write;
mod approval_history;
mod approval_plan_view;
mod approval_projects;
mod approval_rating;
mod approval_rating_stats;
mod approval_rating_sums;
mod approval_stats;
mod approval_stats_days;
mod approval_workflow;
mod audit;
mod calendar;
mod certificates;
mod enterprise_contacts;
mod enterprise_import;
mod enterprise_write;
mod enterprises;
mod error;
mod gas;
mod gas_alarms;
mod gas_bulk;
mod gas_devices;
mod gas_minutes;
mod gas_relay;
mod gas_retention;
mod gas_write;
mod leader;
mod logins;
mod migrate;
mod org;
mod policy;
mod registry_index;
mod revenue_assessment;
mod revenue_projects;
mod revenue_retained;
mod revenue_settle_draft;
mod revenue_settle_entries;
mod revenue_settle_input;
mod revenue_settle_read;
mod revenue_settle_write;
mod revenue_settlement;
mod revenue_statement;
mod revenue_tax;
mod revenue_withdraw;
mod scope;
mod seal;
pub mod sessions;
mod sql;
mod url;
mod users;

pub use apikeys::ApiKeyRow;
pub use approval::{BUILTIN_AUTHOR, ItemFilter, ItemRow, ItemVersionRow};
pub use approval_actions::{ActionInput, AvailableAction};
pub use approval_aftercare::{AftercareOverdueRow, FollowUpRow, kind_name};
pub use approval_aftercare_history::{
    HistoricalAftercare, HistoricalBy, HistoricalCommitment, HistoricalRating, HistoricalStep,
};
pub use approval_assign::AssigneeOption;
pub use approval_cases::{Assigned, Caller, CaseEvent, CaseFilter, CaseRow, NewCase, clean_names};
pub use approval_commitment::{CheckRow, CheckStatus, CommitmentRow};
pub use approval_documents::{DocumentRow, DocumentUpload, MAX_DOCUMENTS_PER_CASE};
pub use approval_escalation::{EscalationReport, UNACCEPTED_DAYS, escalation_actor};
pub use approval_history::{HistoricalCase, HistoricalEvent};
pub use approval_plan_view::{PlanItemView, PlanView};
pub use approval_projects::{CasePlanLink, PlanChange, PlanFilter, PlanProject, PlanProjectRow};
pub use approval_rating::{RatingRow, RatingTaskRow, TaskStatus};
pub use approval_rating_stats::{SatisfactionGroup, SatisfactionReport};
pub use approval_stats::{OverdueRow, StatsFilter, StatsGroup, StatsReport, category_label};
pub use audit::{Actor, AuditEntry, AuditFilter, AuditRow, ChainReport};
pub use calendar::{CalendarDayRow, CalendarImportCounts};
pub use certificates::{CertificateRow, Verification, VerifyStatus};
pub use enterprise_contacts::{ContactRow, MAX_CONTACTS, NewContact};
pub use enterprise_import::{EnterpriseImport, HistoryEntry, ImportCounts};
pub use enterprises::{Contact, EnterpriseFilter, EnterpriseInput, EnterpriseRow, EnterpriseSort};
pub use error::{Error, Result};
pub use gas::{DetectorFilter, DetectorInput, DetectorRow, DetectorSpec, EngineDetector, ReadingRow};
pub use gas_alarms::{AlarmEventRow, AlarmFilter, AlarmRow, AlarmSummary};
pub use gas_devices::DeviceLogin;
pub use gas_minutes::{MinuteAgg, MinuteBucket, MinuteIn, OPEN_FROM, Series};
pub use gas_relay::{RelayedEvent, RelayedValue};
pub use gas_retention::{PRUNE_BATCH, RetentionReport};
pub use gas_write::{AlarmChange, GasWrite, GasWritten, ReadingIn, StateIn, event_kind, kind_code, parse_kind};
pub use leader::{LEADER_LOCK, LeaderLock};
pub use logins::{LoginFilter, LoginRow};
pub use org::{DepartmentRow, GridRow, ProjectAreaRow, TownRow};
pub use revenue_assessment::{BoardRow, TownCoverage};
pub use revenue_projects::{AgreementRow, ProjectFilter, ProjectInput, ProjectRow, ProjectSort};
pub use revenue_retained::{HostMoveRow, RetainedRuleRow};
pub use revenue_settle_draft::{DraftedMonths, MAX_MONTHS_DRAFTED};
pub use revenue_settle_input::{BeneficiaryRow, unit_key};
pub use revenue_settlement::{SettlementRow, SettlementStatus, own_unit};
pub use revenue_statement::{
    SettlementDetail, Statement, StatementLine, TaxTypeLine, UNSHARED_SHOWN, UnitTotal, UnsharedRow, unit_param,
};
pub use revenue_tax::{
    LedgerFilter, LedgerRow, PeriodTotal, RowProblem, RowProblemKind, TaxImportOutcome, TaxImportRow, sha256_hex,
};
pub use revenue_withdraw::WithdrawnImport;
pub use seal::SealKeyRow;
pub use sessions::SessionRow;
pub use sql::Page;
pub use url::{Backend, DatabaseUrl};
pub use users::{NewUser, UserFilter, UserRow, UserUpdate};

use dianxiaoer_core::seal::WrappingKey;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// A write transaction. On SQLite it also holds the process-wide writer lock, so a transaction that
/// reads before it writes never meets a stale snapshot; on PostgreSQL the audit chain takes an
/// advisory lock instead (see `audit.rs`).
pub struct Tx<'a> {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) backend: Backend,
    _writer: Option<MutexGuard<'a, ()>>,
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Secrets the store uses. Never logged.
#[derive(Clone, Default)]
pub struct Keys {
    /// Keys the audit chain (HMAC-SM3) when set; plain SM3 otherwise.
    pub audit: Option<Vec<u8>>,
    /// Keys the stored hashes of session tokens and API keys, so that a copy of the database cannot
    /// even confirm a guessed token.
    pub token: Option<Vec<u8>>,
    /// Wraps the approval seal's private keys at rest (`DXE_SEAL_KEY`, else the session secret);
    /// without it no seal key can be generated or used to sign.
    pub seal: Option<Vec<u8>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    audit_key: Option<Arc<Vec<u8>>>,
    token_key: Option<Arc<Vec<u8>>>,
    seal_kek: Option<Arc<WrappingKey>>,
    writer: Arc<Mutex<()>>,
    index: Arc<Mutex<Option<Arc<registry_index::Index>>>>,
    settlement_projects: Arc<Mutex<Option<Arc<revenue_settle_input::ProjectsRead>>>>,
}

/// How much of an SQLite database file is read through a memory map (address space, not memory:
/// the pages are the operating system's file cache, shared by every connection).
const SQLITE_MMAP: &str = "PRAGMA mmap_size = 1073741824";

impl Store {
    /// Connects, creating the SQLite file when missing, and applies the compiled-in migrations.
    pub async fn open(url: &DatabaseUrl, keys: Keys) -> Result<Store> {
        let store = Store::connect(url, keys).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &DatabaseUrl, keys: Keys) -> Result<Store> {
        install_default_drivers();
        url.prepare()?;
        let max = match url.backend() {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let sqlite = url.backend() == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Reads of the database file through a memory map instead of a copy per
                        // page into each connection's small page cache (2 MB by default): the gas
                        // engine's indexes at 100,000 detectors do not fit that cache, and every
                        // miss was a pread (docs/BENCHMARKS.md, gas).
                        sqlx::query(SQLITE_MMAP).execute(&mut *conn).await?;
                        // A page cache of 64 MiB per connection (SQLite's default is 2 MiB, filled
                        // lazily): withdrawing an import deletes 400,000 ledger rows at 10⁵ enterprises,
                        // spread over the random-keyed duplicate index, and with the default cache
                        // most of that time went to spilling and re-reading pages.
                        sqlx::query("PRAGMA cache_size = -65536").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url.connect_string())
            .await
            .map_err(|e| Error::Connect(e.to_string()))?;
        if url.backend() == Backend::Sqlite {
            // Write-ahead logging, kept in the file once set: readers (pages, the API) no longer wait
            // for the writer (the gas engine commits continuously), and a commit is one append.
            // sqlx leaves the journal mode alone unless asked, which meant the rollback journal.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await.map_err(|e| Error::Connect(e.to_string()))?;
        }
        Ok(Store {
            pool,
            backend: url.backend(),
            audit_key: keys.audit.map(Arc::new),
            token_key: keys.token.map(Arc::new),
            seal_kek: keys.seal.map(|s| Arc::new(WrappingKey::derive(&s))),
            writer: Arc::new(Mutex::new(())),
            index: Arc::new(Mutex::new(None)),
            settlement_projects: Arc::new(Mutex::new(None)),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(&self.pool, self.backend).await
    }

    /// Applies the migrations up to version `last` only: for tests of a migration over the data of
    /// the schema before it.
    #[doc(hidden)]
    pub async fn migrate_until(&self, last: i64) -> Result<usize> {
        migrate::run_until(&self.pool, self.backend, last).await
    }

    /// Begins a write transaction (see [`Tx`]).
    pub async fn begin(&self) -> Result<Tx<'_>> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        };
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads and then writes
        // fails at once (SQLITE_BUSY, not waiting for the busy timeout) when a write outside the
        // writer mutex — a session or API-key touch — committed in between.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx, backend: self.backend, _writer: guard })
    }

    /// A read-only transaction beside a writer's: on SQLite a snapshot from its first read (WAL), on
    /// PostgreSQL one snapshot for all its statements. Begun while a writer holds the settlement lock,
    /// it sees what that writer saw before its own writes.
    pub(crate) async fn begin_read(&self) -> Result<Tx<'static>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN").await?,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
        };
        Ok(Tx { tx, backend: self.backend, _writer: None })
    }

    /// For `/readyz`: the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A consistent copy of a SQLite database while it is in use (`VACUUM INTO`).
    pub async fn backup_sqlite(&self, target: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::Invalid(
                "PostgreSQL 数据库请使用 pg_dump 备份，例如：pg_dump -Fc -f dianxiaoer.dump <数据库URL>".into(),
            ));
        }
        if target.exists() {
            return Err(Error::Invalid(format!("备份文件已存在：{}", target.display())));
        }
        let path = target.to_str().ok_or_else(|| Error::Invalid("备份路径须为 UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(path.to_string()).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn seal_kek(&self) -> Option<&WrappingKey> {
        self.seal_kek.as_deref()
    }
}
