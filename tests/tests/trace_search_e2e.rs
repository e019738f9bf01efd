//! The request log at scale, on SQLite and PostgreSQL: the free-text
//! search `q` through its substring index (FTS5 trigrams / `pg_trgm`)
//! returns exactly the rows a plain substring match over the columns
//! returns (`%`, `_`, `\` and quotes literal, FTS query syntax inert), the
//! index follows inserts and deletes, the total is counted up to its cap
//! and says so past it, and `before_id` pages like offsets do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use sea_orm::{
    ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait,
    Value,
};
use serde_json::Value as Json;

/// The API's count cap (`store::trace_page::TOTAL_COUNT_CAP`).
const TOTAL_COUNT_CAP: usize = 10_000;

/// Seeded traces: model, path, client key name, upstream key name, error
/// message, status. Request ids are `req_search_<n>` (n from 0).
type Row = (
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    i32,
);
const ROWS: &[Row] = &[
    (
        Some("gpt-4o"),
        "/v1/chat/completions",
        Some("team-a"),
        Some("up-1"),
        None,
        200,
    ),
    (
        Some("gpt-4o-mini"),
        "/v1/chat/completions",
        Some("team_b"),
        Some("up-2"),
        Some("rate 50% over"),
        429,
    ),
    (
        Some("claude-sonnet-4"),
        "/v1/messages",
        Some("it's ours"),
        Some("up-1"),
        Some("say \"hi\" then"),
        500,
    ),
    (
        Some("GPT-4O"),
        "/v1/Chat",
        Some("team-a"),
        Some(r"back\slash"),
        None,
        200,
    ),
    (
        Some("Ünïcode-modèl"),
        "/v1/x",
        Some("tëam"),
        Some("up-3"),
        Some("ÜNÏ"),
        200,
    ),
    (Some("xx-end"), "/start", Some("k"), Some("u"), None, 200),
    (None, "/v1/models", None, None, Some("a_b and axb"), 404),
    (
        Some("a%b"),
        "/p",
        Some("50 percent"),
        Some("up-2"),
        Some("retry of req_search_0"),
        200,
    ),
    (
        Some("gpt_4"),
        "/v1/responses",
        Some("team-c"),
        Some("up-1"),
        Some("\" OR \"x"),
        502,
    ),
];

/// Searches: wildcards, quotes, backslash, case, non-ASCII, text across
/// two columns, request ids, short texts, FTS5 and SQL syntax.
const SEARCHES: &[&str] = &[
    "50%",
    "%",
    "_",
    "a_b",
    "team_b",
    "it's",
    "\"hi\"",
    r"back\slash",
    r"\",
    "gpt-4o",
    "GPT",
    "Chat",
    "Ünï",
    "ünï",
    "end /start",
    "a%b",
    "req_search_0",
    "req_search",
    "ab",
    "q",
    "\" OR \"",
    "NEAR(team up)",
    "team*",
    "model:gpt",
    "' OR '1'='1",
    "-- x",
    "up-1",
    "nothing-like-this",
];

fn marks(backend: DatabaseBackend, n: usize) -> String {
    (1..=n)
        .map(|i| match backend {
            DatabaseBackend::Postgres => format!("${i}"),
            _ => "?".into(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<Value>) {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

const COLUMNS: &str = "request_id, model, path, client_key_name, provider_key_name, error_message, \
    status_code, method, is_stream, attempts, attempt_log, input_tokens, output_tokens, \
    cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens, duration_ms, created_at";

async fn seed(db: &DatabaseConnection) -> Vec<i64> {
    let backend = db.get_database_backend();
    let sql = format!(
        "INSERT INTO proxy_tracing ({COLUMNS}) VALUES ({}, 'POST', false, 1, '[]', 0, 0, 0, 0, 0, 0, 5, {})",
        marks(backend, 7),
        match backend {
            DatabaseBackend::Postgres => "now()",
            _ => "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
        }
    );
    let mut ids = Vec::new();
    for (n, (model, path, client, upstream, message, status)) in ROWS.iter().enumerate() {
        let values: Vec<Value> = vec![
            format!("req_search_{n}").into(),
            model.map(str::to_owned).into(),
            (*path).into(),
            client.map(str::to_owned).into(),
            upstream.map(str::to_owned).into(),
            message.map(str::to_owned).into(),
            (*status).into(),
        ];
        exec(db, &sql, values).await;
        ids.push(
            scalar(
                db,
                &format!("SELECT id FROM proxy_tracing WHERE request_id = 'req_search_{n}'"),
            )
            .await,
        );
    }
    ids
}

/// What a plain substring search returns: SQLite's `LIKE` ignores the
/// case of ASCII letters only, PostgreSQL's ignores none.
fn expected(backend: DatabaseBackend, ids: &[i64], text: &str, status: Option<i32>) -> Vec<i64> {
    let fold = |s: &str| match backend {
        DatabaseBackend::Postgres => s.to_owned(),
        _ => s.to_ascii_lowercase(),
    };
    let mut out: Vec<i64> = ROWS
        .iter()
        .enumerate()
        .filter(|(n, (model, path, client, upstream, message, code))| {
            let hit = [*model, Some(*path), *client, *upstream, *message]
                .iter()
                .flatten()
                .any(|col| fold(col).contains(&fold(text)))
                || format!("req_search_{n}") == text;
            hit && status.is_none_or(|s| s == *code)
        })
        .map(|(n, _)| ids[n])
        .collect();
    out.reverse();
    out
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn ids_of(gw: &TestGateway, query: &str) -> (Vec<i64>, Json) {
    let size = if query.contains("page_size=") {
        ""
    } else {
        "page_size=200&"
    };
    let page = gw
        .admin_ok(
            Method::GET,
            &format!("/api/logs/traces?{size}{query}"),
            None,
        )
        .await;
    let ids = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    (ids, page)
}

async fn searches_match_a_plain_substring_search(
    gw: &TestGateway,
    db: &DatabaseConnection,
    ids: &[i64],
) {
    let backend = db.get_database_backend();
    for text in SEARCHES {
        let (found, page) = ids_of(gw, &format!("q={}", encode(text))).await;
        assert_eq!(found, expected(backend, ids, text, None), "q={text:?}");
        assert_eq!(page["total"], found.len(), "q={text:?}");
        assert_eq!(page["total_is_lower_bound"], false);
        let (found, _) = ids_of(gw, &format!("q={}&status_code=200", encode(text))).await;
        assert_eq!(
            found,
            expected(backend, ids, text, Some(200)),
            "q={text:?} status 200"
        );
    }
    // Spot checks that the reference itself is right.
    assert_eq!(expected(backend, ids, "50%", None), vec![ids[1]]);
    assert_eq!(expected(backend, ids, "a_b", None), vec![ids[6]]);
    assert_eq!(
        expected(backend, ids, "end /start", None),
        Vec::<i64>::new()
    );
    assert_eq!(
        expected(backend, ids, "req_search_0", None),
        vec![ids[7], ids[0]]
    );
    // A model prefix takes `_` literally too.
    let (found, _) = ids_of(gw, "model=gpt_").await;
    assert_eq!(found, vec![ids[8]]);
}

async fn bad_searches_are_refused(gw: &TestGateway) {
    let long = "a".repeat(1001);
    for bad in [format!("q={long}"), "q=a%00b".to_owned()] {
        let (status, body) = gw
            .admin(Method::GET, &format!("/api/logs/traces?{bad}"), None)
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
    }
    let (status, _) = gw
        .admin(
            Method::GET,
            &format!("/api/logs/traces?q={}", "a".repeat(1000)),
            None,
        )
        .await;
    assert_eq!(status, 200);
}

/// The index follows deletes (the retention task deletes this way too).
async fn deleted_rows_leave_the_search(gw: &TestGateway, db: &DatabaseConnection, ids: &[i64]) {
    exec(
        db,
        "DELETE FROM proxy_tracing WHERE request_id = 'req_search_2'",
        vec![],
    )
    .await;
    let (found, _) = ids_of(gw, "q=it%27s").await;
    assert!(found.is_empty(), "{found:?}");
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        let left = scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM {t} WHERE {t} MATCH '\"it''\"' AND rowid = {}",
                ids[2],
                t = migration::SEARCH_TABLE
            ),
        )
        .await;
        assert_eq!(left, 0, "the FTS index kept a deleted trace");
    }
}

/// `n` more traces of model `bulk`, one of them with status 201.
async fn seed_bulk(db: &DatabaseConnection, n: usize) {
    let source = match db.get_database_backend() {
        DatabaseBackend::Postgres => format!("generate_series(1, {n}) AS s(i)"),
        _ => format!(
            "(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) SELECT i FROM r) AS s"
        ),
    };
    let now = match db.get_database_backend() {
        DatabaseBackend::Postgres => "now()",
        _ => "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
    };
    exec(
        db,
        &format!(
            "INSERT INTO proxy_tracing ({COLUMNS}) SELECT 'req_bulk_' || i, 'bulk', '/v1/bulk', 'bulk-key', \
             'up-bulk', NULL, CASE WHEN i = 1 THEN 201 ELSE 200 END, 'POST', false, 1, '[]', 0, 0, 0, 0, 0, 0, 5, {now} FROM {source}"
        ),
        vec![],
    )
    .await;
}

async fn totals_are_capped_at_their_limit(gw: &TestGateway, db: &DatabaseConnection) {
    seed_bulk(db, TOTAL_COUNT_CAP + 1).await;
    let total = |page: &Json| {
        (
            page["total"].as_u64().unwrap(),
            page["total_is_lower_bound"].as_bool().unwrap(),
        )
    };
    // Exactly the cap: counted exactly.
    let page = gw
        .admin_ok(
            Method::GET,
            "/api/logs/traces?model=bulk&status_code=200&page_size=50",
            None,
        )
        .await;
    assert_eq!(total(&page), (TOTAL_COUNT_CAP as u64, false));
    // One past it: "more than 10000".
    let page = gw
        .admin_ok(
            Method::GET,
            "/api/logs/traces?model=bulk&page_size=50",
            None,
        )
        .await;
    assert_eq!(total(&page), (TOTAL_COUNT_CAP as u64, true));
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    // The cap counts past the page's offset: page 2 sees all 10001.
    let page = gw
        .admin_ok(
            Method::GET,
            "/api/logs/traces?model=bulk&page_size=50&page=2",
            None,
        )
        .await;
    assert_eq!(total(&page), (TOTAL_COUNT_CAP as u64 + 1, false));
    // A search over the bulk rows is capped the same way.
    let page = gw
        .admin_ok(
            Method::GET,
            "/api/logs/traces?q=bulk-key&page_size=50",
            None,
        )
        .await;
    assert_eq!(total(&page), (TOTAL_COUNT_CAP as u64, true));
    // The last page is short and exact.
    let page = gw
        .admin_ok(
            Method::GET,
            "/api/logs/traces?model=bulk&page_size=200&page=51",
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(total(&page), (TOTAL_COUNT_CAP as u64 + 1, false));
}

/// `before_id` gives the pages offsets give.
async fn keyset_pages_equal_offset_pages(gw: &TestGateway) {
    let (first, _) = ids_of(gw, "model=bulk&page_size=100").await;
    let (second, _) = ids_of(gw, "model=bulk&page_size=100&page=2").await;
    let last = first.last().unwrap();
    let (keyset, _) = ids_of(gw, &format!("model=bulk&page_size=100&before_id={last}")).await;
    assert_eq!(keyset[..100], second[..100]);
}

/// On PostgreSQL the search's document expression is the trigram index's:
/// with the other ways of reading the table off, the plan takes the index
/// (a 10,000-row table is read faster whole, so they are turned off here).
async fn postgres_uses_the_trigram_index(db: &DatabaseConnection) {
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    for off in ["enable_seqscan", "enable_indexscan", "enable_indexonlyscan"] {
        txn.execute_unprepared(&format!("SET LOCAL {off} = off"))
            .await
            .unwrap();
    }
    let rows = txn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "EXPLAIN SELECT id FROM proxy_tracing WHERE {} LIKE '%rate 50%'",
                migration::search_document("")
            ),
        ))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert!(
        plan.iter().any(|l| l.contains(migration::SEARCH_INDEX)),
        "{}",
        plan.join("\n")
    );
}

/// A model prefix (the log's model filter, `LIKE 'x%'`) reads the prefix
/// index of migration 000026 on both databases, not the whole table.
async fn a_model_prefix_reads_the_prefix_index(db: &DatabaseConnection) {
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            "EXPLAIN SELECT id FROM proxy_tracing WHERE model LIKE 'gpt-3.5%'"
        }
        _ => {
            "EXPLAIN QUERY PLAN SELECT id FROM proxy_tracing WHERE model LIKE 'gpt-3.5%' ESCAPE '\\'"
        }
    };
    let rows = txn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|r| match backend {
            DatabaseBackend::Postgres => r.try_get_by_index::<String>(0).unwrap(),
            _ => r.try_get::<String>("", "detail").unwrap(),
        })
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains(migration::MODEL_PREFIX_INDEX)),
        "{}",
        plan.join("\n")
    );
}

async fn suite(database_url: Option<String>) {
    let mut env = vec![];
    if let Some(url) = &database_url {
        env.push(("DATABASE_URL", url.clone()));
    }
    let gw = TestGateway::in_process_with(&env).await;
    let db_url = database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rw",
            gw.data_dir().join("ai-proxy.db").display()
        )
    });
    let db = Database::connect(&db_url).await.unwrap();
    let ids = seed(&db).await;
    searches_match_a_plain_substring_search(&gw, &db, &ids).await;
    bad_searches_are_refused(&gw).await;
    deleted_rows_leave_the_search(&gw, &db, &ids).await;
    totals_are_capped_at_their_limit(&gw, &db).await;
    keyset_pages_equal_offset_pages(&gw).await;
    a_model_prefix_reads_the_prefix_index(&db).await;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        postgres_uses_the_trigram_index(&db).await;
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_log_search_and_capped_totals_are_exact_on_sqlite() {
    suite(None).await;
}

#[tokio::test]
async fn the_log_search_and_capped_totals_are_exact_on_postgres() {
    let Some(db) = TempDatabase::create("trace_search_e2e").await else {
        return;
    };
    suite(Some(db.url.clone())).await;
    db.drop_database().await;
}
