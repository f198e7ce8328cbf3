package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

const (
	// verifiedTTL is how long a verified token is trusted without checking it again. It bounds
	// how long a token stays accepted after its signing key leaves the provider's JWKS beyond
	// the hour the set itself is trusted (jwksMaxAge); its expiry is checked at every use.
	verifiedTTL = time.Minute

	// verifiedMax is the number of tokens each generation of the cache holds: the clients of
	// the last minute or so of a busy municipality, at most a few MiB.
	verifiedMax = 4096
)

// verifiedTokens remembers the claims of the tokens verified lately. A client sends the same
// token with every request, and checking it again each time (decoding it twice, the signature,
// the claims) was about 8% of the server's CPU for a ticket read; with the RSA and ECDSA keys of
// an identity provider it costs more. Tokens are kept by their SHA-256, so the cache holds no
// credential. It is bounded by two generations of verifiedMax: when the current one is full it
// becomes the previous one, and a token found only there moves back to the current one. Only
// tokens that verified are kept; a refused token is checked again every time.
type verifiedTokens struct {
	mu        sync.Mutex
	cur, prev map[[sha256.Size]byte]verifiedToken
}

// verifiedToken is a token's claims and the moment it stops being trusted without a new check.
type verifiedToken struct {
	claims Claims
	until  time.Time
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{cur: make(map[[sha256.Size]byte]verifiedToken)}
}

// get returns a copy of the claims of the token whose hash is key, if it verified less than
// verifiedTTL before now and has not expired since.
func (v *verifiedTokens) get(key [sha256.Size]byte, now time.Time) (*Claims, bool) {
	v.mu.Lock()
	e, ok := v.cur[key]
	if !ok {
		if e, ok = v.prev[key]; ok {
			delete(v.prev, key)
			v.putLocked(key, e)
		}
	}
	v.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	c := e.claims
	c.Roles = slices.Clone(c.Roles)
	return &c, true
}

// put remembers the claims of a token verified at now, until verifiedTTL later or until it
// expires, whichever comes first. The verifier accepts a token until leeway after its expiry,
// so the cache does too.
func (v *verifiedTokens) put(key [sha256.Size]byte, c *Claims, now time.Time) {
	until := now.Add(verifiedTTL)
	if exp := c.ExpiresAt.Add(leeway); exp.Before(until) {
		until = exp
	}
	e := verifiedToken{claims: *c, until: until}
	e.claims.Roles = slices.Clone(c.Roles)
	v.mu.Lock()
	v.putLocked(key, e)
	v.mu.Unlock()
}

func (v *verifiedTokens) putLocked(key [sha256.Size]byte, e verifiedToken) {
	if len(v.cur) >= verifiedMax {
		v.prev, v.cur = v.cur, make(map[[sha256.Size]byte]verifiedToken, verifiedMax)
	}
	v.cur[key] = e
}
