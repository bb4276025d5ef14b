//! The role matrix, per SPEC "Roles": the roles, what a command may want to do, and the one
//! function that says whether a role may. Pure (no storage), so both the commands' door
//! (`Ctx::authorize`) and the `PostgreSQL` grants and policies generated from it use it.

use crate::error::{Error, Result};
use crate::schema::Entity;

/// A role, per SPEC "Roles".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Manager,
    Sales,
    Service,
    Viewer,
}

pub const ROLES: [&str; 5] = ["admin", "manager", "sales", "service", "viewer"];

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        match s.trim().to_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "sales" => Ok(Role::Sales),
            "service" => Ok(Role::Service),
            "viewer" => Ok(Role::Viewer),
            _ => Err(Error::usage(format!("unknown role '{s}'"))
                .hint(format!("roles: {}", ROLES.join(", ")))),
        }
    }
    pub fn as_str(self) -> &'static str {
        ROLES[self as usize]
    }
}

/// What a command wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Import,
    Export,
    Report,
    Audit,
    ManageUsers,
    /// `check`: whole-database maintenance (admin and manager).
    Maintain,
    /// `backup`: a copy of everything, users and password hashes included (admin only).
    Backup,
    /// `restore`, `encrypt`, `decrypt`, `rekey`: replace the database file (admin only).
    Replace,
    /// `config`: the settings every user's commands follow (admin only).
    Configure,
    /// `field add/edit/drop`: custom fields change every user's tables (admin only).
    Fields,
    /// The customer pool: list it, read its rules, claim a customer from it.
    Claim,
    /// Give a customer back to the pool (sales: only their own).
    Release,
    /// Give customers to someone (`pool assign`) or take them back by the rules (`pool sweep`).
    Assign,
    /// `merge`: fold duplicates into one record (sales: only when they own every record the
    /// merge touches, each asked with its own `owns`).
    Merge,
}

/// Every action, for questions asked of the whole matrix ([`covers`]).
pub const ACTIONS: [Action; 15] = [
    Action::Read,
    Action::Create,
    Action::Update,
    Action::Delete,
    Action::Import,
    Action::Export,
    Action::Report,
    Action::Audit,
    Action::ManageUsers,
    Action::Maintain,
    Action::Backup,
    Action::Configure,
    Action::Claim,
    Action::Release,
    Action::Assign,
];

/// Whether role `a` may do everything role `b` may (on every entity, owned or not): what
/// "a token never has more rights than its owner" means. Read off the matrix itself, so it
/// cannot disagree with it; sales and service, each allowed what the other is not, cover
/// neither the other.
pub fn covers(a: Role, b: Role) -> bool {
    let entities = std::iter::once(None).chain(crate::schema::ENTITIES.iter().map(Some));
    entities.into_iter().all(|e| {
        ACTIONS.iter().all(|&action| {
            [None, Some(true), Some(false)]
                .into_iter()
                .all(|owns| !allowed(b, action, e, owns) || allowed(a, action, e, owns))
        })
    })
}

/// The role matrix. `owns` says whether the user owns the record (None: no record involved).
pub fn allowed(role: Role, action: Action, entity: Option<&Entity>, owns: Option<bool>) -> bool {
    // What sales and service may do with an entity is declared with it (`Entity::rights`).
    let rights = entity.map_or(crate::schema::Rights::NONE, |e| e.rights);
    match role {
        Role::Admin => true,
        Role::Manager => !matches!(
            action,
            Action::Audit
                | Action::ManageUsers
                | Action::Backup
                | Action::Replace
                | Action::Configure
                | Action::Fields
        ),
        Role::Sales => match action {
            Action::Read | Action::Report | Action::Claim => true,
            Action::Release => owns != Some(false),
            Action::Create | Action::Update | Action::Delete => {
                rights.sales_write && owns != Some(false)
            }
            // Without an entity: the door to `merge history` and `revert`, each record then
            // asked for with its own `owns`.
            Action::Merge => entity.is_none_or(|e| e.rights.sales_write) && owns != Some(false),
            _ => false,
        },
        Role::Service => match action {
            Action::Read => rights.service_read,
            Action::Report => true,
            Action::Create | Action::Update => rights.service_write,
            _ => false,
        },
        Role::Viewer => matches!(action, Action::Read | Action::Report),
    }
}

#[cfg(test)]
mod tests {
    use super::{ROLES, Role, covers};

    #[test]
    fn a_role_covers_the_roles_below_it_and_no_other() {
        let r = |s| Role::parse(s).unwrap();
        for a in ROLES {
            assert!(covers(Role::Admin, r(a)), "admin covers {a}");
            assert!(covers(r(a), r(a)), "{a} covers itself");
        }
        assert!(covers(Role::Manager, Role::Sales));
        assert!(covers(Role::Manager, Role::Viewer));
        assert!(!covers(Role::Manager, Role::Admin));
        assert!(!covers(Role::Sales, Role::Manager));
        assert!(!covers(Role::Viewer, Role::Sales));
        assert!(!covers(Role::Sales, Role::Service) || !covers(Role::Service, Role::Sales));
    }
}
