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
    /// Secret wrapping the approval seal's private keys (SM4-GCM); defaults to the session secret.
    /// Keep it stable: keys generated under one secret cannot sign under another.
    #[arg(long, env = "DXE_SEAL_KEY", global = true, hide_env_values = true)]
    pub seal_key: Option<String>,
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
    /// Address of the embedded MQTT listener for gas detectors and gateways (`demo`: 127.0.0.1:1883,
    /// or a free port when that is taken; `serve`: not started unless given).
    #[arg(long, env = "DXE_MQTT_LISTEN")]
    pub mqtt_listen: Option<String>,
    /// An external MQTT broker to consume readings from: mqtt://[user:password@]host[:port][/?client_id=id].
    #[arg(long, env = "DXE_MQTT_URL", hide_env_values = true)]
    pub mqtt_url: Option<String>,
    /// Days raw gas readings are kept; the hourly retention job removes older ones (on PostgreSQL it
    /// drops whole daily partitions, so up to one day more is kept).
    #[arg(long, env = "DXE_GAS_RAW_RETENTION_DAYS", default_value_t = dianxiaoer_core::gas::retention::DEFAULT_RAW_DAYS)]
    pub gas_raw_retention_days: i64,
    /// Days the one-minute aggregates of gas readings (min, max, mean) are kept.
    #[arg(long, env = "DXE_GAS_MINUTE_RETENTION_DAYS", default_value_t = dianxiaoer_core::gas::retention::DEFAULT_MINUTE_DAYS)]
    pub gas_minute_retention_days: i64,
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
    /// Benchmark data (benches/approval.sh): about N completed approval cases over 2020–2025 and
    /// some open ones, written into an existing demo database (default file demo.db).
    #[command(hide = true)]
    BenchApprovalData {
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        #[arg(long, default_value_t = 20_000)]
        open: usize,
    },
    /// Times the approval escalation job's pass over the database (benches/approval.sh).
    #[command(hide = true)]
    BenchEscalation {
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Benchmark data for benches/gas.sh: N detectors `BENCH-000000`… over the chemical-park
    /// enterprises of a demo database (default file demo.db).
    #[command(hide = true)]
    BenchGasData {
        #[arg(long)]
        detectors: usize,
    },
    /// The publisher of benches/gas.sh: readings of the bench detectors over MQTT, paced or as fast
    /// as the broker takes them, optionally waiting until the application has stored them.
    #[command(hide = true)]
    BenchGasPublish(crate::bench_gas::PublishArgs),
    /// The alarm latency probe of benches/gas.sh: leaks published over MQTT, their alarm events
    /// read from the live monitor's event stream.
    #[command(hide = true)]
    BenchGasLatency(crate::bench_gas_latency::LatencyArgs),
    /// Manage accounts (the only way to create or change the three admin accounts).
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Simulators that feed a running instance.
    #[command(subcommand)]
    Simulate(SimulateCommand),
    /// A consistent copy of the SQLite database while it is in use.
    Backup {
        /// Target file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimulateCommand {
    /// Publish realistic gas readings for the registered detectors (read from the database) over
    /// MQTT or the HTTP batch API: noise, drift, leaks that rise and fall, devices going offline.
    Gas(SimulateGas),
}

#[derive(Args, Debug, Clone)]
pub struct SimulateGas {
    /// How many registered detectors to drive (the first N active ones, by id).
    #[arg(long, default_value_t = 300)]
    pub detectors: usize,
    /// Readings per second across all detectors; without it each detector keeps its own interval.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Leaks kept in progress at once.
    #[arg(long, default_value_t = 1)]
    pub leaks: usize,
    /// Detectors dropping offline per hour across the park.
    #[arg(long, default_value_t = 6.0)]
    pub offline_per_hour: f64,
    /// MQTT server, e.g. mqtt://127.0.0.1:1883 (the default when --http is not given).
    #[arg(long)]
    pub mqtt: Option<String>,
    /// The web server, e.g. http://127.0.0.1:8080, to post batches to instead.
    #[arg(long)]
    pub http: Option<String>,
    /// API key of an account that may feed readings (MQTT gateway password, HTTP bearer key).
    #[arg(long, env = "DXE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Readings per message; 1 sends each reading alone in our own format on dxe/v1/readings.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub duration: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
