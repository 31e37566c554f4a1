// Package store persists the call center's agents, numbers, login sessions
// and call records behind one interface, Store. SQLite (pure Go, through
// modernc.org/sqlite) is the embedded default; see SQLite for its choices.
//
// Errors: a missing row is callcenter.ErrNotFound, a duplicate key is
// callcenter.ErrExists and bad input is callcenter.ErrInvalid, each wrapped
// with what was being done; test them with errors.Is.
package store

import (
	"context"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// Store is the persistence the server needs. Implementations are safe for
// concurrent use.
type Store interface {
	// CreateAgent stores a new agent and returns it with ID (and CreatedAt, if
	// zero) set. ErrExists if the work number is taken.
	CreateAgent(ctx context.Context, a callcenter.Agent) (callcenter.Agent, error)
	// AgentByWorkNumber returns the agent, ErrNotFound if none.
	AgentByWorkNumber(ctx context.Context, workNumber string) (callcenter.Agent, error)
	// ListAgents returns all agents ordered by work number.
	ListAgents(ctx context.Context) ([]callcenter.Agent, error)
	// SetAgentDisabled disables or enables an agent. ErrNotFound if none.
	SetAgentDisabled(ctx context.Context, workNumber string, disabled bool) error
	// SetAgentPassword replaces the login hash and the SIP HA1s together.
	// ErrNotFound if none.
	SetAgentPassword(ctx context.Context, workNumber, passwordHash, ha1MD5, ha1SHA256 string) error

	// CreateNumber stores a center number and returns it with ID set.
	// ErrExists if the number is taken, ErrNotFound if RouteAgent is set and
	// names no agent.
	CreateNumber(ctx context.Context, n callcenter.Number) (callcenter.Number, error)
	// NumberByE164 returns the number, ErrNotFound if none.
	NumberByE164(ctx context.Context, e164 string) (callcenter.Number, error)
	// ListNumbers returns all numbers ordered by E164.
	ListNumbers(ctx context.Context) ([]callcenter.Number, error)
	// SetNumberDisabled disables or enables a number. ErrNotFound if none.
	SetNumberDisabled(ctx context.Context, e164 string, disabled bool) error

	// CreateSession stores a login. ErrExists if the token hash is taken,
	// ErrNotFound if the agent does not exist.
	CreateSession(ctx context.Context, s callcenter.Session) error
	// SessionByToken returns a live session by token hash (see
	// callcenter.HashToken); ErrNotFound if absent or revoked.
	SessionByToken(ctx context.Context, tokenHash string) (callcenter.Session, error)
	// RevokeSessions revokes all live sessions of the agent except the one
	// whose token hash is except, and returns the ones it revoked (Revoked
	// set), oldest first. An unknown agent has no sessions: nil, nil.
	RevokeSessions(ctx context.Context, workNumber string, except string) ([]callcenter.Session, error)
	// LiveSessions returns the agent's sessions not revoked, oldest first.
	LiveSessions(ctx context.Context, workNumber string) ([]callcenter.Session, error)

	// BeginCallRecord inserts the record of a call that was answered. It is a
	// no-op when a record with the same call id exists, so retries and races
	// with EndCallRecord never make a second row.
	BeginCallRecord(ctx context.Context, r callcenter.CallRecord) error
	// EndCallRecord completes a call: it sets end, result and who hung up on
	// the existing row if it is not ended yet (also filling answered time and
	// codec if the row lacked them), or inserts the whole record when there is
	// no row (calls that ended unanswered). A second call is a no-op: the
	// first end wins. r.EndedAt must be set.
	EndCallRecord(ctx context.Context, r callcenter.CallRecord) error
	// CallRecord returns one record, ErrNotFound if none.
	CallRecord(ctx context.Context, callID string) (callcenter.CallRecord, error)
	// CallRecords returns the records matching f, newest (by start) first.
	CallRecords(ctx context.Context, f callcenter.RecordFilter) ([]callcenter.CallRecord, error)

	// Heartbeat remembers that the server was alive at now, so that after a
	// crash RepairUnfinished can date the end of calls it cut off.
	Heartbeat(ctx context.Context, now time.Time) error
	// RepairUnfinished closes every record without an end: result
	// interrupted, hung up by the system, ended at the last heartbeat (now if
	// there was none), but never before the call started or was answered. It
	// returns how many records it closed. Run it at start-up, before calls.
	RepairUnfinished(ctx context.Context, now time.Time) (int, error)

	// Close releases the database.
	Close() error
}
