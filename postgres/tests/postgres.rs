//! simmer-postgres against a real PostgreSQL server.
//!
//! Needs `DATABASE_URL` (`.ci/run` starts a server and sets it, with users for every
//! authentication method; see `.ci/postgres.sh`). Without it each test says it was
//! skipped; under CI a missing `DATABASE_URL` is a failure.

use std::time::Duration;

use serde_json::json;
use simmer::time::timeout;
mod support;

use support::{database_url, rt};

use simmer_postgres::{Client, Config, Error, Pool};

/// The same server with another user and password.
fn url_for(user: &str, password: Option<&str>) -> String {
    let base = Config::from_url(&database_url().unwrap()).unwrap();
    match password {
        Some(p) => format!(
            "postgres://{user}:{p}@{}:{}/{}",
            base.host, base.port, base.dbname
        ),
        None => format!(
            "postgres://{user}@{}:{}/{}",
            base.host, base.port, base.dbname
        ),
    }
}

#[test]
fn every_authentication_method_logs_in() {
    let Some(_) = database_url() else { return };
    rt().block_on(async {
        for (user, password, method) in [
            ("simmer", Some("simmer-secret"), "scram-sha-256"),
            ("simmer_md5", Some("md5-secret"), "md5"),
            ("simmer_plain", Some("plain-secret"), "password"),
            ("simmer_trust", None, "trust"),
        ] {
            let mut client = Client::connect(&url_for(user, password))
                .await
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            let row = client
                .query_one("SELECT current_user::text", &[])
                .await
                .unwrap();
            assert_eq!(row.get::<String>(0).unwrap(), user, "{method}");
        }
    });
}

#[test]
fn wrong_password_unknown_database_and_refused_connection_are_clear() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let err = Client::connect(&url_for("simmer", Some("wrong")))
            .await
            .err()
            .unwrap();
        assert_eq!(err.code(), Some("28P01"), "{err}");
        assert!(
            err.to_string().contains("password authentication failed"),
            "{err}"
        );
        let base = Config::from_url(&url).unwrap();
        let no_db = format!(
            "postgres://simmer:simmer-secret@{}:{}/no_such_db",
            base.host, base.port
        );
        let err = Client::connect(&no_db).await.err().unwrap();
        assert_eq!(err.code(), Some("3D000"), "{err}");
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = Client::connect(&format!("postgres://simmer@{closed}/simmer"))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, Error::Connect(_)), "{err}");
        let err = Client::connect(&url_for("simmer", None))
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("password"), "{err}");
    });
}

#[test]
fn every_type_round_trips_and_nulls_are_options() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let row = db
            .query_one(
                "SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float4, $6::float8, $7::text, $8::bytea, $9::jsonb, $10::json",
                &[&true, &-7i16, &123_456i32, &-9_000_000_000i64, &1.5f32, &-2.25f64, &"grüße", &vec![0u8, 1, 255], &json!({"a": [1, 2]}), &json!({"b": null})],
            )
            .await
            .unwrap();
        assert!(row.get::<bool>(0).unwrap());
        assert_eq!(row.get::<i16>(1).unwrap(), -7);
        assert_eq!(row.get::<i32>(2).unwrap(), 123_456);
        assert_eq!(row.get::<i64>(3).unwrap(), -9_000_000_000);
        assert_eq!(row.get::<f32>(4).unwrap(), 1.5);
        assert_eq!(row.get::<f64>(5).unwrap(), -2.25);
        assert_eq!(row.get::<String>(6).unwrap(), "grüße");
        assert_eq!(row.get::<&str>(6).unwrap(), "grüße", "borrowed from the row");
        assert_eq!(row.get::<Vec<u8>>(7).unwrap(), vec![0, 1, 255]);
        assert_eq!(row.get::<&[u8]>(7).unwrap(), &[0, 1, 255]);
        assert_eq!(row.get::<serde_json::Value>(8).unwrap(), json!({"a": [1, 2]}));
        assert_eq!(row.get::<serde_json::Value>(9).unwrap(), json!({"b": null}));
        // NULLs: Option<T> reads them; a plain T is an error, not a panic.
        let none: Option<i32> = None;
        let row = db.query_one("SELECT $1::int4 AS maybe, NULL::text AS nothing", &[&none]).await.unwrap();
        assert_eq!(row.get::<Option<i32>>("maybe").unwrap(), None);
        assert_eq!(row.get::<Option<String>>("nothing").unwrap(), None);
        let err = row.get::<String>("nothing").unwrap_err();
        assert!(err.to_string().contains("NULL") && err.to_string().contains("Option"), "{err}");
        assert!(row.get::<i32>("no_such_column").is_err());
        assert!(row.get::<String>(0).is_err(), "an int4 column is not a String");
    });
}

#[test]
fn parameters_rows_affected_and_sqlstate_errors() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        db.batch_execute("CREATE TEMP TABLE tea (id int4 PRIMARY KEY, name text NOT NULL, price float8)").await.unwrap();
        for (id, name, price) in [(1, "green", Some(2.5)), (2, "black", None), (3, "oolong", Some(4.0))] {
            let n = db.execute("INSERT INTO tea VALUES ($1, $2, $3)", &[&id, &name, &price]).await.unwrap();
            assert_eq!(n, 1);
        }
        let rows = db.query("SELECT name FROM tea WHERE price > $1 ORDER BY id", &[&1.0f64]).await.unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(names, ["green", "oolong"]);
        assert_eq!(db.execute("UPDATE tea SET price = 1 WHERE price IS NULL", &[]).await.unwrap(), 1);
        assert!(db.query_opt("SELECT 1 FROM tea WHERE id = $1", &[&99i32]).await.unwrap().is_none());
        let err = db.query("SELEC nonsense", &[]).await.unwrap_err();
        assert_eq!(err.code(), Some("42601"), "{err}");
        let err = db.execute("INSERT INTO tea VALUES (1, 'dup', 0)", &[]).await.unwrap_err();
        let db_err = err.as_db_error().unwrap();
        assert_eq!(db_err.code, "23505");
        assert!(db_err.detail.as_deref().unwrap_or("").contains("(id)=(1)"), "{db_err:?}");
        // The connection is still fine after errors, and statements are prepared once.
        for _ in 0..3 {
            assert_eq!(db.query_one("SELECT count(*) FROM tea", &[]).await.unwrap().get::<i64>(0).unwrap(), 3);
        }
        let prepared = db.query_one("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT count(*) FROM tea'", &[]).await.unwrap();
        assert_eq!(prepared.get::<i64>(0).unwrap(), 1, "cached per connection");
    });
}

#[test]
fn transactions_commit_roll_back_and_roll_back_when_dropped() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        db.batch_execute("CREATE TEMP TABLE ledger (n int4)")
            .await
            .unwrap();
        let mut tx = db.transaction().await.unwrap();
        tx.execute("INSERT INTO ledger VALUES (1)", &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.transaction().await.unwrap();
        tx.execute("INSERT INTO ledger VALUES (2)", &[])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        {
            let mut tx = db.transaction().await.unwrap();
            tx.execute("INSERT INTO ledger VALUES (3)", &[])
                .await
                .unwrap();
            // dropped without commit
        }
        let rows = db
            .query("SELECT n FROM ledger ORDER BY n", &[])
            .await
            .unwrap();
        let ns: Vec<i32> = rows.iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(ns, [1], "only the committed insert is there");
    });
}

#[test]
fn a_query_future_dropped_mid_flight_leaves_the_connection_usable() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let cut_short = timeout(
            Duration::from_millis(50),
            db.query("SELECT pg_sleep(0.3), 7", &[]),
        )
        .await;
        assert!(
            cut_short.is_err(),
            "the timeout dropped the query mid-flight"
        );
        assert!(db.has_pending_replies());
        // The late reply is read and thrown away; the next query gets its own answer.
        let row = db.query_one("SELECT $1::int4", &[&42i32]).await.unwrap();
        assert_eq!(row.get::<i32>(0).unwrap(), 42);
        assert!(!db.has_pending_replies());
    });
}

#[test]
fn two_hundred_concurrent_queries_through_a_pool_of_ten() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let pool = Pool::new(&url, 10).unwrap();
        let tasks: Vec<_> = (0..200i32)
            .map(|i| {
                let pool = pool.clone();
                simmer::spawn(async move {
                    let mut db = pool.get().await?;
                    let row = db
                        .query_one("SELECT $1::int4 * 2, pg_sleep(0.005)::text", &[&i])
                        .await?;
                    let (open, _) = pool.status();
                    assert!(open <= 10, "never more than the pool's size: {open}");
                    row.get::<i32>(0)
                })
            })
            .collect();
        let mut total = 0i64;
        for t in tasks {
            total += i64::from(t.await.unwrap().unwrap());
        }
        assert_eq!(total, (0..200i64).map(|i| i * 2).sum::<i64>());
        assert_eq!(
            pool.status().0,
            10,
            "the pool filled up to its size and no further"
        );
    });
}

#[test]
fn pool_acquire_times_out_when_every_connection_is_busy() {
    let Some(_) = database_url() else { return };
    rt().block_on(async {
        // The trust user: the first `get` connects within the acquire timeout, and a
        // SCRAM login (thousands of hash rounds in a debug build) on a busy machine can
        // take longer than that.
        let pool = Pool::builder(&url_for("simmer_trust", None))
            .unwrap()
            .max_size(1)
            .acquire_timeout(Duration::from_millis(300))
            .build();
        let held = pool.get().await.unwrap();
        let err = pool.get().await.err().unwrap();
        assert!(matches!(err, Error::Timeout(_)), "{err}");
        drop(held);
        assert!(pool.get().await.is_ok(), "free again once returned");
    });
}
