package sportello

import "testing"

func TestErasureKeepsRegisteredRecordsOnly(t *testing.T) {
	tests := []struct {
		records int
		want    ErasureOutcome
	}{
		{0, ErasureErased},
		{1, ErasureRestricted},
		{12, ErasureRestricted},
	}
	for _, tt := range tests {
		if got := ErasureOutcomeFor(tt.records); got != tt.want {
			t.Errorf("ErasureOutcomeFor(%d) = %s, want %s", tt.records, got, tt.want)
		}
	}
}
