-- 0003: in-call work (issue 4): call notes, scheduled callbacks, the
-- customer library, and the link from a consult or transfer leg's record
-- to the customer call it was made from. Times and enums as in 0001.

-- '' on a customer call; the customer call's id on its consult and
-- transfer legs.
ALTER TABLE call_records ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
CREATE INDEX call_records_parent ON call_records(parent_id, agent) WHERE parent_id <> '';

-- Notes are history: no foreign keys, they outlive agents and records.
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    call_id    TEXT    NOT NULL,
    customer   TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
);
-- The 10 newest notes of a customer; the notes of a call.
CREATE INDEX notes_customer ON notes(customer, created_at);
CREATE INDEX notes_call ON notes(call_id);

CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY,
    agent       TEXT    NOT NULL,
    number      TEXT    NOT NULL,
    call_id     TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    remark      TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    done_call   TEXT    NOT NULL,
    reminded_at INTEGER,
    created_at  INTEGER NOT NULL
);
-- An agent's day; the reminder and expiry loop (pending ones only); the
-- callbacks a completed call to a number fulfils.
CREATE INDEX callbacks_agent_due ON callbacks(agent, due_at);
CREATE INDEX callbacks_pending_due ON callbacks(due_at) WHERE state = 'pending';
CREATE INDEX callbacks_number ON callbacks(number, due_at);

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    company    TEXT    NOT NULL,
    tags       TEXT    NOT NULL, -- JSON array of strings
    fields     TEXT    NOT NULL, -- JSON object of strings
    owner      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX customers_owner ON customers(owner, name);

-- A customer's numbers, in their order (position 0 is the main number).
-- reversed is the number backwards, so a suffix search is an index range.
CREATE TABLE customer_numbers (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    number      TEXT    NOT NULL,
    reversed    TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, number)
) WITHOUT ROWID;
CREATE INDEX customer_numbers_number ON customer_numbers(number);
CREATE INDEX customer_numbers_reversed ON customer_numbers(reversed);
