package callcenter

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned when an agent, number or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when creating something that already exists.
	ErrExists = errors.New("already exists")
	// ErrBadCredentials is returned for a wrong password or an unknown user:
	// the two are deliberately indistinguishable.
	ErrBadCredentials = errors.New("wrong work number or password")
	// ErrDisabled is returned when a disabled agent tries to log in.
	ErrDisabled = errors.New("account disabled")
	// ErrInvalid is returned for input that breaks a rule (empty work number...).
	ErrInvalid = errors.New("invalid input")
)

// ParseError reports a string that does not name a known enum value.
type ParseError struct {
	Kind  string
	Value string
}

func (e *ParseError) Error() string { return fmt.Sprintf("unknown %s %q", e.Kind, e.Value) }

// Is makes errors.Is(err, ErrInvalid) true for parse errors.
func (e *ParseError) Is(target error) bool { return target == ErrInvalid }
