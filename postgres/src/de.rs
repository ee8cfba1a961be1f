//! Rows into serde types: `row.deserialize::<T>()` and `client.query_as::<T>(...)`,
//! the `FromRow` of sqlx. A struct's fields are matched to columns by name, a tuple's
//! elements by position; each value is converted by its column's type, and an error
//! names the column, its type and what the field expected.
//!
//! Values reach the field's `Deserialize` as: `bool`, integers, floats, strings
//! (borrowed from the row: a `&str` field copies nothing) and bytes (`bytea`, also
//! into a `Vec<u8>`) as themselves; `numeric` as its exact text, or as a number for an
//! integer or float field; dates, times and UUIDs as the ISO strings of
//! [`Row::to_json`] (chrono's and uuid's types read those); `json`/`jsonb` and arrays
//! as their JSON; a text-format column (an enum, say) as a string, or as a unit variant
//! of a Rust enum. NULL is `None` for an `Option` field and an error for any other.

use std::fmt;

use postgres_protocol::types as pg;
use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::json::binary_to_json;
use crate::row::{Column, Format, Row};
use crate::text_form;
use crate::types::{element_of, oid, type_name, Oid};

impl Row {
    /// The row as `T`: a struct by column name (extra columns are ignored; a missing
    /// one is an error unless the field is an `Option` or has `#[serde(default)]`), or
    /// a tuple by position.
    ///
    /// ```no_run
    /// # async fn demo(db: &mut simmer_postgres::Client) -> Result<(), simmer_postgres::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Item { id: i32, name: String, price_cents: i64 }
    /// let row = db.query_one("SELECT * FROM items WHERE id = $1", &[&1i32]).await?;
    /// let item: Item = row.deserialize()?;
    /// let (id, name): (i32, &str) = row.deserialize()?;
    /// # Ok(()) }
    /// ```
    pub fn deserialize<'de, T: Deserialize<'de>>(&'de self) -> Result<T, Error> {
        T::deserialize(RowDeserializer { row: self }).map_err(|e| match e {
            DeError::MissingColumn(name) => {
                let names: Vec<&str> = self.columns().iter().map(|c| c.name.as_str()).collect();
                Error::Conversion(format!(
                    "no column {name:?} in the row (its columns: {}); make the field an Option or give it #[serde(default)] if it may be missing",
                    names.join(", ")
                ))
            }
            DeError::Message(why) => Error::Conversion(why),
        })
    }
}

/// The error of the deserializers below; turned into [`Error::Conversion`].
#[derive(Debug)]
pub(crate) enum DeError {
    /// A struct field with no column of its name.
    MissingColumn(&'static str),
    /// Anything else, already in words.
    Message(String),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::MissingColumn(name) => write!(f, "no column {name:?}"),
            DeError::Message(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError::Message(msg.to_string())
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError::MissingColumn(field)
    }
}

impl From<Error> for DeError {
    fn from(e: Error) -> DeError {
        DeError::Message(match e {
            Error::Conversion(why) => why,
            other => other.to_string(),
        })
    }
}

/// Adds the column's name and type to an error about its value.
fn in_column(column: &Column, e: DeError) -> DeError {
    match e {
        DeError::Message(why) => DeError::Message(format!(
            "column {:?} ({}): {why}",
            column.name,
            type_name(column.type_oid)
        )),
        missing => missing,
    }
}

/// A whole row: a map from column names to values, or a sequence of values.
struct RowDeserializer<'de> {
    row: &'de Row,
}

impl<'de> RowDeserializer<'de> {
    fn column(&self, i: usize) -> ValueDeserializer<'de> {
        let column = &self.row.columns()[i];
        ValueDeserializer {
            type_oid: column.type_oid,
            format: column.format,
            raw: self.row.value(i),
        }
    }
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(Columns { row: self, next: 0 })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(Columns { row: self, next: 0 })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct map struct enum identifier ignored_any
    }
}

/// The columns one by one, as map entries (name, value) or sequence elements.
struct Columns<'de> {
    row: RowDeserializer<'de>,
    next: usize,
}

impl<'de> de::MapAccess<'de> for Columns<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(column) = self.row.row.columns().get(self.next) else {
            return Ok(None);
        };
        let name: &'de str = &column.name;
        seed.deserialize(BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let i = self.next;
        self.next += 1;
        seed.deserialize(self.row.column(i))
            .map_err(|e| in_column(&self.row.row.columns()[i], e))
    }
}

impl<'de> de::SeqAccess<'de> for Columns<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let i = self.next;
        if i >= self.row.row.len() {
            return Ok(None);
        }
        self.next += 1;
        seed.deserialize(self.row.column(i))
            .map(Some)
            .map_err(|e| in_column(&self.row.row.columns()[i], e))
    }
}

/// What the field asked for, where a column's type can become more than one thing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Anything,
    Integer,
    Float,
    Sequence,
}

/// One value of a row.
struct ValueDeserializer<'de> {
    type_oid: Oid,
    format: Format,
    raw: Option<&'de [u8]>,
}

fn conversion(e: Box<dyn std::error::Error + Sync + Send>) -> DeError {
    DeError::Message(e.to_string())
}

impl<'de> ValueDeserializer<'de> {
    /// `json`/`jsonb` and arrays go through their JSON value.
    fn as_json(&self, raw: &[u8]) -> Option<Result<Value, DeError>> {
        let json =
            matches!(self.type_oid, oid::JSON | oid::JSONB) || element_of(self.type_oid).is_some();
        (json && self.format == Format::Binary)
            .then(|| binary_to_json(self.type_oid, raw).map_err(DeError::from))
    }

    /// A non-NULL value that is not JSON or an array.
    fn visit<V: Visitor<'de>>(
        self,
        raw: &'de [u8],
        want: Want,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if self.format == Format::Text {
            let text = std::str::from_utf8(raw)
                .map_err(|_| DeError::Message("the server sent text that is not UTF-8".into()))?;
            return visitor.visit_borrowed_str(text);
        }
        match self.type_oid {
            oid::BOOL => visitor.visit_bool(pg::bool_from_sql(raw).map_err(conversion)?),
            oid::INT2 => visitor.visit_i16(pg::int2_from_sql(raw).map_err(conversion)?),
            oid::INT4 => visitor.visit_i32(pg::int4_from_sql(raw).map_err(conversion)?),
            oid::INT8 => visitor.visit_i64(pg::int8_from_sql(raw).map_err(conversion)?),
            oid::OID => visitor.visit_u32(pg::oid_from_sql(raw).map_err(conversion)?),
            oid::FLOAT4 => visitor.visit_f32(pg::float4_from_sql(raw).map_err(conversion)?),
            oid::FLOAT8 => visitor.visit_f64(pg::float8_from_sql(raw).map_err(conversion)?),
            oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN => {
                visitor.visit_borrowed_str(pg::text_from_sql(raw).map_err(conversion)?)
            }
            oid::BYTEA if want == Want::Sequence => {
                let bytes = pg::bytea_from_sql(raw).iter().copied();
                visitor.visit_seq(SeqDeserializer::<_, DeError>::new(bytes))
            }
            oid::BYTEA => visitor.visit_borrowed_bytes(pg::bytea_from_sql(raw)),
            oid::NUMERIC => {
                let text = text_form::numeric(raw)?;
                match want {
                    Want::Float => match text.parse::<f64>() {
                        Ok(v) => visitor.visit_f64(v),
                        Err(_) => visitor.visit_string(text),
                    },
                    Want::Integer => match (text.parse::<i64>(), text.parse::<i128>()) {
                        (Ok(v), _) => visitor.visit_i64(v),
                        (_, Ok(v)) => visitor.visit_i128(v),
                        _ => Err(de::Error::custom(format!(
                            "numeric {text} is not an integer: read it as a float or a string"
                        ))),
                    },
                    _ => visitor.visit_string(text),
                }
            }
            oid::DATE => {
                visitor.visit_string(text_form::date(pg::date_from_sql(raw).map_err(conversion)?))
            }
            oid::TIME => {
                visitor.visit_string(text_form::time(pg::time_from_sql(raw).map_err(conversion)?))
            }
            oid::TIMESTAMP | oid::TIMESTAMPTZ => visitor.visit_string(text_form::timestamp(
                pg::timestamp_from_sql(raw).map_err(conversion)?,
                self.type_oid == oid::TIMESTAMPTZ,
            )),
            oid::UUID => visitor.visit_string(text_form::uuid(
                &pg::uuid_from_sql(raw).map_err(conversion)?,
            )),
            other => Err(de::Error::custom(format!(
                "simmer has no binary decoder for {}",
                type_name(other)
            ))),
        }
    }
}

fn null() -> DeError {
    DeError::Message("the value is NULL: make the field an Option".into())
}

/// Methods that reject NULL, hand JSON and arrays to serde_json, and visit the rest.
macro_rules! not_null {
    ($($method:ident($($arg:ident: $ty:ty),*) => $want:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, DeError> {
            let Some(raw) = self.raw else { return Err(null()) };
            if let Some(json) = self.as_json(raw) {
                return json?
                    .$method($($arg,)* visitor)
                    .map_err(|e| DeError::Message(e.to_string()));
            }
            self.visit(raw, $want, visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = DeError;

    /// NULL is a unit here (a `serde_json::Value` field gets `Value::Null`).
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Some(raw) = self.raw else {
            return visitor.visit_unit();
        };
        if let Some(json) = self.as_json(raw) {
            return json?
                .deserialize_any(visitor)
                .map_err(|e| DeError::Message(e.to_string()));
        }
        self.visit(raw, Want::Anything, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.raw {
            None => visitor.visit_none(),
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A string (a PostgreSQL enum, say) as a unit variant of a Rust enum.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Some(raw) = self.raw else {
            return Err(null());
        };
        if let Some(json) = self.as_json(raw) {
            return json?
                .deserialize_enum(name, variants, visitor)
                .map_err(|e| DeError::Message(e.to_string()));
        }
        let text = match self.format {
            Format::Text => std::str::from_utf8(raw).ok(),
            Format::Binary => pg::text_from_sql(raw).ok().filter(|_| {
                matches!(
                    self.type_oid,
                    oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN
                )
            }),
        };
        match text {
            Some(text) => visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(text)),
            None => Err(de::Error::custom(format!(
                "expected a string for enum {name}"
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.raw {
            None => visitor.visit_unit(),
            Some(_) => self.deserialize_any(visitor),
        }
    }

    not_null! {
        deserialize_bool() => Want::Anything;
        deserialize_i8() => Want::Integer;
        deserialize_i16() => Want::Integer;
        deserialize_i32() => Want::Integer;
        deserialize_i64() => Want::Integer;
        deserialize_i128() => Want::Integer;
        deserialize_u8() => Want::Integer;
        deserialize_u16() => Want::Integer;
        deserialize_u32() => Want::Integer;
        deserialize_u64() => Want::Integer;
        deserialize_u128() => Want::Integer;
        deserialize_f32() => Want::Float;
        deserialize_f64() => Want::Float;
        deserialize_char() => Want::Anything;
        deserialize_str() => Want::Anything;
        deserialize_string() => Want::Anything;
        deserialize_bytes() => Want::Anything;
        deserialize_byte_buf() => Want::Anything;
        deserialize_seq() => Want::Sequence;
        deserialize_map() => Want::Anything;
        deserialize_identifier() => Want::Anything;
        deserialize_unit_struct(name: &'static str) => Want::Anything;
        deserialize_tuple(len: usize) => Want::Sequence;
        deserialize_tuple_struct(name: &'static str, len: usize) => Want::Sequence;
        deserialize_struct(name: &'static str, fields: &'static [&'static str]) => Want::Anything;
    }
}
