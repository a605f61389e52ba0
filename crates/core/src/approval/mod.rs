//! Independent approval (独立审批): the zone decides the county's approval items itself, within time
//! limits counted in working days (DESIGN.md, module `approval`).
//!
//! This part is the pure clock every time limit runs on: the working-day calendar with the statutory
//! holidays and adjusted working weekends (调休), the rule for applications received after office
//! hours, deadlines and elapsed working days, and the pauses while the applicant supplements
//! materials (补正). No database and no clock: instants are passed in as epoch milliseconds.

pub mod calendar;
pub mod date;
pub mod pause;
pub mod working_days;

pub use calendar::{Calendar, CalendarError, Coverage, DayKind, DayOverride, OFFICE_CLOSE_MINUTE, statutory_coverage};
pub use date::Date;
pub use pause::Pause;
pub use working_days::WorkingDays;
