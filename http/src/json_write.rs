//! JSON text for response bodies, written from serde's data model straight into the
//! body's buffer: the bytes `serde_json::to_writer` writes, with strings written by
//! `json_string` (checked eight bytes at a time where serde_json looks at each byte).
//!
//! Everything else follows serde_json to the byte, and where it would take a rule of
//! serde_json's to follow, the value is handed back to serde_json whole: numbers are
//! formatted by serde_json itself; a value serde_json treats specially (its `RawValue`
//! and arbitrary-precision `Number`, which serialize as structs with private names), a
//! map key that is not a string, and any error start again in `serde_json::to_writer`
//! from the beginning, so their output and their error messages are serde_json's.
//! `tests` holds the two writers to the same bytes.

use serde::ser::{self, Impossible, Serialize};
use std::fmt;

use crate::json_string::{write_escaped, write_string};

/// Appends `value` as JSON to `out`, exactly as `serde_json::to_writer` would.
pub(crate) fn write<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), serde_json::Error> {
    let start = out.len();
    match value.serialize(&mut Writer { out: &mut *out }) {
        Ok(()) => Ok(()),
        Err(HandBack) => {
            out.truncate(start);
            serde_json::to_writer(out, value)
        }
    }
}

/// `serialize_*` methods for number types, each handing the value to `$how`.
macro_rules! numbers {
    ($how:ident: $($method:ident($type:ty)),* $(,)?) => {
        $(
            fn $method(self, v: $type) -> Result<(), HandBack> {
                self.$how(v)
            }
        )*
    };
}

/// The compounds written as arrays (sequences, tuples, tuple structs and variants):
/// elements after commas.
macro_rules! array_compound {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(
            impl ser::$trait for Compound<'_, '_> {
                type Ok = ();
                type Error = HandBack;
                #[inline]
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HandBack> {
                    self.element(value)
                }
                #[inline]
                fn end(self) -> Result<(), HandBack> {
                    self.close()
                }
            }
        )*
    };
}

/// The compounds written as objects with named fields (structs and struct variants).
macro_rules! object_compound {
    ($($trait:ident),* $(,)?) => {
        $(
            impl ser::$trait for Compound<'_, '_> {
                type Ok = ();
                type Error = HandBack;
                #[inline]
                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    key: &'static str,
                    value: &T,
                ) -> Result<(), HandBack> {
                    self.member(key, value)
                }
                #[inline]
                fn end(self) -> Result<(), HandBack> {
                    self.close()
                }
            }
        )*
    };
}

/// The one error: "let serde_json write this value" (see the module's comment).
#[derive(Debug)]
struct HandBack;

impl fmt::Display for HandBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("handed back to serde_json")
    }
}

impl std::error::Error for HandBack {}

impl ser::Error for HandBack {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        // serde_json runs the value again and reports the message itself.
        HandBack
    }
}

/// Structs with these names are serde_json's own values, which it writes raw.
const SERDE_JSON_PRIVATE: &str = "$serde_json::private::";

/// The serializer: appends to `out`.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A number, as serde_json formats it (`null` for a float that is not finite).
    fn number<N: Serialize>(&mut self, n: N) -> Result<(), HandBack> {
        serde_json::to_writer(&mut *self.out, &n).map_err(|_| HandBack)
    }

    /// `{"variant":`, the start of an enum variant that carries data.
    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.push(b':');
    }

    /// Opens an array (`[`) or an object (`{`), inside a variant opened with
    /// `open_variant` or not.
    #[inline]
    fn compound<'w>(&'w mut self, open: u8, in_variant: bool) -> Compound<'w, 'a> {
        self.out.push(open);
        Compound {
            writer: self,
            first: true,
            close: if open == b'[' { b']' } else { b'}' },
            in_variant,
        }
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = HandBack;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), HandBack> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    numbers!(number:
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64)
    );
    fn serialize_char(self, v: char) -> Result<(), HandBack> {
        write_string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), HandBack> {
        write_string(self.out, v);
        Ok(())
    }
    /// An array of numbers, as serde_json writes bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), HandBack> {
        let mut array = self.compound(b'[', false);
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut array, byte)?;
        }
        ser::SerializeSeq::end(array)
    }
    fn serialize_none(self) -> Result<(), HandBack> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), HandBack> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), HandBack> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), HandBack> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), HandBack> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), HandBack> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), HandBack> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, HandBack> {
        Ok(self.compound(b'[', false))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'w, 'a>, HandBack> {
        Ok(self.compound(b'[', false))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, HandBack> {
        Ok(self.compound(b'[', false))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, HandBack> {
        self.open_variant(variant);
        Ok(self.compound(b'[', true))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, HandBack> {
        Ok(self.compound(b'{', false))
    }
    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, HandBack> {
        // The first byte first: a whole comparison on every struct costs a `memcmp`.
        if name.starts_with('$') && name.starts_with(SERDE_JSON_PRIVATE) {
            return Err(HandBack);
        }
        Ok(self.compound(b'{', false))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, HandBack> {
        self.open_variant(variant);
        Ok(self.compound(b'{', true))
    }
    /// A `Display` value as a string, escaped as it is formatted (no `String` built).
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), HandBack> {
        self.out.push(b'"');
        fmt::write(&mut Escaping(self.out), format_args!("{value}")).map_err(|_| HandBack)?;
        self.out.push(b'"');
        Ok(())
    }
}

/// An array or object being written: a comma before every element but the first,
/// `close` at the end, and a `}` after it for an enum variant's.
struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    close: u8,
    in_variant: bool,
}

impl Compound<'_, '_> {
    /// The separator before an element.
    #[inline]
    fn next(&mut self) {
        if !self.first {
            self.writer.out.push(b',');
        }
        self.first = false;
    }

    /// One element of an array.
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HandBack> {
        self.next();
        value.serialize(&mut *self.writer)
    }

    /// One member of an object, its name a string.
    #[inline]
    fn member<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), HandBack> {
        self.next();
        write_string(self.writer.out, key);
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    /// Writes the closing bracket (and the variant's closing brace).
    #[inline]
    fn close(self) -> Result<(), HandBack> {
        self.writer.out.push(self.close);
        if self.in_variant {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = HandBack;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), HandBack> {
        self.next();
        key.serialize(Key(&mut *self.writer))
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HandBack> {
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }
    #[inline]
    fn end(self) -> Result<(), HandBack> {
        self.close()
    }
}

object_compound!(SerializeStruct, SerializeStructVariant);

/// A map key. JSON's keys are strings: a string, a char or a unit variant's name is
/// written as one, a bool or an integer in quotes; anything else (a float, whose
/// text has a rule of its own, a struct, ...) goes back to serde_json.
struct Key<'w, 'a>(&'w mut Writer<'a>);

impl Key<'_, '_> {
    /// An integer or a bool between quotes.
    fn quoted<N: Serialize>(self, n: N) -> Result<(), HandBack> {
        self.0.out.push(b'"');
        self.0.number(n)?;
        self.0.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for Key<'_, '_> {
    type Ok = ();
    type Error = HandBack;
    type SerializeSeq = Impossible<(), HandBack>;
    type SerializeTuple = Impossible<(), HandBack>;
    type SerializeTupleStruct = Impossible<(), HandBack>;
    type SerializeTupleVariant = Impossible<(), HandBack>;
    type SerializeMap = Impossible<(), HandBack>;
    type SerializeStruct = Impossible<(), HandBack>;
    type SerializeStructVariant = Impossible<(), HandBack>;

    fn serialize_bool(self, v: bool) -> Result<(), HandBack> {
        self.0
            .out
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }
    numbers!(quoted:
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128)
    );
    fn serialize_f32(self, _v: f32) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_f64(self, _v: f64) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_char(self, v: char) -> Result<(), HandBack> {
        self.0.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<(), HandBack> {
        self.0.serialize_str(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_none(self) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), HandBack> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), HandBack> {
        self.0.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), HandBack> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), HandBack> {
        Err(HandBack)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, HandBack> {
        Err(HandBack)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, HandBack> {
        Err(HandBack)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, HandBack> {
        Err(HandBack)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, HandBack> {
        Err(HandBack)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, HandBack> {
        Err(HandBack)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, HandBack> {
        Err(HandBack)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, HandBack> {
        Err(HandBack)
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), HandBack> {
        self.0.collect_str(value)
    }
}

/// Formatted text appended escaped, for `collect_str`.
struct Escaping<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(self.0, text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    /// Asserts that this module writes `value` as serde_json does, and returns it.
    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) -> String {
        let expected = serde_json::to_vec(value).map_err(|e| e.to_string());
        let mut ours = b"before ".to_vec();
        let got = write(&mut ours, value)
            .map(|()| ours[b"before ".len()..].to_vec())
            .map_err(|e| e.to_string());
        assert_eq!(got, expected);
        String::from_utf8(got.unwrap_or_default()).unwrap()
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Newtype(u8);

    #[derive(Serialize)]
    struct Pair(i32, &'static str);

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Line(i8, i8),
        Rect { w: u16, h: u16 },
    }

    #[derive(Serialize)]
    struct Everything {
        flag: bool,
        small: i8,
        big: u64,
        huge: i128,
        float: f32,
        not_finite: f64,
        letter: char,
        #[serde(with = "serde_bytes_as_bytes")]
        bytes: Vec<u8>,
        missing: Option<u8>,
        present: Option<&'static str>,
        unit: (),
        unit_struct: Unit,
        newtype: Newtype,
        pair: Pair,
        shapes: Vec<Shape>,
        empty: Vec<u8>,
        tuple: (u8, (), &'static str),
        by_name: BTreeMap<&'static str, Vec<u8>>,
        by_number: BTreeMap<i64, bool>,
        by_flag: BTreeMap<bool, u8>,
        by_char: BTreeMap<char, u8>,
        shown: std::net::Ipv4Addr,
        #[serde(rename = "name with \"quotes\"")]
        quoted: u8,
    }

    /// Serializes a `Vec<u8>` with `serialize_bytes`, as serde_bytes would.
    mod serde_bytes_as_bytes {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() {
        let value = Everything {
            flag: true,
            small: -128,
            big: u64::MAX,
            huge: i128::MIN,
            float: 0.1,
            not_finite: f64::NAN,
            letter: '"',
            bytes: vec![0, 1, 255],
            missing: None,
            present: Some("here"),
            unit: (),
            unit_struct: Unit,
            newtype: Newtype(7),
            pair: Pair(-1, "one"),
            shapes: vec![
                Shape::Dot,
                Shape::Circle(-0.0),
                Shape::Line(1, 2),
                Shape::Rect { w: 3, h: 4 },
            ],
            empty: vec![],
            tuple: (1, (), "\t"),
            by_name: [("a", vec![1]), ("b\nc", vec![])].into_iter().collect(),
            by_number: [(-5, true), (6, false)].into_iter().collect(),
            by_flag: [(false, 0), (true, 1)].into_iter().collect(),
            by_char: [('x', 1)].into_iter().collect(),
            shown: std::net::Ipv4Addr::LOCALHOST,
            quoted: 9,
        };
        let text = same_as_serde_json(&value);
        assert!(
            text.contains(r#""by_number":{"-5":true,"6":false}"#),
            "{text}"
        );
        assert!(text.contains(r#""shown":"127.0.0.1""#), "{text}");
        for f in [1.5f64, 1e300, -1e-300, f64::INFINITY, 0.0] {
            same_as_serde_json(&f);
        }
        same_as_serde_json(&serde_json::json!({"nested": [1, 2.5, null, {"a": "b"}]}));
    }

    #[test]
    fn what_serde_json_treats_specially_is_handed_to_it() {
        // A RawValue is written as it is, not as a struct.
        let raw = serde_json::value::RawValue::from_string(r#"{"pre": [1,  2]}"#.into()).unwrap();
        let text = same_as_serde_json(&BTreeMap::from([("raw", &raw)]));
        assert_eq!(text, r#"{"raw":{"pre": [1,  2]}}"#);
        // Keys serde_json accepts with a rule of its own, or refuses.
        same_as_serde_json(&BTreeMap::from([(OrderedF64(1.5), 1)]));
        same_as_serde_json(&BTreeMap::from([(OrderedF64(f64::NAN), 1)]));
        same_as_serde_json(&BTreeMap::from([((1, 2), 1)]));
        same_as_serde_json(&BTreeMap::from([(vec![1u8], 1)]));
        // A value whose serialization fails: serde_json's error message.
        let error = write(&mut Vec::new(), &Failing).unwrap_err();
        assert_eq!(error.to_string(), "no thanks");
    }

    /// An f64 key (a map needs keys that order).
    #[derive(Serialize)]
    struct OrderedF64(f64);
    impl PartialEq for OrderedF64 {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other).is_eq()
        }
    }
    impl Eq for OrderedF64 {}
    impl PartialOrd for OrderedF64 {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for OrderedF64 {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0)
        }
    }

    /// Fails partway through.
    struct Failing;
    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error, SerializeSeq};
            let mut seq = s.serialize_seq(None)?;
            seq.serialize_element("first")?;
            Err(S::Error::custom("no thanks"))
        }
    }
}
