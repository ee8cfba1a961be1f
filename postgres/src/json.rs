//! Whole rows as JSON objects, by column name and type: what asyncpg's
//! `[dict(row) for row in rows]` gives a FastAPI handler, ready to return.
//!
//! | PostgreSQL | JSON |
//! | --- | --- |
//! | `NULL` | `null` |
//! | `bool` | `true` / `false` |
//! | `int2`, `int4`, `int8`, `oid` | a number |
//! | `float4`, `float8` | a number (`float4` by its shortest decimal, `1.1` not `1.100000023841858`); NaN and ±Infinity, which JSON cannot hold, as `null` (pydantic's default) |
//! | `numeric` | a **string** with its exact digits (`"12.50"`): a JSON number would be read back as a double by most clients and lose digits, and pydantic serializes `Decimal` the same way |
//! | `text`, `varchar`, `char(n)`, `name` | a string |
//! | `bytea` | a **base64** string (standard alphabet, padded: Python's `base64.b64decode` reads it back); hex would be twice as long, and pydantic's own default (UTF-8) fails on binary data |
//! | `json`, `jsonb` | the document itself, nested |
//! | `date`, `time`, `timestamp` | ISO 8601 strings: `"2024-05-06"`, `"12:34:56"`, `"2024-05-06T12:34:56.789000"` |
//! | `timestamptz` | ISO 8601 in UTC with `Z`: `"2024-05-06T12:34:56Z"` |
//! | `uuid` | `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"` |
//! | arrays of the above | JSON arrays (nested for several dimensions), NULL elements as `null` |
//! | anything else (`interval`, `inet`, enums, composite types, ...) | its PostgreSQL text form as a string: simmer asks the server for those columns in text format |

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pg;
use serde_json::{Map, Number, Value};

use crate::error::Error;
use crate::row::{Format, Row, RowIndex};
use crate::text_form;
use crate::types::{element_of, oid, type_name, FromSql, Oid};

impl Row {
    /// The whole row as a JSON object, `{"column": value, ...}`, each value converted by
    /// its type (the table in the module docs). Keys come out sorted (serde_json's map);
    /// when two columns share a name the last one wins, as in Python's `dict(row)`.
    pub fn to_json(&self) -> Result<Value, Error> {
        let mut object = Map::new();
        for (i, column) in self.columns().iter().enumerate() {
            object.insert(column.name.clone(), self.get_json(i)?);
        }
        Ok(Value::Object(object))
    }

    /// One value as JSON, converted by its type as [`Row::to_json`] does.
    pub fn get_json(&self, index: impl RowIndex + std::fmt::Debug) -> Result<Value, Error> {
        let i = self.position(&index)?;
        let column = &self.columns()[i];
        let value = match (self.value(i), column.format) {
            (None, _) => Ok(Value::Null),
            (Some(raw), Format::Text) => String::from_utf8(raw.to_vec())
                .map(Value::String)
                .map_err(|_| Error::Conversion("the server sent text that is not UTF-8".into())),
            (Some(raw), Format::Binary) => binary_to_json(column.type_oid, raw),
        };
        value.map_err(|e| match e {
            Error::Conversion(why) => Error::Conversion(format!(
                "column {:?} ({}): {why}",
                column.name,
                type_name(column.type_oid)
            )),
            other => other,
        })
    }
}

fn conversion(e: Box<dyn std::error::Error + Sync + Send>) -> Error {
    Error::Conversion(e.to_string())
}

/// A float as a JSON number; NaN and the infinities as `null`.
fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// A non-NULL value in binary format, of a type in [`crate::types::DECODED`] or an
/// array of one.
pub(crate) fn binary_to_json(type_oid: Oid, raw: &[u8]) -> Result<Value, Error> {
    Ok(match type_oid {
        oid::BOOL => Value::Bool(pg::bool_from_sql(raw).map_err(conversion)?),
        oid::INT2 => pg::int2_from_sql(raw).map_err(conversion)?.into(),
        oid::INT4 => pg::int4_from_sql(raw).map_err(conversion)?.into(),
        oid::INT8 => pg::int8_from_sql(raw).map_err(conversion)?.into(),
        oid::OID => pg::oid_from_sql(raw).map_err(conversion)?.into(),
        oid::FLOAT4 => {
            // Through its shortest decimal form, so 1.1f32 is 1.1 and not 1.100000023841858.
            let v = pg::float4_from_sql(raw).map_err(conversion)?;
            float(v.to_string().parse().unwrap_or(f64::NAN))
        }
        oid::FLOAT8 => float(pg::float8_from_sql(raw).map_err(conversion)?),
        oid::NUMERIC => Value::String(text_form::numeric(raw)?),
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN => {
            Value::String(pg::text_from_sql(raw).map_err(conversion)?.to_string())
        }
        oid::BYTEA => Value::String(text_form::base64(pg::bytea_from_sql(raw))),
        oid::JSON | oid::JSONB => Value::from_sql(type_oid, Some(raw))?,
        oid::DATE => Value::String(text_form::date(pg::date_from_sql(raw).map_err(conversion)?)),
        oid::TIME => Value::String(text_form::time(pg::time_from_sql(raw).map_err(conversion)?)),
        oid::TIMESTAMP | oid::TIMESTAMPTZ => Value::String(text_form::timestamp(
            pg::timestamp_from_sql(raw).map_err(conversion)?,
            type_oid == oid::TIMESTAMPTZ,
        )),
        oid::UUID => Value::String(text_form::uuid(
            &pg::uuid_from_sql(raw).map_err(conversion)?,
        )),
        other => match element_of(other) {
            Some(element) => array_to_json(element, raw)?,
            None => {
                return Err(Error::Conversion(
                    "simmer has no binary decoder for this type".into(),
                ))
            }
        },
    })
}

/// An array (any number of dimensions) as nested JSON arrays.
fn array_to_json(element: Oid, raw: &[u8]) -> Result<Value, Error> {
    let array = pg::array_from_sql(raw).map_err(conversion)?;
    if array.element_type() != element {
        return Err(Error::Conversion(format!(
            "an array of {} where {} was described",
            type_name(array.element_type()),
            type_name(element)
        )));
    }
    let lengths: Vec<usize> = array
        .dimensions()
        .map(|d| Ok(usize::try_from(d.len).unwrap_or(0)))
        .collect()
        .map_err(conversion)?;
    let values: Vec<Value> = array
        .values()
        .map_err(conversion)
        .map(|v| match v {
            None => Ok(Value::Null),
            Some(raw) => binary_to_json(element, raw),
        })
        .collect()?;
    let mut flat = values.into_iter();
    Ok(nest(&mut flat, &lengths))
}

/// Splits row-major values into one JSON array per dimension.
fn nest(flat: &mut impl Iterator<Item = Value>, lengths: &[usize]) -> Value {
    match lengths {
        [] => Value::Array(Vec::new()),
        [n] => Value::Array(flat.take(*n).collect()),
        [n, inner @ ..] => Value::Array((0..*n).map(|_| nest(flat, inner)).collect()),
    }
}
