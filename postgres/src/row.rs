//! Result rows: values by index or column name.

use std::rc::Rc;

use bytes::Bytes;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::DataRowBody;

use crate::error::Error;
use crate::types::{decoded_in_binary, oid, type_name, FromSql, Oid};

/// A result column: its name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name (or alias).
    pub name: String,
    /// Its type's oid.
    pub type_oid: Oid,
    /// How the server sends its values (chosen from the type when the statement is
    /// prepared).
    pub(crate) format: Format,
}

/// The wire format of a result column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// PostgreSQL's text output, for the types simmer has no binary decoder for.
    Text = 0,
    /// Binary, for the types in [`crate::types::DECODED`] and arrays of them.
    Binary = 1,
}

impl Column {
    /// A column of type `type_oid`, sent in binary if simmer decodes that type, else
    /// as text.
    pub(crate) fn new(name: String, type_oid: Oid) -> Column {
        let format = if decoded_in_binary(type_oid) {
            Format::Binary
        } else {
            Format::Text
        };
        Column {
            name,
            type_oid,
            format,
        }
    }
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
    ///
    /// A column of a type simmer has no binary decoder for (`interval`, `inet`, an enum,
    /// ...) arrives in PostgreSQL's text form and reads as `String` or `&str`.
    pub fn get<'a, T: FromSql<'a>>(
        &'a self,
        index: impl RowIndex + std::fmt::Debug,
    ) -> Result<T, Error> {
        let i = self.position(&index)?;
        let column = &self.columns[i];
        let result = match column.format {
            Format::Binary => T::from_sql(column.type_oid, self.value(i)),
            Format::Text => T::from_sql(oid::TEXT, self.value(i)).map_err(|e| match e {
                Error::Conversion(why) if why.contains("cannot be read as") => {
                    Error::Conversion(format!(
                        "a column of type {} arrives as text: read it as String or &str, or cast it in SQL",
                        type_name(column.type_oid)
                    ))
                }
                other => other,
            }),
        };
        result.map_err(|e| match e {
            Error::Conversion(why) => Error::Conversion(format!("column {:?}: {why}", column.name)),
            other => other,
        })
    }

    /// The position of `index`, or an error naming it and the row's columns.
    pub(crate) fn position(
        &self,
        index: &(impl RowIndex + std::fmt::Debug),
    ) -> Result<usize, Error> {
        index.position(&self.columns).ok_or_else(|| {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            Error::Conversion(format!(
                "no column {index:?} in this row (its columns: {})",
                names.join(", ")
            ))
        })
    }

    /// The raw bytes of value `i` (`None` for NULL), in the column's format.
    pub(crate) fn value(&self, i: usize) -> Option<&[u8]> {
        self.ranges[i].clone().map(|r| &self.body.buffer()[r])
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
