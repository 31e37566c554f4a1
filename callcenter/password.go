package callcenter

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// scrypt cost for new hashes. N=2^15, r=8, p=1 is the interactive-login
// setting from the scrypt paper and x/crypto's docs (~60 ms, 32 MiB here).
// The parameters are stored in each hash, so raising them later keeps old
// hashes verifiable.
const (
	scryptN       = 1 << 15
	scryptR       = 8
	scryptP       = 1
	scryptSaltLen = 16
	scryptKeyLen  = 32

	// Upper bounds accepted when verifying, so a corrupted or hostile hash
	// string cannot make CheckPassword allocate gigabytes or spin for minutes:
	// scrypt needs 128·N·r bytes and p times the work.
	maxScryptN   = 1 << 20
	maxScryptMem = 256 << 20
	maxScryptR   = 32
	maxScryptP   = 16
	maxScryptKey = 128
)

// hashPrefix names the algorithm in an encoded password hash.
const hashPrefix = "scrypt"

var b64 = base64.RawStdEncoding

// HashPassword returns a salted scrypt hash of pw, encoded as
// "scrypt$N$r$p$salt$hash" with salt and hash in unpadded standard base64.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, scryptSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key, err := scrypt.Key([]byte(pw), salt, scryptN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return fmt.Sprintf("%s$%d$%d$%d$%s$%s", hashPrefix, scryptN, scryptR, scryptP,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a hash made by HashPassword. A
// malformed hash never matches. The comparison is constant time.
func CheckPassword(encoded, pw string) bool {
	h, ok := parsePasswordHash(encoded)
	if !ok {
		return false
	}
	key, err := scrypt.Key([]byte(pw), h.salt, h.n, h.r, h.p, len(h.key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

type passwordHash struct {
	n, r, p   int
	salt, key []byte
}

func parsePasswordHash(s string) (passwordHash, bool) {
	var h passwordHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != hashPrefix {
		return h, false
	}
	var err error
	if h.n, err = strconv.Atoi(parts[1]); err != nil || h.n < 2 || h.n > maxScryptN || h.n&(h.n-1) != 0 {
		return h, false
	}
	if h.r, err = strconv.Atoi(parts[2]); err != nil || h.r < 1 || h.r > maxScryptR || 128*h.n*h.r > maxScryptMem {
		return h, false
	}
	if h.p, err = strconv.Atoi(parts[3]); err != nil || h.p < 1 || h.p > maxScryptP {
		return h, false
	}
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) == 0 {
		return h, false
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > maxScryptKey {
		return h, false
	}
	return h, true
}

// Digest algorithms for DigestHA1, spelled as in the SIP/HTTP "algorithm"
// parameter (RFC 7616, RFC 8760).
const (
	DigestMD5    = "MD5"
	DigestSHA256 = "SHA-256"
)

// DigestHA1 returns the lowercase hex of H(user:realm:password) for the
// digest algorithm alg ("MD5" or "SHA-256", case-insensitive), or "" for an
// algorithm it does not know, which can never match a real HA1.
func DigestHA1(alg, user, realm, password string) string {
	var h hash.Hash
	switch strings.ToUpper(alg) {
	case DigestMD5:
		h = md5.New()
	case DigestSHA256:
		h = sha256.New()
	default:
		return ""
	}
	h.Write([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil))
}

// NewSecret returns n random bytes from crypto/rand as unpadded URL-safe
// base64, for tokens and per-login SIP secrets. n below 16 is raised to 16:
// nothing shorter is a secret.
func NewSecret(n int) string {
	n = max(n, 16)
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+
	// crashes the program instead), so there is nothing to handle.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the lowercase hex SHA-256 of an API token. Only this hash
// is stored, so a leaked database does not leak live tokens; tokens are
// random and long, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
