package main

import (
	"os"
	"testing"
	"time"
)

func TestTheCPUTimeAndMemoryOfAProcessAreReadFromProc(t *testing.T) {
	pid := os.Getpid()
	start := cpuSeconds(pid)
	// Burn some CPU, so that the clock (100 ticks a second) moves.
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	if got := cpuSeconds(pid); got <= start {
		t.Errorf("CPU time did not grow: %v then %v", start, got)
	}
	if kib := rssKiB(pid); kib < 1024 {
		t.Errorf("resident memory %d KiB, want at least a MiB", kib)
	}
}

func TestAProcessThatIsGoneReadsAsZero(t *testing.T) {
	if cpuSeconds(-1) != 0 || rssKiB(-1) != 0 {
		t.Error("want zero for a process that does not exist")
	}
}
