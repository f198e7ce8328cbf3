package main

import (
	"testing"

	"github.com/sportello/sportello/db"
)

func TestRateLimitsFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        int
		wantErr     bool
	}{
		{"unset keeps the default", "", DefaultRateLimits.UserPerMinute, false},
		{"a number sets the budget", "600", 600, false},
		{"0 turns the limit off", "0", 0, false},
		{"a negative number is refused", "-1", 0, true},
		{"text is refused", "many", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RATE_USER_PER_MINUTE", tc.value)
			c, err := LoadConfig()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("RATE_USER_PER_MINUTE=%q: no error", tc.value)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RateLimits.UserPerMinute != tc.want {
				t.Errorf("RATE_USER_PER_MINUTE=%q: %d a minute, want %d", tc.value, c.RateLimits.UserPerMinute, tc.want)
			}
		})
	}
}

func TestDatabasePoolSizeFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        int
		wantErr     bool
	}{
		{"unset takes two connections a core", "", db.DefaultPoolSize(), false},
		{"a number sets the pool", "12", 12, false},
		{"0 is refused, since nothing could run", "0", 0, true},
		{"text is refused", "many", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DATABASE_POOL_SIZE", tc.value)
			c, err := LoadConfig()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("DATABASE_POOL_SIZE=%q: no error", tc.value)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabasePoolSize != tc.want {
				t.Errorf("DATABASE_POOL_SIZE=%q: %d connections, want %d", tc.value, c.DatabasePoolSize, tc.want)
			}
		})
	}
}
