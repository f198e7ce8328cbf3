package live

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits of the Redis side of the hub.
const (
	// maxPending bounds the tenants waiting to be announced; beyond it announcements are dropped
	// and the other processes find the events at their next poll.
	maxPending = 1024
	// publishTimeout bounds one round of announcements, so that a dead Redis holds up nothing.
	publishTimeout = 500 * time.Millisecond
	// subscribeTimeout bounds a subscription command.
	subscribeTimeout = 2 * time.Second
	// healthInterval is how long a subscription may stay silent before the hub pings Redis
	// through it, and then how long it waits for the answer before it replaces the connection,
	// which may have died without being closed.
	healthInterval = 15 * time.Second
	// maxBackoff bounds the wait between attempts to reach Redis again.
	maxBackoff = 2 * time.Second
)

// eventsChannel is the channel of every tenant's announcements, without a cluster.
func (h *Hub) eventsChannel() string { return h.cfg.Prefix + ":events" }

// tenantChannel is a tenant's channel in a cluster. The tenant id is the hash tag, so the
// channel lives on the shard that owns the tenant's slot and fanout spreads over the shards.
func (h *Hub) tenantChannel(tenantID string) string {
	return h.cfg.Prefix + ":events:{" + tenantID + "}"
}

// shard is one Redis pub/sub subscription (one *redis.PubSub, one connection) and the goroutine
// that receives from it.
//
// Without a cluster the hub has exactly one, on the channel of every tenant. In a cluster it has
// one per hash slot of the tenants that have local subscribers: a *redis.PubSub holds a single
// connection to the node that owns its first channel's slot, so it cannot receive the channels
// of other shards (go-redis issue 3133), and when it reconnects it resubscribes all its channels
// in one SSUBSCRIBE, which Redis refuses (CROSSSLOT) unless they share a slot. One subscription
// per slot is what keeps every tenant's channel on the right node through reconnections,
// failovers and resharding; the number of connections grows with the tenants served, never with
// the subscribers.
type shard struct {
	slot int

	mu       sync.Mutex
	ps       *redis.PubSub
	channels map[string]struct{} // the channels this shard should be subscribed to
	stopped  bool

	stop chan struct{}
}

// startRedis subscribes and starts the goroutines that receive and announce.
func (h *Hub) startRedis(ctx context.Context) {
	h.wg.Go(func() { h.publish(ctx) })
	if h.cfg.Cluster {
		h.wg.Go(func() { h.manageShards(ctx) })
		return
	}
	h.openShard(ctx, -1, []string{h.eventsChannel()})
	h.wg.Go(func() {
		<-ctx.Done()
		h.closeShards()
	})
}

// closeShards closes every subscription, at shutdown.
func (h *Hub) closeShards() {
	h.shardMu.Lock()
	shards := slices.Collect(maps.Values(h.shards))
	clear(h.shards)
	h.shardMu.Unlock()
	for _, sh := range shards {
		sh.close()
	}
}

// openShard subscribes to the channels, which share a slot, and starts receiving.
func (h *Hub) openShard(ctx context.Context, slot int, channels []string) *shard {
	sh := &shard{slot: slot, channels: map[string]struct{}{}, stop: make(chan struct{})}
	for _, c := range channels {
		sh.channels[c] = struct{}{}
	}
	// go-redis records the channels even when Redis cannot be reached now, and subscribes them
	// when it reconnects; the receive loop's confirmation then wakes the reader.
	sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	sh.ps = h.newPubSub(sctx, channels)
	cancel()
	h.shardMu.Lock()
	h.shards[slot] = sh
	h.shardMu.Unlock()
	h.wg.Go(func() { h.receive(ctx, sh) })
	return sh
}

func (h *Hub) newPubSub(ctx context.Context, channels []string) *redis.PubSub {
	if h.cfg.Cluster {
		return h.cfg.Redis.SSubscribe(ctx, channels...)
	}
	return h.cfg.Redis.Subscribe(ctx, channels...)
}

// close stops the shard's receive loop and closes its connection.
func (sh *shard) close() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.stopped {
		return
	}
	sh.stopped = true
	close(sh.stop)
	sh.ps.Close()
}

// replace swaps the shard's subscription for a new one on a fresh connection, for a connection
// that stopped answering or that Redis moved elsewhere. A cluster client first reloads its map
// of slots, so that the new connection goes to the slot's current owner.
func (h *Hub) replace(ctx context.Context, sh *shard) *redis.PubSub {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.stopped {
		return sh.ps
	}
	if r, ok := h.cfg.Redis.(interface{ ReloadState(context.Context) }); ok {
		r.ReloadState(ctx)
	}
	sh.ps.Close()
	sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	sh.ps = h.newPubSub(sctx, slices.Collect(maps.Keys(sh.channels)))
	return sh.ps
}

func (sh *shard) pubsub() *redis.PubSub {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.ps
}

func (sh *shard) wants(channel string) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.channels[channel]
	return ok
}

// receive reads the shard's subscription until the shard is closed. Every announcement of a
// tenant with local subscribers wakes the reader, and so does every (re)subscription, since
// announcements made while the subscription was down are lost.
func (h *Hub) receive(ctx context.Context, sh *shard) {
	ps := sh.pubsub()
	backoff := 100 * time.Millisecond
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, h.health)
		select {
		case <-sh.stop:
			return
		default:
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout() && !pinged:
				pinged = true
				if err := ps.Ping(ctx); err != nil {
					h.warnRedis("ping", err)
				}
				continue
			case errors.As(err, &ne) && ne.Timeout():
				h.warnRedis("receive", errors.New("no answer to a ping: replacing the connection"))
				pinged = false
				ps = h.replace(ctx, sh)
				continue
			case isRedirect(err):
				// The slot moved: subscribe again where it is now.
				ps = h.replace(ctx, sh)
			default:
				h.warnRedis("receive", err)
			}
			select {
			case <-sh.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pinged = 100*time.Millisecond, false
		switch m := msg.(type) {
		case *redis.Message:
			h.redisRecovered()
			h.redisMessages.Add(1)
			if h.cfg.Cluster || h.hasSubscribers(m.Payload) {
				h.wakeUp()
			}
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				h.subscriptions.Add(1)
				h.redisRecovered()
				h.wakeUp()
			case "sunsubscribe":
				// Redis unsubscribes the clients of a slot it hands over to another node.
				if sh.wants(m.Channel) {
					ps = h.replace(ctx, sh)
				}
			}
		}
	}
}

// isRedirect reports whether Redis answered that a slot is served elsewhere.
func isRedirect(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "MOVED ") || strings.HasPrefix(s, "ASK ") || strings.HasPrefix(s, "CROSSSLOT")
}

// publish announces commits: each round takes every tenant pending and publishes them in one
// pipeline.
func (h *Hub) publish(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.pubWake:
		}
		h.pubMu.Lock()
		tenants := h.pending
		h.pending = make(map[string]struct{}, len(tenants))
		h.pubMu.Unlock()
		if len(tenants) == 0 {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		_, err := h.cfg.Redis.Pipelined(pctx, func(p redis.Pipeliner) error {
			for t := range tenants {
				if h.cfg.Cluster {
					p.SPublish(pctx, h.tenantChannel(t), t)
				} else {
					p.Publish(pctx, h.eventsChannel(), t)
				}
			}
			return nil
		})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				h.warnRedis("publish", err)
			}
			continue
		}
		h.redisRecovered()
	}
}

// manageShards keeps, in cluster mode, one subscription per slot of the tenants that have local
// subscribers: it subscribes a tenant's channel when its first subscriber arrives and
// unsubscribes it when the last one leaves. It works apart from the subscribers, so a slow Redis
// never delays a subscription: the poll covers the moments before a channel is subscribed, and
// the confirmation wakes the reader.
func (h *Hub) manageShards(ctx context.Context) {
	defer h.closeShards()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.interest:
		}
		want := map[string]struct{}{}
		h.mu.Lock()
		for id := range h.tenants {
			want[h.tenantChannel(id)] = struct{}{}
		}
		h.mu.Unlock()

		h.shardMu.Lock()
		shards := maps.Clone(h.shards)
		h.shardMu.Unlock()
		for c := range want {
			slot := keySlot(c)
			sh := shards[slot]
			if sh == nil {
				shards[slot] = h.openShard(ctx, slot, []string{c})
				continue
			}
			h.shardSubscribe(ctx, sh, c)
		}
		for slot, sh := range shards {
			if h.shardUnsubscribe(ctx, sh, want) {
				h.shardMu.Lock()
				delete(h.shards, slot)
				h.shardMu.Unlock()
				sh.close()
			}
		}
	}
}

// shardSubscribe adds a channel to a shard.
func (h *Hub) shardSubscribe(ctx context.Context, sh *shard, channel string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.channels[channel]; ok {
		return
	}
	sh.channels[channel] = struct{}{}
	sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	if err := sh.ps.SSubscribe(sctx, channel); err != nil {
		h.warnRedis("subscribe", err)
	}
}

// shardUnsubscribe removes the channels no longer wanted and reports whether the shard is left
// with none.
func (h *Hub) shardUnsubscribe(ctx context.Context, sh *shard, want map[string]struct{}) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var gone []string
	for c := range sh.channels {
		if _, ok := want[c]; !ok {
			gone = append(gone, c)
			delete(sh.channels, c)
		}
	}
	if len(sh.channels) == 0 {
		return true // closing the connection unsubscribes it
	}
	sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	for _, c := range gone {
		if err := sh.ps.SUnsubscribe(sctx, c); err != nil {
			h.warnRedis("unsubscribe", err)
		}
	}
	return false
}

// interestChanged tells the cluster subscription manager to look at the tenants again.
func (h *Hub) interestChanged() {
	if !h.cfg.Cluster {
		return
	}
	select {
	case h.interest <- struct{}{}:
	default:
	}
}

// redisChannels lists the channels the hub is subscribed to, for tests.
func (h *Hub) redisChannels() []string {
	h.shardMu.Lock()
	defer h.shardMu.Unlock()
	var out []string
	for _, sh := range h.shards {
		sh.mu.Lock()
		out = slices.AppendSeq(out, maps.Keys(sh.channels))
		sh.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

func (h *Hub) warnRedis(op string, err error) {
	if n, ok := h.redisLog.allow(); ok {
		h.log.Warn("redis unavailable: the live feed carries on with its poll of PostgreSQL",
			"op", op, "error", err, "suppressed", n)
	}
}

func (h *Hub) redisRecovered() {
	if h.redisLog.recovered() {
		h.log.Info("redis available again: the live feed is prompt again")
	}
}

// keySlot is Redis Cluster's hash slot of a key or channel: CRC16 (XMODEM) of its hash tag, or
// of the whole key when it has none, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
