package main

import (
	"testing"

	"github.com/sportello/sportello/db"
)

func TestIntegerSettingsFromEnvironment(t *testing.T) {
	userBudget := func(c Config) int { return c.RateLimits.UserPerMinute }
	poolSize := func(c Config) int { return c.DatabasePoolSize }
	for _, tc := range []struct {
		name, variable, value string
		setting               func(Config) int
		want                  int
		wantErr               bool
	}{
		{"unset keeps the default budget", "RATE_USER_PER_MINUTE", "", userBudget, DefaultRateLimits.UserPerMinute, false},
		{"a number sets the budget", "RATE_USER_PER_MINUTE", "600", userBudget, 600, false},
		{"0 turns the limit off", "RATE_USER_PER_MINUTE", "0", userBudget, 0, false},
		{"a negative budget is refused", "RATE_USER_PER_MINUTE", "-1", userBudget, 0, true},
		{"a budget in words is refused", "RATE_USER_PER_MINUTE", "many", userBudget, 0, true},
		{"unset takes two connections a core", "DATABASE_POOL_SIZE", "", poolSize, db.DefaultPoolSize(), false},
		{"a number sets the pool", "DATABASE_POOL_SIZE", "12", poolSize, 12, false},
		{"a pool of 0 is refused, since nothing could run", "DATABASE_POOL_SIZE", "0", poolSize, 0, true},
		{"a pool in words is refused", "DATABASE_POOL_SIZE", "many", poolSize, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.variable, tc.value)
			c, err := LoadConfig()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("%s=%q: no error", tc.variable, tc.value)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.setting(c); got != tc.want {
				t.Errorf("%s=%q: %d, want %d", tc.variable, tc.value, got, tc.want)
			}
		})
	}
}
