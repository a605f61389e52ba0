//! Row scope as SQL: one predicate per table kind, always with bound parameters (security.md: RuoYi's
//! `${params.dataScope}` fragment is the lesson). The predicate is appended by the store, never by callers.

use crate::sql::Sql;
use dianxiaoer_core::access::Scope;

/// Restricts a query on `enterprises AS e` to the rows `scope` may see. Appends ` AND (…)`.
pub(crate) fn enterprises(sql: &mut Sql, scope: &Scope) {
    match scope {
        Scope::Nothing => {
            sql.push(" AND 1 = 0");
        }
        // Department staff serve every enterprise of the zone; their own records are scoped by department.
        Scope::Zone | Scope::Department(_) => {}
        Scope::Grid(g) => {
            sql.push(" AND e.grid_id = ").i64(*g);
        }
        Scope::Town(code) => {
            sql.push(" AND (e.host_town = ").text(code.clone());
            sql.push(" OR e.introducer_town = ").text(code.clone()).push(")");
        }
        Scope::CountyDepartment(d) => {
            sql.push(" AND e.introducer_department = ").i64(*d);
        }
        Scope::Enterprise(id) => {
            sql.push(" AND e.id = ").i64(*id);
        }
        Scope::Assigned(user) => {
            sql.push(" AND e.id IN (SELECT enterprise_id FROM supervisor_assignments WHERE user_id = ")
                .i64(*user)
                .push(")");
        }
    }
}

/// Restricts a query on `investment_projects AS p` to the projects `scope` may see: the whole zone for
/// leadership and zone departments (projects are the zone's records, like the registry), a town's
/// projects as introducer or host, a county department's as introducer, and nothing for anyone else.
/// Appends ` AND (…)`.
pub(crate) fn projects(sql: &mut Sql, scope: &Scope) {
    match scope {
        Scope::Zone | Scope::Department(_) => {}
        Scope::Town(code) => {
            sql.push(" AND (p.host_town = ").text(code.clone());
            sql.push(" OR p.introducer_town = ").text(code.clone()).push(")");
        }
        Scope::CountyDepartment(d) => {
            sql.push(" AND p.introducer_department = ").i64(*d);
        }
        Scope::Nothing | Scope::Grid(_) | Scope::Enterprise(_) | Scope::Assigned(_) => {
            sql.push(" AND 1 = 0");
        }
    }
}

/// Restricts a query on `tax_ledger AS l` to the rows `scope` may see: everything for the whole zone
/// and zone departments; for a town or county department, the tax of the enterprises of the projects
/// it may see (see [`projects`]). Appends ` AND (…)`.
pub(crate) fn tax_ledger(sql: &mut Sql, scope: &Scope) {
    match scope {
        Scope::Zone | Scope::Department(_) => {}
        Scope::Town(code) => {
            sql.push(" AND l.enterprise_id IN (SELECT p.enterprise_id FROM investment_projects p WHERE p.host_town = ")
                .text(code.clone());
            sql.push(" OR p.introducer_town = ").text(code.clone()).push(")");
        }
        Scope::CountyDepartment(d) => {
            sql.push(" AND l.enterprise_id IN (SELECT p.enterprise_id FROM investment_projects p WHERE p.introducer_department = ")
                .i64(*d)
                .push(")");
        }
        Scope::Nothing | Scope::Grid(_) | Scope::Enterprise(_) | Scope::Assigned(_) => {
            sql.push(" AND 1 = 0");
        }
    }
}
