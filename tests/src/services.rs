//! Real services for the PostgreSQL backend's tests: a PostgreSQL server (Debian's
//! `postgresql` package, `initdb` into a temporary directory, listening on a Unix socket
//! only) and an S3-compatible server (`s3s-fs` from crates.io, on 127.0.0.1, over a
//! folder). Never mocks. A missing program fails the test with what to install.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The access key the test object store accepts.
pub const S3_KEY: &str = "meldpunt-test-key";
/// Its secret.
pub const S3_SECRET: &str = "meldpunt-test-secret-0123456789";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory of PostgreSQL's server programs (`initdb`, `postgres`, `pg_dump`).
pub fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install \
             Debian's `postgresql` package (apt-get install postgresql), as scripts/test.sh does"
        )
    })
}

/// The `s3s-fs` program.
pub fn s3s_fs() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in candidates.into_iter().chain([home.join("bin")]) {
        let p = dir.join("s3s-fs");
        if p.exists() {
            return p;
        }
    }
    panic!(
        "s3s-fs (an S3-compatible server) is not installed: run \
         `cargo install --locked s3s-fs --version 0.14.1 --features binary`, as scripts/test.sh does"
    )
}

/// A command run as the unprivileged user PostgreSQL needs when the tests run as root
/// (`initdb` refuses root), with a parent-death signal so no server outlives its test.
fn as_db_user(program: &Path) -> Command {
    let mut cmd = Command::new("setpriv");
    if is_root() {
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    }
    cmd.args(["--pdeathsig", "SIGKILL"]).arg(program);
    cmd
}

fn chown_for_db(path: &Path) {
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(path)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "chown of {} failed", path.display());
    }
}

fn ok(out: Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A running PostgreSQL server over a Unix socket in a temporary directory.
pub struct Postgres {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Postgres {
    /// `initdb` and start. The process ends with the thread that starts it (its
    /// parent-death signal) or when this is dropped.
    pub fn start() -> Self {
        let bin = pg_bin();
        let dir = tempfile::Builder::new()
            .prefix("meldpunt-pg")
            .tempdir()
            .expect("a temporary directory");
        chown_for_db(dir.path());
        let data = dir.path().join("data");
        ok(
            as_db_user(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "meldpunt",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .output()
                .expect("initdb runs"),
            "initdb",
        );
        let port = crate::free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log")).expect("a log file");
        let child = as_db_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-p", &port.to_string()])
            // The Unix socket only: no TCP at all.
            .args(["-c", "listen_addresses="])
            .args(["-c", "max_connections=300"])
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
            .args(["-c", "wal_level=replica", "-c", "max_wal_senders=4"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        let pg = Postgres { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !pg.socket().exists()
            || !Command::new(bin.join("pg_isready"))
                .args(["-h"])
                .arg(pg.dir.path())
                .args(["-p", &port.to_string()])
                .stdout(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(pg.dir.path().join("postgres.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pg
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join(format!(".s.PGSQL.{}", self.port))
    }

    /// The socket directory.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The connection string for database `db`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "host={} port={} user=meldpunt dbname={db}",
            self.dir.path().display(),
            self.port
        )
    }

    fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(pg_bin().join(program));
        cmd.env("PGHOST", self.dir.path())
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "meldpunt");
        cmd
    }

    /// Runs SQL in database `db`; returns what `psql` printed (unaligned, tuples only).
    pub fn sql(&self, db: &str, sql: &str) -> String {
        String::from_utf8_lossy(&ok(
            self.client("psql")
                .args([
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    db,
                    "-c",
                    sql,
                ])
                .output()
                .expect("psql runs"),
            "psql",
        ))
        .into_owned()
    }

    /// A new, empty database; returns its connection string.
    pub fn create_database(&self, name: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }

    /// A plain-SQL dump of database `db` (`pg_dump`, consistent while others write).
    pub fn dump(&self, db: &str) -> Vec<u8> {
        ok(
            self.client("pg_dump")
                .args(["--no-owner", "-d", db])
                .output()
                .expect("pg_dump runs"),
            "pg_dump",
        )
    }

    /// Loads a plain-SQL dump into database `db`.
    pub fn restore(&self, db: &str, dump: &[u8]) {
        use std::io::Write;
        let mut child = self
            .client("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dump)
            .expect("the dump is sent");
        ok(
            child.wait_with_output().expect("psql ends"),
            "restoring a dump",
        );
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // A fast shutdown (SIGINT), then wait.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `s3s-fs` over a folder, on 127.0.0.1.
pub struct ObjectStore {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl ObjectStore {
    /// Starts the server (ends with the thread that starts it, or when dropped).
    pub fn start() -> Self {
        let program = s3s_fs();
        let dir = tempfile::Builder::new()
            .prefix("meldpunt-s3")
            .tempdir()
            .expect("a temporary directory");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).expect("the store's folder");
        let port = crate::free_port();
        let log = std::fs::File::create(dir.path().join("s3s-fs.log")).expect("a log file");
        let child = Command::new("setpriv")
            .args(["--pdeathsig", "SIGKILL"])
            .arg(&program)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", S3_KEY, "--secret-key", S3_SECRET])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("s3s-fs starts");
        let s3 = ObjectStore { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        s3
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The folder the objects are kept in (one sub-folder per bucket).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Makes a bucket (a folder).
    pub fn create_bucket(&self, name: &str) {
        std::fs::create_dir_all(self.root().join(name)).expect("a bucket folder");
    }
}

impl Drop for ObjectStore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One PostgreSQL database and one bucket: what a Meldpunt site on the PostgreSQL
/// backend needs, as configuration lines.
pub struct PgSite {
    /// The connection string.
    pub url: String,
    /// The database's name.
    pub db: String,
    /// The object store's endpoint.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
}

impl PgSite {
    /// A new database and bucket on these services.
    pub fn new(pg: &Postgres, s3: &ObjectStore) -> Self {
        let name = format!("mp{}", hex::encode(rand::random::<[u8; 6]>()));
        let url = pg.create_database(&name);
        s3.create_bucket(&name);
        PgSite {
            url,
            db: name.clone(),
            endpoint: s3.endpoint(),
            bucket: name,
        }
    }

    /// The configuration keys (TOML) that put a server on this database and bucket.
    pub fn toml(&self) -> String {
        format!(
            "storage = \"postgres\"\npostgres_url = \"{}\"\ns3_endpoint = \"{}\"\n\
             s3_bucket = \"{}\"\ns3_access_key_id = \"{S3_KEY}\"\n\
             s3_secret_access_key = \"{S3_SECRET}\"\ns3_allow_http = true\n",
            self.url, self.endpoint, self.bucket
        )
    }
}

/// The services, started once per test binary and kept until it exits (they are
/// started from a thread that never ends, so their parent-death signal fires only when
/// the test binary exits).
pub fn shared() -> &'static (Postgres, ObjectStore) {
    static SERVICES: std::sync::OnceLock<(Postgres, ObjectStore)> = std::sync::OnceLock::new();
    SERVICES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let started = std::panic::catch_unwind(|| (Postgres::start(), ObjectStore::start()));
            let failed = started.is_err();
            let _ = tx.send(started);
            if !failed {
                loop {
                    std::thread::park();
                }
            }
        });
        match rx.recv() {
            Ok(Ok(services)) => services,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("the services did not start"),
        }
    })
}
