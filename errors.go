// Package sportello holds the domain of a municipality's citizen-relations office: tickets,
// citizens, offices, their rules (workflow, deadlines, protocol numbers, validation) and the
// service interfaces that transports call. It performs no I/O.
package sportello

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. The transports map it once, at their edge (GraphQL
// extensions.code, HTTP status), so every channel reports the same failure the same way.
type Code string

// The error codes clients can see.
const (
	CodeBadUserInput      Code = "BAD_USER_INPUT"
	CodeUnauthenticated   Code = "UNAUTHENTICATED"
	CodeForbidden         Code = "FORBIDDEN"
	CodeNotFound          Code = "NOT_FOUND"
	CodeConflict          Code = "CONFLICT"
	CodeInvalidTransition Code = "INVALID_TRANSITION"
	CodeRateLimited       Code = "RATE_LIMITED"
	CodeInternal          Code = "INTERNAL"
	// CodePersistedQueryNotAllowed refuses an operation that a client restricted to registered
	// operations (the mobile app) did not register: see PersistedOperations.
	CodePersistedQueryNotAllowed Code = "PERSISTED_QUERY_NOT_ALLOWED"
)

// Error is a failure the client is allowed to read: its message is written for the person using
// the API and never carries SQL, driver text or another person's data.
type Error struct {
	Code    Code
	Field   string // the input field at fault, for BAD_USER_INPUT
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns a BAD_USER_INPUT error naming the input field at fault.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the NOT_FOUND error for a kind of object. The same error is returned for an
// object that does not exist and for one the caller may not see, so ids cannot be probed.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// ErrUnauthenticated is returned when an operation needs a signed-in caller.
var ErrUnauthenticated = &Error{Code: CodeUnauthenticated, Message: "sign in to do this"}

// ErrForbidden is returned when the caller is signed in but their role does not allow the operation.
var ErrForbidden = &Error{Code: CodeForbidden, Message: "your role does not allow this"}

// ErrorCode returns the code of the first *Error in err's chain, or INTERNAL for any other error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
