package pstnsim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxNumberDigits is E.164's limit; anything longer is a typo, not a number.
const maxNumberDigits = 15

// ParseNumbers reads a caller number list: one number per line, blank lines
// and lines starting with # ignored, a trailing "# comment" allowed. A number
// is digits with an optional leading +; spaces and dashes inside it are
// dropped. Errors name the line so a broken file is easy to fix.
func ParseNumbers(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		n, err := normalizeNumber(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read numbers: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrNoNumbers
	}
	return out, nil
}

// LoadNumbers resolves a -from value: a path to a number list file, or, when
// no such file exists and the value looks like numbers, a comma-separated list.
func LoadNumbers(spec string) ([]string, error) {
	f, err := os.Open(spec)
	if err == nil {
		defer f.Close()
		nums, err := ParseNumbers(f)
		if err != nil {
			return nil, fmt.Errorf("number list %s: %w", spec, err)
		}
		return nums, nil
	}
	if !os.IsNotExist(err) || strings.ContainsAny(spec, "/\\") {
		return nil, fmt.Errorf("number list: %w", err)
	}
	nums, perr := ParseNumbers(strings.NewReader(strings.ReplaceAll(spec, ",", "\n")))
	if perr != nil {
		return nil, fmt.Errorf("number list %q (not a file, not a comma list): %w", spec, perr)
	}
	return nums, nil
}

func normalizeNumber(s string) (string, error) {
	var b strings.Builder
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			digits++
		case c == '+' && b.Len() == 0:
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '\t':
		default:
			return "", fmt.Errorf("%w %q", ErrBadNumber, s)
		}
	}
	if digits == 0 || digits > maxNumberDigits {
		return "", fmt.Errorf("%w %q", ErrBadNumber, s)
	}
	return b.String(), nil
}
