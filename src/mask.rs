//! Masking (脱敏), per SPEC "Masking": which fields a role sees masked (`Policy`, from the
//! `mask.ROLE` settings) and the masked forms (`form`). Pure; the one place values are masked
//! on their way out is `mask::rows::RowMask`, built by `Ctx::row_mask`.

pub mod form;
pub mod rows;

use crate::error::Error;
use crate::roles::Role;
use crate::schema::{Entity, Field};

pub use form::masked;

/// When a role's listed fields are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// On every record (viewer, service, manager).
    Always,
    /// On the records the user does not own, pool customers included (sales).
    NotOwned,
}

/// What one user sees masked: `ENTITY.FIELD`s, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub fields: Vec<(String, String)>,
    pub when: When,
}

/// The setting listing a role's masked fields (none for admin, who sees everything).
pub fn setting_of(role: Role) -> Option<&'static str> {
    match role {
        Role::Admin => None,
        Role::Manager => Some("mask.manager"),
        Role::Sales => Some("mask.sales"),
        Role::Service => Some("mask.service"),
        Role::Viewer => Some("mask.viewer"),
    }
}

impl Policy {
    /// Nothing masked.
    pub fn none() -> Policy {
        Policy {
            fields: Vec::new(),
            when: When::Always,
        }
    }

    /// A role's policy from its setting's value (stored normalised by `parse_fields`).
    pub fn of(role: Role, value: &str) -> Policy {
        Policy {
            fields: value
                .split(',')
                .filter_map(|p| p.split_once('.'))
                .map(|(e, f)| (e.to_string(), f.to_string()))
                .collect(),
            when: if role == Role::Sales {
                When::NotOwned
            } else {
                When::Always
            },
        }
    }

    /// Whether the field is listed for the entity.
    pub fn masks(&self, e: &Entity, f: &Field) -> bool {
        self.fields
            .iter()
            .any(|(en, fname)| en == e.name && fname == f.name)
    }

    /// Whether anything of the entity is masked.
    pub fn touches(&self, e: &Entity) -> bool {
        self.fields.iter().any(|(en, _)| en == e.name)
    }

    /// Whether a record with this ownership (None: ownership does not apply) is masked.
    pub fn applies(&self, owned: Option<bool>) -> bool {
        self.when == When::Always || owned != Some(true)
    }
}

/// A `mask.ROLE` value checked and written one way: `ENTITY.FIELD` items, comma-separated,
/// each naming a field of the registry (exit 4 otherwise). Fields that name records cannot
/// be masked — `id`, the timestamps, an entity's key and title — as they appear wherever a
/// record is mentioned (related lists, the agenda, reports, confirmations, messages).
pub fn parse_fields(raw: &str) -> std::result::Result<String, String> {
    let mut out: Vec<String> = Vec::new();
    for item in raw
        .split([',', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (en, fname) = item
            .split_once('.')
            .ok_or_else(|| format!("'{item}' is not ENTITY.FIELD"))?;
        let e = Entity::lookup(en).ok_or_else(|| format!("unknown entity '{en}' in '{item}'"))?;
        let f = e
            .field(fname)
            .map_err(|_| format!("{} has no field '{fname}'", e.name))?;
        if crate::schema::SYSTEM_FIELDS
            .iter()
            .any(|s| s.name == f.name)
            || e.key == Some(f.name)
            || e.title == f.name
        {
            return Err(format!(
                "{}.{} names the record and cannot be masked",
                e.name, f.name
            ));
        }
        let norm = format!("{}.{}", e.name, f.name);
        if !out.contains(&norm) {
            out.push(norm);
        }
    }
    Ok(out.join(","))
}

/// The refusal of a filter or sort on a masked field (exit 7).
pub fn refused(role: Role, e: &Entity, f: &Field, what: &str) -> Error {
    Error::denied(format!(
        "role {} may not {what} by {}.{}: it is masked for this role",
        role.as_str(),
        e.name,
        f.name
    ))
    .hint("an allowed role can run the command with --reveal (setting mask.reveal_roles)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_normalised() {
        assert_eq!(
            parse_fields(" Customer.phone, 联系人.mobile，customer.phone").unwrap(),
            "customer.phone,contact.mobile"
        );
        assert_eq!(parse_fields("").unwrap(), "");
        assert!(parse_fields("customer").is_err());
        assert!(parse_fields("nope.phone").is_err());
        assert!(parse_fields("customer.nope").is_err());
        assert!(parse_fields("customer.id").is_err());
        assert!(parse_fields("customer.name").is_err());
        assert!(parse_fields("customer.code").is_err());
        assert!(parse_fields("customer.credit_code").is_ok());
    }

    #[test]
    fn sales_are_masked_only_off_their_own_records() {
        let p = Policy::of(Role::Sales, "customer.phone");
        let e = Entity::get("customer").unwrap();
        assert!(p.masks(e, e.field("phone").unwrap()));
        assert!(!p.masks(e, e.field("email").unwrap()));
        assert!(!p.applies(Some(true)));
        assert!(p.applies(Some(false)));
        assert!(p.applies(None));
        let v = Policy::of(Role::Viewer, "customer.phone");
        assert!(v.applies(Some(true)));
        assert!(setting_of(Role::Admin).is_none());
    }
}
