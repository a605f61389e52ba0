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
