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

// withStreamEnd returns the context to open a feed's stream in, whose channel gqlgen then reads
// directly. When the feed ends the stream on its own (a slow subscriber, a shutdown), the client
// must learn why and reconnect with its cursor, so the feed calls back, just before it closes the
// channel, and the WebSocket connection is closed with a code and the feed's reason; gqlgen alone
// would only send "complete", which reads as "there is nothing more", and the client would stop.
// (CloseConnection never blocks, as the feed requires of the callback.)
func withStreamEnd(ctx context.Context) context.Context {
	return sportello.WithStreamEnd(ctx, func(err error) { closeForStreamEnd(ctx, err) })
}

// closeForStreamEnd closes the WebSocket connection of ctx with the code that fits why the feed
// ended the stream; nil (the subscriber's own context ended) closes nothing.
func closeForStreamEnd(ctx context.Context, err error) {
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
}
