//! What a lead conversion matches and creates: the existing customers a lead matches by
//! name, phone or email (its contacts' too), and the drafts of the new records.

use clap::ArgMatches;

use super::ids_where;
use crate::db::Store;
use crate::db::records::{self, Draft, Stored};
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;
use crate::schema::Value;

/// Customers the lead matches, each with what matched (name, phone, email).
pub fn matches(conn: &Store, lead: &Draft) -> Result<Vec<(i64, Vec<&'static str>)>> {
    let ce = Entity::get("customer")?;
    let ke = Entity::get("contact")?;
    let mut found: Vec<(i64, Vec<&'static str>)> = Vec::new();
    let mut add = |id: i64, why: &'static str| match found.iter_mut().find(|(c, _)| *c == id) {
        Some((_, w)) if !w.contains(&why) => w.push(why),
        Some(_) => {}
        None => found.push((id, vec![why])),
    };
    let name = lead.text("company").or(lead.text("name"));
    let checks = [
        ("name", name, &["name"][..], &[][..]),
        (
            "phone",
            lead.text("phone"),
            &["phone"],
            &["phone", "mobile"],
        ),
        ("email", lead.text("email"), &["email"], &["email"]),
    ];
    for (why, value, customer_fields, contact_fields) in checks {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        for f in customer_fields {
            for id in ids_where(conn, ce, f, Value::Text(v.into()))? {
                add(id, why);
            }
        }
        for f in contact_fields {
            for cid in ids_where(conn, ke, f, Value::Text(v.into()))? {
                if let Some(c) = records::get(conn, ke, cid)?.and_then(|k| k.draft.int("customer"))
                {
                    add(c, why);
                }
            }
        }
    }
    Ok(found)
}

/// Whether a phone number is a Chinese mobile (it goes to the contact's `mobile`).
fn is_mobile(p: &str) -> bool {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    !p.starts_with('+') && digits.len() == 11 && digits.starts_with('1')
}

/// The records a conversion would create (customer only when none matched).
pub struct Plan {
    pub customer: Option<Draft>,
    pub contact: Draft,
    pub opportunity: Option<Draft>,
}

impl Plan {
    pub fn drafts(&self) -> impl Iterator<Item = &Draft> {
        self.customer
            .iter()
            .chain([&self.contact])
            .chain(self.opportunity.iter())
    }
}

pub fn build(
    conn: &Store,
    lead: &Stored,
    existing: Option<i64>,
    owner: &Value,
    m: &ArgMatches,
    user: &str,
) -> Result<Plan> {
    let l = &lead.draft;
    let text = |f: &str| l.get(f).clone();
    let customer = if existing.is_none() {
        let mut d = Draft::empty(Entity::get("customer")?);
        let company = l.text("company").filter(|c| !c.trim().is_empty());
        d.set(
            "name",
            company.map_or(text("name"), |c| Value::Text(c.into())),
        );
        d.set(
            "kind",
            Value::Text(
                if company.is_some() {
                    "company"
                } else {
                    "person"
                }
                .into(),
            ),
        );
        if company.is_none() {
            d.set("phone", text("phone"));
            d.set("email", text("email"));
        }
        d.set("source", text("source"));
        d.set("owner", owner.clone());
        write::fill_defaults(conn, &mut d, user)?;
        Some(d)
    } else {
        None
    };
    let mut contact = Draft::empty(Entity::get("contact")?);
    contact.set("customer", Value::Integer(existing.unwrap_or(-1)));
    contact.set("name", text("name"));
    let phone_field = if l.text("phone").is_some_and(is_mobile) {
        "mobile"
    } else {
        "phone"
    };
    contact.set(phone_field, text("phone"));
    contact.set("email", text("email"));
    contact.set("is_primary", Value::Integer(i64::from(existing.is_none())));
    write::fill_defaults(conn, &mut contact, user)?;
    let opportunity = match m.get_one::<String>("opportunity") {
        Some(name) => {
            let oe = Entity::get("opportunity")?;
            let mut d = Draft::empty(oe);
            d.set("customer", Value::Integer(existing.unwrap_or(-1)));
            d.set(
                "name",
                oe.field("name")?.kind.parse(name).map_err(Error::invalid)?,
            );
            if let Some(a) = m.get_one::<String>("amount") {
                let v = records::parse_value(conn, oe.field("amount")?, a)
                    .map_err(|why| Error::invalid(format!("--amount: {why}")))?;
                d.set("amount", v);
            }
            d.set("source", text("source"));
            d.set("campaign", text("campaign"));
            d.set("owner", owner.clone());
            write::fill_defaults(conn, &mut d, user)?;
            Some(d)
        }
        None => None,
    };
    Ok(Plan {
        customer,
        contact,
        opportunity,
    })
}
