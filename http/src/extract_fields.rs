//! Deserializing named (or positional) fields into a serde type while collecting
//! EVERY failing field, as FastAPI's 422 lists them.
//!
//! serde stops at the first error, so the collection is a loop: deserialize; when a
//! field fails (a value that does not fit, or a required field that is missing),
//! record it and deserialize again with a stand-in value for that field; stop when
//! it succeeds or fails for a reason that is not one field's. Each round adds one
//! stand-in, so there are at most fields + 1 rounds, on values already in memory.
//!
//! Values come as text (path, query, form, headers: parsed to the field's type on
//! demand) or as JSON (a body's object members).

use std::borrow::Cow;
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};

use crate::error::{HttpError, ValidationError};

/// One field's value.
pub(crate) enum FieldValue {
    /// Text, possibly repeated (`?tag=a&tag=b`): scalars take the last, lists all.
    Text(Vec<String>),
    /// A member of a JSON object.
    Json(serde_json::Value),
}

impl FieldValue {
    fn input_json(&self) -> String {
        match self {
            FieldValue::Text(values) => {
                let mut out = String::new();
                crate::json_string::push_string(&mut out, values.last().map_or("", |s| s));
                out
            }
            FieldValue::Json(value) => value.to_string(),
        }
    }
}

/// Named fields, or positional ones too (path parameters: `Path<(String, i64)>`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Named,
    NamedOrPositional,
}

/// Where the fields come from, for `loc` (`"query"`), and what a missing field's
/// `input` shows (FastAPI shows the whole body object; `null` elsewhere).
pub(crate) struct Place {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    pub(crate) whole_input: bool,
}

impl Place {
    /// The `input` of an error about the place as a whole, or a missing field.
    fn input(&self, fields: &[(String, FieldValue)]) -> Option<String> {
        self.whole_input.then(|| {
            let members = fields.iter().map(|(name, value)| {
                let value = match value {
                    FieldValue::Json(json) => json.clone(),
                    FieldValue::Text(values) => values.last().cloned().unwrap_or_default().into(),
                };
                (name.clone(), value)
            });
            serde_json::Value::Object(members.collect()).to_string()
        })
    }
}

/// Deserializes `T` from `fields`, or answers with a 422 naming every failing field.
pub(crate) fn from_fields<T: DeserializeOwned>(
    place: &Place,
    fields: &[(String, FieldValue)],
) -> Result<T, HttpError> {
    let mut errors: Vec<ValidationError> = Vec::new();
    let mut stand_ins: Vec<String> = Vec::new();
    loop {
        let de = FieldsDe {
            fields,
            stand_ins: &stand_ins,
            shape: place.shape,
        };
        let failure = match T::deserialize(de) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => break,
            Err(failure) => failure,
        };
        match failure {
            FieldError::Field { name, error } if !stand_ins.contains(&name) => {
                errors.push(error.located(place.name, &name));
                stand_ins.push(name);
            }
            FieldError::Missing(name) if !stand_ins.iter().any(|s| *s == name) => {
                let mut error =
                    ValidationError::new("missing", place.name, Some(name), "Field required");
                error.input = place.input(fields);
                errors.push(error);
                stand_ins.push(name.to_string());
            }
            other => {
                // Not one field's fault (or a stand-in did not satisfy the type):
                // report it for the whole place and stop.
                let error = other.into_value_error();
                if errors.is_empty() || error.kind != "stand_in" {
                    let mut whole = ValidationError::new(error.kind, place.name, None, error.msg);
                    whole.input = place.input(fields);
                    errors.push(whole);
                }
                break;
            }
        }
    }
    Err(HttpError::validation(errors))
}

/// A value error before its place and field are known.
pub(crate) struct ValueError {
    kind: Cow<'static, str>,
    msg: Cow<'static, str>,
    input: Option<String>,
}

impl ValueError {
    fn located(self, place: &'static str, field: &str) -> ValidationError {
        let mut error = ValidationError::new(self.kind, place, Some(field), self.msg);
        error.input = self.input;
        error
    }
}

/// Why a round of deserializing stopped.
pub(crate) enum FieldError {
    /// A value did not fit its type (the field is not known yet).
    Value(ValueError),
    /// Field `name`'s value did not fit.
    Field { name: String, error: ValueError },
    /// A required field is absent (serde's `missing_field`).
    Missing(&'static str),
}

impl FieldError {
    fn value(kind: &'static str, msg: impl Into<Cow<'static, str>>) -> FieldError {
        FieldError::Value(ValueError {
            kind: Cow::Borrowed(kind),
            msg: msg.into(),
            input: None,
        })
    }

    fn into_value_error(self) -> ValueError {
        match self {
            FieldError::Value(e) | FieldError::Field { error: e, .. } => e,
            FieldError::Missing(name) => ValueError {
                kind: Cow::Borrowed("stand_in"),
                msg: Cow::Owned(format!("field {name:?} could not be stood in for")),
                input: None,
            },
        }
    }

    /// Attributes a value error to field `name`, with its input.
    fn at(self, name: &str, input: String) -> FieldError {
        match self {
            FieldError::Value(mut error) => {
                error.input.get_or_insert(input);
                FieldError::Field {
                    name: name.to_string(),
                    error,
                }
            }
            // A missing field inside a field's value: that field's error.
            FieldError::Missing(inner) => FieldError::Field {
                name: name.to_string(),
                error: ValueError {
                    kind: Cow::Borrowed("missing"),
                    msg: Cow::Owned(format!("Field required: {inner}")),
                    input: Some(input),
                },
            },
            already @ FieldError::Field { .. } => already,
        }
    }
}

impl fmt::Debug for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Value(e) | FieldError::Field { error: e, .. } => f.write_str(&e.msg),
            FieldError::Missing(name) => write!(f, "missing field {name}"),
        }
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError::value("value_error", msg.to_string())
    }

    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        let (kind, msg) = kind_for(&expected.to_string(), false);
        let _ = unexpected;
        FieldError::value(kind, msg)
    }

    fn missing_field(field: &'static str) -> Self {
        FieldError::Missing(field)
    }
}

/// Pydantic's error type and message for a value that should have been `expected`
/// (serde's words: `i64`, `a string`…); `from_text` if it was a string that did not
/// parse.
fn kind_for(expected: &str, from_text: bool) -> (&'static str, Cow<'static, str>) {
    let integer = [
        "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128", "isize", "usize",
    ];
    let (kind, parsing, msg) = if integer.contains(&expected) || expected.contains("integer") {
        ("int_type", "int_parsing", "Input should be a valid integer")
    } else if expected == "f32" || expected == "f64" || expected.contains("float") {
        (
            "float_type",
            "float_parsing",
            "Input should be a valid number",
        )
    } else if expected.contains("bool") {
        (
            "bool_type",
            "bool_parsing",
            "Input should be a valid boolean",
        )
    } else if expected.contains("string") || expected == "char" {
        (
            "string_type",
            "string_type",
            "Input should be a valid string",
        )
    } else if expected.contains("sequence") || expected.contains("tuple") {
        ("list_type", "list_type", "Input should be a valid list")
    } else if expected.starts_with("struct") || expected.contains("map") {
        (
            "model_type",
            "model_type",
            "Input should be a valid dictionary or object",
        )
    } else {
        return (
            "value_error",
            Cow::Owned(format!("Input should be {expected}")),
        );
    };
    if from_text && kind != parsing {
        let unable = match parsing {
            "int_parsing" => "unable to parse string as an integer",
            "float_parsing" => "unable to parse string as a number",
            _ => "unable to interpret input",
        };
        (parsing, Cow::Owned(format!("{msg}, {unable}")))
    } else {
        (kind, Cow::Borrowed(msg))
    }
}

/// Classifies an error from serde_json's own deserializer (a JSON member's value).
fn json_value_error(e: &serde_json::Error, value: &serde_json::Value) -> FieldError {
    let text = e.to_string();
    if let Some(field) = text
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return FieldError::Value(ValueError {
            kind: Cow::Borrowed("missing"),
            msg: Cow::Owned(format!("Field required: {field}")),
            input: Some(value.to_string()),
        });
    }
    let (kind, msg) = match text.rsplit_once(", expected ") {
        Some((_, expected)) => kind_for(expected, value.is_string()),
        None => ("value_error", Cow::Owned(text)),
    };
    FieldError::value(kind, msg)
}

/// The fields as a serde `Deserializer`: a map (structs, maps), or for path
/// parameters a sequence (tuples) or a single value.
struct FieldsDe<'a> {
    fields: &'a [(String, FieldValue)],
    stand_ins: &'a [String],
    shape: Shape,
}

impl<'a> FieldsDe<'a> {
    fn map(self) -> FieldsMap<'a> {
        FieldsMap {
            fields: self.fields,
            stand_ins: self.stand_ins,
            next: 0,
            pending: None,
        }
    }

    fn positional_allowed(&self, what: &str) -> Result<(), FieldError> {
        match self.shape {
            Shape::NamedOrPositional => Ok(()),
            Shape::Named => Err(FieldError::value(
                "model_type",
                format!("{what} cannot be read from named fields; use a struct"),
            )),
        }
    }
}

/// A single value (`Path<i64>`): the only field's value.
macro_rules! single_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            self.single(|de| de.$method(visitor))
        }
    )*};
}

impl<'de, 'a: 'de> Deserializer<'de> for FieldsDe<'a> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(self.map())
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(self.map())
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_map(self.map())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.positional_allowed("a list")?;
        visitor.visit_seq(FieldsSeq {
            fields: self.fields,
            stand_ins: self.stand_ins,
            next: 0,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    single_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.single(|de| de.deserialize_unit_struct(name, visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.single(|de| de.deserialize_enum(name, variants, visitor))
    }
}

impl<'a> FieldsDe<'a> {
    /// Deserializes the only field with `f` (for a path with one parameter).
    fn single<'de, T>(
        self,
        f: impl FnOnce(ValueDe<'de>) -> Result<T, FieldError>,
    ) -> Result<T, FieldError>
    where
        'a: 'de,
    {
        self.positional_allowed("a single value")?;
        match self.fields {
            [(name, value)] if self.stand_ins.contains(name) => {
                let _ = value;
                Err(FieldError::value(
                    "stand_in",
                    "no stand-in for a single value",
                ))
            }
            [(name, value)] => f(ValueDe::of(value)).map_err(|e| e.at(name, value.input_json())),
            _ => Err(FieldError::value(
                "value_error",
                format!("expected one value, the route has {}", self.fields.len()),
            )),
        }
    }
}

/// The fields as a serde map; stood-in fields get a [`StandIn`], and stood-in fields
/// that are absent are added at the end (so a missing required field is reported once
/// and the next round goes past it).
struct FieldsMap<'a> {
    fields: &'a [(String, FieldValue)],
    stand_ins: &'a [String],
    /// Index into `fields`, then into the absent stand-ins after them.
    next: usize,
    /// The field whose value comes next: its value, or `None` for a stand-in.
    pending: Option<(&'a str, Option<&'a FieldValue>)>,
}

impl<'a> FieldsMap<'a> {
    fn absent_stand_ins(&self) -> impl Iterator<Item = &'a String> + 'a {
        let fields = self.fields;
        self.stand_ins
            .iter()
            .filter(move |s| !fields.iter().any(|(n, _)| n == *s))
    }
}

impl<'de, 'a: 'de> MapAccess<'de> for FieldsMap<'a> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        let (name, value) = if let Some((name, value)) = self.fields.get(self.next) {
            let stood_in = self.stand_ins.contains(name);
            (name.as_str(), (!stood_in).then_some(value))
        } else {
            match self.absent_stand_ins().nth(self.next - self.fields.len()) {
                Some(name) => (name.as_str(), None),
                None => return Ok(None),
            }
        };
        self.next += 1;
        self.pending = Some((name, value));
        let key: StrDeserializer<'de, FieldError> = name.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        match self.pending.take() {
            Some((name, Some(value))) => seed
                .deserialize(ValueDe::of(value))
                .map_err(|e| e.at(name, value.input_json())),
            Some((_, None)) => seed
                .deserialize(StandIn)
                .map_err(|_| FieldError::value("stand_in", "no stand-in value")),
            None => Err(FieldError::value("value_error", "value before key")),
        }
    }
}

/// Path parameters in order, for tuples.
struct FieldsSeq<'a> {
    fields: &'a [(String, FieldValue)],
    stand_ins: &'a [String],
    next: usize,
}

impl<'de, 'a: 'de> SeqAccess<'de> for FieldsSeq<'a> {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        let Some((name, value)) = self.fields.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        if self.stand_ins.contains(name) {
            return seed
                .deserialize(StandIn)
                .map(Some)
                .map_err(|_| FieldError::value("stand_in", "no stand-in value"));
        }
        seed.deserialize(ValueDe::of(value))
            .map(Some)
            .map_err(|e| e.at(name, value.input_json()))
    }
}

/// One field's value as a `Deserializer`: text parsed on demand, or JSON.
#[derive(Clone, Copy)]
enum ValueDe<'a> {
    Text(&'a [String]),
    Json(&'a serde_json::Value),
}

impl<'a> ValueDe<'a> {
    fn of(value: &'a FieldValue) -> ValueDe<'a> {
        match value {
            FieldValue::Text(values) => ValueDe::Text(values),
            FieldValue::Json(json) => ValueDe::Json(json),
        }
    }

    fn text(&self) -> &'a str {
        match self {
            ValueDe::Text(values) => values.last().map_or("", |s| s.as_str()),
            ValueDe::Json(_) => "",
        }
    }
}

/// Parses the text as a number of the type the visitor wants.
macro_rules! parse_text {
    ($($method:ident => $visit:ident: $ty:ty, $expected:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            if let ValueDe::Json(json) = self {
                return json.$method(visitor).map_err(|e| json_value_error(&e, json));
            }
            match self.text().trim().parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => {
                    let (kind, msg) = kind_for($expected, true);
                    Err(FieldError::value(kind, msg))
                }
            }
        }
    )*};
}

/// Hands a JSON value to serde_json's deserializer, classifying its errors.
macro_rules! json_or_text {
    ($($method:ident($($arg:ident: $ty:ty),*) => $text:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, FieldError> {
            match self {
                ValueDe::Json(json) => json
                    .$method($($arg,)* visitor)
                    .map_err(|e| json_value_error(&e, json)),
                ValueDe::Text(values) => {
                    #[allow(clippy::redundant_closure_call)]
                    ($text)(self.text(), values, visitor)
                }
            }
        }
    )*};
}

impl<'de, 'a: 'de> Deserializer<'de> for ValueDe<'a> {
    type Error = FieldError;

    parse_text! {
        deserialize_i8 => visit_i8: i8, "i8";
        deserialize_i16 => visit_i16: i16, "i16";
        deserialize_i32 => visit_i32: i32, "i32";
        deserialize_i64 => visit_i64: i64, "i64";
        deserialize_u8 => visit_u8: u8, "u8";
        deserialize_u16 => visit_u16: u16, "u16";
        deserialize_u32 => visit_u32: u32, "u32";
        deserialize_u64 => visit_u64: u64, "u64";
        deserialize_f32 => visit_f32: f32, "f32";
        deserialize_f64 => visit_f64: f64, "f64";
    }

    json_or_text! {
        deserialize_any() => |s: &'a str, _, v: V| v.visit_borrowed_str(s);
        deserialize_str() => |s: &'a str, _, v: V| v.visit_borrowed_str(s);
        deserialize_string() => |s: &'a str, _, v: V| v.visit_borrowed_str(s);
        deserialize_identifier() => |s: &'a str, _, v: V| v.visit_borrowed_str(s);
        deserialize_bytes() => |s: &'a str, _, v: V| v.visit_borrowed_bytes(s.as_bytes());
        deserialize_byte_buf() => |s: &'a str, _, v: V| v.visit_borrowed_bytes(s.as_bytes());
        deserialize_unit() => |_, _, v: V| v.visit_unit();
        deserialize_ignored_any() => |_, _, v: V| v.visit_unit();
        deserialize_bool() => |s: &str, _, v: V| match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => v.visit_bool(true),
            "false" | "0" | "no" | "off" => v.visit_bool(false),
            _ => {
                let (kind, msg) = kind_for("a boolean", true);
                Err(FieldError::value(kind, msg))
            }
        };
        deserialize_char() => |s: &str, _, v: V| {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => v.visit_char(c),
                _ => Err(FieldError::value("string_type", "Input should be a single character")),
            }
        };
        deserialize_seq() => |_, values: &'a [String], v: V| {
            v.visit_seq(TextSeq(values.iter()))
        };
        deserialize_map() => |_, _, _v: V| Err(FieldError::value(
            "model_type", "Input should be a valid dictionary or object"));
        deserialize_unit_struct(name: &'static str) => |_, _, v: V| { let _ = name; v.visit_unit() };
        deserialize_tuple(len: usize) => |_, values: &'a [String], v: V| {
            let _ = len;
            v.visit_seq(TextSeq(values.iter()))
        };
        deserialize_tuple_struct(name: &'static str, len: usize) => |_, values: &'a [String], v: V| {
            let _ = (name, len);
            v.visit_seq(TextSeq(values.iter()))
        };
        deserialize_struct(name: &'static str, fields: &'static [&'static str]) => |_, _, _v: V| {
            let _ = (name, fields);
            Err(FieldError::value("model_type", "Input should be a valid dictionary or object"))
        };
        deserialize_enum(name: &'static str, variants: &'static [&'static str]) => |s: &'a str, _, v: V| {
            let text: StrDeserializer<'_, FieldError> = s.into_deserializer();
            text.deserialize_enum(name, variants, v)
        };
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self {
            ValueDe::Json(serde_json::Value::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self), // present: `Some` of the value
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }
}

/// Repeated text values as a list (`?tag=a&tag=b` into `Vec<String>`).
struct TextSeq<'a>(std::slice::Iter<'a, String>);

impl<'de, 'a: 'de> SeqAccess<'de> for TextSeq<'a> {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        match self.0.next() {
            Some(text) => seed
                .deserialize(ValueDe::Text(std::slice::from_ref(text)))
                .map(Some),
            None => Ok(None),
        }
    }
}

/// A value that satisfies (nearly) any type: zeros, empty strings and lists, `None`,
/// the first enum variant. It only lets a round of deserializing go past a field that
/// has already been reported; the value itself is thrown away.
struct StandIn;

impl<'de> Deserializer<'de> for StandIn {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_unit()
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_bool(false)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_i64(0)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_u64(0)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_f64(0.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_char(' ')
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_str("")
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_bytes(&[])
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_none()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_seq(StandIns(0))
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_seq(StandIns(len))
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_seq(StandIns(len))
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(StandInFields(&[]))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_map(StandInFields(fields))
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        match variants.first() {
            Some(first) => visitor.visit_enum(StandInVariant(first)),
            None => Err(FieldError::value("stand_in", "an enum without variants")),
        }
    }

    // Every width gets its zero (a unit would satisfy none of them), every string
    // type its empty string.
    serde::forward_to_deserialize_any! {
        unit unit_struct ignored_any
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_i64(0)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_u64(0)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_f64(0.0)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_str("")
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_str("")
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_bytes(&[])
    }
}

/// `len` stand-ins as a list (a tuple's elements).
struct StandIns(usize);

impl<'de> SeqAccess<'de> for StandIns {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        if self.0 == 0 {
            return Ok(None);
        }
        self.0 -= 1;
        seed.deserialize(StandIn).map(Some)
    }
}

/// A struct whose every field is a stand-in.
struct StandInFields(&'static [&'static str]);

impl<'de> MapAccess<'de> for StandInFields {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        let Some((first, rest)) = self.0.split_first() else {
            return Ok(None);
        };
        self.0 = rest;
        let key: StrDeserializer<'de, FieldError> = first.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        seed.deserialize(StandIn)
    }
}

/// An enum's first variant, with stand-ins for its contents.
struct StandInVariant(&'static str);

impl<'de> EnumAccess<'de> for StandInVariant {
    type Error = FieldError;
    type Variant = StandIn;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, StandIn), FieldError> {
        let name: StrDeserializer<'de, FieldError> = self.0.into_deserializer();
        Ok((seed.deserialize(name)?, StandIn))
    }
}

impl<'de> VariantAccess<'de> for StandIn {
    type Error = FieldError;

    fn unit_variant(self) -> Result<(), FieldError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, FieldError> {
        seed.deserialize(StandIn)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_seq(StandIns(len))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_map(StandInFields(fields))
    }
}
