//! Roles, function-level permissions and row scope (DESIGN.md "Who uses it"; security.md 8.1.4.2).
//!
//! Deny by default: a permission is granted only where [`permits`] lists it. The three admin roles
//! (三权分立, GB/T 22239-2019 level 3) hold disjoint permissions and see no business data.

use serde::{Deserialize, Serialize};

/// A user's role. One role per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
    Leader,
    DepartmentStaff,
    GridOfficer,
    TownOfficial,
    EnterpriseUser,
    SafetySupervisor,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::Leader,
        Role::DepartmentStaff,
        Role::GridOfficer,
        Role::TownOfficial,
        Role::EnterpriseUser,
        Role::SafetySupervisor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::Leader => "leader",
            Role::DepartmentStaff => "department_staff",
            Role::GridOfficer => "grid_officer",
            Role::TownOfficial => "town_official",
            Role::EnterpriseUser => "enterprise_user",
            Role::SafetySupervisor => "safety_supervisor",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::Leader => "领导",
            Role::DepartmentStaff => "部门人员",
            Role::GridOfficer => "网格员",
            Role::TownOfficial => "乡镇/部门",
            Role::EnterpriseUser => "企业",
            Role::SafetySupervisor => "第三方监管",
        }
    }

    /// The three admin roles; they need a second factor (security.md 8.1.4.1).
    pub fn is_admin(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }
}

/// Function-level permissions. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Any signed-in user: own account, password, TOTP, API keys, home page.
    OwnAccount,
    /// Create and edit accounts of non-admin roles, reset their passwords, disable them.
    ManageUsers,
    /// Departments, grids and other organisation reference data.
    ManageOrganisation,
    /// Password, lockout and session policy; the approval seal's keys (generation, rotation, validity).
    ManageSecurityPolicy,
    /// Role grants, unlocking accounts, ending sessions.
    ManageAccess,
    /// Read the audit and login logs, verify the chain, export them.
    ReadAudit,
    /// Read the enterprise registry within scope.
    ReadEnterprises,
    /// Create enterprises and edit every field, within scope.
    EditEnterprises,
    /// Edit the contact fields (address, contact person, phone) of enterprises in scope: what an
    /// enterprise may edit of its own file.
    EditEnterpriseContact,
    /// Import enterprises from Excel (whole-zone or department scope).
    ImportEnterprises,
    /// Read investment projects, their sharing agreements and the tax ledger within scope (飞地经济).
    ReadRevenue,
    /// Create and edit investment projects and their sharing agreements.
    EditProjects,
    /// Import the tax bureau's ledger sheets (whole-zone or department scope).
    ImportTaxLedger,
    /// Read approval cases (办件) within scope: an enterprise its own, a grid officer its grid's,
    /// department staff and leadership all of them.
    ReadApprovals,
    /// File an application for an enterprise in scope: the enterprise itself, or staff and grid
    /// officers on its behalf (帮代办).
    FileApplications,
    /// Take an action on a case in scope. Which actions, the item's workflow decides per role.
    ProcessApprovals,
    /// Edit the approval catalogue and service guides (each edit is a new version).
    EditCatalogue,
    /// Draft and review tax-sharing settlements, configure the county-retained shares (zone finance
    /// staff; the reviewer must not be the drafter).
    SettleRevenue,
    /// Confirm a reviewed settlement, after which it never changes (zone leadership).
    ConfirmSettlement,
    /// Read gas detectors, their readings and alarms within scope (有毒有害气体预警).
    ReadGas,
    /// Register and edit gas detectors of enterprises in scope.
    EditDetectors,
    /// Acknowledge, dispose of and close gas alarms within scope.
    HandleAlarms,
    /// Send detector readings to the ingest API (machine clients with an API key), for detectors in scope.
    IngestReadings,
}

impl Permission {
    pub const ALL: [Permission; 23] = [
        Permission::OwnAccount,
        Permission::ManageUsers,
        Permission::ManageOrganisation,
        Permission::ManageSecurityPolicy,
        Permission::ManageAccess,
        Permission::ReadAudit,
        Permission::ReadEnterprises,
        Permission::EditEnterprises,
        Permission::EditEnterpriseContact,
        Permission::ImportEnterprises,
        Permission::ReadRevenue,
        Permission::EditProjects,
        Permission::ImportTaxLedger,
        Permission::ReadApprovals,
        Permission::FileApplications,
        Permission::ProcessApprovals,
        Permission::EditCatalogue,
        Permission::SettleRevenue,
        Permission::ConfirmSettlement,
        Permission::ReadGas,
        Permission::EditDetectors,
        Permission::HandleAlarms,
        Permission::IngestReadings,
    ];
}

/// The permission table. Anything not listed is denied.
pub fn permits(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match permission {
        P::OwnAccount => true,
        P::ManageUsers | P::ManageOrganisation => role == R::SystemAdmin,
        P::ManageSecurityPolicy | P::ManageAccess => role == R::SecurityAdmin,
        P::ReadAudit => role == R::AuditAdmin,
        P::ReadEnterprises => matches!(
            role,
            R::Leader | R::DepartmentStaff | R::GridOfficer | R::TownOfficial | R::EnterpriseUser | R::SafetySupervisor
        ),
        P::EditEnterprises => matches!(role, R::DepartmentStaff | R::GridOfficer),
        P::EditEnterpriseContact => matches!(role, R::DepartmentStaff | R::GridOfficer | R::EnterpriseUser),
        P::ImportEnterprises => role == R::DepartmentStaff,
        P::ReadRevenue => matches!(role, R::Leader | R::DepartmentStaff | R::TownOfficial),
        P::EditProjects | P::ImportTaxLedger | P::SettleRevenue => role == R::DepartmentStaff,
        P::ConfirmSettlement => role == R::Leader,
        P::ReadApprovals | P::ProcessApprovals => {
            matches!(role, R::Leader | R::DepartmentStaff | R::GridOfficer | R::EnterpriseUser)
        }
        P::FileApplications => matches!(role, R::DepartmentStaff | R::GridOfficer | R::EnterpriseUser),
        P::EditCatalogue => role == R::DepartmentStaff,
        // The safety office (department staff) and leadership see the whole zone, an enterprise its
        // own detectors, a third-party supervisor those of its assigned enterprises (scope decides).
        P::ReadGas => matches!(role, R::Leader | R::DepartmentStaff | R::EnterpriseUser | R::SafetySupervisor),
        P::EditDetectors | P::IngestReadings => matches!(role, R::DepartmentStaff | R::EnterpriseUser),
        // Leadership reads every module but does not operate alarms.
        P::HandleAlarms => matches!(role, R::DepartmentStaff | R::EnterpriseUser | R::SafetySupervisor),
    }
}

/// What an account is attached to in the organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub department_id: Option<i64>,
    pub town_code: Option<String>,
    pub grid_id: Option<i64>,
    pub enterprise_id: Option<i64>,
}

/// The rows of business data a user may read and write. Derived once per request from the account and
/// passed to every store call; the store turns it into bound-parameter predicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// No business data at all (the three admins, or an account missing its attachment).
    Nothing,
    /// The whole zone (leadership).
    Zone,
    /// A zone department's staff: the department's own records, and the enterprises of the zone.
    Department(i64),
    /// A grid officer's grid.
    Grid(i64),
    /// A town (division code): enterprises and investment projects hosted in or introduced by the
    /// town, and the tax ledger of those projects' enterprises.
    Town(String),
    /// A county department as introducer: the enterprises and investment projects it introduced.
    CountyDepartment(i64),
    /// One enterprise's own file.
    Enterprise(i64),
    /// A third-party supervisor: the enterprises assigned to this user id.
    Assigned(i64),
}

impl Scope {
    /// Scope of an account. A missing attachment yields [`Scope::Nothing`], never a wider scope.
    pub fn of(role: Role, user_id: i64, at: &Attachment) -> Scope {
        match role {
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => Scope::Nothing,
            Role::Leader => Scope::Zone,
            Role::DepartmentStaff => at.department_id.map_or(Scope::Nothing, Scope::Department),
            Role::GridOfficer => at.grid_id.map_or(Scope::Nothing, Scope::Grid),
            Role::TownOfficial => match (&at.town_code, at.department_id) {
                (Some(t), _) => Scope::Town(t.clone()),
                (None, Some(d)) => Scope::CountyDepartment(d),
                (None, None) => Scope::Nothing,
            },
            Role::EnterpriseUser => at.enterprise_id.map_or(Scope::Nothing, Scope::Enterprise),
            Role::SafetySupervisor => Scope::Assigned(user_id),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Scope::Nothing => "无业务数据".into(),
            Scope::Zone => "全区".into(),
            Scope::Department(_) => "本部门（企业为全区）".into(),
            Scope::Grid(_) => "本网格".into(),
            Scope::Town(_) => "本乡镇".into(),
            Scope::CountyDepartment(_) => "本部门(县直)".into(),
            Scope::Enterprise(_) => "本企业".into(),
            Scope::Assigned(_) => "分配的企业".into(),
        }
    }
}

/// Whether a role needs a masked view of personal data (phone numbers, ID numbers): only the people who
/// serve the enterprise directly see them in full (security.md "Field-level masking").
pub fn sees_personal_data(role: Role) -> bool {
    matches!(role, Role::DepartmentStaff | Role::GridOfficer | Role::EnterpriseUser)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_hold_disjoint_permissions_and_no_business_data() {
        let admins = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];
        for p in Permission::ALL {
            if p == Permission::OwnAccount {
                continue;
            }
            let holders = admins.iter().filter(|r| permits(**r, p)).count();
            assert!(holders <= 1, "{p:?} held by more than one admin role");
        }
        for r in admins {
            assert!(!permits(r, Permission::ReadEnterprises));
            assert_eq!(Scope::of(r, 1, &Attachment::default()), Scope::Nothing);
        }
    }

    #[test]
    fn approval_permissions_follow_the_table() {
        use Permission as P;
        let holders = |p: P| Role::ALL.into_iter().filter(|r| permits(*r, p)).collect::<Vec<_>>();
        let office = vec![Role::Leader, Role::DepartmentStaff, Role::GridOfficer, Role::EnterpriseUser];
        assert_eq!(holders(P::ReadApprovals), office);
        assert_eq!(holders(P::ProcessApprovals), office);
        assert_eq!(holders(P::FileApplications), vec![Role::DepartmentStaff, Role::GridOfficer, Role::EnterpriseUser]);
        assert_eq!(holders(P::EditCatalogue), vec![Role::DepartmentStaff]);
        // Leadership decides but does not file; no admin touches approvals.
        assert!(!permits(Role::Leader, P::FileApplications));
        for r in Role::ALL.into_iter().filter(|r| r.is_admin()) {
            for p in [P::ReadApprovals, P::FileApplications, P::ProcessApprovals, P::EditCatalogue] {
                assert!(!permits(r, p), "{r:?} {p:?}");
            }
        }
    }

    #[test]
    fn permission_list_is_complete() {
        use Permission as P;
        // Exhaustive: a new permission does not compile until it has a place here, and the check
        // below fails until it is in `ALL` at that place too.
        let place = |p: P| match p {
            P::OwnAccount => 0,
            P::ManageUsers => 1,
            P::ManageOrganisation => 2,
            P::ManageSecurityPolicy => 3,
            P::ManageAccess => 4,
            P::ReadAudit => 5,
            P::ReadEnterprises => 6,
            P::EditEnterprises => 7,
            P::EditEnterpriseContact => 8,
            P::ImportEnterprises => 9,
            P::ReadRevenue => 10,
            P::EditProjects => 11,
            P::ImportTaxLedger => 12,
            P::ReadApprovals => 13,
            P::FileApplications => 14,
            P::ProcessApprovals => 15,
            P::EditCatalogue => 16,
            P::SettleRevenue => 17,
            P::ConfirmSettlement => 18,
            P::ReadGas => 19,
            P::EditDetectors => 20,
            P::HandleAlarms => 21,
            P::IngestReadings => 22,
        };
        for (i, p) in Permission::ALL.into_iter().enumerate() {
            assert_eq!(place(p), i, "{p:?}");
        }
    }

    #[test]
    fn every_role_round_trips_its_code() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn missing_attachment_never_widens_scope() {
        let none = Attachment::default();
        for r in [Role::DepartmentStaff, Role::GridOfficer, Role::TownOfficial, Role::EnterpriseUser] {
            assert_eq!(Scope::of(r, 7, &none), Scope::Nothing);
        }
    }

    #[test]
    fn revenue_permissions_by_role() {
        let holders = |p: Permission| Role::ALL.into_iter().filter(|r| permits(*r, p)).collect::<Vec<_>>();
        assert_eq!(holders(Permission::ReadRevenue), [Role::Leader, Role::DepartmentStaff, Role::TownOfficial]);
        assert_eq!(holders(Permission::EditProjects), [Role::DepartmentStaff]);
        assert_eq!(holders(Permission::ImportTaxLedger), [Role::DepartmentStaff]);
        assert_eq!(holders(Permission::SettleRevenue), [Role::DepartmentStaff]);
        assert_eq!(holders(Permission::ConfirmSettlement), [Role::Leader]);
        // Whoever drafts a settlement cannot confirm it: the two are never held by one role.
        for r in Role::ALL {
            assert!(!(permits(r, Permission::SettleRevenue) && permits(r, Permission::ConfirmSettlement)), "{r:?}");
        }
        for r in [Role::EnterpriseUser, Role::GridOfficer, Role::SafetySupervisor] {
            assert!(!permits(r, Permission::ReadRevenue), "{r:?}");
        }
    }

    #[test]
    fn town_official_of_a_county_department_gets_that_department() {
        let at = Attachment { department_id: Some(4), ..Default::default() };
        assert_eq!(Scope::of(Role::TownOfficial, 1, &at), Scope::CountyDepartment(4));
    }

    #[test]
    fn gas_permissions_follow_the_safety_roles() {
        use Permission as P;
        let holders = |p: P| Role::ALL.into_iter().filter(|r| permits(*r, p)).collect::<Vec<_>>();
        assert_eq!(
            holders(P::ReadGas),
            vec![Role::Leader, Role::DepartmentStaff, Role::EnterpriseUser, Role::SafetySupervisor]
        );
        assert_eq!(holders(P::EditDetectors), vec![Role::DepartmentStaff, Role::EnterpriseUser]);
        assert_eq!(holders(P::IngestReadings), vec![Role::DepartmentStaff, Role::EnterpriseUser]);
        assert_eq!(holders(P::HandleAlarms), vec![Role::DepartmentStaff, Role::EnterpriseUser, Role::SafetySupervisor]);
        // Whoever may edit detectors or handle alarms may also read them.
        for r in Role::ALL {
            for p in [P::EditDetectors, P::HandleAlarms, P::IngestReadings] {
                assert!(!permits(r, p) || permits(r, P::ReadGas), "{r:?} {p:?}");
            }
        }
    }
}
