package callcenter

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
)

func cheapKey(t *testing.T, pw, salt string) string {
	t.Helper()
	k, err := scrypt.Key([]byte(pw), []byte(salt), 16, 1, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(k)
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("demo1234")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "scrypt$32768$8$1$") {
		t.Fatalf("hash %q does not carry its parameters", h)
	}
	if !CheckPassword(h, "demo1234") {
		t.Fatal("CheckPassword rejects the right password")
	}
	for _, wrong := range []string{"", "demo123", "demo12345", "Demo1234"} {
		if CheckPassword(h, wrong) {
			t.Errorf("CheckPassword accepts %q", wrong)
		}
	}
	h2, _ := HashPassword("demo1234")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

// A hash made with other (cheaper) parameters still verifies: parameters
// come from the hash, not from constants.
func TestCheckPasswordReadsParameters(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("saltsalt"))
	key := cheapKey(t, "pw", "saltsalt")
	h := fmt.Sprintf("scrypt$16$1$1$%s$%s", salt, key)
	if !CheckPassword(h, "pw") || CheckPassword(h, "px") {
		t.Fatalf("CheckPassword with N=16 hash %q", h)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, _ := HashPassword("pw1234")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"", "pw1234", "bcrypt$1$2$3$4$5",
		strings.Join(append([]string{"scrypt", "3"}, parts[2:]...), "$"),          // N not a power of 2
		strings.Join(append([]string{"scrypt", "1048576000"}, parts[2:]...), "$"), // N huge
		strings.Join(append(parts[:2:2], "0", parts[3], parts[4], parts[5]), "$"), // r = 0
		strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),                    // bad salt
		strings.Join(append(parts[:5:5], "c2hvcnQ"), "$"),                         // key too short
		good + "$extra",
	} {
		if CheckPassword(h, "pw1234") {
			t.Errorf("CheckPassword(%q) accepted a malformed hash", h)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("scrypt$16$1$1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "pw")
	f.Add("scrypt$$$$$", "")
	f.Fuzz(func(t *testing.T, h, pw string) {
		// Must never panic, and never accept a hash it cannot parse.
		if CheckPassword(h, pw) {
			if _, ok := parsePasswordHash(h); !ok {
				t.Fatalf("accepted unparsable %q", h)
			}
		}
	})
}

// RFC 7616 §3.9.1: user Mufasa, realm http-auth@example.org, password
// "Circle of Life"; the RFC gives the final responses, which are checked
// here through the HA1.
func TestDigestHA1RFC7616(t *testing.T) {
	const (
		user, realm, pw = "Mufasa", "http-auth@example.org", "Circle of Life"
		nonce           = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce          = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
		nc, qop         = "00000001", "auth"
		method, uri     = "GET", "/dir/index.html"
	)
	tests := []struct {
		alg      string
		h        func() hash.Hash
		response string
	}{
		{"MD5", md5.New, "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", sha256.New, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"sha-256", sha256.New, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			H := func(s string) string { h := tt.h(); h.Write([]byte(s)); return hex.EncodeToString(h.Sum(nil)) }
			ha1 := DigestHA1(tt.alg, user, realm, pw)
			got := H(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + H(method+":"+uri))
			if got != tt.response {
				t.Fatalf("response via HA1 %s = %s, want %s", ha1, got, tt.response)
			}
		})
	}
}

func TestDigestHA1(t *testing.T) {
	// RFC 2617 §3.5 example's well-known HA1.
	if got := DigestHA1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Fatalf("RFC 2617 HA1 = %s", got)
	}
	if got := DigestHA1("SHA-512-256", "u", "r", "p"); got != "" {
		t.Fatalf("unknown algorithm gave %q, want empty", got)
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{-1, 0, 16, 32} {
		s := NewSecret(n)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("NewSecret(%d) = %q is not URL-safe base64: %v", n, s, err)
		}
		if len(b) != max(n, 16) {
			t.Fatalf("NewSecret(%d) has %d bytes", n, len(b))
		}
		if seen[s] {
			t.Fatalf("NewSecret repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHashToken(t *testing.T) {
	// sha256("abc"), FIPS 180-2 example.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashToken(abc) = %s", got)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("demo1234"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDigestHA1(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		DigestHA1(DigestSHA256, "1001", "agentphone", "demo1234")
	}
}
