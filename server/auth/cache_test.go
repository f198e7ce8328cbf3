package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sportello/sportello"
)

// A token verified moments ago is not checked again, but the cache never accepts it past the
// moment the verifier itself would refuse it: its expiry plus the leeway.
func TestAVerifiedTokenIsRefusedOnceItExpires(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()
	// Expired 30 s ago, within the leeway of 60 s: accepted for 30 s more.
	token := sign(t, jwt.SigningMethodRS256, p.rsa, "rsa-1", claimsAt(clk.Now(), func(c jwt.MapClaims) {
		c["exp"] = clk.Now().Add(-30 * time.Second).Unix()
	}))
	for _, step := range []time.Duration{0, 20 * time.Second} {
		clk.Advance(step)
		if _, err := v.Verify(ctx, token); err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
	}
	if len(v.verified.cur) != 1 {
		t.Errorf("the cache holds %d tokens, want 1", len(v.verified.cur))
	}
	clk.Advance(11 * time.Second)
	_, err := v.Verify(ctx, token)
	checkRejected(t, err, "expired", token)
}

// After a minute a token is checked again, so a signing key the provider withdrew stops working
// for tokens already seen as it does for new ones.
func TestAVerifiedTokenIsCheckedAgainAfterAMinute(t *testing.T) {
	p := newProvider(t)
	clk := newClock()
	v := newVerifier(t, p.config(clk))
	ctx := context.Background()
	token := sign(t, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(clk.Now(), func(c jwt.MapClaims) {
		c["exp"] = clk.Now().Add(3 * time.Hour).Unix()
	}))
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys = p.keys[:1] // the provider withdraws ec-1
	p.mu.Unlock()
	clk.Advance(jwksMaxAge + time.Second)
	_, err := v.Verify(ctx, token)
	checkRejected(t, err, "unknown signing key", token)
}

// The claims a cached token returns are the caller's own: changing them changes nothing for the
// next request with the same token.
func TestClaimsOfACachedTokenAreACopy(t *testing.T) {
	v := newVerifier(t, Config{DevSecret: testSecret})
	token, err := MintDev(testSecret, Claims{Subject: "op-1", Roles: []sportello.Role{sportello.RoleOperator}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "op-1" || !slices.Equal(c.Roles, []sportello.Role{sportello.RoleOperator}) {
			t.Fatalf("claims = %+v", c)
		}
		c.Subject, c.Roles[0] = "someone else", sportello.RoleAdmin
	}
}

// However many clients there are, the cache holds at most two generations of tokens, and a token
// in use stays in it.
func TestTheTokenCacheIsBounded(t *testing.T) {
	c := newVerifiedTokens()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	claims := &Claims{Subject: "citizen", ExpiresAt: now.Add(time.Hour)}
	key := func(i int) [sha256.Size]byte { return sha256.Sum256(fmt.Appendf(nil, "token-%d", i)) }
	c.put(key(0), claims, now)
	for i := 1; i <= 3*verifiedMax; i++ {
		c.put(key(i), claims, now)
		if i%(verifiedMax/2) == 0 {
			if _, ok := c.get(key(0), now); !ok {
				t.Fatalf("the token in use left the cache after %d others", i)
			}
		}
	}
	if n := len(c.cur) + len(c.prev); n > 2*verifiedMax {
		t.Errorf("the cache holds %d tokens, want at most %d", n, 2*verifiedMax)
	}
	if _, ok := c.get(key(1), now); ok {
		t.Error("a token unused for two generations is still in the cache")
	}
}

// BenchmarkVerify measures a request's token check: a token seen in the last minute, and one
// seen for the first time, for development tokens (HS256) and a provider's (ES256).
func BenchmarkVerify(b *testing.B) {
	p := newProvider(b)
	clk := newClock()
	ctx := context.Background()
	dev := func(i int) string {
		s, err := MintDev(testSecret, Claims{Subject: fmt.Sprintf("op-%d", i), Roles: []sportello.Role{sportello.RoleOperator}}, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	oidc := func(i int) string {
		return sign(b, jwt.SigningMethodES256, p.ec, "ec-1", claimsAt(clk.Now(), func(c jwt.MapClaims) { c["sub"] = fmt.Sprintf("user-%d", i) }))
	}
	for _, kind := range []struct {
		name  string
		cfg   Config
		token func(int) string
	}{{"HS256", Config{DevSecret: testSecret}, dev}, {"ES256", p.config(clk), oidc}} {
		for _, seen := range []bool{true, false} {
			name := kind.name + "/new"
			if seen {
				name = kind.name + "/seen"
			}
			b.Run(name, func(b *testing.B) {
				v := newVerifier(b, kind.cfg)
				tokens := make([]string, 64)
				for i := range tokens {
					tokens[i] = kind.token(i)
				}
				for i := 0; b.Loop(); i++ {
					if !seen {
						v.verified = newVerifiedTokens()
					}
					if _, err := v.Verify(ctx, tokens[i%len(tokens)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
