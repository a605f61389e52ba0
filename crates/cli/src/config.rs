//! Every option of the binary, declared once: a flag and a `DXE_*` environment variable each.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "dianxiaoer", version, about = "店小二：沂水经济开发区企业服务与管理平台")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Database: sqlite:///path/file.db or postgres://user@host/db. Default: <data-dir>/dianxiaoer.db
    /// (<data-dir>/demo.db for `demo`).
    #[arg(long, env = "DXE_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the default SQLite file, uploads and backups.
    #[arg(long, env = "DXE_DATA_DIR", global = true, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Secret keying the audit chain (HMAC-SM3). Keep it off the database server. Optional.
    #[arg(long, env = "DXE_AUDIT_KEY", global = true, hide_env_values = true)]
    pub audit_key: Option<String>,
    /// Secret keying stored session and API-key hashes; required by `serve` (at least 32 characters).
    #[arg(long, env = "DXE_SESSION_SECRET", global = true, hide_env_values = true)]
    pub session_secret: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "DXE_LOG_FORMAT", global = true, default_value = "text")]
    pub log_format: String,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address of the web server.
    #[arg(long, env = "DXE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Address of the Prometheus metrics listener (not started when absent). Keep it internal.
    #[arg(long, env = "DXE_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Served behind a TLS-terminating proxy: cookies get `Secure`.
    #[arg(long, env = "DXE_BEHIND_TLS_PROXY")]
    pub behind_tls_proxy: bool,
    /// Take the client address from X-Forwarded-For (only behind a proxy you control).
    #[arg(long, env = "DXE_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "DXE_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web UI and the API.
    Serve(ServeArgs),
    /// Create (when missing) and serve a demo database of the Yishui zone; prints the logins.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Number of demo enterprises (for benchmarks: e.g. 100000).
        #[arg(long, env = "DXE_DEMO_SCALE", default_value_t = 300)]
        scale: usize,
        /// Create the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Benchmark data for benches/revenue.sh: a year of monthly tax sheets for every enterprise with a
    /// project in the database (default file demo.db), and who receives each enterprise's tax.
    #[command(hide = true)]
    BenchRevenueData {
        #[arg(long)]
        year: i32,
        /// Directory for the CSV files.
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage accounts (the only way to create or change the three admin accounts).
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// A consistent copy of the SQLite database while it is in use.
    Backup {
        /// Target file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account; prints its initial password, which must be changed at first login.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// system_admin, security_admin, audit_admin, leader, department_staff, grid_officer,
        /// town_official, enterprise_user, safety_supervisor
        #[arg(long)]
        role: String,
        /// Department name (department staff, county-department officials).
        #[arg(long)]
        department: Option<String>,
        /// Town division code (town officials).
        #[arg(long)]
        town: Option<String>,
        /// Grid id (grid officers).
        #[arg(long)]
        grid: Option<i64>,
        /// Enterprise credit code (enterprise users).
        #[arg(long)]
        enterprise: Option<String>,
    },
    /// Set a new random initial password; the user must change it at next login.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// End every session of an account.
    EndSessions {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain; exit status 1 names the first record edited, deleted or reordered.
    Verify,
    /// Remove records older than N days (at least 180).
    Prune {
        #[arg(long)]
        older_than_days: i64,
    },
}
