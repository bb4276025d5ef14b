//! Which records a bulk import already touched: a key repeated in the file is refused
//! rather than written twice (one bit per record id).

use super::Bulk;

impl Bulk<'_> {
    pub(super) fn touched(&self, id: i64) -> bool {
        let Ok(i) = usize::try_from(id) else {
            return false;
        };
        self.touched
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub(super) fn touch(&mut self, id: i64) {
        let Ok(i) = usize::try_from(id) else { return };
        if self.touched.len() <= i / 64 {
            self.touched.resize(i / 64 + 1, 0);
        }
        self.touched[i / 64] |= 1 << (i % 64);
    }
}
