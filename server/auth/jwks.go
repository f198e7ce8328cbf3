package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// jwksMaxBody bounds what we read from the provider: a key set is a few KiB, and a
	// misbehaving or hostile endpoint must not make us buffer an unbounded body.
	jwksMaxBody = 1 << 20

	// jwksRefetchInterval is the least time between two fetches. Tokens choose their kid, so
	// without it anyone could make every request of ours hit the provider.
	jwksRefetchInterval = 30 * time.Second

	// jwksMaxAge is how long a fetched set is trusted before the next lookup refreshes it, so a
	// key the provider withdrew (rotated out or compromised) stops verifying tokens without a
	// restart. A failed refresh keeps the old set: the provider being down must not lock
	// everybody out.
	jwksMaxAge = time.Hour

	// RSA moduli outside this range are refused: shorter ones are breakable, and much longer ones
	// only make verification expensive.
	rsaMinBits = 2048
	rsaMaxBits = 8192
)

// errUnknownKey is a token whose kid is not in the provider's key set, even after a refetch.
var errUnknownKey = errors.New("unknown signing key")

// publicKey is one usable signature key of the provider.
type publicKey struct {
	alg string // the key's "alg", if the provider pinned one; empty allows any fitting algorithm
	key crypto.PublicKey
}

// jwk is the subset of RFC 7517 members we read.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// keySet caches the provider's JWKS in memory and fetches it lazily, on the first lookup and
// when a token names a kid we do not know.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	// sem lets one goroutine fetch at a time; the others wait and then find its result. It is a
	// channel rather than a mutex so that waiting gives up when the caller's context ends.
	sem chan struct{}

	mu        sync.Mutex
	keys      map[string]publicKey // nil until the first successful fetch
	fetchedAt time.Time            // of the current keys
	triedAt   time.Time            // last attempt that counts against jwksRefetchInterval
}

func newKeySet(url string, client *http.Client, now func() time.Time) *keySet {
	return &keySet{url: url, client: client, now: now, sem: make(chan struct{}, 1)}
}

// cached returns the key for kid, whether it was found, and whether the set is recent enough to
// use without trying a refresh.
func (s *keySet) cached(kid string) (publicKey, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[kid]
	fresh := s.keys != nil && s.now().Sub(s.fetchedAt) < jwksMaxAge
	return k, ok, fresh
}

// lookup returns the key for kid, fetching the key set when kid is unknown or the set is old,
// at most once per jwksRefetchInterval. It returns errUnknownKey when the provider does not
// have the key, and an error wrapping ErrKeysUnavailable when we could not find out.
func (s *keySet) lookup(ctx context.Context, kid string) (publicKey, error) {
	if k, ok, fresh := s.cached(kid); ok && fresh {
		return k, nil
	}

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return publicKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
	defer func() { <-s.sem }()

	// Another goroutine may have fetched while we waited for sem.
	k, ok, fresh := s.cached(kid)
	if ok && fresh {
		return k, nil
	}
	s.mu.Lock()
	triedAt, haveKeys := s.triedAt, s.keys != nil
	s.mu.Unlock()

	if !triedAt.IsZero() && s.now().Sub(triedAt) < jwksRefetchInterval {
		switch {
		case ok: // old but the best we have
			return k, nil
		case haveKeys:
			return publicKey{}, errUnknownKey
		default:
			return publicKey{}, fmt.Errorf("%w: the last fetch failed less than %v ago", ErrKeysUnavailable, jwksRefetchInterval)
		}
	}

	started := s.now()
	err := s.fetch(ctx)
	// A fetch cut short by the caller going away says nothing about the provider, so it does not
	// hold back the next caller for the whole interval.
	if err == nil || ctx.Err() == nil {
		s.mu.Lock()
		s.triedAt = started
		s.mu.Unlock()
	}
	if err != nil {
		if ok {
			return k, nil
		}
		return publicKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}

	if k, ok, _ := s.cached(kid); ok {
		return k, nil
	}
	return publicKey{}, errUnknownKey
}

// fetch downloads and parses the key set and, only when that fully succeeds, replaces the cached
// one: a provider answering 500 or garbage must not wipe keys that still work.
func (s *keySet) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("building JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching JWKS: provider answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBody+1))
	if err != nil {
		return fmt.Errorf("reading JWKS: %w", err)
	}
	if len(body) > jwksMaxBody {
		return fmt.Errorf("reading JWKS: body larger than %d bytes", jwksMaxBody)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.keys = keys
	s.fetchedAt = s.now()
	s.mu.Unlock()
	return nil
}

// parseJWKS returns the signature keys of a JWK set by kid. Keys we cannot use (encryption keys,
// other key types or curves, no kid) are skipped rather than failing the set, since providers
// publish such keys alongside ours; a set left with no usable key is an error, so it never
// replaces a good one.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	var skipped []string
	for i, j := range set.Keys {
		if j.Kid == "" || (j.Use != "" && j.Use != "sig") {
			continue
		}
		if _, dup := keys[j.Kid]; dup {
			continue
		}
		var (
			key crypto.PublicKey
			err error
		)
		switch j.Kty {
		case "RSA":
			key, err = parseRSA(j)
		case "EC":
			key, err = parseEC(j)
		default:
			continue
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		keys[j.Kid] = publicKey{alg: j.Alg, key: key}
	}
	if len(keys) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("JWKS has no usable signature key (%s)", strings.Join(skipped, "; "))
		}
		return nil, errors.New("JWKS has no usable signature key")
	}
	return keys, nil
}

func parseRSA(j jwk) (*rsa.PublicKey, error) {
	n, err := decodeB64(j.N)
	if err != nil || len(n) == 0 {
		return nil, errors.New(`bad RSA "n"`)
	}
	e, err := decodeB64(j.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New(`bad RSA "e"`)
	}
	var exp uint64
	for _, b := range e {
		exp = exp<<8 | uint64(b)
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New(`bad RSA "e"`)
	}
	mod := new(big.Int).SetBytes(n)
	if bits := mod.BitLen(); bits < rsaMinBits || bits > rsaMaxBits {
		return nil, fmt.Errorf("RSA modulus of %d bits is outside %d-%d", bits, rsaMinBits, rsaMaxBits)
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, nil
}

func parseEC(j jwk) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch j.Crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	default:
		return nil, fmt.Errorf("unsupported curve %q", j.Crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, errX := decodeB64(j.X)
	y, errY := decodeB64(j.Y)
	// RFC 7518 6.2.1.2 requires the full coordinate length, which also rules out ambiguity.
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, errors.New(`bad EC "x" or "y"`)
	}
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4) // SEC 1 uncompressed form
	point = append(point, x...)
	point = append(point, y...)
	// ParseUncompressedPublicKey also checks the point is on the curve, which matters: an
	// off-curve point is the basis of invalid-curve attacks.
	key, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("bad EC point: %w", err)
	}
	return key, nil
}

// decodeB64 decodes base64url, with or without padding: RFC 7515 says without, but some
// providers pad.
func decodeB64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// keyFits reports whether key can verify a token signed with alg. The parser's method list
// already refuses foreign algorithms; this also refuses an RSA key for ES256 or a P-384 key for
// ES256, and honours a provider's pinned "alg".
func keyFits(alg string, k publicKey) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		_, ok := k.key.(*rsa.PublicKey)
		return ok
	case "ES256", "ES384":
		ec, ok := k.key.(*ecdsa.PublicKey)
		want := "P-256"
		if alg == "ES384" {
			want = "P-384"
		}
		return ok && ec.Curve.Params().Name == want
	default:
		return false
	}
}
