//! The registry in PostgreSQL: token records and the audit log. Audit appends take one
//! transaction-scoped advisory lock, so every instance (and the operator's commands)
//! extends one chain, in one order.

use deadpool_postgres::Pool;
use meldpunt_crypto::Day;
use meldpunt_wire::audit::{entry_hash, AuditEntry, GENESIS};
use rocket::async_trait;
use rocket::tokio::sync::OnceCell;

use super::{big, json, parse, prepare};
use crate::storage::{Registry, StoreError};
use crate::tokens::TokenRecord;

/// The advisory lock that orders audit appends.
const AUDIT_LOCK: i64 = 7470002;

/// Tokens and the audit log in PostgreSQL.
pub struct PgRegistry {
    pool: Pool,
    ready: OnceCell<()>,
}

impl PgRegistry {
    /// The registry in the database behind `pool`.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            ready: OnceCell::new(),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        prepare(&self.pool, &self.ready).await?;
        Ok(self.pool.get().await?)
    }
}

#[async_trait]
impl Registry for PgRegistry {
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT record FROM tokens ORDER BY seq")
            .await?;
        client
            .query(&st, &[])
            .await?
            .iter()
            .map(|r| parse(r.get(0), "token"))
            .collect()
    }

    async fn add_token(&self, record: TokenRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        let added = client
            .execute(
                "INSERT INTO tokens (name, record) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&record.name, &json(&record)?],
            )
            .await?;
        if added == 0 {
            return Err(StoreError::TokenExists(record.name));
        }
        Ok(())
    }

    async fn revoke_token(&self, name: &str, day: Day) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT record FROM tokens WHERE name = $1 FOR UPDATE",
                &[&name],
            )
            .await?
            .ok_or_else(|| StoreError::NoToken(name.to_owned()))?;
        let mut t: TokenRecord = parse(row.get(0), "token")?;
        if t.revoked.is_none() {
            t.revoked = Some(day);
            tx.execute(
                "UPDATE tokens SET record = $2 WHERE name = $1",
                &[&name, &json(&t)?],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn append_audit(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<AuditEntry, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
            .await?;
        let last = tx
            .query_opt("SELECT entry FROM audit ORDER BY idx DESC LIMIT 1", &[])
            .await?;
        let (index, prev) = match last {
            Some(row) => {
                let e: AuditEntry = parse(row.get(0), "the audit log's last entry")?;
                (e.index + 1, e.hash)
            }
            None => (0, GENESIS.to_owned()),
        };
        let hash = entry_hash(index, day, token, action, case, &prev);
        let entry = AuditEntry {
            index,
            day,
            token: token.to_owned(),
            action: action.to_owned(),
            case: case.map(str::to_owned),
            prev,
            hash,
            scope: scope.to_vec(),
        };
        tx.execute(
            "INSERT INTO audit (idx, entry) VALUES ($1, $2)",
            &[&big(index), &json(&entry)?],
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn audit_entries(&self, from: u64) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT entry FROM audit WHERE idx >= $1 ORDER BY idx",
                &[&big(from)],
            )
            .await?
            .iter()
            .map(|r| parse(r.get(0), "an audit entry"))
            .collect()
    }
}
