package db

import "testing"

func TestValidIDAcceptsHyphenatedUUIDsOnly(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"00003f11-a5fe-c16b-8cd2-b37de5ed4607", true},
		{"00003F11-A5FE-C16B-8CD2-B37DE5ED4607", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"", false},
		{"00003f11a5fec16b8cd2b37de5ed4607", false},
		{"{00003f11-a5fe-c16b-8cd2-b37de5ed4607}", false},
		{"00003f11-a5fe-c16b-8cd2-b37de5ed460", false},
		{"00003f11-a5fe-c16b-8cd2-b37de5ed46071", false},
		{"00003f11-a5fe-c16b-8cd2_b37de5ed4607", false},
		{"00003f11-a5fe-c16b-8cd2-b37de5ed460g", false},
		{"00003f11-a5fe-c16b-8cd2-b37de5ed460-", false},
		{"-0003f11-a5fe-c16b-8cd2-b37de5ed4607", false},
		{"00003f11-a5fe-c16b-8cd2-b37de5ed46é", false},
	}
	for _, tc := range cases {
		if got := validID(tc.id); got != tc.want {
			t.Errorf("validID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
