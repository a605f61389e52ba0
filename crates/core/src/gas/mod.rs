//! 有毒有害气体预警: the pure rules of toxic and combustible gas early warning.
//!
//! - [`gas_table`]: gases, units and the GB/T 50493-2019 §5.5 default set-points;
//! - [`detector`]: a detector's validated configuration (tag, gas, unit, range, set-points, delays,
//!   deadband, reporting interval, offline, escalation and reminder periods);
//! - [`engine`]: the alarm engine over a small fixed-size [`engine::DetectorState`]: readings, fault
//!   codes, time-based rules and the operator lifecycle;
//! - [`events`]: what the engine reports, without allocating;
//! - [`payload`]: our JSON payload and ThingsBoard's device and gateway telemetry formats;
//! - [`retention`]: how long readings and their one-minute aggregates are kept, and the daily
//!   partitions of the raw readings.
//!
//! This platform is the supervisory and early-warning layer above the certified alarm controllers
//! that drive fire linkage, not a replacement for them. Instants are epoch milliseconds and the
//! clock is always a parameter (DESIGN.md principle 3).

pub mod detector;
pub mod engine;
pub mod events;
pub mod gas_table;
pub mod payload;
pub mod retention;

pub use detector::{Delay, DetectorConfig, DetectorSettings, OutOfRange, Tag};
pub use engine::{
    Accepted, AlarmStatus, AlarmView, DetectorState, ReadingError, acknowledge, close, dispose, durable_eq, on_fault,
    on_reading, on_tick,
};
pub use events::{AlarmKind, Event, Events, Level};
pub use gas_table::{Gas, GasKind, MeasuringRange, SetPoints, Thresholds, Unit};

/// A user-facing error about gas configuration or an operator action; the message is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GasError {
    pub message: String,
}

impl GasError {
    pub(crate) fn new(message: impl Into<String>) -> GasError {
        GasError { message: message.into() }
    }
}
