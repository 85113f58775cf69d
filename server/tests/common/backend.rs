//! The storage backend the API tests run on: the embedded one, or with
//! `MELDPUNT_TEST_BACKEND=postgres` a real PostgreSQL and a real `s3s-fs` (started once
//! per test binary; each test gets its own database and bucket).

use meldpunt_tests::services::{shared, PgSite, S3_KEY, S3_SECRET};
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;

/// Whether the tests run on the PostgreSQL backend.
pub fn postgres() -> bool {
    match std::env::var("MELDPUNT_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("embedded") | Err(_) => false,
        Ok(other) => panic!("MELDPUNT_TEST_BACKEND is embedded or postgres, not {other:?}"),
    }
}

/// The figment with the chosen backend's settings.
pub fn choose(figment: Figment) -> Figment {
    if !postgres() {
        return figment;
    }
    let (pg, s3) = shared();
    let site = PgSite::new(pg, s3);
    figment
        .merge(Serialized::global("storage", "postgres"))
        .merge(Serialized::global("postgres_url", site.url))
        .merge(Serialized::global("postgres_pool", 8))
        .merge(Serialized::global("s3_endpoint", site.endpoint))
        .merge(Serialized::global("s3_bucket", site.bucket))
        .merge(Serialized::global("s3_access_key_id", S3_KEY))
        .merge(Serialized::global("s3_secret_access_key", S3_SECRET))
        .merge(Serialized::global("s3_allow_http", true))
}
