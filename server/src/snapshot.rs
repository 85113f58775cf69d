//! Snapshots of the embedded data directory while the server serves, for
//! `scripts/backup.sh`: `meldpunt-server snapshot DATA_DIR` asks the running server on
//! the Unix socket `DATA_DIR/snapshot.sock`, which only the server's user (and root)
//! can reach (the data directory is 0700): no network route leads here.
//!
//! The server stops every change for the copy ([`Pause`]), takes it
//! ([`Embedded::snapshot`]), lets changes go on, and answers with the snapshot's path
//! and how long changes waited. The caller archives the snapshot and removes it.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::fairing::AdHoc;
use rocket::tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{UnixListener, UnixStream as AsyncStream};

use crate::storage::embedded::snapshot::PREFIX;
use crate::storage::embedded::Embedded;
use crate::storage::pause::Pause;

/// The socket's name in the data directory.
pub const SOCKET: &str = "snapshot.sock";

const REQUEST: &str = "snapshot";

/// How long the command waits for the server's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// A snapshot taken.
#[derive(Debug)]
pub struct Taken {
    /// The snapshot directory (a data directory of its own, inside the data directory).
    pub dir: PathBuf,
    /// How long changes were held back, from the request until they went on.
    pub paused: Duration,
    /// The part of that spent waiting for changes in flight to finish.
    pub waited: Duration,
}

/// Why no snapshot was taken.
#[derive(Debug)]
#[non_exhaustive]
pub enum SnapshotError {
    /// No server answers on the data directory's socket.
    NotRunning(PathBuf, io::Error),
    /// Talking to the server failed.
    Io(io::Error),
    /// The server could not take the snapshot.
    Server(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::NotRunning(dir, e) => write!(
                f,
                "no server is running on {} ({e}): back up a stopped server's data directory \
                 directly (scripts/backup.sh does)",
                dir.display()
            ),
            SnapshotError::Io(e) => write!(f, "asking the server for a snapshot failed: {e}"),
            SnapshotError::Server(e) => write!(f, "the server could not take a snapshot: {e}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Asks the server running on `data_dir` for a snapshot (the `snapshot` command).
pub fn request(data_dir: &Path) -> Result<Taken, SnapshotError> {
    let mut stream = UnixStream::connect(data_dir.join(SOCKET))
        .map_err(|e| SnapshotError::NotRunning(data_dir.to_owned(), e))?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(SnapshotError::Io)?;
    writeln!(stream, "{REQUEST}").map_err(SnapshotError::Io)?;
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .map_err(SnapshotError::Io)?;
    parse_answer(data_dir, answer.trim_end())
}

fn parse_answer(data_dir: &Path, answer: &str) -> Result<Taken, SnapshotError> {
    if let Some(e) = answer.strip_prefix("error ") {
        return Err(SnapshotError::Server(e.to_owned()));
    }
    let bad = || SnapshotError::Server(format!("an answer not understood: {answer:?}"));
    let mut words = answer.splitn(4, ' ');
    if words.next() != Some("ok") {
        return Err(bad());
    }
    let micros = |w: Option<&str>| w.and_then(|w| w.parse().ok()).map(Duration::from_micros);
    let paused = micros(words.next()).ok_or_else(bad)?;
    let waited = micros(words.next()).ok_or_else(bad)?;
    let name = words
        .next()
        .filter(|n| is_snapshot_name(n))
        .ok_or_else(bad)?;
    Ok(Taken {
        dir: data_dir.join(name),
        paused,
        waited,
    })
}

/// A snapshot directory's name (the answer names one inside the data directory, no
/// other path).
fn is_snapshot_name(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Takes a snapshot: stops changes, copies, lets them go on.
pub async fn take(embedded: &Arc<Embedded>, pause: &Pause) -> Result<Taken, String> {
    let asked = Instant::now();
    let paused = pause.pause().await;
    let waited = asked.elapsed();
    let e = embedded.clone();
    let dir = rocket::tokio::task::spawn_blocking(move || e.snapshot())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    drop(paused);
    Ok(Taken {
        dir,
        paused: asked.elapsed(),
        waited,
    })
}

/// Listens on the data directory's socket while the server runs, and removes the
/// socket when it stops.
pub fn fairings(embedded: Arc<Embedded>, pause: Arc<Pause>) -> [AdHoc; 2] {
    let socket = embedded.data_dir().join(SOCKET);
    let gone = socket.clone();
    let listen = AdHoc::on_liftoff("snapshots", move |_| {
        Box::pin(async move {
            // Left by a server that was killed: one server per data directory (sled
            // locks it), so it is no one's.
            let _ = std::fs::remove_file(&socket);
            let listener = match UnixListener::bind(&socket).and_then(|l| {
                std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
                    .map(|()| l)
            }) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!(
                        "meldpunt-server: cannot listen on {} for snapshots ({e}): backups \
                         need the server stopped",
                        socket.display()
                    );
                    return;
                }
            };
            rocket::tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    answer(stream, &embedded, &pause).await;
                }
            });
        })
    });
    let remove = AdHoc::on_shutdown("snapshot socket", move |_| {
        Box::pin(async move {
            let _ = std::fs::remove_file(&gone);
        })
    });
    [listen, remove]
}

async fn answer(stream: AsyncStream, embedded: &Arc<Embedded>, pause: &Pause) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // One short line; anything else is not a request.
    let asked = rocket::tokio::io::BufReader::new(read.take(64))
        .read_line(&mut line)
        .await
        .is_ok()
        && line.trim_end() == REQUEST;
    if !asked {
        let _ = write
            .write_all(b"error the request is not understood\n")
            .await;
        return;
    }
    match take(embedded, pause).await {
        Ok(t) => {
            let reply = format!(
                "ok {} {} {}\n",
                t.paused.as_micros(),
                t.waited.as_micros(),
                t.dir.file_name().unwrap_or_default().to_string_lossy()
            );
            // Nobody to archive it: do not leave a copy behind.
            if write.write_all(reply.as_bytes()).await.is_err() {
                let _ = std::fs::remove_dir_all(&t.dir);
            }
        }
        Err(e) => {
            let reply = format!("error {}\n", e.replace('\n', " "));
            let _ = write.write_all(reply.as_bytes()).await;
        }
    }
}
