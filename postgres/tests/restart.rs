//! A server restart while the pool holds connections. In its own test binary: test
//! binaries run one at a time, so the restart cannot disturb another test's queries.

use std::io::Write as _;

mod support;

use support::{database_url, rt};

use simmer_postgres::{Client, Error, Pool};

#[test]
fn the_pool_recovers_after_the_server_restarts() {
    let Some(url) = database_url() else { return };
    let Ok(restart) = std::env::var("SIMMER_PG_RESTART") else {
        if std::env::var_os("CI").is_some() {
            panic!("SIMMER_PG_RESTART must be set under CI");
        }
        // Written to stderr directly: the test harness hides eprintln! of passing tests.
        let _ = writeln!(std::io::stderr(), "SKIPPED: SIMMER_PG_RESTART is not set");
        return;
    };
    rt().block_on(async {
        let pool = Pool::new(&url, 3).unwrap();
        let mut lone = Client::connect(&url).await.unwrap();
        {
            // Three connections open and idle in the pool.
            let a = pool.get().await.unwrap();
            let b = pool.get().await.unwrap();
            let c = pool.get().await.unwrap();
            drop((a, b, c));
        }
        assert_eq!(pool.status(), (3, 3));
        let status = simmer::offload(move || {
            std::process::Command::new("sh")
                .args(["-c", &restart])
                .status()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(status.success(), "restart command failed");
        // A connection that lived through the restart reports it clearly.
        let err = lone.query("SELECT 1", &[]).await.unwrap_err();
        assert!(
            matches!(err, Error::Io(_)) || err.code() == Some("57P01"),
            "{err}"
        );
        // The pool discards its dead connections and opens new ones.
        for i in 0..5i32 {
            let mut db = pool.get().await.unwrap();
            let row = db.query_one("SELECT $1::int4", &[&i]).await.unwrap();
            assert_eq!(row.get::<i32>(0).unwrap(), i);
        }
    });
}
