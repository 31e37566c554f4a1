package callcenter

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits of the validation helpers.
const (
	MaxWorkNumberLen = 16
	MinNumberDigits  = 3  // shortest service numbers (110, 120)
	MaxNumberDigits  = 20 // E.164 allows 15; leave room for national/IDD prefixes
	MinPasswordLen   = 6
	MaxPasswordLen   = 128
	MaxNameLen       = 64 // in characters
)

// ValidateWorkNumber checks a work number (工号): 1 to 16 ASCII letters or
// digits, so it is also a valid SIP user part without escaping.
func ValidateWorkNumber(s string) error {
	if s == "" {
		return fmt.Errorf("%w: work number is empty", ErrInvalid)
	}
	if len(s) > MaxWorkNumberLen {
		return fmt.Errorf("%w: work number %q is longer than %d characters", ErrInvalid, s, MaxWorkNumberLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return fmt.Errorf("%w: work number %q may only hold letters and digits", ErrInvalid, s)
		}
	}
	return nil
}

// ValidateNumber checks a telephone number: an optional leading '+' then 3 to
// 20 digits, as a carrier sends it (E.164 or national form).
func ValidateNumber(s string) error {
	digits := s
	if len(digits) > 0 && digits[0] == '+' {
		digits = digits[1:]
	}
	if len(digits) < MinNumberDigits || len(digits) > MaxNumberDigits {
		return fmt.Errorf("%w: number %q must have %d to %d digits", ErrInvalid, s, MinNumberDigits, MaxNumberDigits)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return fmt.Errorf("%w: number %q may only hold digits after an optional leading +", ErrInvalid, s)
		}
	}
	return nil
}

// ValidatePassword checks a new login password's length (6 to 128 bytes).
// Any characters are allowed.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return fmt.Errorf("%w: password must have at least %d characters", ErrInvalid, MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("%w: password must have at most %d characters", ErrInvalid, MaxPasswordLen)
	}
	return nil
}

// ValidateName checks a display name (agent or number): valid UTF-8, 1 to 64
// characters, no control characters, not only spaces.
func ValidateName(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: name is not valid UTF-8", ErrInvalid)
	}
	n, blank := 0, true
	for _, r := range s {
		n++
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: name %q holds a control character", ErrInvalid, s)
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank {
		return fmt.Errorf("%w: name is empty", ErrInvalid)
	}
	if n > MaxNameLen {
		return fmt.Errorf("%w: name is longer than %d characters", ErrInvalid, MaxNameLen)
	}
	return nil
}
