package client

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/agentphone/agentphone/callcenter/api"
)

var (
	// ErrBadCredentials: wrong work number or password (the server does not
	// say which).
	ErrBadCredentials = errors.New("wrong work number or password")
	// ErrUnauthorized: no token, or the token is no longer valid (logged
	// out, taken over, expired). Log in again.
	ErrUnauthorized = errors.New("not logged in")
	// ErrDisabled: the account is disabled.
	ErrDisabled = errors.New("account disabled")
	// ErrUnreachable wraps failures to reach the server at all: connection
	// refused, DNS, timeouts, and a gateway's 502/503/504.
	ErrUnreachable = errors.New("server unreachable")
	// ErrTakeover: another login of the same agent replaced this session;
	// the event stream ends with it after delivering the takeover event.
	ErrTakeover = errors.New("session taken over by another login")
	// ErrRefused: the agent's current state does not allow the command
	// (e.g. switching answering off while a call rings); the *Error's
	// Message says which rule.
	ErrRefused = errors.New("refused in the current state")
	// ErrInvalidArgument: the call was refused before reaching the server
	// (e.g. a non-positive ExtendACW).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrForbidden: the account's role may not do this (the admin API
	// needs the admin role).
	ErrForbidden = errors.New("forbidden for this account's role")
	// ErrExists: creating something whose name or number is taken.
	ErrExists = errors.New("already exists")
	// ErrNotFound: the agent, number, group, member or endpoint does not
	// exist (also: the server lacks the feature).
	ErrNotFound = errors.New("not found")
)

// codeRefused is the server's code for ErrRefused (server.CodeRefused; the
// client does not import the server).
const codeRefused = "refused"

// Error is an error answer of the API.
type Error struct {
	Status  int    // HTTP status
	Code    string // api.Code*
	Message string // the server's message, fit for a user
}

func (e *Error) Error() string {
	return fmt.Sprintf("callcenter: %s (%d %s)", e.Message, e.Status, e.Code)
}

// Is maps the API's error codes onto this package's sentinels, so callers
// write errors.Is(err, client.ErrBadCredentials).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadCredentials:
		return e.Code == api.CodeBadCredentials
	case ErrUnauthorized:
		return e.Code == api.CodeUnauthorized
	case ErrDisabled:
		return e.Code == api.CodeDisabled
	case ErrForbidden:
		return e.Code == api.CodeForbidden
	case ErrExists:
		return e.Code == api.CodeExists
	case ErrNotFound:
		return e.Code == api.CodeNotFound
	case ErrRefused:
		return e.Status == http.StatusConflict && (e.Code == codeRefused || controlRefusal(e.Code))
	case ErrUnreachable:
		switch e.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}
