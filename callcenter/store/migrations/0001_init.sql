-- 0001: agents, numbers, login sessions, call records, heartbeat.
-- Times are INTEGER unix nanoseconds UTC; NULL means "not set" (zero time).
-- Enums are stored as their String() names so the file reads well in sqlite3.

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    work_number   TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    ha1_md5       TEXT    NOT NULL,
    ha1_sha256    TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE numbers (
    id          INTEGER PRIMARY KEY,
    e164        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    -- NULL when the number routes to nobody yet.
    route_agent TEXT    REFERENCES agents(work_number),
    disabled    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash     TEXT    PRIMARY KEY,
    work_number    TEXT    NOT NULL REFERENCES agents(work_number),
    device         TEXT    NOT NULL,
    sip_ha1_md5    TEXT    NOT NULL,
    sip_ha1_sha256 TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX sessions_live ON sessions(work_number, created_at) WHERE revoked = 0;

-- No foreign key to agents: records are history and outlive their agents.
CREATE TABLE call_records (
    call_id     TEXT    PRIMARY KEY,
    type        TEXT    NOT NULL,
    caller      TEXT    NOT NULL,
    callee      TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    number      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at    INTEGER,
    result      TEXT    NOT NULL,
    hangup_by   TEXT    NOT NULL,
    codec       TEXT    NOT NULL
);

CREATE INDEX call_records_started ON call_records(started_at);
CREATE INDEX call_records_agent_started ON call_records(agent, started_at);
-- RepairUnfinished at start-up only touches open records.
CREATE INDEX call_records_open ON call_records(call_id) WHERE ended_at IS NULL;

-- One row: the last time the server said it was alive.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
