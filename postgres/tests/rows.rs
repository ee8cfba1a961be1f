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
