//! Domain types and rules of dianxiaoer. Pure: no database, clock, network or file access.
//! Raw input becomes one of these types once, at the edge (DESIGN.md, principle 4).

pub mod access;
pub mod approval;
pub mod area;
pub mod audit_chain;
pub mod credit_code;
pub mod division;
pub mod gas;
pub mod geo;
pub mod industry;
pub mod money;
pub mod password;
pub mod revenue;
pub mod seal;
pub mod text;
pub mod totp;
pub mod when;
pub mod zone;
