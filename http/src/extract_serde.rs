//! The serde extractors: `Path`, `Query`, `Header`, `Form` and `Json` (with the `json`
//! feature). Each validates every field and answers a 422 listing all that failed,
//! `loc` naming the place: `["path", "item_id"]`, `["query", "limit"]`,
//! `["header", "x_token"]`, `["body", "price_cents"]`.

use std::ops::{Deref, DerefMut};

use serde::de::DeserializeOwned;

use crate::error::{HttpError, ValidationError};
use crate::extract::{FromRequest, FromRequestParts, ViaBody};
use crate::extract_fields::{from_fields, FieldValue, Place, Shape};
use crate::percent;
use crate::request::Request;
use crate::response::Json;

/// Path parameters from the route pattern: one value (`Path<i64>` for
/// `/items/{id}`), a tuple in pattern order (`Path<(String, i64)>`), or a struct whose
/// fields are the parameters' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<T>(pub T);

/// The query string as a struct (FastAPI's query parameters): `Option` fields may be
/// absent, `#[serde(default)]` fields take their default, a repeated parameter fills a
/// `Vec` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T>(pub T);

/// Request headers as a struct, a field per header: a field `user_agent` reads
/// `User-Agent` (FastAPI's `Header()`: names compared case-insensitively, `_` for `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<T>(pub T);

/// An `application/x-www-form-urlencoded` body as a struct (FastAPI's `Form()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form<T>(pub T);

macro_rules! deref_to_inner {
    ($($name:ident)*) => {$(
        impl<T> Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }
        impl<T> DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}

deref_to_inner!(Path Query Header Form);

impl<T: DeserializeOwned> FromRequestParts for Path<T> {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        let fields: Vec<(String, FieldValue)> = req
            .params()
            .map(|(name, value)| (name.to_string(), FieldValue::Text(vec![value.to_string()])))
            .collect();
        let place = Place {
            name: "path",
            shape: Shape::NamedOrPositional,
            whole_input: false,
        };
        from_fields(&place, &fields).map(Path)
    }
}

impl<T: DeserializeOwned> FromRequestParts for Query<T> {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        let fields = text_fields(req.query_string().unwrap_or(""));
        from_fields(&named("query"), &fields).map(Query)
    }
}

impl<T: DeserializeOwned> FromRequestParts for Header<T> {
    fn from_request_parts(req: &Request) -> Result<Self, HttpError> {
        let mut fields: Vec<(String, FieldValue)> = Vec::new();
        for (name, value) in req.headers() {
            let name = name.to_ascii_lowercase().replace('-', "_");
            let value = String::from_utf8_lossy(value).into_owned();
            push_value(&mut fields, name, value);
        }
        from_fields(&named("header"), &fields).map(Header)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest<ViaBody> for Form<T> {
    async fn from_request(mut req: Request) -> Result<Self, HttpError> {
        let body = req.text().await?;
        let fields = text_fields(&body);
        from_fields(&named("body"), &fields).map(Form)
    }
}

/// A JSON body (FastAPI's pydantic body model). Not JSON is a 422 `json_invalid`
/// at the byte where parsing failed; an empty body is a 422 `missing`; an object is
/// checked field by field, so every missing or ill-typed field is reported.
impl<T: DeserializeOwned + 'static> FromRequest<ViaBody> for Json<T> {
    async fn from_request(mut req: Request) -> Result<Self, HttpError> {
        let body = req.body().await?;
        json_body(&body).map(Json)
    }
}

/// Validates a JSON body as `T`, reporting every failing member of an object.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        let missing = ValidationError::new("missing", "body", None, "Field required");
        return Err(HttpError::validation(vec![missing]));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        let offset = byte_offset(body, e.line(), e.column());
        let mut error = ValidationError::new(
            "json_invalid",
            "body",
            None,
            format!("JSON decode error: {e}"),
        );
        error.loc.push(crate::error::Loc::Index(offset));
        error.input = Some("{}".to_string());
        HttpError::validation(vec![error])
    })?;
    match value {
        serde_json::Value::Object(members) => {
            let fields: Vec<(String, FieldValue)> = members
                .into_iter()
                .map(|(name, value)| (name, FieldValue::Json(value)))
                .collect();
            let place = Place {
                name: "body",
                shape: Shape::Named,
                whole_input: true,
            };
            from_fields(&place, &fields)
        }
        other => T::deserialize(&other).map_err(|e| {
            let error = ValidationError::new("model_attributes_type", "body", None, {
                format!("Input should be a valid dictionary or object: {e}")
            })
            .with_json_input(other.to_string());
            HttpError::validation(vec![error])
        }),
    }
}

fn named(place: &'static str) -> Place {
    Place {
        name: place,
        shape: Shape::Named,
        whole_input: false,
    }
}

/// `a=1&b=x+y&a=2` as fields, percent-decoded, repeated names gathered.
fn text_fields(encoded: &str) -> Vec<(String, FieldValue)> {
    let mut fields = Vec::new();
    for (name, value) in percent::query_pairs(encoded) {
        push_value(&mut fields, name.into_owned(), value.into_owned());
    }
    fields
}

fn push_value(fields: &mut Vec<(String, FieldValue)>, name: String, value: String) {
    match fields.iter_mut().find(|(n, _)| *n == name) {
        Some((_, FieldValue::Text(values))) => values.push(value),
        _ => fields.push((name, FieldValue::Text(vec![value]))),
    }
}

/// serde_json's line and column (1-based) as a byte offset, as FastAPI's `loc` has it.
fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = body
        .split(|&b| b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + column).saturating_sub(1)
}
