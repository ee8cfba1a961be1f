//! Rust values to and from PostgreSQL's binary format.
//!
//! Parameters are sent with their type (`ToSql::oid`), so `$1` needs no cast; results
//! are read in binary. Supported: `bool`, `i16`/`i32`/`i64`, `f32`/`f64`, `String` and
//! `&str`, `Vec<u8>` and `&[u8]`, `serde_json::Value` (json and jsonb), and `Option<T>`
//! for NULL. More types (numeric, dates and times, uuid, arrays) are read by
//! `Row::to_json` and `Row::deserialize`.

use bytes::{BufMut, BytesMut};
use postgres_protocol::types as pg;

use crate::error::Error;

/// A PostgreSQL type's object id.
pub type Oid = u32;

/// Type ids used here.
pub mod oid {
    #![allow(missing_docs)]
    use super::Oid;
    pub const BOOL: Oid = 16;
    pub const BYTEA: Oid = 17;
    pub const NAME: Oid = 19;
    pub const INT8: Oid = 20;
    pub const INT2: Oid = 21;
    pub const INT4: Oid = 23;
    pub const TEXT: Oid = 25;
    pub const JSON: Oid = 114;
    pub const FLOAT4: Oid = 700;
    pub const FLOAT8: Oid = 701;
    pub const UNKNOWN: Oid = 705;
    pub const BPCHAR: Oid = 1042;
    pub const VARCHAR: Oid = 1043;
    pub const JSONB: Oid = 3802;
    pub const OID: Oid = 26;
    pub const NUMERIC: Oid = 1700;
    pub const DATE: Oid = 1082;
    pub const TIME: Oid = 1083;
    pub const TIMESTAMP: Oid = 1114;
    pub const TIMESTAMPTZ: Oid = 1184;
    pub const UUID: Oid = 2950;
}

/// The types simmer decodes from binary: `(oid, name, oid of its array type)`. Result
/// columns of any other type are asked for in text format (see [`crate::Row::to_json`]).
pub(crate) const DECODED: &[(Oid, &str, Oid)] = &[
    (oid::BOOL, "bool", 1000),
    (oid::BYTEA, "bytea", 1001),
    (oid::NAME, "name", 1003),
    (oid::INT8, "int8", 1016),
    (oid::INT2, "int2", 1005),
    (oid::INT4, "int4", 1007),
    (oid::TEXT, "text", 1009),
    (oid::OID, "oid", 1028),
    (oid::JSON, "json", 199),
    (oid::FLOAT4, "float4", 1021),
    (oid::FLOAT8, "float8", 1022),
    (oid::UNKNOWN, "unknown", 0),
    (oid::BPCHAR, "bpchar", 1014),
    (oid::VARCHAR, "varchar", 1015),
    (oid::DATE, "date", 1182),
    (oid::TIME, "time", 1183),
    (oid::TIMESTAMP, "timestamp", 1115),
    (oid::TIMESTAMPTZ, "timestamptz", 1185),
    (oid::NUMERIC, "numeric", 1231),
    (oid::UUID, "uuid", 2951),
    (oid::JSONB, "jsonb", 3807),
];

/// The element type of an array type simmer decodes, if `oid` is one.
pub(crate) fn element_of(oid: Oid) -> Option<Oid> {
    DECODED
        .iter()
        .find(|(_, _, array)| *array == oid && oid != 0)
        .map(|(element, _, _)| *element)
}

/// True if simmer reads this type in binary (scalars above and arrays of them).
pub(crate) fn decoded_in_binary(oid: Oid) -> bool {
    DECODED.iter().any(|(scalar, _, _)| *scalar == oid) || element_of(oid).is_some()
}

/// A type's name for error messages: `int4`, `text[]`, or `oid 869` for the others.
pub(crate) fn type_name(oid: Oid) -> String {
    if let Some((_, name, _)) = DECODED.iter().find(|(scalar, _, _)| *scalar == oid) {
        return (*name).to_string();
    }
    match element_of(oid) {
        Some(element) => format!("{}[]", type_name(element)),
        None => format!("oid {oid}"),
    }
}

/// A value that can be sent as a query parameter.
pub trait ToSql {
    /// The type it is sent as (`Option<T>` sends T's).
    fn oid(&self) -> Oid;
    /// Appends the binary form; returns false for NULL.
    fn to_sql(&self, out: &mut BytesMut) -> bool;
}

/// A value that can be read from a result column; `'a` lets `&str` and `&[u8]` borrow
/// from the row instead of copying.
pub trait FromSql<'a>: Sized {
    /// Converts a column of type `oid`; `raw` is `None` for NULL.
    fn from_sql(oid: Oid, raw: Option<&'a [u8]>) -> Result<Self, Error>;
}

fn conversion(e: Box<dyn std::error::Error + Sync + Send>) -> Error {
    Error::Conversion(e.to_string())
}

fn not_null<'a>(raw: Option<&'a [u8]>, rust: &str) -> Result<&'a [u8], Error> {
    raw.ok_or_else(|| Error::Conversion(format!("column is NULL; read it as Option<{rust}>")))
}

fn check(oid: Oid, accepted: &[Oid], rust: &str) -> Result<(), Error> {
    if accepted.contains(&oid) {
        Ok(())
    } else {
        Err(Error::Conversion(format!(
            "a column of type {} cannot be read as {rust}",
            type_name(oid)
        )))
    }
}

macro_rules! scalar {
    ($t:ty, $oid:expr, $accepted:expr, $to:ident, $from:expr) => {
        impl ToSql for $t {
            fn oid(&self) -> Oid {
                $oid
            }
            fn to_sql(&self, out: &mut BytesMut) -> bool {
                pg::$to(*self, out);
                true
            }
        }
        impl FromSql<'_> for $t {
            fn from_sql(oid: Oid, raw: Option<&[u8]>) -> Result<Self, Error> {
                let raw = not_null(raw, stringify!($t))?;
                check(oid, $accepted, stringify!($t))?;
                let convert: fn(Oid, &[u8]) -> Result<$t, Error> = $from;
                convert(oid, raw)
            }
        }
    };
}

scalar!(bool, oid::BOOL, &[oid::BOOL], bool_to_sql, |_, raw| {
    pg::bool_from_sql(raw).map_err(conversion)
});
scalar!(i16, oid::INT2, &[oid::INT2], int2_to_sql, |_, raw| {
    pg::int2_from_sql(raw).map_err(conversion)
});
scalar!(
    i32,
    oid::INT4,
    &[oid::INT2, oid::INT4],
    int4_to_sql,
    |oid, raw| match oid {
        oid::INT2 => pg::int2_from_sql(raw).map(i32::from).map_err(conversion),
        _ => pg::int4_from_sql(raw).map_err(conversion),
    }
);
scalar!(
    i64,
    oid::INT8,
    &[oid::INT2, oid::INT4, oid::INT8],
    int8_to_sql,
    |oid, raw| match oid {
        oid::INT2 => pg::int2_from_sql(raw).map(i64::from).map_err(conversion),
        oid::INT4 => pg::int4_from_sql(raw).map(i64::from).map_err(conversion),
        _ => pg::int8_from_sql(raw).map_err(conversion),
    }
);
scalar!(f32, oid::FLOAT4, &[oid::FLOAT4], float4_to_sql, |_, raw| {
    pg::float4_from_sql(raw).map_err(conversion)
});
scalar!(
    f64,
    oid::FLOAT8,
    &[oid::FLOAT4, oid::FLOAT8],
    float8_to_sql,
    |oid, raw| match oid {
        oid::FLOAT4 => pg::float4_from_sql(raw).map(f64::from).map_err(conversion),
        _ => pg::float8_from_sql(raw).map_err(conversion),
    }
);

const TEXTUAL: &[Oid] = &[
    oid::TEXT,
    oid::VARCHAR,
    oid::BPCHAR,
    oid::NAME,
    oid::UNKNOWN,
];

impl ToSql for str {
    fn oid(&self) -> Oid {
        oid::TEXT
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        pg::text_to_sql(self, out);
        true
    }
}

impl ToSql for String {
    fn oid(&self) -> Oid {
        oid::TEXT
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        self.as_str().to_sql(out)
    }
}

impl FromSql<'_> for String {
    fn from_sql(oid: Oid, raw: Option<&[u8]>) -> Result<Self, Error> {
        let raw = not_null(raw, "String")?;
        check(oid, TEXTUAL, "String")?;
        pg::text_from_sql(raw).map(String::from).map_err(conversion)
    }
}

impl<'a> FromSql<'a> for &'a str {
    fn from_sql(oid: Oid, raw: Option<&'a [u8]>) -> Result<Self, Error> {
        let raw = not_null(raw, "&str")?;
        check(oid, TEXTUAL, "&str")?;
        pg::text_from_sql(raw).map_err(conversion)
    }
}

impl<'a> FromSql<'a> for &'a [u8] {
    fn from_sql(oid: Oid, raw: Option<&'a [u8]>) -> Result<Self, Error> {
        let raw = not_null(raw, "&[u8]")?;
        check(oid, &[oid::BYTEA], "&[u8]")?;
        Ok(pg::bytea_from_sql(raw))
    }
}

impl ToSql for [u8] {
    fn oid(&self) -> Oid {
        oid::BYTEA
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        pg::bytea_to_sql(self, out);
        true
    }
}

impl ToSql for Vec<u8> {
    fn oid(&self) -> Oid {
        oid::BYTEA
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        self.as_slice().to_sql(out)
    }
}

impl FromSql<'_> for Vec<u8> {
    fn from_sql(oid: Oid, raw: Option<&[u8]>) -> Result<Self, Error> {
        let raw = not_null(raw, "Vec<u8>")?;
        check(oid, &[oid::BYTEA], "Vec<u8>")?;
        Ok(pg::bytea_from_sql(raw).to_vec())
    }
}

impl ToSql for serde_json::Value {
    fn oid(&self) -> Oid {
        oid::JSONB
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        out.put_u8(1); // jsonb binary format version
        let text = serde_json::to_vec(self).expect("a Value always serializes");
        out.put_slice(&text);
        true
    }
}

impl FromSql<'_> for serde_json::Value {
    fn from_sql(oid: Oid, raw: Option<&[u8]>) -> Result<Self, Error> {
        let raw = not_null(raw, "serde_json::Value")?;
        check(oid, &[oid::JSON, oid::JSONB], "serde_json::Value")?;
        let text = match (oid, raw) {
            (oid::JSONB, [1, rest @ ..]) => rest,
            (oid::JSONB, _) => {
                return Err(Error::Conversion("unknown jsonb format version".into()))
            }
            (_, raw) => raw,
        };
        serde_json::from_slice(text)
            .map_err(|e| Error::Conversion(format!("invalid JSON from the server: {e}")))
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn oid(&self) -> Oid {
        match self {
            Some(v) => v.oid(),
            None => oid::UNKNOWN, // the server infers the type of a NULL
        }
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        match self {
            Some(v) => v.to_sql(out),
            None => false,
        }
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Option<T> {
    fn from_sql(oid: Oid, raw: Option<&'a [u8]>) -> Result<Self, Error> {
        raw.map(|raw| T::from_sql(oid, Some(raw))).transpose()
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn oid(&self) -> Oid {
        (**self).oid()
    }
    fn to_sql(&self, out: &mut BytesMut) -> bool {
        (**self).to_sql(out)
    }
}
