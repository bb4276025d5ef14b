//! The logged-in user's mask (SPEC "Masking"): the role's policy read from the settings
//! once, `--reveal` checked against `mask.reveal_roles`, filters and sorts on masked fields
//! refused, and reveals and refusals audited.

use std::fmt::Write as _;
use std::rc::Rc;

use super::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::query::Query;
use crate::error::{Error, Result};
use crate::mask::rows::RowMask;
use crate::mask::{self, Policy};
use crate::schema::{Entity, Field};

impl Ctx {
    /// What the user sees masked; with `--reveal`, refused (exit 7, audited) unless the
    /// role is in `mask.reveal_roles`.
    pub fn mask_policy(&mut self) -> Result<Rc<Policy>> {
        if let Some(p) = &self.mask {
            return Ok(Rc::clone(p));
        }
        let user = self.user()?;
        let reveal = self.g.reveal;
        let store = &self.db()?.store;
        let policy = match mask::setting_of(user.role) {
            None => Policy::none(),
            Some(key) => Policy::of(user.role, &crate::db::settings::get(store, key)?),
        };
        if reveal {
            let roles = crate::db::settings::get(store, "mask.reveal_roles")?;
            if !roles.split(',').any(|r| r == user.role.as_str()) {
                self.audit_denied(None, "reveal masked values".into())?;
                return Err(Error::denied(format!(
                    "role {} may not --reveal masked values",
                    user.role.as_str()
                ))
                .hint(format!(
                    "roles allowed (setting mask.reveal_roles): {}",
                    if roles.is_empty() { "none" } else { &roles }
                )));
            }
        }
        let p = Rc::new(policy);
        self.mask = Some(Rc::clone(&p));
        Ok(p)
    }

    /// The mask of `cols` of `e` for this command's rows, `q` told what it needs.
    pub fn row_mask(
        &mut self,
        e: &'static Entity,
        cols: &[&'static Field],
        q: &mut Query,
    ) -> Result<Option<RowMask>> {
        let p = self.mask_policy()?;
        let me = self.user()?.name;
        Ok(RowMask::new(&p, &me, self.g.reveal, e, cols, q))
    }

    /// Refuses `--where` and `--sort` on a field masked for the role (exit 7, audited):
    /// comparing is reading, digit by digit. `--reveal` lifts it.
    pub fn check_masked_query(&mut self, q: &Query) -> Result<()> {
        let p = self.mask_policy()?;
        if self.g.reveal {
            return Ok(());
        }
        let e = q.entity;
        let used = q
            .filters
            .iter()
            .map(|f| (f.field, "filter"))
            .chain(q.sort.iter().map(|(f, _)| (*f, "sort")));
        for (f, what) in used {
            if p.masks(e, f) {
                let role = self.user()?.role;
                self.audit_denied(Some(e), format!("{what} by masked {}.{}", e.name, f.name))?;
                return Err(mask::refused(role, e, f, what));
            }
        }
        Ok(())
    }

    /// Refuses a report's `--by` on a field masked for the role (exit 7, audited), as a
    /// filter on it is: each group's count would tell the hidden values. `--reveal` lifts it.
    pub fn check_masked_group(&mut self, e: &'static Entity, f: &'static Field) -> Result<()> {
        let p = self.mask_policy()?;
        if self.g.reveal || !p.masks(e, f) {
            return Ok(());
        }
        let role = self.user()?.role;
        self.audit_denied(Some(e), format!("group by masked {}.{}", e.name, f.name))?;
        Err(mask::refused(role, e, f, "group"))
    }

    /// Audits what `--reveal` showed: the fields and the records, by whom.
    pub fn audit_reveal(&mut self, m: &RowMask) -> Result<()> {
        if m.revealed.is_empty() {
            return Ok(());
        }
        let user = self.user()?;
        let mut detail = format!("{} of {} record(s): ", m.fields.join(","), m.revealed.len());
        // The ids in full up to a point; an export of thousands names its count.
        for (i, id) in m.revealed.iter().take(200).enumerate() {
            let _ = write!(detail, "{}{id}", if i > 0 { "," } else { "" });
        }
        if m.revealed.len() > 200 {
            let _ = write!(detail, ",… ({} more)", m.revealed.len() - 200);
        }
        let db = self.db()?;
        let tx = db.write()?;
        audit::log(
            &tx,
            &[Entry {
                user: Some(&user.name),
                action: "reveal",
                entity: Some(m.entity.name),
                record_id: (m.revealed.len() == 1).then(|| m.revealed[0]),
                detail: Some(detail),
                ..Entry::default()
            }],
        )?;
        tx.commit()
    }
}
