//! A throw-away PostgreSQL database per test run on the machine's server
//! (127.0.0.1:5432, trust auth). When the server is unreachable the test is
//! skipped with a printed reason, unless `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::expect_used, clippy::panic)]

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The server's maintenance database URL.
pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database created for one test and dropped afterwards.
pub struct TempDatabase {
    admin: DatabaseConnection,
    name: String,
    pub url: String,
}

impl TempDatabase {
    /// Creates a fresh database, or `None` (after printing why) when
    /// PostgreSQL is unreachable and services are not required.
    pub async fn create(test: &str) -> Option<TempDatabase> {
        let admin_url =
            std::env::var("AI_PROXY_TEST_POSTGRES").unwrap_or_else(|_| ADMIN_URL.into());
        let admin = match Database::connect(&admin_url).await {
            Ok(db) => db,
            Err(e) => {
                if std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!(
                        "PostgreSQL is required (AI_PROXY_REQUIRE_SERVICES=1) but unreachable: {e}"
                    );
                }
                eprintln!("SKIPPED {test}: PostgreSQL unreachable at {admin_url}: {e}");
                return None;
            }
        };
        let name = format!(
            "aip_{}_{}",
            test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id()
        );
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop old");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b)
            .to_owned();
        Some(TempDatabase {
            admin,
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// Drops the database (call at the end of the test).
    pub async fn drop_database(self) {
        let _ = self
            .admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}
