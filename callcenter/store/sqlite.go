package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentphone/agentphone/callcenter"
)

// SQLite is the embedded Store: one database file in WAL mode.
//
// It holds two connection pools on the same file. All writes go through a
// pool of exactly one connection whose transactions begin IMMEDIATE: SQLite
// admits one writer at a time anyway, and queueing writers in Go (instead of
// letting several connections race for the write lock) means a write never
// fails with SQLITE_BUSY or deadlocks upgrading a read lock, and read-then-
// write sequences (upserts, RevokeSessions) are trivially atomic. Reads use
// a separate pool of query-only connections, which WAL lets run in parallel
// with the writer and with each other, so listing call records never waits
// for a burst of call-record writes.
//
// synchronous=NORMAL: in WAL mode a committed transaction survives the
// process being killed (the commit is in the WAL, handed to the OS); only an
// OS crash or power loss can lose the last commits. That is the trade the
// server wants: a commit per call event costs tens of microseconds, not an
// fsync.
type SQLite struct {
	w    *sql.DB // one connection, all writes
	r    *sql.DB // readers; the same as w for an in-memory database
	log  *slog.Logger
	now  func() time.Time
	path string

	// The two statements written on every call, prepared once: with a
	// single writer connection they stay compiled on it.
	beginRecord, endRecord *sql.Stmt
}

var _ Store = (*SQLite)(nil)

type config struct {
	log         *slog.Logger
	now         func() time.Time
	readers     int
	busyTimeout time.Duration
}

// Option configures Open.
type Option func(*config)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock used for CreatedAt when a caller leaves it zero
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithReaders sets the number of read connections (default max(4, GOMAXPROCS)).
func WithReaders(n int) Option { return func(c *config) { c.readers = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process (or a checkpoint) before failing with SQLITE_BUSY (default 5 s).
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// memoryPath is SQLite's private in-memory database. Each connection would
// get its own, so Open uses a single connection for reads and writes.
const memoryPath = ":memory:"

// Open opens (creating if needed) the database at path, applies the embedded
// migrations and returns the store. path ":memory:" gives a private
// in-memory database for tests. A file that is not SQLite gives
// ErrNotDatabase; one migrated by a newer program gives ErrSchemaTooNew.
func Open(ctx context.Context, path string, opts ...Option) (*SQLite, error) {
	cfg := config{
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:         time.Now,
		readers:     max(4, runtime.GOMAXPROCS(0)),
		busyTimeout: 5 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" {
		return nil, fmt.Errorf("open store: %w: empty path", callcenter.ErrInvalid)
	}
	// The driver splits the DSN at the first '?', so such a path would be
	// silently truncated into another file.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open store %q: %w: path must not contain '?'", path, callcenter.ErrInvalid)
	}
	busy := strconv.FormatInt(max(cfg.busyTimeout.Milliseconds(), 0), 10)
	common := "_pragma=busy_timeout(" + busy + ")&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

	s := &SQLite{log: cfg.log, now: cfg.now, path: path}
	var err error
	s.w, err = sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	// Never recycle the writer: for ":memory:" the connection is the database.
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := connect(ctx, s.w, cfg.busyTimeout); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, openErr(err))
	}
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, openErr(err))
	}
	if s.beginRecord, err = s.w.PrepareContext(ctx, beginRecordSQL); err == nil {
		s.endRecord, err = s.w.PrepareContext(ctx, endRecordSQL)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: prepare: %w", path, err)
	}
	if path == memoryPath {
		s.r = s.w
		return s, nil
	}
	s.r, err = sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %s: readers: %w", path, err)
	}
	s.r.SetMaxOpenConns(max(cfg.readers, 1))
	s.r.SetMaxIdleConns(max(cfg.readers, 1))
	if err := connect(ctx, s.r, cfg.busyTimeout); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: readers: %w", path, openErr(err))
	}
	return s, nil
}

// connect opens the first connection of db, retrying while SQLite reports
// the file busy. Switching a new file to WAL needs an exclusive lock for
// which SQLite does not call the busy handler, so two processes creating the
// database at the same moment (the server and an admin command) would
// otherwise fail at once instead of waiting.
func connect(ctx context.Context, db *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// openErr turns SQLite's terse open failures into messages an operator can
// act on, keeping the driver's text.
func openErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w (%v)", ErrNotDatabase, err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("cannot open or create the file; is it a directory, or is its directory missing or not writable? (%w)", err)
		}
	}
	return err
}

// Close closes both pools.
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.beginRecord, s.endRecord} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	return errors.Join(append(errs, s.w.Close())...)
}

// Path returns the path the store was opened with.
func (s *SQLite) Path() string { return s.path }

// dbErr maps driver errors onto the callcenter sentinels: a missing row is
// ErrNotFound, a unique or primary key clash ErrExists, a foreign key
// failure ErrNotFound (the referenced row is missing). what says what was
// being done, e.g. `create agent "1001"`.
func dbErr(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, callcenter.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", what, callcenter.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: referenced row: %w", what, callcenter.ErrNotFound)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Times are stored as unix nanoseconds UTC, which covers the years 1678 to
// 2262; the zero time is stored as NULL.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

func checkTime(what string, t time.Time) error {
	if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
		return fmt.Errorf("%w: %s %s is out of the storable range", callcenter.ErrInvalid, what, t)
	}
	return nil
}

func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func rowsAffected(what string, res sql.Result, err error) error {
	if err != nil {
		return dbErr(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, callcenter.ErrNotFound)
	}
	return nil
}

// ---- agents

const agentCols = `id, work_number, name, role, password_hash, ha1_md5, ha1_sha256, disabled, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanAgent(sc scanner) (callcenter.Agent, error) {
	var (
		a       callcenter.Agent
		role    string
		created sql.NullInt64
	)
	if err := sc.Scan(&a.ID, &a.WorkNumber, &a.Name, &role, &a.PasswordHash, &a.HA1MD5, &a.HA1SHA256, &a.Disabled, &created); err != nil {
		return a, err
	}
	r, err := callcenter.ParseRole(role)
	if err != nil {
		return a, fmt.Errorf("agent %q: stored %w", a.WorkNumber, err)
	}
	a.Role = r
	a.CreatedAt = fromNanos(created)
	return a, nil
}

// CreateAgent implements Store.
func (s *SQLite) CreateAgent(ctx context.Context, a callcenter.Agent) (callcenter.Agent, error) {
	what := fmt.Sprintf("create agent %q", a.WorkNumber)
	if err := callcenter.ValidateWorkNumber(a.WorkNumber); err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	if a.Role.String() == "unknown" {
		return a, fmt.Errorf("%s: %w: role %d", what, callcenter.ErrInvalid, a.Role)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if err := checkTime("created at", a.CreatedAt); err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	a.CreatedAt = a.CreatedAt.UTC().Round(0)
	err := s.w.QueryRowContext(ctx, `INSERT INTO agents
		(work_number, name, role, password_hash, ha1_md5, ha1_sha256, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.WorkNumber, a.Name, a.Role.String(), a.PasswordHash, a.HA1MD5, a.HA1SHA256, a.Disabled, nanos(a.CreatedAt),
	).Scan(&a.ID)
	if err != nil {
		return a, dbErr(what, err)
	}
	return a, nil
}

// AgentByWorkNumber implements Store.
func (s *SQLite) AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error) {
	a, err := scanAgent(s.r.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE work_number = ?`, workNumber))
	if err != nil {
		return a, dbErr(fmt.Sprintf("agent %q", workNumber), err)
	}
	return a, nil
}

// ListAgents implements Store.
func (s *SQLite) ListAgents(ctx context.Context) ([]callcenter.Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY work_number`)
	if err != nil {
		return nil, dbErr("list agents", err)
	}
	defer rows.Close()
	var out []callcenter.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, dbErr("list agents", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("list agents", err)
	}
	return out, nil
}

// SetAgentDisabled implements Store.
func (s *SQLite) SetAgentDisabled(ctx context.Context, workNumber string, disabled bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE agents SET disabled = ? WHERE work_number = ?`, disabled, workNumber)
	return rowsAffected(fmt.Sprintf("set agent %q disabled=%t", workNumber, disabled), res, err)
}

// SetAgentPassword implements Store.
func (s *SQLite) SetAgentPassword(ctx context.Context, workNumber, passwordHash, ha1MD5, ha1SHA256 string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE agents SET password_hash = ?, ha1_md5 = ?, ha1_sha256 = ? WHERE work_number = ?`,
		passwordHash, ha1MD5, ha1SHA256, workNumber)
	return rowsAffected(fmt.Sprintf("set password of agent %q", workNumber), res, err)
}

// ---- numbers

const numberCols = `id, e164, name, route_ivr, route_group, route_agent, disabled`

func scanNumber(sc scanner) (callcenter.Number, error) {
	var (
		n                 callcenter.Number
		ivr, group, agent sql.NullString
	)
	err := sc.Scan(&n.ID, &n.E164, &n.Name, &ivr, &group, &agent, &n.Disabled)
	n.RouteIVR, n.RouteGroup, n.RouteAgent = ivr.String, group.String, agent.String
	return n, err
}

// CreateNumber implements Store.
func (s *SQLite) CreateNumber(ctx context.Context, n callcenter.Number) (callcenter.Number, error) {
	what := fmt.Sprintf("create number %q", n.E164)
	if err := callcenter.ValidateNumber(n.E164); err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Name the missing route target instead of SQLite's anonymous
		// foreign key failure.
		if err := routeTargetsExist(ctx, tx, n.RouteIVR, n.RouteGroup, n.RouteAgent); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO numbers (e164, name, route_ivr, route_group, route_agent, disabled)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, n.E164, n.Name,
			nullString(n.RouteIVR), nullString(n.RouteGroup), nullString(n.RouteAgent), n.Disabled).Scan(&n.ID)
	})
	if err != nil {
		return n, dbErr(what, err)
	}
	return n, nil
}

// NumberByE164 implements Store.
func (s *SQLite) NumberByE164(ctx context.Context, e164 string) (callcenter.Number, error) {
	n, err := scanNumber(s.r.QueryRowContext(ctx, `SELECT `+numberCols+` FROM numbers WHERE e164 = ?`, e164))
	if err != nil {
		return n, dbErr(fmt.Sprintf("number %q", e164), err)
	}
	return n, nil
}

// ListNumbers implements Store.
func (s *SQLite) ListNumbers(ctx context.Context) ([]callcenter.Number, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+numberCols+` FROM numbers ORDER BY e164`)
	if err != nil {
		return nil, dbErr("list numbers", err)
	}
	defer rows.Close()
	var out []callcenter.Number
	for rows.Next() {
		n, err := scanNumber(rows)
		if err != nil {
			return nil, dbErr("list numbers", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("list numbers", err)
	}
	return out, nil
}

// SetNumberDisabled implements Store.
func (s *SQLite) SetNumberDisabled(ctx context.Context, e164 string, disabled bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE numbers SET disabled = ? WHERE e164 = ?`, disabled, e164)
	return rowsAffected(fmt.Sprintf("set number %q disabled=%t", e164, disabled), res, err)
}

// ---- sessions

const sessionCols = `token_hash, work_number, device, sip_ha1_md5, sip_ha1_sha256, created_at, revoked`

func scanSession(sc scanner) (callcenter.Session, error) {
	var (
		ss      callcenter.Session
		created sql.NullInt64
	)
	err := sc.Scan(&ss.TokenHash, &ss.WorkNumber, &ss.Device, &ss.SIPHA1MD5, &ss.SIPHA1SHA256, &created, &ss.Revoked)
	ss.CreatedAt = fromNanos(created)
	return ss, err
}

func scanSessions(what string, rows *sql.Rows, err error) ([]callcenter.Session, error) {
	return scanAll(what, rows, err, scanSession)
}

// CreateSession implements Store.
func (s *SQLite) CreateSession(ctx context.Context, ss callcenter.Session) error {
	what := fmt.Sprintf("create session of agent %q", ss.WorkNumber)
	if ss.TokenHash == "" {
		return fmt.Errorf("%s: %w: empty token hash", what, callcenter.ErrInvalid)
	}
	if ss.CreatedAt.IsZero() {
		ss.CreatedAt = s.now()
	}
	if err := checkTime("created at", ss.CreatedAt); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ss.TokenHash, ss.WorkNumber, ss.Device, ss.SIPHA1MD5, ss.SIPHA1SHA256, nanos(ss.CreatedAt), ss.Revoked)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return fmt.Errorf("%s: agent: %w", what, callcenter.ErrNotFound)
	}
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// SessionByToken implements Store.
func (s *SQLite) SessionByToken(ctx context.Context, tokenHash string) (callcenter.Session, error) {
	ss, err := scanSession(s.r.QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE token_hash = ? AND revoked = 0`, tokenHash))
	if err != nil {
		// The hash is a secret equivalent for nobody, but keep it out of
		// error strings that end up in logs anyway.
		return ss, dbErr("session by token", err)
	}
	return ss, nil
}

// RevokeSessions implements Store.
func (s *SQLite) RevokeSessions(ctx context.Context, workNumber, except string) ([]callcenter.Session, error) {
	what := fmt.Sprintf("revoke sessions of agent %q", workNumber)
	rows, err := s.w.QueryContext(ctx, `UPDATE sessions SET revoked = 1
		WHERE work_number = ? AND revoked = 0 AND token_hash <> ? RETURNING `+sessionCols, workNumber, except)
	out, err := scanSessions(what, rows, err)
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b callcenter.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// LiveSessions implements Store.
func (s *SQLite) LiveSessions(ctx context.Context, workNumber string) ([]callcenter.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE work_number = ? AND revoked = 0 ORDER BY created_at, token_hash`, workNumber)
	return scanSessions(fmt.Sprintf("live sessions of agent %q", workNumber), rows, err)
}

// ---- call records

const recordCols = `call_id, type, caller, callee, agent, number, started_at, answered_at, ended_at, result, hangup_by, codec, group_name, queue_wait, abandoned, parent_id`

func scanRecord(sc scanner) (callcenter.CallRecord, error) {
	var (
		r                     callcenter.CallRecord
		typ, result, hangupBy string
		started, ans, ended   sql.NullInt64
	)
	if err := sc.Scan(&r.CallID, &typ, &r.Caller, &r.Callee, &r.Agent, &r.Number,
		&started, &ans, &ended, &result, &hangupBy, &r.Codec, &r.Group, &r.QueueWait, &r.Abandoned, &r.ParentID); err != nil {
		return r, err
	}
	r.StartedAt, r.AnsweredAt, r.EndedAt = fromNanos(started), fromNanos(ans), fromNanos(ended)
	var err error
	if r.Type, err = callcenter.ParseCallType(typ); err != nil {
		return r, fmt.Errorf("call %q: stored %w", r.CallID, err)
	}
	if r.Result, err = callcenter.ParseResult(result); err != nil {
		return r, fmt.Errorf("call %q: stored %w", r.CallID, err)
	}
	if r.HangupBy, err = callcenter.ParseParty(hangupBy); err != nil {
		return r, fmt.Errorf("call %q: stored %w", r.CallID, err)
	}
	return r, nil
}

func checkRecord(r callcenter.CallRecord) error {
	if r.CallID == "" {
		return fmt.Errorf("%w: empty call id", callcenter.ErrInvalid)
	}
	if r.StartedAt.IsZero() {
		return fmt.Errorf("%w: start time not set", callcenter.ErrInvalid)
	}
	if r.Type.String() == "unknown" {
		return fmt.Errorf("%w: call type %d", callcenter.ErrInvalid, r.Type)
	}
	if r.Result < callcenter.ResultUnknown || r.Result > callcenter.ResultInterrupted {
		return fmt.Errorf("%w: result %d", callcenter.ErrInvalid, r.Result)
	}
	if r.HangupBy < callcenter.PartyNone || r.HangupBy > callcenter.PartySystem {
		return fmt.Errorf("%w: hangup party %d", callcenter.ErrInvalid, r.HangupBy)
	}
	if r.ParentID == r.CallID {
		return fmt.Errorf("%w: call %q is its own parent", callcenter.ErrInvalid, r.CallID)
	}
	if r.QueueWait < 0 {
		return fmt.Errorf("%w: negative queue wait %s", callcenter.ErrInvalid, r.QueueWait)
	}
	for _, t := range []struct {
		what string
		t    time.Time
	}{{"started at", r.StartedAt}, {"answered at", r.AnsweredAt}, {"ended at", r.EndedAt}} {
		if err := checkTime(t.what, t.t); err != nil {
			return err
		}
	}
	return nil
}

func recordArgs(r callcenter.CallRecord) []any {
	return []any{r.CallID, r.Type.String(), r.Caller, r.Callee, r.Agent, r.Number,
		nanos(r.StartedAt), nanos(r.AnsweredAt), nanos(r.EndedAt), r.Result.String(), r.HangupBy.String(), r.Codec,
		r.Group, int64(r.QueueWait), r.Abandoned, r.ParentID}
}

// beginRecordSQL inserts a record unless its call id exists.
const beginRecordSQL = `INSERT INTO call_records (` + recordCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`

// endRecordSQL is one statement, so it is atomic whichever of Begin and End
// comes first: the row is inserted whole or completed once, never
// duplicated, and a second end changes nothing.
const endRecordSQL = `INSERT INTO call_records (` + recordCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id) DO UPDATE SET
			ended_at    = excluded.ended_at,
			result      = excluded.result,
			hangup_by   = excluded.hangup_by,
			answered_at = COALESCE(call_records.answered_at, excluded.answered_at),
			codec       = CASE WHEN call_records.codec = '' THEN excluded.codec ELSE call_records.codec END,
			group_name  = CASE WHEN call_records.group_name = '' THEN excluded.group_name ELSE call_records.group_name END,
			queue_wait  = CASE WHEN call_records.queue_wait = 0 THEN excluded.queue_wait ELSE call_records.queue_wait END,
			abandoned   = call_records.abandoned OR excluded.abandoned,
			parent_id   = CASE WHEN call_records.parent_id = '' THEN excluded.parent_id ELSE call_records.parent_id END
		WHERE call_records.ended_at IS NULL`

// BeginCallRecord implements Store.
func (s *SQLite) BeginCallRecord(ctx context.Context, r callcenter.CallRecord) error {
	what := fmt.Sprintf("begin call record %q", r.CallID)
	if err := checkRecord(r); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err := s.beginRecord.ExecContext(ctx, recordArgs(r)...)
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// EndCallRecord implements Store.
func (s *SQLite) EndCallRecord(ctx context.Context, r callcenter.CallRecord) error {
	what := fmt.Sprintf("end call record %q", r.CallID)
	if err := checkRecord(r); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.EndedAt.IsZero() {
		return fmt.Errorf("%s: %w: end time not set", what, callcenter.ErrInvalid)
	}
	_, err := s.endRecord.ExecContext(ctx, recordArgs(r)...)
	if err != nil {
		return dbErr(what, err)
	}
	return nil
}

// CallRecord implements Store.
func (s *SQLite) CallRecord(ctx context.Context, callID string) (callcenter.CallRecord, error) {
	r, err := scanRecord(s.r.QueryRowContext(ctx, `SELECT `+recordCols+` FROM call_records WHERE call_id = ?`, callID))
	if err != nil {
		return r, dbErr(fmt.Sprintf("call record %q", callID), err)
	}
	return r, nil
}

// CallRecords implements Store.
func (s *SQLite) CallRecords(ctx context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error) {
	const what = "list call records"
	if f.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: negative limit %d", what, callcenter.ErrInvalid, f.Limit)
	}
	if err := errors.Join(checkTime("since", f.Since), checkTime("until", f.Until)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var (
		where []string
		args  []any
	)
	if f.Agent != "" {
		where, args = append(where, "agent = ?"), append(args, f.Agent)
	}
	if f.ParentID != "" {
		where, args = append(where, "parent_id = ?"), append(args, f.ParentID)
	}
	if len(f.Numbers) > 0 {
		in := placeholders(len(f.Numbers))
		where = append(where, "(caller IN ("+in+") OR callee IN ("+in+"))")
		for range 2 {
			for _, n := range f.Numbers {
				args = append(args, n)
			}
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "started_at >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, f.Until.UnixNano())
	}
	q := `SELECT ` + recordCols + ` FROM call_records`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := int64(-1) // SQLite: no limit
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	q += " ORDER BY started_at DESC, call_id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbErr(what, err)
	}
	defer rows.Close()
	var out []callcenter.CallRecord
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, dbErr(what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(what, err)
	}
	return out, nil
}

// ---- crash safety

// Heartbeat implements Store.
func (s *SQLite) Heartbeat(ctx context.Context, now time.Time) error {
	if now.IsZero() {
		return fmt.Errorf("heartbeat: %w: zero time", callcenter.ErrInvalid)
	}
	if err := checkTime("heartbeat", now); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at`, now.UnixNano())
	if err != nil {
		return dbErr("heartbeat", err)
	}
	return nil
}

// RepairUnfinished implements Store.
func (s *SQLite) RepairUnfinished(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, fmt.Errorf("repair unfinished calls: %w: zero time", callcenter.ErrInvalid)
	}
	if err := checkTime("now", now); err != nil {
		return 0, fmt.Errorf("repair unfinished calls: %w", err)
	}
	// SQLite's multi-argument MAX is NULL if any argument is, hence COALESCE.
	res, err := s.w.ExecContext(ctx, `UPDATE call_records SET
			ended_at  = MAX(COALESCE((SELECT at FROM heartbeat WHERE id = 1), ?), started_at, COALESCE(answered_at, started_at)),
			result    = ?,
			hangup_by = ?
		WHERE ended_at IS NULL`,
		now.UnixNano(), callcenter.ResultInterrupted.String(), callcenter.PartySystem.String())
	if err != nil {
		return 0, dbErr("repair unfinished calls", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repair unfinished calls: %w", err)
	}
	if n > 0 {
		s.log.Warn("closed call records left open by a previous run", "count", n)
	}
	return int(n), nil
}
