//! Rows into a table through binary `COPY … FROM STDIN`: what `crm copy` writes a server
//! database with, one stream per table instead of a statement per few hundred rows. Each
//! value is bound as its column's type, as a statement's parameter is (`value::Param`).

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

use super::Pg;
use super::value::Param;
use crate::error::{Error, Result};
use crate::schema::Value;

impl Pg {
    /// Streams rows into `table`'s `columns` (both already quoted for SQL): `fill` is handed
    /// a function that writes one row, its values in column order. Returns the rows written.
    /// `fill` must not use this connection: it carries the COPY until `fill` returns.
    pub fn copy_in(
        &self,
        table: &str,
        columns: &str,
        fill: impl FnOnce(&mut dyn FnMut(Vec<Value>) -> Result<()>) -> Result<()>,
    ) -> Result<u64> {
        // Prepared once per table and columns (the statement cache): an import sends a COPY
        // per chunk.
        let types: Vec<Type> = self
            .prepared(&format!("SELECT {columns} FROM {table} LIMIT 0"))?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let mut client = self
            .client
            .try_borrow_mut()
            .map_err(|_| Error::internal("a COPY began while another query streamed its rows"))?;
        let sink = client.copy_in(&format!(
            "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
        ))?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        let mut put = |row: Vec<Value>| -> Result<()> {
            let params: Vec<Param<'_>> = row.iter().map(Param).collect();
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            writer.write(&refs)?;
            Ok(())
        };
        fill(&mut put)?;
        Ok(writer.finish()?)
    }
}
