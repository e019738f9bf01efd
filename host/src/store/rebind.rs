//! At start: binds secrets stored by an older gateway to their place.
//!
//! Gateways before ciphertexts were bound to their table, column and row
//! (see [`crate::secrets::SecretColumn`]) stored them with no associated
//! data. The gateway decrypts those once, here, before it serves, and
//! writes them back bound; afterwards only bound ciphertexts are read. A
//! schema migration cannot do this: it has no master key.
//!
//! Every row is its own update, made only if the row still holds what was
//! read, so the rewrite is idempotent (bound rows are skipped), resumable
//! (a crash leaves the rest for the next start) and safe beside another
//! instance doing the same. A row that decrypts neither way (another
//! master key, corrupt data, a ciphertext moved from elsewhere) is left as
//! it is and counted; it stays unusable.
//!
//! Once a pass finds nothing left unbound and nothing unreadable, the row
//! of `secret_binding` is marked complete and later starts skip the pass:
//! an unbound ciphertext planted afterwards (restored from a backup taken
//! before the upgrade into another row, say) is never decrypted. All
//! instances on one database are upgraded together: an older instance
//! still running would write unbound rows nobody reads. To rebind again
//! (after restoring such a backup), set `secret_binding.complete` false.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::secrets::{SecretBox, SecretColumn};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rebound {
    /// Rows rewritten bound.
    pub rewritten: u64,
    /// Rows that decrypt neither bound nor unbound.
    pub unreadable: u64,
    /// Every secret is bound (now or at an earlier start).
    pub complete: bool,
}

/// The one row of `secret_binding`.
const BINDING_ROW: i32 = 1;

/// Rewrites every unbound ciphertext of every encrypted column bound,
/// unless an earlier pass completed.
pub async fn rebind_secrets(
    db: &DatabaseConnection,
    secrets: &SecretBox,
) -> Result<Rebound, DbErr> {
    if binding_complete(db).await? {
        return Ok(Rebound {
            complete: true,
            ..Rebound::default()
        });
    }
    let mut done = Rebound::default();
    for column in SecretColumn::ALL {
        let (table, col, id) = (
            Alias::new(column.table()),
            Alias::new(column.column()),
            Alias::new("id"),
        );
        let select = Query::select()
            .column(id.clone())
            .column(col.clone())
            .from(table.clone())
            .and_where(Expr::col(col.clone()).is_not_null())
            .to_owned();
        for row in db.query_all(&select).await? {
            let row_id: i32 = row.try_get("", "id")?;
            let stored: Vec<u8> = row.try_get("", column.column())?;
            if secrets.decrypt(&stored, column, i64::from(row_id)).is_ok() {
                continue;
            }
            let Ok(secret) = secrets.decrypt_unbound(&stored) else {
                done.unreadable += 1;
                continue;
            };
            let bound = secrets.encrypt(&secret, column, i64::from(row_id));
            let update = Query::update()
                .table(table.clone())
                .value(col.clone(), bound)
                .and_where(Expr::col(id.clone()).eq(row_id))
                .and_where(Expr::col(col.clone()).eq(stored))
                .to_owned();
            done.rewritten += db.execute(&update).await?.rows_affected();
        }
    }
    if done.unreadable == 0 {
        mark_complete(db).await?;
        done.complete = true;
    }
    if done.rewritten > 0 {
        tracing::info!(
            rows = done.rewritten,
            "stored secrets bound to their table, column and row"
        );
    }
    if done.unreadable > 0 {
        tracing::warn!(
            rows = done.unreadable,
            "stored secrets that cannot be decrypted with this master key (or were moved from another row) are left unusable"
        );
    }
    Ok(done)
}

/// Whether a pass has bound every secret.
async fn binding_complete(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let select = Query::select()
        .column(Alias::new("complete"))
        .from(Alias::new("secret_binding"))
        .and_where(Expr::col(Alias::new("id")).eq(BINDING_ROW))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => row.try_get("", "complete"),
        None => Ok(false),
    }
}

async fn mark_complete(db: &DatabaseConnection) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Alias::new("secret_binding"))
        .value(Alias::new("complete"), true)
        .and_where(Expr::col(Alias::new("id")).eq(BINDING_ROW))
        .to_owned();
    db.execute(&update).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use crate::store::entities::{providers, upstream_keys};
    use crate::store::test_rows::{db, key, provider};
    use sea_orm::EntityTrait;

    #[tokio::test]
    async fn unbound_rows_are_bound_once_and_unreadable_rows_are_left_alone() {
        let db = db().await;
        let secrets = SecretBox::new(&[7; 32]);
        let foreign = SecretBox::new(&[9; 32]);
        let old = |s: &str| secrets.encrypt_unbound(&Secret::new(s));
        let p = provider(&db, Some(old("client-secret"))).await;
        let a = key(&db, p, old("sk-a")).await;
        let bound = secrets.encrypt(&Secret::new("sk-b"), SecretColumn::UpstreamKeySecret, 0);
        let b = key(&db, p, bound.clone()).await;
        let lost = key(&db, p, foreign.encrypt_unbound(&Secret::new("sk-c"))).await;

        let first = rebind_secrets(&db, &secrets).await.expect("rebind");
        // `b` holds a ciphertext bound to row 0, not to its own row.
        assert_eq!(
            first,
            Rebound {
                rewritten: 2,
                unreadable: 2,
                complete: false
            }
        );
        let read = |id: i32| {
            let db = db.clone();
            async move {
                upstream_keys::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .expect("find")
                    .expect("row")
                    .secret_ciphertext
            }
        };
        let column = SecretColumn::UpstreamKeySecret;
        let now_a = secrets
            .decrypt(&read(a).await, column, i64::from(a))
            .expect("bound");
        assert_eq!(now_a.expose(), "sk-a");
        assert_eq!(
            read(b).await,
            bound,
            "a bound ciphertext is never rewritten"
        );
        assert!(
            secrets
                .decrypt(&read(lost).await, column, i64::from(lost))
                .is_err()
        );
        let row = providers::Entity::find_by_id(p)
            .one(&db)
            .await
            .expect("find")
            .expect("row");
        let client = row.oauth_client_secret_ciphertext.expect("secret");
        let client = secrets
            .decrypt(
                &client,
                SecretColumn::ProviderOAuthClientSecret,
                i64::from(p),
            )
            .expect("bound");
        assert_eq!(client.expose(), "client-secret");

        let second = rebind_secrets(&db, &secrets).await.expect("again");
        assert_eq!(
            second,
            Rebound {
                rewritten: 0,
                unreadable: 2,
                complete: false
            },
            "idempotent"
        );
    }

    #[tokio::test]
    async fn after_a_complete_pass_a_planted_unbound_ciphertext_is_never_rebound() {
        let db = db().await;
        let secrets = SecretBox::new(&[7; 32]);
        let p = provider(&db, None).await;
        key(&db, p, secrets.encrypt_unbound(&Secret::new("sk-a"))).await;
        let done = rebind_secrets(&db, &secrets).await.expect("rebind");
        assert_eq!(
            done,
            Rebound {
                rewritten: 1,
                unreadable: 0,
                complete: true
            }
        );

        // From a backup taken before the upgrade, into another row.
        let b = key(&db, p, secrets.encrypt_unbound(&Secret::new("sk-a"))).await;
        let again = rebind_secrets(&db, &secrets).await.expect("again");
        assert_eq!(again.rewritten, 0);
        assert!(again.complete);
        let row = upstream_keys::Entity::find_by_id(b)
            .one(&db)
            .await
            .expect("find")
            .expect("row");
        let column = SecretColumn::UpstreamKeySecret;
        assert!(
            secrets
                .decrypt(&row.secret_ciphertext, column, i64::from(b))
                .is_err()
        );
    }
}
