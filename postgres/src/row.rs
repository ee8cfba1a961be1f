//! Result rows: values by index or column name.

use std::rc::Rc;

use bytes::Bytes;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::DataRowBody;

use crate::error::Error;
use crate::types::{FromSql, Oid};

/// A result column: its name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name (or alias).
    pub name: String,
    /// Its type's oid.
    pub type_oid: Oid,
}

/// One row of a result.
pub struct Row {
    columns: Rc<[Column]>,
    body: DataRowBody,
    ranges: Vec<Option<std::ops::Range<usize>>>,
}

/// Picks a column: by position (`0`) or by name (`"id"`).
pub trait RowIndex {
    /// The column's position, if it exists.
    fn position(&self, columns: &[Column]) -> Option<usize>;
}

impl RowIndex for usize {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl RowIndex for &str {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name == *self)
    }
}

impl Row {
    pub(crate) fn new(columns: Rc<[Column]>, body: DataRowBody) -> Result<Row, Error> {
        let ranges = body
            .ranges()
            .collect::<Vec<_>>()
            .map_err(|e| Error::Protocol(format!("bad DataRow: {e}")))?;
        if ranges.len() != columns.len() {
            return Err(Error::Protocol(format!(
                "a DataRow with {} values for {} columns",
                ranges.len(),
                columns.len()
            )));
        }
        Ok(Row {
            columns,
            body,
            ranges,
        })
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True for a row with no columns.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The value at `index` (a position or a column name) as `T`. NULL into a type that
    /// is not an `Option`, a type mismatch, or an unknown column are errors, not panics.
    pub fn get<'a, T: FromSql<'a>>(
        &'a self,
        index: impl RowIndex + std::fmt::Debug,
    ) -> Result<T, Error> {
        let i = index
            .position(&self.columns)
            .ok_or_else(|| Error::Conversion(format!("no column {index:?} in this row")))?;
        let raw = self.ranges[i].clone().map(|r| &self.body.buffer()[r]);
        T::from_sql(self.columns[i].type_oid, raw).map_err(|e| match e {
            Error::Conversion(why) => {
                Error::Conversion(format!("column {:?}: {why}", self.columns[i].name))
            }
            other => other,
        })
    }

    /// The raw bytes of the row (for debugging).
    pub fn raw(&self) -> Bytes {
        self.body.buffer_bytes().clone()
    }
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}
