package main

import "testing"

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
