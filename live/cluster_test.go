package live

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
)

func TestShardedDeliveryOverARedisCluster(t *testing.T) {
	addrs := startCluster(t)
	ctx := context.Background()
	newClient := func() *redis.ClusterClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { c.Close() })
		return c
	}
	admin := newClient()
	slots, err := admin.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	owner := func(slot int) string {
		for _, s := range slots {
			if slot >= s.Start && slot <= s.End {
				return s.Nodes[0].Addr
			}
		}
		t.Fatalf("no node owns slot %d", slot)
		return ""
	}

	e := newEnv(t)
	cfg := e.config(t, nil)
	cfg.Cluster = true
	cfg.PollInterval = time.Minute // what arrives within the test came through Redis
	h := New(cfg)
	for _, c := range []string{h.tenantChannel(tenant1), "a{b}c", "{}x", "plain"} {
		want, err := admin.ClusterKeySlot(ctx, c).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := keySlot(c); got != int(want) {
			t.Fatalf("slot of %q = %d, Redis says %d", c, got, want)
		}
	}
	// A second tenant whose channel lives on another shard than the first's.
	var tenant2 string
	for i := 0; tenant2 == ""; i++ {
		if i == 30 {
			t.Fatal("no tenant hashed to another shard in 30 attempts")
		}
		var id string
		if err := e.d.Get(&id, `INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id`,
			fmt.Sprintf("comune-%d", i), fmt.Sprintf("Comune %d", i)); err != nil {
			t.Fatal(err)
		}
		if owner(keySlot(h.tenantChannel(id))) != owner(keySlot(h.tenantChannel(tenant1))) {
			tenant2 = id
		}
	}

	cfgA, cfgB := cfg, cfg
	cfgA.Redis, cfgB.Redis = newClient(), newClient()
	a, _ := startHub(t, cfgA)
	b, _ := startHub(t, cfgB)
	e.d.Notifier = a

	staff1 := subscribe(t, b, staffCtx(tenant1, "op1"), sportello.EventFilter{}, "")
	staffCtx2, leaveStaff := context.WithCancel(staffCtx(tenant2, "op2"))
	citizenCtx2, leaveCitizen := context.WithCancel(citizenCtx(tenant2, "alice"))
	staff2 := subscribe(t, b, staffCtx2, sportello.EventFilter{}, "")
	citizen2 := subscribeCitizen(t, b, citizenCtx2, "")
	localOnA := subscribe(t, a, staffCtx(tenant2, "op3"), sportello.EventFilter{}, "")

	channels := []string{b.tenantChannel(tenant1), b.tenantChannel(tenant2)}
	slices.Sort(channels)
	eventually(t, wait, "instance B subscribes both tenants' channels", func() bool {
		return slices.Equal(b.redisChannels(), channels)
	})
	// B listens to both channels, and A to tenant 2's, where it has a subscriber too.
	waitShardSubscribers(t, owner(keySlot(b.tenantChannel(tenant1))), b.tenantChannel(tenant1), 1)
	waitShardSubscribers(t, owner(keySlot(b.tenantChannel(tenant2))), b.tenantChannel(tenant2), 2)

	for round := range 3 {
		t1 := e.file(t, citizenCtx(tenant1, "mario"), sportello.KindInformation, "")
		t2 := e.file(t, citizenCtx(tenant2, "alice"), sportello.KindInformation, "")
		for name, c := range map[string]struct {
			st   *sportello.Stream[*sportello.Event]
			want *sportello.Ticket
		}{"tenant 1 staff on B": {staff1, t1}, "tenant 2 staff on B": {staff2, t2},
			"tenant 2 citizen on B": {citizen2, t2}, "tenant 2 staff on A": {localOnA, t2}} {
			got := recv(t, c.st, prompt)
			if got.TicketID != c.want.ID || got.Ticket.TenantID != c.want.TenantID {
				t.Fatalf("round %d, %s: got ticket %s of tenant %s, want %s of %s", round, name,
					got.TicketID, got.Ticket.TenantID, c.want.ID, c.want.TenantID)
			}
		}
	}
	for _, st := range []*sportello.Stream[*sportello.Event]{staff1, staff2, citizen2, localOnA} {
		quiet(t, st)
	}

	// When tenant 2's last subscriber on B leaves, B unsubscribes its channel; A, which still has
	// a subscriber of tenant 2, stays subscribed.
	leaveStaff()
	for range staff2.C {
	}
	eventually(t, wait, "tenant 2 stays subscribed while its citizen listens", func() bool {
		return slices.Equal(b.redisChannels(), channels)
	})
	leaveCitizen()
	for range citizen2.C {
	}
	eventually(t, wait, "instance B keeps only tenant 1's channel", func() bool {
		return slices.Equal(b.redisChannels(), []string{b.tenantChannel(tenant1)})
	})
	waitShardSubscribers(t, owner(keySlot(b.tenantChannel(tenant2))), b.tenantChannel(tenant2), 1)
	t2 := e.file(t, citizenCtx(tenant2, "alice"), sportello.KindInformation, "")
	if got := recv(t, localOnA, prompt); got.TicketID != t2.ID {
		t.Fatalf("tenant 2 staff on A got %s, want %s", got.TicketID, t2.ID)
	}
}

// waitShardSubscribers waits until the node has n subscribers on the shard channel.
func waitShardSubscribers(t *testing.T, addr, channel string, n int64) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	eventually(t, wait, fmt.Sprintf("%d subscribers on %s at %s", n, channel, addr), func() bool {
		got, err := c.PubSubShardNumSub(context.Background(), channel).Result()
		return err == nil && got[channel] == n
	})
}
