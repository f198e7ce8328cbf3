package graph

import (
	"context"
	"errors"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph/websocket"
)

// WebSocket close codes for a subscription the feed ended on its own (RFC 6455 section 7.4.1).
const (
	closeGoingAway    = 1001 // the server is shutting down: reconnect elsewhere
	closeInternal     = 1011
	closeTryAgainLate = 1013 // the subscriber was too slow: reconnect with its last cursor
)

// forward hands a feed's stream to gqlgen. When the feed ends the stream on its own (a slow
// subscriber, a shutdown), the client must learn why and reconnect with its cursor, so the
// WebSocket connection is closed with a code and the feed's reason; gqlgen alone would only
// send "complete", which reads as "there is nothing more", and the client would stop.
func forward[T any](ctx context.Context, st *sportello.Stream[T]) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for v := range st.C {
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
		err := st.Err()
		var de *sportello.Error
		switch {
		case err == nil:
		case errors.Is(err, sportello.ErrShuttingDown) && errors.As(err, &de):
			websocket.CloseConnection(ctx, closeGoingAway, de.Message)
		case errors.Is(err, sportello.ErrSlowConsumer) && errors.As(err, &de):
			websocket.CloseConnection(ctx, closeTryAgainLate, de.Message)
		default:
			websocket.CloseConnection(ctx, closeInternal, "internal error")
		}
	}()
	return out
}
