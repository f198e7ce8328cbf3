package websocket

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
)

// The subprotocols this transport speaks.
const (
	subprotocolTransportWS = "graphql-transport-ws"
	subprotocolLegacy      = "graphql-ws"
)

// Message types. graphql-transport-ws uses connection_init, connection_ack, ping, pong,
// subscribe, next, error and complete; the legacy protocol uses connection_init,
// connection_ack, connection_error, ka, start, data, error, complete, stop and
// connection_terminate.
const (
	msgConnectionInit      = "connection_init"
	msgConnectionAck       = "connection_ack"
	msgPing                = "ping"
	msgPong                = "pong"
	msgSubscribe           = "subscribe"
	msgNext                = "next"
	msgError               = "error"
	msgComplete            = "complete"
	msgConnectionError     = "connection_error"
	msgKeepAlive           = "ka"
	msgStart               = "start"
	msgData                = "data"
	msgStop                = "stop"
	msgConnectionTerminate = "connection_terminate"
)

// Close codes of graphql-transport-ws (the graphql-ws library's CloseCode); the legacy protocol
// defines none, so it uses the same where it must close.
const (
	closeBadRequest                = websocket.StatusCode(4400)
	closeUnauthorized              = websocket.StatusCode(4401)
	closeForbidden                 = websocket.StatusCode(4403)
	closeSubprotocolNotAcceptable  = websocket.StatusCode(4406)
	closeConnectionInitTimeout     = websocket.StatusCode(4408)
	closeSubscriberAlreadyExists   = websocket.StatusCode(4409)
	closeTooManyInitialisationReqs = websocket.StatusCode(4429)
	closeInternalServerError       = websocket.StatusCode(4500)
)

// Close reasons, worded as in the protocol text where it words them.
const (
	reasonUnauthorized        = "Unauthorized"
	reasonForbidden           = "Forbidden"
	reasonTokenExpired        = "Unauthorized: token expired"
	reasonSubprotocol         = "Subprotocol not acceptable"
	reasonInitTimeout         = "Connection initialisation timeout"
	reasonTooManyInits        = "Too many initialisation requests"
	reasonInternalServerError = "Internal server error"
	reasonShutdown            = "Server shutting down"
	reasonPongTimeout         = "Keep-alive timeout: no answer to ping"
	reasonTerminated          = "Normal Closure"
)

// maxCloseReason is the most a close frame can carry after its two-byte code (RFC 6455 5.5).
const maxCloseReason = 123

// message is a client's message, parsed but not yet checked against its type's shape.
type message struct {
	Type    string
	ID      string
	HasID   bool
	Payload json.RawMessage // nil when absent or null
}

// outbound is a server's message. Type comes first so that logs and captures read naturally.
type outbound struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// parseMessage reads a message's envelope: a JSON object whose type is a string, whose id, if
// any, is a string, and whose payload may be anything (its type decides).
func parseMessage(data []byte) (message, error) {
	if jsonKind(data) != '{' {
		return message{}, errors.New("Invalid message received: not a JSON object")
	}
	var raw struct {
		Type    json.RawMessage `json:"type"`
		ID      json.RawMessage `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return message{}, errors.New("Invalid message received: malformed JSON")
	}
	var m message
	if jsonKind(raw.Type) != '"' {
		return message{}, errors.New(`Invalid message received: "type" must be a string`)
	}
	if err := json.Unmarshal(raw.Type, &m.Type); err != nil {
		return message{}, errors.New(`Invalid message received: "type" must be a string`)
	}
	switch jsonKind(raw.ID) {
	case 0, 'n':
	case '"':
		if err := json.Unmarshal(raw.ID, &m.ID); err != nil {
			return message{}, errors.New(`Invalid message received: "id" must be a string`)
		}
		m.HasID = true
	default:
		return message{}, errors.New(`Invalid message received: "id" must be a string`)
	}
	if k := jsonKind(raw.Payload); k != 0 && k != 'n' {
		m.Payload = raw.Payload
	}
	return m, nil
}

// checkID requires the non-empty id that subscribe, complete, start and stop carry.
func checkID(m message) error {
	if !m.HasID || m.ID == "" {
		return fmt.Errorf(`Invalid message received: "%s" message requires a non-empty string "id"`, m.Type)
	}
	return nil
}

// checkObjectPayload requires the payload, if any, to be an object, as for connection_init,
// ping and pong.
func checkObjectPayload(m message) error {
	if m.Payload != nil && jsonKind(m.Payload) != '{' {
		return fmt.Errorf(`Invalid message received: "%s" message payload must be an object or null`, m.Type)
	}
	return nil
}

// parseParams reads a subscribe (or start) payload: an object whose query is a string and
// whose operationName, variables and extensions are of their types or null. Numbers in
// variables stay json.Number, as gqlgen's HTTP transports leave them, so that big integers
// survive and coercion is gqlgen's.
func parseParams(payload json.RawMessage) (*graphql.RawParams, error) {
	if jsonKind(payload) != '{' {
		return nil, errors.New(`Invalid message received: "payload" must be an object`)
	}
	var raw struct {
		Query         json.RawMessage `json:"query"`
		OperationName json.RawMessage `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, errors.New(`Invalid message received: malformed "payload"`)
	}
	var p graphql.RawParams
	if jsonKind(raw.Query) != '"' {
		return nil, errors.New(`Invalid message received: "payload.query" must be a string`)
	}
	if err := json.Unmarshal(raw.Query, &p.Query); err != nil {
		return nil, errors.New(`Invalid message received: "payload.query" must be a string`)
	}
	switch jsonKind(raw.OperationName) {
	case 0, 'n':
	case '"':
		if err := json.Unmarshal(raw.OperationName, &p.OperationName); err != nil {
			return nil, errors.New(`Invalid message received: "payload.operationName" must be a string or null`)
		}
	default:
		return nil, errors.New(`Invalid message received: "payload.operationName" must be a string or null`)
	}
	var err error
	if p.Variables, err = decodeObject(raw.Variables); err != nil {
		return nil, errors.New(`Invalid message received: "payload.variables" must be an object or null`)
	}
	if p.Extensions, err = decodeObject(raw.Extensions); err != nil {
		return nil, errors.New(`Invalid message received: "payload.extensions" must be an object or null`)
	}
	return &p, nil
}

// decodeObject decodes an optional JSON object, keeping numbers as json.Number.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	switch jsonKind(raw) {
	case 0, 'n':
		return nil, nil
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		return m, nil
	default:
		return nil, errors.New("not an object")
	}
}

// jsonKind returns the first significant byte of a JSON value ('{', '[', '"', 'n', 't', 'f' or
// a digit or '-'), or 0 for an absent value.
func jsonKind(raw []byte) byte {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b
	}
	return 0
}

// truncateReason cuts a close reason to what a close frame can carry, on a rune boundary so
// that the client can decode it (close reasons must be valid UTF-8).
func truncateReason(reason string) string {
	if len(reason) <= maxCloseReason {
		return reason
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}

// sendableCloseCode reports whether code may be sent in a close frame (RFC 6455 7.4).
func sendableCloseCode(code websocket.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
