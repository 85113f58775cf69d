-- Meldpunt's PostgreSQL schema (storage = "postgres"). Applied by every server instance
-- at start-up; every statement is idempotent.
--
-- Privacy: no column holds a time finer than the day, and no column has a default that
-- reads the clock (no now(), no current_timestamp): days are written by the
-- application's clock, as text (YYYY-MM-DD) inside the records. No client address is
-- ever stored (PostgreSQL sees only the server instances). Attachment objects are named
-- at random (see `object`); case numbers never appear in the object store.

CREATE TABLE IF NOT EXISTS meldpunt_schema (
    version integer NOT NULL
);

-- A case: its record as JSON, exactly what the embedded backend keeps in sled
-- (storage/records.rs: days, status, digests, attachments, thread).
CREATE TABLE IF NOT EXISTS cases (
    case_number text COLLATE "C" PRIMARY KEY,
    -- The mailbox id (a hash of the reporter's credential): one report per mailbox.
    mailbox bytea NOT NULL UNIQUE,
    record text NOT NULL
);

-- The report, the note to self and the thread's messages: age ciphertext.
CREATE TABLE IF NOT EXISTS ciphertexts (
    case_number text COLLATE "C" NOT NULL REFERENCES cases (case_number) ON DELETE CASCADE,
    -- 'report', 'note', or 'thread/00001' …
    name text COLLATE "C" NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (case_number, name)
);

-- What is left of a shredded case for its reporter: the days it was closed and deleted
-- (storage/records.rs, Tombstone), by mailbox id. Nothing else.
CREATE TABLE IF NOT EXISTS tombstones (
    mailbox bytea PRIMARY KEY,
    record text NOT NULL
);

-- Random secrets every instance shares (e.g. the key that MACs admission challenges).
CREATE TABLE IF NOT EXISTS secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL
);

-- Upload sessions: attachments sent before the report.
CREATE TABLE IF NOT EXISTS sessions (
    mailbox bytea PRIMARY KEY,
    -- The day it began (YYYY-MM-DD).
    created text NOT NULL
);

CREATE TABLE IF NOT EXISTS attachments (
    mailbox bytea NOT NULL REFERENCES sessions (mailbox) ON DELETE CASCADE,
    n integer NOT NULL,
    -- The object's random name (128 bits, hex).
    object text NOT NULL,
    -- The object store's multipart upload, once a part is stored, and its parts' tags.
    multipart text,
    parts text[] NOT NULL,
    -- Bytes in the parts; bytes stored in all (parts, then pieces).
    parted bigint NOT NULL,
    received bigint NOT NULL,
    -- The attachment's first bytes (the age header is checked against them).
    head bytea NOT NULL,
    -- The final size and SHA-256 (JSON), once finished.
    finished text,
    PRIMARY KEY (mailbox, n)
);

-- Chunk bytes not yet in a multipart part (less than a part, or the current chunk).
CREATE TABLE IF NOT EXISTS pieces (
    mailbox bytea NOT NULL,
    n integer NOT NULL,
    "offset" bigint NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (mailbox, n, "offset"),
    FOREIGN KEY (mailbox, n) REFERENCES attachments (mailbox, n) ON DELETE CASCADE
);

-- Objects (and multipart uploads) whose records are gone: removed from the object store
-- right after, or by the next instance that starts if that was cut short.
CREATE TABLE IF NOT EXISTS doomed (
    object text PRIMARY KEY,
    multipart text
);

-- Investigator tokens (hashes only) in creation order, and the audit log.
CREATE TABLE IF NOT EXISTS tokens (
    seq bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    record text NOT NULL
);

CREATE TABLE IF NOT EXISTS audit (
    idx bigint PRIMARY KEY,
    -- The entry as a JSON line, as in the embedded backend's audit.jsonl.
    entry text NOT NULL
);

-- Shared counters for the global budgets and admission: counts per (key, time window),
-- not tied to any case or client, dropped once their window is past. UNLOGGED: not
-- written to the WAL, so they are neither replicated nor in base backups, and a crash of
-- PostgreSQL empties them (budgets start afresh).
CREATE UNLOGGED TABLE IF NOT EXISTS counters (
    key text NOT NULL,
    win bigint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (key, win)
);

CREATE UNLOGGED TABLE IF NOT EXISTS used_once (
    id bytea PRIMARY KEY,
    until bigint NOT NULL
);
