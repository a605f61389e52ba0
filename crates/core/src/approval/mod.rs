//! Independent approval (独立审批): the zone decides the county's approval items itself, within time
//! limits counted in working days (DESIGN.md, module `approval`).
//!
//! This part is the pure clock every time limit runs on: the working-day calendar with the statutory
//! holidays and adjusted working weekends (调休), the rule for applications received after office
//! hours, deadlines and elapsed working days, and the pauses while the applicant supplements
//! materials (补正). No database and no clock: instants are passed in as epoch milliseconds.
//!
//! On top of the clock: the item catalogue with each item's service guide (`catalogue`), the check of
//! the materials at acceptance with 容缺受理 (`acceptance`), and the configurable workflow an
//! application runs on (`workflow`, with the default flow in `default_flow`), and the rules of one case
//! on its flow: actors, clock, material checks (`case`).
//!
//! After the decision: 告知承诺 and its post-approval check (`commitment`), the configurable periods of
//! the check and the follow-up (`aftercare`), and the 好差评 rating with the call-back and
//! rectification of a bad one (`rating`); the sealed certificate a decision of 准予 produces and its
//! verification (`certificate`).

pub mod acceptance;
pub mod aftercare;
pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod certificate;
pub mod commitment;
pub mod date;
pub mod default_flow;
pub mod document;
mod json;
pub mod pause;
pub mod project_plan;
pub mod rating;
pub mod workflow;
pub mod workflow_config;
pub mod working_days;

pub use acceptance::{Acceptance, AcceptanceError, check_acceptance};
pub use calendar::{Calendar, CalendarError, Coverage, DayKind, DayOverride, OFFICE_CLOSE_MINUTE, statutory_coverage};
pub use catalogue::{
    ApprovalItem, Catalogue, CatalogueError, Category, ConstructionStage, Fee, FieldError, ItemCode, ItemKind,
    ItemVersion, Material, MaterialForm,
};
pub use date::Date;
pub use pause::Pause;
pub use workflow::{Action, Actor, Clock, State, Workflow, WorkflowError};
pub use working_days::WorkingDays;
