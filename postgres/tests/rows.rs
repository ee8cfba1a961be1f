//! Whole rows as JSON and into serde structs, against a real PostgreSQL server (see
//! `postgres.rs` for `DATABASE_URL`).

use serde_json::json;
mod support;

use support::{database_url, rt};

use simmer_postgres::Client;

#[test]
fn every_mapped_type_becomes_the_json_a_fastapi_handler_would_return() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let row = db
            .query_one(
                "SELECT true AS b, (-7)::int2 AS i2, 123456::int4 AS i4, (-9000000000)::int8 AS i8,
                        1.1::float4 AS f4, (-2.25)::float8 AS f8, 'NaN'::float8 AS nan,
                        12.50::numeric AS money, (-0.001)::numeric AS small,
                        123456789012345678901234567890.123456789::numeric AS huge,
                        'NaN'::numeric AS nan_numeric, 10000::numeric AS round,
                        'grüße'::text AS t, 'v'::varchar(3) AS vc, 'ab'::char(4) AS ch,
                        'pg_class'::name AS nm, '\\x0001ff'::bytea AS bytes,
                        '{\"a\": [1, 2, {\"b\": null}]}'::jsonb AS jb, '[1, \"x\"]'::json AS js,
                        '2024-02-29'::date AS d, '1969-07-20'::date AS moon,
                        '12:34:56.5'::time AS tm,
                        '2024-05-06 12:34:56.789'::timestamp AS ts,
                        '2024-05-06 14:34:56+02'::timestamptz AS tstz,
                        'infinity'::timestamp AS forever,
                        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
                        26::oid AS o",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            row.to_json().unwrap(),
            json!({
                "b": true, "i2": -7, "i4": 123456, "i8": -9000000000i64,
                "f4": 1.1, "f8": -2.25, "nan": null,
                "money": "12.50", "small": "-0.001",
                "huge": "123456789012345678901234567890.123456789",
                "nan_numeric": "NaN", "round": "10000",
                "t": "grüße", "vc": "v", "ch": "ab  ", "nm": "pg_class", "bytes": "AAH/",
                "jb": {"a": [1, 2, {"b": null}]}, "js": [1, "x"],
                "d": "2024-02-29", "moon": "1969-07-20", "tm": "12:34:56.500000",
                "ts": "2024-05-06T12:34:56.789000", "tstz": "2024-05-06T12:34:56Z",
                "forever": "infinity",
                "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "o": 26,
            })
        );
        // The same values through PostgreSQL's own text output agree with ours.
        let text = db
            .query_one(
                "SELECT 12.50::numeric::text, (-0.001)::numeric::text,
                        123456789012345678901234567890.123456789::numeric::text,
                        '1969-07-20'::date::text, 10000::numeric::text",
                &[],
            )
            .await
            .unwrap();
        let texts: Vec<String> = (0..5).map(|i| text.get(i).unwrap()).collect();
        assert_eq!(
            texts,
            [
                "12.50",
                "-0.001",
                "123456789012345678901234567890.123456789",
                "1969-07-20",
                "10000"
            ]
        );
    });
}

#[test]
fn nulls_arrays_and_unknown_types() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let row = db
            .query_one(
                "SELECT NULL::int4 AS none, NULL::jsonb AS no_json,
                        ARRAY[1, NULL, 3]::int4[] AS ints, ARRAY['a', 'b']::text[] AS texts,
                        ARRAY[[1, 2], [3, 4]]::int8[] AS grid, '{}'::int4[] AS empty,
                        ARRAY['2024-01-02'::date] AS dates, ARRAY[1.5::numeric] AS decimals,
                        ARRAY['\\xff'::bytea] AS blobs, ARRAY['{\"k\": 1}'::jsonb] AS docs,
                        '1 day 02:00:00'::interval AS wait, '10.0.0.1/8'::inet AS net,
                        ARRAY['1 hour'::interval] AS waits, (1, 'x') AS pair",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            row.to_json().unwrap(),
            json!({
                "none": null, "no_json": null,
                "ints": [1, null, 3], "texts": ["a", "b"], "grid": [[1, 2], [3, 4]],
                "empty": [], "dates": ["2024-01-02"], "decimals": ["1.5"],
                "blobs": ["/w=="], "docs": [{"k": 1}],
                "wait": "1 day 02:00:00", "net": "10.0.0.1/8",
                "waits": "{01:00:00}", "pair": "(1,x)",
            })
        );
        // A text-format column reads as String; as anything else the error says why.
        assert_eq!(row.get::<String>("wait").unwrap(), "1 day 02:00:00");
        let err = row.get::<i32>("net").unwrap_err().to_string();
        assert!(err.contains("\"net\"") && err.contains("as text"), "{err}");
        // One column alone, and an unknown one.
        assert_eq!(row.get_json("ints").unwrap(), json!([1, null, 3]));
        let err = row.get_json("nope").unwrap_err().to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("none, no_json"),
            "{err}"
        );
    });
}

#[test]
fn select_star_of_a_table_as_a_list_of_objects() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        db.batch_execute(
            "CREATE TEMP TABLE mood (id serial PRIMARY KEY, feeling text, score numeric(4,1), tags text[], at timestamptz);
             INSERT INTO mood (feeling, score, tags, at) VALUES
               ('calm', 7.5, '{tea}', '2024-01-01 00:00:00+00'), (NULL, NULL, NULL, NULL);",
        )
        .await
        .unwrap();
        let rows = db.query("SELECT * FROM mood ORDER BY id", &[]).await.unwrap();
        let list: Vec<_> = rows.iter().map(|r| r.to_json().unwrap()).collect();
        assert_eq!(
            serde_json::Value::Array(list),
            json!([
                {"id": 1, "feeling": "calm", "score": "7.5", "tags": ["tea"], "at": "2024-01-01T00:00:00Z"},
                {"id": 2, "feeling": null, "score": null, "tags": null, "at": null},
            ])
        );
    });
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Item {
    id: i32,
    name: String,
    price_cents: i64,
    note: Option<String>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Calm,
    Busy,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Extra {
    a: i32,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Everything<'a> {
    flag: bool,
    total: i64,
    exact: f64,
    whole: i64,
    label: &'a str,
    bytes: Vec<u8>,
    ints: Vec<Option<i32>>,
    doc: Extra,
    raw_doc: serde_json::Value,
    at: String,
    mood: Mood,
    nothing: Option<i32>,
    null_doc: serde_json::Value,
}

#[test]
fn rows_into_serde_structs_and_tuples() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        db.batch_execute(
            "DROP TYPE IF EXISTS pg_temp.mood; CREATE TYPE pg_temp.mood AS ENUM ('calm', 'busy');
             CREATE TEMP TABLE items (id int4 PRIMARY KEY, name text NOT NULL, price_cents int8 NOT NULL, note text);
             INSERT INTO items VALUES (1, 'green tea', 250, NULL), (2, 'oolong', 400, 'rare');",
        )
        .await
        .unwrap();
        let items: Vec<Item> = db.query_as("SELECT * FROM items ORDER BY id", &[]).await.unwrap();
        assert_eq!(
            items,
            [
                Item { id: 1, name: "green tea".into(), price_cents: 250, note: None },
                Item { id: 2, name: "oolong".into(), price_cents: 400, note: Some("rare".into()) },
            ]
        );
        // By position, borrowing text from the row.
        let row = db.query_one("SELECT id, name FROM items WHERE id = 2", &[]).await.unwrap();
        let (id, name): (i32, &str) = row.deserialize().unwrap();
        assert_eq!((id, name), (2, "oolong"));

        let row = db
            .query_one(
                "SELECT true AS flag, sum(price_cents) AS total, 2.5::numeric AS exact,
                        42::numeric AS whole, 'tea'::varchar AS label, '\\x00ff'::bytea AS bytes,
                        ARRAY[1, NULL]::int4[] AS ints, '{\"a\": 5}'::jsonb AS doc,
                        '[true]'::json AS raw_doc, '2024-01-02 03:04:05+00'::timestamptz AS at,
                        'busy'::pg_temp.mood AS mood, NULL::int4 AS nothing,
                        NULL::jsonb AS null_doc, 'ignored' AS unused
                 FROM items",
                &[],
            )
            .await
            .unwrap();
        let everything: Everything = row.deserialize().unwrap();
        assert_eq!(
            everything,
            Everything {
                flag: true,
                total: 650,
                exact: 2.5,
                whole: 42,
                label: "tea",
                bytes: vec![0, 255],
                ints: vec![Some(1), None],
                doc: Extra { a: 5 },
                raw_doc: json!([true]),
                at: "2024-01-02T03:04:05Z".into(),
                mood: Mood::Busy,
                nothing: None,
                null_doc: serde_json::Value::Null,
            }
        );
        assert_ne!(Mood::Calm, everything.mood);
    });
}

#[test]
fn a_missing_column_or_a_wrong_type_names_the_column_and_the_type() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let err = db
            .query_as::<Item>("SELECT 1::int4 AS id, 'tea' AS name", &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column \"price_cents\"") && err.contains("its columns: id, name"),
            "{err}"
        );
        let err = db
            .query_as::<Item>(
                "SELECT 'one' AS id, 'tea' AS name, 5::int8 AS price_cents",
                &[],
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column \"id\" (text)") && err.contains("expected i32"),
            "{err}"
        );
        let err = db
            .query_as::<Item>(
                "SELECT 1::int4 AS id, 'tea' AS name, NULL::int8 AS price_cents",
                &[],
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column \"price_cents\" (int8)")
                && err.contains("NULL")
                && err.contains("Option"),
            "{err}"
        );
        let err = db
            .query_as::<Item>(
                "SELECT 99999999999::int8 AS id, 'tea' AS name, 5::int8 AS price_cents",
                &[],
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column \"id\" (int8)") && err.contains("i32"),
            "{err}"
        );
        let err = db
            .query_one("SELECT 2.5::numeric AS whole", &[])
            .await
            .unwrap()
            .deserialize::<(i64,)>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an integer"), "{err}");
    });
}

#[test]
fn select_star_follows_a_schema_change() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        db.batch_execute("CREATE TEMP TABLE shifting (id int4); INSERT INTO shifting VALUES (1)")
            .await
            .unwrap();
        let sql = "SELECT * FROM shifting";
        let rows = db.query(sql, &[]).await.unwrap();
        assert_eq!(rows[0].to_json().unwrap(), json!({"id": 1}));
        db.batch_execute("ALTER TABLE shifting ADD COLUMN note text DEFAULT 'new'")
            .await
            .unwrap();
        // The cached statement's result changed shape: the server refuses it once, and
        // the client prepares it afresh.
        if let Err(e) = db.query(sql, &[]).await {
            assert_eq!(e.code(), Some("0A000"), "{e}");
        }
        let rows = db.query(sql, &[]).await.unwrap();
        assert_eq!(rows[0].to_json().unwrap(), json!({"id": 1, "note": "new"}));
        // The same for a stream.
        drop(db.query_stream(sql, &[]).await.unwrap());
        db.batch_execute("ALTER TABLE shifting DROP COLUMN note")
            .await
            .unwrap();
        let mut stream = db.query_stream(sql, &[]).await.unwrap();
        if let Some(Err(e)) = stream.next().await {
            assert_eq!(e.code(), Some("0A000"), "{e}");
        }
        drop(stream);
        let mut stream = db.query_stream(sql, &[]).await.unwrap();
        let row = stream.next().await.unwrap().unwrap();
        assert_eq!(row.to_json().unwrap(), json!({"id": 1}));
    });
}
