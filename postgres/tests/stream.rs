//! Streaming queries against a real PostgreSQL server (see `postgres.rs` for
//! `DATABASE_URL`): every row in order, errors mid-stream, and streams dropped early
//! on a connection, in a transaction and through the pool.

use std::time::Duration;

mod support;

use simmer::time::timeout;
use support::{database_url, rt};

use simmer_postgres::{Client, Pool};

#[test]
fn a_hundred_thousand_rows_arrive_one_at_a_time_in_order() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let mut rows = db
            .query_stream(
                "SELECT i, md5(i::text) FROM generate_series(1, $1) i",
                &[&100_000i32],
            )
            .await
            .unwrap();
        assert_eq!(rows.columns()[1].name, "md5");
        let mut expected = 1;
        while let Some(row) = rows.next().await {
            let row = row.unwrap();
            assert_eq!(row.get::<i32>(0).unwrap(), expected);
            assert_eq!(row.get::<&str>(1).unwrap().len(), 32);
            expected += 1;
        }
        assert_eq!(expected, 100_001);
        assert!(rows.next().await.is_none(), "still ended");
        drop(rows);
        assert!(!db.has_pending_replies());
        // Tiny batches take many round trips and still deliver everything.
        let mut rows = db
            .query_stream_fetching("SELECT i FROM generate_series(1, 10) i", &[], 3)
            .await
            .unwrap();
        let mut seen = Vec::new();
        while let Some(row) = rows.next().await {
            seen.push(row.unwrap().get::<i32>(0).unwrap());
        }
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    });
}

#[test]
fn a_stream_dropped_half_way_leaves_the_connection_usable() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let sql = "SELECT i FROM generate_series(1, 1000000) i";
        let mut rows = db.query_stream_fetching(sql, &[], 100).await.unwrap();
        for want in 1..=250 {
            assert_eq!(
                rows.next().await.unwrap().unwrap().get::<i32>(0).unwrap(),
                want
            );
        }
        drop(rows);
        assert!(db.has_pending_replies());
        // The Sync closes the portal: the server stops, and the next query gets its own rows.
        let row = db
            .query_one("SELECT $1::int4 + 1", &[&41i32])
            .await
            .unwrap();
        assert_eq!(row.get::<i32>(0).unwrap(), 42);
        assert!(!db.has_pending_replies());
        // Dropped right after it started, before any row was read.
        drop(db.query_stream(sql, &[]).await.unwrap());
        let n: i64 = db
            .query_one("SELECT count(*) FROM generate_series(1, 5)", &[])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 5);
        // A `next()` cut short by a timeout while the server is still working.
        let mut rows = db
            .query_stream("SELECT pg_sleep(0.3), 7", &[])
            .await
            .unwrap();
        assert!(timeout(Duration::from_millis(50), rows.next())
            .await
            .is_err());
        drop(rows);
        let row = db.query_one("SELECT 'after'::text", &[]).await.unwrap();
        assert_eq!(row.get::<String>(0).unwrap(), "after");
        // And a streamed statement can be streamed again (its preparation is cached).
        let mut rows = db.query_stream_fetching(sql, &[], 100).await.unwrap();
        assert_eq!(
            rows.next().await.unwrap().unwrap().get::<i32>(0).unwrap(),
            1
        );
    });
}

#[test]
fn an_error_mid_stream_ends_it_and_the_connection_goes_on() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let mut db = Client::connect(&url).await.unwrap();
        let mut rows = db
            .query_stream_fetching(
                "SELECT 10 / (500 - i) FROM generate_series(1, 1000) i",
                &[],
                64,
            )
            .await
            .unwrap();
        let mut ok = 0;
        let err = loop {
            match rows.next().await.expect("ends with an error, not silently") {
                Ok(_) => ok += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(err.code(), Some("22012"), "division by zero: {err}");
        assert_eq!(ok, 499, "every row before the failing one arrived");
        assert!(rows.next().await.is_none());
        drop(rows);
        assert!(!db.has_pending_replies());
        assert_eq!(
            db.query_one("SELECT 3::int4", &[])
                .await
                .unwrap()
                .get::<i32>(0)
                .unwrap(),
            3
        );
        // An error before the first row (a bad statement) is returned by query_stream.
        let err = db.query_stream("SELEC 1", &[]).await.unwrap_err();
        assert_eq!(err.code(), Some("42601"), "{err}");
    });
}

#[test]
fn streams_in_a_transaction_and_through_the_pool() {
    let Some(url) = database_url() else { return };
    rt().block_on(async {
        let pool = Pool::new(&url, 1).unwrap();
        {
            let mut db = pool.get().await.unwrap();
            db.batch_execute("CREATE TABLE IF NOT EXISTS stream_tx (n int4); TRUNCATE stream_tx")
                .await
                .unwrap();
            let mut tx = db.transaction().await.unwrap();
            tx.execute("INSERT INTO stream_tx SELECT generate_series(1, 5000)", &[])
                .await
                .unwrap();
            let mut rows = tx
                .query_stream_fetching("SELECT n FROM stream_tx", &[], 10)
                .await
                .unwrap();
            assert!(rows.next().await.unwrap().is_ok());
            drop(rows); // dropped early, inside the transaction
            tx.execute("INSERT INTO stream_tx VALUES (0)", &[])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            // Dropped half-way and handed back to the pool.
            let mut rows = db
                .query_stream_fetching("SELECT n FROM stream_tx", &[], 10)
                .await
                .unwrap();
            assert!(rows.next().await.unwrap().is_ok());
        }
        assert_eq!(
            pool.status(),
            (1, 1),
            "the connection went back to the pool"
        );
        let mut db = pool.get().await.unwrap();
        let n: i64 = db
            .query_one("SELECT count(*) FROM stream_tx", &[])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 5001, "the transaction committed");
        db.batch_execute("DROP TABLE stream_tx").await.unwrap();
        assert_eq!(pool.status(), (1, 0), "the same connection, reused");
    });
}
