-- 0002: the inbound call center (issue 3): skill groups and members, IVR
-- menus, custom statuses, number routes to an IVR or a group, the agent
-- status log, queue offers, and queue data on call records.
-- Durations are INTEGER nanoseconds (time.Duration); times as in 0001.

CREATE TABLE ivr_menus (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    prompt         TEXT    NOT NULL,
    -- {"1":{"kind":"group","target":"sales"},"9":{"kind":"repeat"}}; targets
    -- are not foreign keys so menus may point at each other (main <-> sub).
    choices        TEXT    NOT NULL,
    timeout        INTEGER NOT NULL,
    max_tries      INTEGER NOT NULL,
    on_fail_kind   TEXT    NOT NULL,
    on_fail_target TEXT    NOT NULL
);

CREATE TABLE skill_groups (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    label          TEXT    NOT NULL,
    strategy       TEXT    NOT NULL,
    ring_timeout   INTEGER NOT NULL,
    max_wait       INTEGER NOT NULL,
    overflow       TEXT    NOT NULL,
    overflow_group TEXT    REFERENCES skill_groups(name),
    acw            INTEGER NOT NULL,
    acw_duration   INTEGER NOT NULL,
    tier_widen     INTEGER NOT NULL,
    announce_every INTEGER NOT NULL,
    ivr            TEXT    REFERENCES ivr_menus(name)
);

CREATE TABLE group_members (
    group_name TEXT    NOT NULL REFERENCES skill_groups(name),
    agent      TEXT    NOT NULL REFERENCES agents(work_number),
    level      INTEGER NOT NULL,
    PRIMARY KEY (group_name, agent)
) WITHOUT ROWID;

-- GroupsOf: the groups of one agent.
CREATE INDEX group_members_agent ON group_members(agent, group_name);

CREATE TABLE custom_statuses (
    id    INTEGER PRIMARY KEY,
    name  TEXT    NOT NULL UNIQUE,
    label TEXT    NOT NULL
);

ALTER TABLE numbers ADD COLUMN route_ivr   TEXT REFERENCES ivr_menus(name);
ALTER TABLE numbers ADD COLUMN route_group TEXT REFERENCES skill_groups(name);

-- Every status change of every agent; history, so no foreign keys.
CREATE TABLE agent_status_log (
    id          INTEGER PRIMARY KEY,
    agent       TEXT    NOT NULL,
    presence    TEXT    NOT NULL,
    custom      TEXT    NOT NULL,
    phone       TEXT    NOT NULL,
    auto_answer INTEGER NOT NULL,
    activity    TEXT    NOT NULL,
    acw_until   INTEGER,
    since       INTEGER NOT NULL,
    idle_since  INTEGER
);

CREATE INDEX agent_status_log_agent_since ON agent_status_log(agent, since, id);

-- One row per offer of a queue call to an agent; history, no foreign keys.
CREATE TABLE offers (
    id            INTEGER PRIMARY KEY,
    call_id       TEXT    NOT NULL,
    agent         TEXT    NOT NULL,
    group_name    TEXT    NOT NULL,
    customer      TEXT    NOT NULL,
    center_number TEXT    NOT NULL,
    offered_at    INTEGER NOT NULL,
    ended_at      INTEGER NOT NULL,
    answered      INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    -- A retried RecordOffer never makes a second row.
    UNIQUE (call_id, agent, offered_at)
);

CREATE INDEX offers_agent_offered ON offers(agent, offered_at);

ALTER TABLE call_records ADD COLUMN group_name TEXT    NOT NULL DEFAULT '';
ALTER TABLE call_records ADD COLUMN queue_wait INTEGER NOT NULL DEFAULT 0;
ALTER TABLE call_records ADD COLUMN abandoned  INTEGER NOT NULL DEFAULT 0;

-- CallsWith (screen pop): calls from or to one customer number.
CREATE INDEX call_records_caller ON call_records(caller, started_at);
CREATE INDEX call_records_callee ON call_records(callee, started_at);
