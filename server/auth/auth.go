// Package auth verifies the bearer tokens of the API: HS256 development tokens signed with a
// shared secret, and tokens of an OpenID Connect provider (the SPID/CIE gateway or the staff
// identity provider) checked against its published keys (JWKS).
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sportello/sportello"
)

const (
	devIssuer   = "sportello-dev"
	devAudience = "sportello"

	// leeway absorbs clock skew between us and the provider on exp and nbf.
	leeway = 60 * time.Second

	// minDevSecret is the HS256 key length below which brute-forcing the secret from one token
	// becomes realistic (RFC 7518 3.2 asks for at least the hash size).
	minDevSecret = 32

	// maxTokenLen refuses absurd headers before any decoding work; real tokens are a few KiB.
	maxTokenLen = 16 << 10
)

var (
	// Each path accepts only its own algorithms, so a token cannot choose how it is checked:
	// this is what stops an HS256 token "signed" with the provider's public RSA key.
	devMethods  = []string{"HS256"}
	oidcMethods = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
)

// ErrInvalidToken is returned, wrapped with a short reason, for every token that must be refused:
// malformed, badly signed, expired, for another audience or issuer, without a subject. The
// message of the wrapping error is safe to show to the client: it never holds key material or
// any part of the token.
var ErrInvalidToken = errors.New("invalid token")

// ErrKeysUnavailable is returned, wrapped, when an OpenID Connect token could not be checked
// because the provider's keys could not be fetched (network error, non-200 answer, bad JSON).
// It is our failure, not the caller's: report it as an internal or unavailable error and log
// it, but do not show its message, which may name the provider's URL.
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// Config selects how tokens are verified. At least one of DevSecret and the OpenID Connect
// settings must be given; both may be.
type Config struct {
	// DevSecret is the HS256 secret of development tokens (see MintDev), at least 32 bytes.
	// Empty disables development tokens.
	DevSecret string

	// Issuer, Audience and JWKSURL configure the OpenID Connect provider: its exact "iss", the
	// "aud" our tokens carry, and where its keys are published. Give all three or none.
	// JWKSURL must be https, except on a loopback host.
	Issuer, Audience, JWKSURL string

	// HTTPClient fetches the JWKS. Nil means a client with a 10 s timeout.
	HTTPClient *http.Client

	// Now is the clock, for tests. Nil means time.Now.
	Now func() time.Time
}

// Claims is what a verified token says about its bearer.
type Claims struct {
	Subject string
	Roles   []sportello.Role // unknown role strings are dropped
	Tenant  string           // tenant slug from claim "tenant"; may be empty

	GivenName, FamilyName string
	FiscalCode            string // upper-case, without the "TINIT-" prefix of SPID
	Email                 string

	ExpiresAt time.Time
	// SignedInAt is when the person authenticated: the claim auth_time, or iat when the token
	// has none; zero when it has neither. Refreshed tokens keep the auth_time of the sign-in.
	SignedInAt time.Time
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	devSecret []byte      // nil when development tokens are disabled
	dev       *jwt.Parser // nil when development tokens are disabled
	issuer    string
	oidc      *jwt.Parser // nil when no provider is configured
	keys      *keySet
	verified  *verifiedTokens
	now       func() time.Time
}

// NewVerifier returns a verifier for cfg. It returns an error when neither DevSecret nor the full
// OpenID Connect configuration is given, when only part of Issuer, Audience and JWKSURL is given,
// when DevSecret is shorter than 32 bytes, when JWKSURL is not an https URL (http is allowed on
// loopback hosts only), or when Issuer is the development issuer "sportello-dev". No network
// request is made: the JWKS is fetched on the first token that needs it.
func NewVerifier(cfg Config) (*Verifier, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := &Verifier{verified: newVerifiedTokens(), now: now}

	if cfg.DevSecret != "" {
		if len(cfg.DevSecret) < minDevSecret {
			return nil, fmt.Errorf("auth: the development secret must be at least %d bytes", minDevSecret)
		}
		v.devSecret = []byte(cfg.DevSecret)
		v.dev = newParser(devMethods, devIssuer, devAudience, now)
	}

	set := 0
	for _, s := range []string{cfg.Issuer, cfg.Audience, cfg.JWKSURL} {
		if s != "" {
			set++
		}
	}
	switch set {
	case 0:
		if v.dev == nil {
			return nil, errors.New("auth: configure a development secret or an OpenID Connect provider (issuer, audience and JWKS URL)")
		}
	case 3:
		if cfg.Issuer == devIssuer {
			return nil, fmt.Errorf("auth: the OpenID Connect issuer cannot be %q, which is reserved for development tokens", devIssuer)
		}
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		v.issuer = cfg.Issuer
		v.oidc = newParser(oidcMethods, cfg.Issuer, cfg.Audience, now)
		v.keys = newKeySet(cfg.JWKSURL, client, now)
	default:
		return nil, errors.New("auth: the OpenID Connect issuer, audience and JWKS URL must be given together")
	}
	return v, nil
}

func newParser(methods []string, issuer, audience string, now func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
}

// checkJWKSURL refuses plain http outside loopback: whoever can tamper with the JWKS response
// can sign in as anyone.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("auth: the JWKS URL must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("auth: the JWKS URL must be an https URL (http only on a loopback host)")
}

// Verify checks token and returns its claims. It returns an error wrapping ErrInvalidToken, with a
// short reason a client may read, when the token must be refused; and an error wrapping
// ErrKeysUnavailable when the provider's keys could not be fetched to decide. ctx bounds the
// JWKS fetch, if one is needed. A token that verified less than a minute ago is not checked
// again, except for its expiry (see verifiedTokens).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	switch {
	case token == "":
		return nil, invalid("empty")
	case len(token) > maxTokenLen:
		return nil, invalid("too long")
	}
	key := sha256.Sum256([]byte(token))
	if c, ok := v.verified.get(key, v.now()); ok {
		return c, nil
	}

	// The issuer decides which keys and algorithms apply, so it is read before anything is
	// verified; nothing from this unverified parse is trusted beyond choosing the path.
	unverified, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return nil, reason(err)
	}
	iss, _ := unverified.Claims.(jwt.MapClaims)["iss"].(string)
	alg, _ := unverified.Header["alg"].(string)

	var (
		parser  *jwt.Parser
		keyFunc jwt.Keyfunc
		methods []string
	)
	switch {
	case iss == devIssuer:
		if v.dev == nil {
			return nil, invalid("development tokens are disabled")
		}
		parser, methods = v.dev, devMethods
		keyFunc = func(*jwt.Token) (any, error) { return v.devSecret, nil }
	case v.oidc != nil && iss == v.issuer:
		parser, methods = v.oidc, oidcMethods
		keyFunc = func(t *jwt.Token) (any, error) { return v.oidcKey(ctx, t) }
	default:
		return nil, invalid("unknown issuer")
	}
	// The parser checks this too; doing it first gives the client a precise reason.
	if !slices.Contains(methods, alg) {
		return nil, invalid("algorithm not allowed")
	}

	claims := jwt.MapClaims{}
	if _, err := parser.ParseWithClaims(token, claims, keyFunc); err != nil {
		return nil, reason(err)
	}
	c, err := mapClaims(claims)
	if err != nil {
		return nil, err
	}
	v.verified.put(key, c, v.now())
	return c, nil
}

// oidcKey finds the provider key that signed t.
func (v *Verifier) oidcKey(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errMissingKid
	}
	k, err := v.keys.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !keyFits(t.Method.Alg(), k) {
		return nil, errKeyMismatch
	}
	return k.key, nil
}

var (
	errMissingKid  = errors.New("missing key id")
	errKeyMismatch = errors.New("algorithm does not match the signing key")
)

func invalid(why string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, why) }

// reason turns a jwt error into ErrInvalidToken with a fixed reason: the library's messages can
// quote header values, which are the client's own input and not ours to echo.
func reason(err error) error {
	// First, because the library wraps keyfunc errors in ErrTokenUnverifiable too.
	if errors.Is(err, ErrKeysUnavailable) {
		return fmt.Errorf("auth: %w", err)
	}
	for _, r := range []struct {
		err error
		why string
	}{
		{errMissingKid, "missing key id"},
		{errUnknownKey, "unknown signing key"},
		{errKeyMismatch, "algorithm does not match the signing key"},
		{jwt.ErrTokenMalformed, "malformed"},
		{jwt.ErrTokenSignatureInvalid, "bad signature"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not valid yet"},
		{jwt.ErrTokenRequiredClaimMissing, "missing expiry"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
		{jwt.ErrInvalidType, "malformed claims"},
		{jwt.ErrTokenUnverifiable, "unsupported algorithm"},
	} {
		if errors.Is(err, r.err) {
			return invalid(r.why)
		}
	}
	return invalid("rejected")
}

// mapClaims reads the verified claims. A mapped claim of the wrong JSON type refuses the token
// rather than being ignored, since it means the issuer and we disagree about what it says.
func mapClaims(m jwt.MapClaims) (*Claims, error) {
	var c Claims
	var err error
	str := func(name string) string {
		s, e := stringClaim(m, name)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	c.Subject = str("sub")
	c.Tenant = str("tenant")
	c.GivenName = str("given_name")
	c.FamilyName = str("family_name")
	c.Email = str("email")
	fiscal := str("fiscal_number")
	if fiscal == "" {
		fiscal = str("fiscalNumber")
	}
	if err != nil {
		return nil, err
	}
	if c.Subject == "" {
		return nil, invalid("missing subject")
	}
	c.FiscalCode = normalizeFiscal(fiscal)

	if c.Roles, err = rolesClaim(m["roles"]); err != nil {
		return nil, err
	}
	exp, err := m.GetExpirationTime()
	if err != nil || exp == nil { // cannot happen after WithExpirationRequired; kept for safety
		return nil, invalid("missing expiry")
	}
	c.ExpiresAt = exp.Time
	if c.SignedInAt, err = signedInAt(m); err != nil {
		return nil, err
	}
	return &c, nil
}

// signedInAt reads when the person authenticated: auth_time, or iat when the token has none.
func signedInAt(m jwt.MapClaims) (time.Time, error) {
	for _, name := range []string{"auth_time", "iat"} {
		switch v := m[name].(type) {
		case nil:
			continue
		case float64:
			return time.Unix(int64(v), 0), nil
		case json.Number:
			n, err := v.Float64()
			if err != nil {
				return time.Time{}, invalid("malformed claims")
			}
			return time.Unix(int64(n), 0), nil
		default:
			return time.Time{}, invalid("malformed claims")
		}
	}
	return time.Time{}, nil
}

func stringClaim(m jwt.MapClaims, name string) (string, error) {
	switch v := m[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", invalid("malformed claims")
	}
}

// rolesClaim accepts an array of strings or, as some providers send a single role, one string.
// Unknown roles are dropped rather than refusing the token, so that a provider shared with
// other applications can carry their roles too.
func rolesClaim(v any) ([]sportello.Role, error) {
	var names []string
	switch v := v.(type) {
	case nil:
	case string:
		names = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, invalid("malformed claims")
			}
			names = append(names, s)
		}
	default:
		return nil, invalid("malformed claims")
	}
	var roles []sportello.Role
	for _, n := range names {
		if r := sportello.Role(n); r.Valid() && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// normalizeFiscal strips the "TINIT-" prefix (TIN, Italy) that SPID gateways put on the fiscal
// number. The code is not validated here: the profile code checks it with
// sportello.NormalizeFiscalCode when it stores it.
func normalizeFiscal(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.TrimPrefix(s, "TINIT-")
}

// MintDev returns an HS256 development token for c, valid for ttl from now, with iss
// "sportello-dev", aud "sportello", sub, roles, tenant, given_name, family_name, fiscal_number,
// email, iat and exp (empty optional claims are left out; c.ExpiresAt is ignored). Roles are
// written as given, unknown ones included, as a provider would. It returns an error when secret
// is shorter than 32 bytes, c.Subject is empty or ttl is not positive.
func MintDev(secret string, c Claims, ttl time.Duration) (string, error) {
	switch {
	case len(secret) < minDevSecret:
		return "", fmt.Errorf("auth: the development secret must be at least %d bytes", minDevSecret)
	case c.Subject == "":
		return "", errors.New("auth: a development token needs a subject")
	case ttl <= 0:
		return "", errors.New("auth: a development token needs a positive lifetime")
	}
	now := time.Now()
	roles := make([]string, 0, len(c.Roles))
	for _, r := range c.Roles {
		roles = append(roles, string(r))
	}
	m := jwt.MapClaims{
		"iss":   devIssuer,
		"aud":   devAudience,
		"sub":   c.Subject,
		"roles": roles,
		"iat":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
	}
	for name, val := range map[string]string{
		"tenant":        c.Tenant,
		"given_name":    c.GivenName,
		"family_name":   c.FamilyName,
		"fiscal_number": c.FiscalCode,
		"email":         c.Email,
	} {
		if val != "" {
			m[name] = val
		}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, m).SignedString([]byte(secret))
}
