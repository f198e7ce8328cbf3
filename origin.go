package sportello

import "context"

// Origin is where a request came from, as the audit log records it.
type Origin struct {
	Addr      string // the client's IP address
	RequestID string
}

type originKey struct{}

// WithOrigin returns a context carrying where the request came from. The transports set it once
// per request.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns where the request came from; the zero Origin when the transport did not say.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}
