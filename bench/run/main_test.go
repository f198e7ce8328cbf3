package main

import (
	"errors"
	"slices"
	"testing"
)

func results(throughputs ...float64) []Result {
	var rs []Result
	for i, v := range throughputs {
		rs = append(rs, Result{Throughput: v, P99ms: float64(i + 1)})
	}
	return rs
}

func TestMedianKeepsTheMiddleRoundWithEveryRoundsThroughput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rounds  []float64
		want    float64
		wantP99 float64
	}{
		{"one round", []float64{900}, 900, 1},
		{"odd", []float64{1000, 800, 1200}, 1000, 1},
		{"even takes the lower middle", []float64{1000, 800, 1200, 900}, 900, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := median(results(tc.rounds...))
			if m.Throughput != tc.want || m.P99ms != tc.wantP99 {
				t.Errorf("median = %v/s with p99 %v, want %v/s, the round with p99 %v", m.Throughput, m.P99ms, tc.want, tc.wantP99)
			}
			if !slices.Equal(m.Rounds, tc.rounds) {
				t.Errorf("rounds = %v, want %v in the order run", m.Rounds, tc.rounds)
			}
		})
	}
}

func TestRatioIsTheMedianOfTheRoundsRatios(t *testing.T) {
	// The machine slows down in the second round. Round by round Sportello did 1.5, 1.6 and 1.7
	// times the peer; the ratio is their median, not that of the targets' medians (3,000 over
	// 2,000).
	s := median(results(3000, 1600, 3400))
	peer := median(results(2000, 1000, 2000))
	if got, want := ratio(&s, &peer), " 1.60× (1.50–1.70) |"; got != want {
		t.Errorf("ratio = %q, want %q", got, want)
	}
	one, oneRef := median(results(300)), median(results(200))
	if got, want := ratio(&one, &oneRef), " 1.50× |"; got != want {
		t.Errorf("ratio of one round = %q, want %q", got, want)
	}
	skipped := Result{Skipped: "no equivalent"}
	if got := ratio(&s, &skipped); got != " |" {
		t.Errorf("ratio to a skipped target = %q, want an empty cell", got)
	}
}

func TestSpreadGivesTheRangeOfSeveralRounds(t *testing.T) {
	if got := spread([]float64{1010.4, 980.6, 1200}); got != "981–1200" {
		t.Errorf("spread = %q", got)
	}
	if got := spread([]float64{1000}); got != "" {
		t.Errorf("spread of one round = %q, want empty", got)
	}
}

func TestSaturatingClientsDoublesWhileThroughputRises(t *testing.T) {
	for _, tc := range []struct {
		name   string
		served map[int]float64 // throughput by clients
		want   int
		probed []int
	}{
		{"one thread saturated at once", map[int]float64{16: 3200, 32: 3250}, 16, []int{16, 32}},
		{"rises then flattens", map[int]float64{16: 6200, 32: 7300, 64: 8200, 128: 8300}, 64, []int{16, 32, 64, 128}},
		{"a worse probe keeps the best", map[int]float64{16: 6200, 32: 7300, 64: 6900}, 32, []int{16, 32, 64}},
		{"stops at the most clients allowed", map[int]float64{16: 100, 32: 200, 64: 400, 128: 800}, 128, []int{16, 32, 64, 128}},
		{"nothing served stays at the first", map[int]float64{16: 0}, 16, []int{16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var probed []int
			got, err := saturatingClients(16, 128, func(n int) (float64, error) {
				probed = append(probed, n)
				return tc.served[n], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || !slices.Equal(probed, tc.probed) {
				t.Errorf("saturatingClients = %d after probing %v, want %d after %v", got, probed, tc.want, tc.probed)
			}
		})
	}
}

func TestSaturatingClientsStopsAtAProbesError(t *testing.T) {
	boom := errors.New("load generator failed")
	_, err := saturatingClients(16, 64, func(n int) (float64, error) {
		if n == 32 {
			return 0, boom
		}
		return 1000, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the probe's", err)
	}
}
