package callcenter

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) error
		in   string
		ok   bool
	}{
		{"work number digits", ValidateWorkNumber, "1001", true},
		{"work number letters", ValidateWorkNumber, "Sup01", true},
		{"work number 16", ValidateWorkNumber, strings.Repeat("9", 16), true},
		{"work number 17", ValidateWorkNumber, strings.Repeat("9", 17), false},
		{"work number empty", ValidateWorkNumber, "", false},
		{"work number space", ValidateWorkNumber, "10 01", false},
		{"work number sip special", ValidateWorkNumber, "a@b", false},
		{"work number unicode digit", ValidateWorkNumber, "１００１", false},
		{"number national", ValidateNumber, "02161234567", true},
		{"number 400", ValidateNumber, "4008001234", true},
		{"number e164", ValidateNumber, "+8613800138000", true},
		{"number short code", ValidateNumber, "110", true},
		{"number too short", ValidateNumber, "11", false},
		{"number too long", ValidateNumber, strings.Repeat("1", 21), false},
		{"number plus only", ValidateNumber, "+", false},
		{"number inner plus", ValidateNumber, "86+138", false},
		{"number dashes", ValidateNumber, "400-800-1234", false},
		{"number empty", ValidateNumber, "", false},
		{"password ok", ValidatePassword, "demo1234", true},
		{"password short", ValidatePassword, "12345", false},
		{"password long", ValidatePassword, strings.Repeat("x", 129), false},
		{"name chinese", ValidateName, "李雷", true},
		{"name spaces inside", ValidateName, "Li Lei", true},
		{"name blank", ValidateName, "   ", false},
		{"name control", ValidateName, "Li\nLei", false},
		{"name bad utf8", ValidateName, "\xff", false},
		{"name 64 chars", ValidateName, strings.Repeat("李", 64), true},
		{"name 65 chars", ValidateName, strings.Repeat("李", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn(tt.in)
			if tt.ok && err != nil {
				t.Fatalf("%q: %v", tt.in, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: err = %v, want ErrInvalid", tt.in, err)
			}
		})
	}
}

func FuzzValidateNumber(f *testing.F) {
	for _, s := range []string{"4008001234", "+86138", "", "+", "1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateNumber(s) != nil {
			return
		}
		d := strings.TrimPrefix(s, "+")
		if len(d) < MinNumberDigits || len(d) > MaxNumberDigits || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidateWorkNumber(f *testing.F) {
	for _, s := range []string{"1001", "", "a b", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateWorkNumber(s) == nil {
			if s == "" || len(s) > MaxWorkNumberLen || strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
