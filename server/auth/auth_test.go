package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sportello/sportello"
)

const (
	testIssuer   = "https://login.example.it/realms/comune"
	testAudience = "sportello-api"
	testSecret   = "0123456789abcdef0123456789abcdef" // 32 bytes
)

// clock is a settable time source, so tests move past the JWKS refetch interval without
// sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// provider is an OpenID Connect provider's JWKS endpoint, with an RSA key "rsa-1" and an EC P-256
// key "ec-1", that counts the requests it gets.
type provider struct {
	srv      *httptest.Server
	requests atomic.Int32
	rsa      *rsa.PrivateKey
	ec       *ecdsa.PrivateKey

	mu     sync.Mutex
	keys   []jwk
	status int    // 0 means 200
	body   []byte // served instead of keys when non-nil
}

func newProvider(t testing.TB) *provider {
	t.Helper()
	p := &provider{rsa: newRSAKey(t), ec: newECKey(t, elliptic.P256())}
	p.keys = []jwk{rsaJWK("rsa-1", &p.rsa.PublicKey), ecJWK(t, "ec-1", &p.ec.PublicKey)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		status, body := p.status, p.body
		if body == nil {
			var err error
			body, err = json.Marshal(map[string]any{"keys": p.keys})
			if err != nil {
				panic(err)
			}
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status != 0 {
			w.WriteHeader(status)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) addKey(k jwk) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, k)
}

// fail makes the endpoint answer status with body (nil body: the key set); status 0 restores 200.
func (p *provider) fail(status int, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.body = status, body
}

func (p *provider) config(clk *clock) Config {
	return Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: p.srv.URL, Now: clk.Now}
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) jwk {
	return jwk{Kty: "RSA", Kid: kid, Use: "sig", N: b64(k.N.Bytes()), E: b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(t testing.TB, kid string, k *ecdsa.PublicKey) jwk {
	t.Helper()
	point, err := k.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	size := (len(point) - 1) / 2
	return jwk{Kty: "EC", Kid: kid, Crv: k.Curve.Params().Name, X: b64(point[1 : 1+size]), Y: b64(point[1+size:])}
}

// claimsAt returns valid provider claims for a token issued at now, changed by edit.
func claimsAt(now time.Time, edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":   testIssuer,
		"aud":   testAudience,
		"sub":   "user-42",
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"roles": []string{"OPERATOR"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// sign signs claims with method and key, putting kid in the header unless it is empty.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// checkRejected fails unless err is ErrInvalidToken with exactly the reason want, and leaks
// nothing of the token.
func checkRejected(t *testing.T, err error, want, token string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("error = %v, want ErrInvalidToken", err)
	}
	if got := err.Error(); got != "invalid token: "+want {
		t.Errorf("error = %q, want %q", got, "invalid token: "+want)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) > 8 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q echoes the token", err)
		}
	}
}

func TestVerifyOIDCToken(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	now := clk.Now()

	rsaPub, err := x509.MarshalPKIXPublicKey(&p.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})
	other := newRSAKey(t)

	tests := []struct {
		name    string
		token   func(t *testing.T) string
		wantErr string // reason after "invalid token: "; empty for a valid token
		want    *Claims
	}{
		{
			name: "valid RSA token maps its claims",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) {
					c["roles"] = []string{"OPERATOR", "MANAGER", "OPERATOR", "realm-admin"}
					c["tenant"] = "comune-di-prova"
					c["given_name"] = "Mario"
					c["family_name"] = "Rossi"
					c["email"] = "mario.rossi@example.it"
					c["fiscal_number"] = "TINIT-RSSMRA85T10A562S"
				}))
			},
			want: &Claims{
				Subject: "user-42", Roles: []sportello.Role{sportello.RoleOperator, sportello.RoleManager},
				Tenant: "comune-di-prova", GivenName: "Mario", FamilyName: "Rossi", Email: "mario.rossi@example.it",
				FiscalCode: "RSSMRA85T10A562S", ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0),
			},
		},
		{
			name: "valid EC token",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(now, nil))
			},
			want: &Claims{Subject: "user-42", Roles: []sportello.Role{sportello.RoleOperator}, ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0)},
		},
		{
			name: "valid RSA-PSS token",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodPS256, p.rsa, "rsa-1", claimsAt(now, nil))
			},
		},
		{
			name: "a single role string is one role",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["roles"] = "CITIZEN" }))
			},
			want: &Claims{Subject: "user-42", Roles: []sportello.Role{sportello.RoleCitizen}, ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0)},
		},
		{
			name: "expired within the leeway is accepted",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["exp"] = now.Add(-30 * time.Second).Unix() }))
			},
		},
		{
			name: "expired",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))
			},
			wantErr: "expired",
		},
		{
			name: "not yet valid within the leeway is accepted",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["nbf"] = now.Add(30 * time.Second).Unix() }))
			},
		},
		{
			name: "not yet valid beyond the leeway",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }))
			},
			wantErr: "not valid yet",
		},
		{
			name: "wrong audience",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["aud"] = "another-app" }))
			},
			wantErr: "wrong audience",
		},
		{
			name: "audience with a prefix of ours is not ours",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["aud"] = []string{testAudience + "-x"} }))
			},
			wantErr: "wrong audience",
		},
		{
			name: "wrong issuer",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["iss"] = testIssuer + "/evil" }))
			},
			wantErr: "unknown issuer",
		},
		{
			name: "missing subject",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { delete(c, "sub") }))
			},
			wantErr: "missing subject",
		},
		{
			name: "missing expiry",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { delete(c, "exp") }))
			},
			wantErr: "missing expiry",
		},
		{
			name: "non-string tenant",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, func(c jwt.MapClaims) { c["tenant"] = 7 }))
			},
			wantErr: "malformed claims",
		},
		{
			name: "alg none",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", claimsAt(now, nil))
			},
			wantErr: "algorithm not allowed",
		},
		{
			name: "HS256 signed with the RSA public key as secret",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, rsaPEM, "rsa-1", claimsAt(now, nil))
			},
			wantErr: "algorithm not allowed",
		},
		{
			name: "HS256 signed with the RSA public key DER as secret",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, rsaPub, "rsa-1", claimsAt(now, nil))
			},
			wantErr: "algorithm not allowed",
		},
		{
			name: "RS256 header naming the EC key",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "ec-1", claimsAt(now, nil))
			},
			wantErr: "algorithm does not match the signing key",
		},
		{
			name: "signed by another RSA key under our kid",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, other, "rsa-1", claimsAt(now, nil))
			},
			wantErr: "bad signature",
		},
		{
			name: "tampered claims",
			token: func(t *testing.T) string {
				tok := sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(now, nil))
				parts := strings.Split(tok, ".")
				body, _ := json.Marshal(claimsAt(now, func(c jwt.MapClaims) { c["roles"] = []string{"ADMIN"} }))
				parts[1] = b64(body)
				return strings.Join(parts, ".")
			},
			wantErr: "bad signature",
		},
		{
			name: "missing kid",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "", claimsAt(now, nil))
			},
			wantErr: "missing key id",
		},
		{
			name: "unknown kid",
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, other, "nobody", claimsAt(now, nil))
			},
			wantErr: "unknown signing key",
		},
		{
			name:    "not a JWT",
			token:   func(*testing.T) string { return "not.a.jwt" },
			wantErr: "malformed",
		},
		{
			name:    "empty",
			token:   func(*testing.T) string { return "" },
			wantErr: "empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, p.config(clk))
			token := tt.token(t)
			got, err := v.Verify(context.Background(), token)
			if tt.wantErr != "" {
				checkRejected(t, err, tt.wantErr, token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.want != nil {
				checkClaims(t, got, tt.want)
			}
		})
	}
}

func checkClaims(t *testing.T, got, want *Claims) {
	t.Helper()
	if !slices.Equal(got.Roles, want.Roles) {
		t.Errorf("Roles = %v, want %v", got.Roles, want.Roles)
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	for _, f := range []struct{ name, got, want string }{
		{"Subject", got.Subject, want.Subject},
		{"Tenant", got.Tenant, want.Tenant},
		{"GivenName", got.GivenName, want.GivenName},
		{"FamilyName", got.FamilyName, want.FamilyName},
		{"FiscalCode", got.FiscalCode, want.FiscalCode},
		{"Email", got.Email, want.Email},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
}

func TestVerifyFiscalCode(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	tests := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"SPID TINIT prefix is stripped", map[string]any{"fiscal_number": "TINIT-RSSMRA85T10A562S"}, "RSSMRA85T10A562S"},
		{"lower case is upper-cased", map[string]any{"fiscal_number": "tinit-rssmra85t10a562s"}, "RSSMRA85T10A562S"},
		{"plain code is kept", map[string]any{"fiscal_number": "RSSMRA85T10A562S"}, "RSSMRA85T10A562S"},
		{"camelCase claim is read", map[string]any{"fiscalNumber": "TINIT-VRDGPP80A01H501U"}, "VRDGPP80A01H501U"},
		{"snake_case claim wins", map[string]any{"fiscal_number": "RSSMRA85T10A562S", "fiscalNumber": "VRDGPP80A01H501U"}, "RSSMRA85T10A562S"},
		{"absent is empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), func(c jwt.MapClaims) {
				for k, val := range tt.claims {
					c[k] = val
				}
			}))
			got, err := v.Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.FiscalCode != tt.want {
				t.Errorf("FiscalCode = %q, want %q", got.FiscalCode, tt.want)
			}
		})
	}
}

func TestVerifyRefetchesJWKSAfterKeyRotation(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()

	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), nil))); err != nil {
		t.Fatalf("token of the first key: %v", err)
	}

	rotated := newECKey(t, elliptic.P384())
	p.addKey(ecJWK(t, "ec-2", &rotated.PublicKey))
	clk.Advance(jwksRefetchInterval + time.Second)

	got, err := v.Verify(ctx, sign(t, jwt.SigningMethodES384, rotated, "ec-2", claimsAt(clk.Now(), nil)))
	if err != nil {
		t.Fatalf("token of the rotated-in key: %v", err)
	}
	if got.Subject != "user-42" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if n := p.requests.Load(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}
}

func TestVerifyUnknownKidRefetchesAtMostOncePerInterval(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()
	stranger := newRSAKey(t)

	verify := func(kid string, key *rsa.PrivateKey) error {
		t.Helper()
		_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, key, kid, claimsAt(clk.Now(), nil)))
		return err
	}
	wantRequests := func(want int32) {
		t.Helper()
		if n := p.requests.Load(); n != want {
			t.Fatalf("JWKS requests = %d, want %d", n, want)
		}
	}

	if err := verify("rsa-1", p.rsa); err != nil {
		t.Fatal(err)
	}
	wantRequests(1)

	// Right after the first fetch an unknown kid does not fetch again.
	if err := verify("random-1", stranger); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid: %v", err)
	}
	wantRequests(1)

	clk.Advance(jwksRefetchInterval + time.Second)
	if err := verify("random-2", stranger); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid: %v", err)
	}
	wantRequests(2)

	clk.Advance(jwksRefetchInterval / 2)
	for i := range 5 {
		if err := verify("random-"+string(rune('a'+i)), stranger); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if err := verify("rsa-1", p.rsa); err != nil {
		t.Fatalf("known kid during the interval: %v", err)
	}
	wantRequests(2)

	clk.Advance(jwksRefetchInterval / 2)
	if err := verify("random-3", stranger); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid: %v", err)
	}
	wantRequests(3)
}

func TestVerifyFetchesJWKSOnceForConcurrentFirstUse(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	token := sign(t, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(clk.Now(), nil))

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), token)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
}

func TestVerifyKeepsGoodKeysWhenJWKSFails(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   []byte
	}{
		{"server error", http.StatusInternalServerError, []byte(`{"error":"down"}`)},
		{"not found with a key set", http.StatusNotFound, nil},
		{"bad JSON", 0, []byte(`{"keys": [`)},
		{"no usable key", 0, []byte(`{"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}`)},
		{"body over 1 MiB", 0, []byte(`{"keys": [], "pad": "` + strings.Repeat("x", jwksMaxBody) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			clk := newClock()
			v := newVerifier(t, p.config(clk))
			ctx := context.Background()
			good := func() error {
				_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), nil)))
				return err
			}
			if err := good(); err != nil {
				t.Fatal(err)
			}

			p.fail(tt.status, tt.body)
			clk.Advance(jwksRefetchInterval + time.Second)
			_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, newRSAKey(t), "new", claimsAt(clk.Now(), nil)))
			if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
				t.Errorf("unknown kid while the JWKS fails: %v, want ErrKeysUnavailable", err)
			}
			if n := p.requests.Load(); n != 2 {
				t.Errorf("JWKS requests = %d, want 2", n)
			}
			if err := good(); err != nil {
				t.Errorf("known key after a failed refetch: %v", err)
			}

			// Past the key set's maximum age a refresh is tried; its failure keeps the old keys.
			clk.Advance(jwksMaxAge)
			if err := good(); err != nil {
				t.Errorf("known key after a failed refresh: %v", err)
			}
			if n := p.requests.Load(); n != 3 {
				t.Errorf("JWKS requests = %d, want 3", n)
			}
		})
	}
}

func TestVerifyDropsWithdrawnKeyAfterMaxAge(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(clk.Now(), nil))); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys = p.keys[:1] // the provider withdraws ec-1
	p.mu.Unlock()
	clk.Advance(jwksMaxAge + time.Second)
	token := sign(t, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(clk.Now(), nil))
	_, err := v.Verify(ctx, token)
	checkRejected(t, err, "unknown signing key", token)
}

func TestVerifyFirstJWKSFetchFailure(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()
	p.fail(http.StatusServiceUnavailable, []byte("maintenance"))
	verify := func() error {
		_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), nil)))
		return err
	}

	for range 3 {
		if err := verify(); !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify while the provider is down: %v, want ErrKeysUnavailable", err)
		}
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}

	p.fail(0, nil)
	clk.Advance(jwksRefetchInterval + time.Second)
	if err := verify(); err != nil {
		t.Errorf("Verify after the provider recovered: %v", err)
	}
}

func TestVerifyCanceledFetchDoesNotDelayNextCaller(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	token := sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), nil))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, token); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Verify with a canceled context: %v, want ErrKeysUnavailable", err)
	}
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("Verify right after a canceled fetch: %v", err)
	}
}

func TestDevToken(t *testing.T) {
	p := newProvider(t)
	full := Claims{
		Subject:    "dev-operator",
		Roles:      []sportello.Role{sportello.RoleOperator, "SUPERUSER", sportello.RoleAdmin},
		Tenant:     "comune-di-prova",
		GivenName:  "Giulia",
		FamilyName: "Bianchi",
		FiscalCode: "TINIT-bncgli90a41h501x",
		Email:      "giulia@example.it",
	}
	mint := func(t *testing.T, secret string, c Claims) string {
		t.Helper()
		s, err := MintDev(secret, c, time.Hour)
		if err != nil {
			t.Fatalf("MintDev: %v", err)
		}
		return s
	}
	later := func() time.Time { return time.Now().Add(time.Hour + 2*time.Minute) }

	tests := []struct {
		name    string
		cfg     Config
		token   func(t *testing.T) string
		wantErr string
		want    *Claims
	}{
		{
			name:  "round trip keeps claims and drops unknown roles",
			cfg:   Config{DevSecret: testSecret},
			token: func(t *testing.T) string { return mint(t, testSecret, full) },
			want: &Claims{
				Subject: "dev-operator", Roles: []sportello.Role{sportello.RoleOperator, sportello.RoleAdmin},
				Tenant: "comune-di-prova", GivenName: "Giulia", FamilyName: "Bianchi",
				FiscalCode: "BNCGLI90A41H501X", Email: "giulia@example.it",
			},
		},
		{
			name:  "minimal claims",
			cfg:   Config{DevSecret: testSecret},
			token: func(t *testing.T) string { return mint(t, testSecret, Claims{Subject: "anon"}) },
			want:  &Claims{Subject: "anon"},
		},
		{
			name:  "accepted alongside OIDC",
			cfg:   Config{DevSecret: testSecret, Issuer: testIssuer, Audience: testAudience, JWKSURL: p.srv.URL},
			token: func(t *testing.T) string { return mint(t, testSecret, full) },
		},
		{
			name:    "rejected when only OIDC is configured",
			cfg:     Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: p.srv.URL},
			token:   func(t *testing.T) string { return mint(t, testSecret, full) },
			wantErr: "development tokens are disabled",
		},
		{
			name:    "wrong secret",
			cfg:     Config{DevSecret: testSecret},
			token:   func(t *testing.T) string { return mint(t, strings.Repeat("z", 32), full) },
			wantErr: "bad signature",
		},
		{
			name:    "expired",
			cfg:     Config{DevSecret: testSecret, Now: later},
			token:   func(t *testing.T) string { return mint(t, testSecret, full) },
			wantErr: "expired",
		},
		{
			name: "HS512 with the right secret",
			cfg:  Config{DevSecret: testSecret},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS512, []byte(testSecret), "", devClaims(nil))
			},
			wantErr: "algorithm not allowed",
		},
		{
			name: "RS256 claiming the development issuer",
			cfg:  Config{DevSecret: testSecret, Issuer: testIssuer, Audience: testAudience, JWKSURL: p.srv.URL},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", devClaims(nil))
			},
			wantErr: "algorithm not allowed",
		},
		{
			name: "wrong audience",
			cfg:  Config{DevSecret: testSecret},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", devClaims(func(c jwt.MapClaims) { c["aud"] = testAudience }))
			},
			wantErr: "wrong audience",
		},
		{
			name: "missing expiry",
			cfg:  Config{DevSecret: testSecret},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", devClaims(func(c jwt.MapClaims) { delete(c, "exp") }))
			},
			wantErr: "missing expiry",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.cfg)
			token := tt.token(t)
			got, err := v.Verify(context.Background(), token)
			if tt.wantErr != "" {
				checkRejected(t, err, tt.wantErr, token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if d := time.Until(got.ExpiresAt); d < 59*time.Minute || d > time.Hour {
				t.Errorf("ExpiresAt is %v from now, want about 1h", d)
			}
			if tt.want != nil {
				want := *tt.want
				want.ExpiresAt = got.ExpiresAt
				checkClaims(t, got, &want)
			}
		})
	}
	if n := p.requests.Load(); n != 0 {
		t.Errorf("dev tokens made %d JWKS requests", n)
	}
}

func devClaims(edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": devIssuer, "aud": devAudience, "sub": "dev", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func TestMintDevRefusesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		claims Claims
		ttl    time.Duration
	}{
		{"short secret", "too-short", Claims{Subject: "s"}, time.Hour},
		{"empty subject", testSecret, Claims{}, time.Hour},
		{"zero lifetime", testSecret, Claims{Subject: "s"}, 0},
		{"negative lifetime", testSecret, Claims{Subject: "s"}, -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := MintDev(tt.secret, tt.claims, tt.ttl); err == nil {
				t.Errorf("MintDev = %q, want an error", tok)
			}
		})
	}
}

func TestNewVerifierConfig(t *testing.T) {
	const jwksURL = "https://login.example.it/realms/comune/protocol/openid-connect/certs"
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; empty for a valid config
	}{
		{"nothing configured", Config{}, "configure a development secret or an OpenID Connect provider"},
		{"issuer only", Config{Issuer: testIssuer}, "must be given together"},
		{"issuer and audience without JWKS", Config{Issuer: testIssuer, Audience: testAudience}, "must be given together"},
		{"JWKS only", Config{JWKSURL: jwksURL}, "must be given together"},
		{"partial OIDC beside a dev secret", Config{DevSecret: testSecret, Audience: testAudience}, "must be given together"},
		{"dev secret under 32 bytes", Config{DevSecret: testSecret[:31]}, "at least 32 bytes"},
		{"JWKS over plain http", Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "http://login.example.it/certs"}, "https"},
		{"JWKS URL not absolute", Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "/certs"}, "https"},
		{"issuer reserved for dev tokens", Config{Issuer: devIssuer, Audience: testAudience, JWKSURL: jwksURL}, "reserved"},
		{"dev secret only", Config{DevSecret: testSecret}, ""},
		{"OIDC only", Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: jwksURL}, ""},
		{"OIDC with http on loopback", Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "http://127.0.0.1:8080/certs"}, ""},
		{"both", Config{DevSecret: testSecret, Issuer: testIssuer, Audience: testAudience, JWKSURL: jwksURL}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("NewVerifier = %v, %v; want a verifier", v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewVerifier error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	good := newECKey(t, elliptic.P256())
	goodJWK := ecJWK(t, "good", &good.PublicKey)

	offCurve := ecJWK(t, "off-curve", &newECKey(t, elliptic.P256()).PublicKey)
	y, _ := base64.RawURLEncoding.DecodeString(offCurve.Y)
	y[len(y)-1] ^= 1
	offCurve.Y = b64(y)

	weak := jwk{Kty: "RSA", Kid: "weak", N: b64(append([]byte{0x80}, make([]byte, 127)...)), E: "AQAB"} // 1024 bits
	encryption := rsaJWK("enc", &newRSAKey(t).PublicKey)
	encryption.Use = "enc"
	noKid := goodJWK
	noKid.Kid = ""
	p521 := ecJWK(t, "p521", &newECKey(t, elliptic.P521()).PublicKey)

	tests := []struct {
		name string
		key  jwk
	}{
		{"EC point off the curve", offCurve},
		{"RSA key under 2048 bits", weak},
		{"encryption key", encryption},
		{"key without kid", noKid},
		{"unsupported curve", p521},
		{"unsupported key type", jwk{Kty: "OKP", Kid: "ed", Crv: "Ed25519", X: b64(make([]byte, 32))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"keys": []jwk{tt.key, goodJWK}})
			if err != nil {
				t.Fatal(err)
			}
			keys, err := parseJWKS(body)
			if err != nil {
				t.Fatalf("parseJWKS: %v", err)
			}
			if len(keys) != 1 || keys["good"].key == nil {
				t.Errorf("keys = %v, want only the good key", keys)
			}
			if _, err := parseJWKS(must(json.Marshal(map[string]any{"keys": []jwk{tt.key}}))); err == nil {
				t.Error("a set of only this key parsed without error")
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSignedInAtIsTheAuthenticationTimeOrElseTheIssueTime(t *testing.T) {
	v := newVerifier(t, Config{DevSecret: testSecret})
	issued := time.Now().Add(-time.Minute).Truncate(time.Second)
	signedIn := issued.Add(-time.Hour)
	tests := []struct {
		name string
		edit func(jwt.MapClaims)
		want time.Time
	}{
		{"auth_time", func(c jwt.MapClaims) { c["iat"] = issued.Unix(); c["auth_time"] = signedIn.Unix() }, signedIn},
		{"iat without auth_time", func(c jwt.MapClaims) { c["iat"] = issued.Unix() }, issued},
		{"neither", func(c jwt.MapClaims) { delete(c, "iat") }, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", devClaims(tt.edit))
			c, err := v.Verify(context.Background(), token)
			if err != nil {
				t.Fatal(err)
			}
			if !c.SignedInAt.Equal(tt.want) {
				t.Errorf("SignedInAt = %v, want %v", c.SignedInAt, tt.want)
			}
		})
	}
	token := sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", devClaims(func(c jwt.MapClaims) { c["auth_time"] = "yesterday" }))
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a malformed auth_time: %v", err)
	}
}
