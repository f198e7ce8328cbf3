package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the server's GOGC unless the environment sets one. The live heap is small
// (tens of MiB) and almost everything a request allocates dies with it, so Go's default of 100
// collects several times per hundred requests: under the benchmark's operator list a fifth of
// the server's CPU went to the collector. At 400 the heap may grow to five times what is live,
// still well under 100 MiB.
const defaultGCPercent = 400

// tuneGC applies defaultGCPercent when GOGC is not set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
