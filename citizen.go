package sportello

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// MaxNameLen bounds names, in characters.
const MaxNameLen = 100

// Citizen is a person the office serves: one who signed in (and so has a Subject) or one an
// operator registered at the desk.
type Citizen struct {
	ID         string
	TenantID   string
	Subject    string // the identity provider's id; empty for people registered at the desk
	GivenName  string
	FamilyName string
	FiscalCode string // empty for people who have none, such as some foreign residents
	Email      string
	Phone      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// FullName is the name shown for the citizen.
func (c *Citizen) FullName() string { return joinName(c.GivenName, c.FamilyName) }

// CitizenInput is a citizen record as an operator enters it.
type CitizenInput struct {
	GivenName  string
	FamilyName string
	FiscalCode string
	Email      string
	Phone      string
}

// Validate checks and normalizes the record; it returns BAD_USER_INPUT naming the field at fault.
func (in *CitizenInput) Validate() error {
	in.GivenName = strings.TrimSpace(in.GivenName)
	in.FamilyName = strings.TrimSpace(in.FamilyName)
	if err := checkLen("givenName", in.GivenName, 1, MaxNameLen); err != nil {
		return err
	}
	if err := checkLen("familyName", in.FamilyName, 1, MaxNameLen); err != nil {
		return err
	}
	var err error
	if in.FiscalCode, err = NormalizeFiscalCode("fiscalCode", in.FiscalCode); err != nil {
		return err
	}
	if in.Email, err = NormalizeEmail("email", in.Email); err != nil {
		return err
	}
	in.Phone, err = NormalizePhone("phone", in.Phone)
	return err
}

// ProfileInput is what citizens may change of their own profile. Their name and fiscal code
// come from the identity provider, which certifies them, so they are not editable here. A nil
// field is left as it is; an empty string clears it.
type ProfileInput struct {
	Email *string
	Phone *string
}

// Validate checks and normalizes the changes.
func (in *ProfileInput) Validate() error {
	if in.Email != nil {
		e, err := NormalizeEmail("email", *in.Email)
		if err != nil {
			return err
		}
		in.Email = &e
	}
	if in.Phone != nil {
		p, err := NormalizePhone("phone", *in.Phone)
		if err != nil {
			return err
		}
		in.Phone = &p
	}
	return nil
}

// NormalizeEmail trims an e-mail address and checks it is a plain address (no display name).
// An empty address is allowed: the caller decides whether one is required.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", InvalidField(field, "is not a valid e-mail address")
	}
	at := strings.LastIndexByte(s, '@')
	if !strings.Contains(s[at+1:], ".") {
		return "", InvalidField(field, "is not a valid e-mail address")
	}
	return s[:at+1] + strings.ToLower(s[at+1:]), nil
}

// NormalizePhone removes the spaces, dots, dashes and brackets people type in phone numbers and
// checks what is left is an optional + and 6 to 15 digits (the E.164 maximum).
func NormalizePhone(field, s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/':
		default:
			return "", InvalidField(field, "is not a valid phone number")
		}
	}
	p := b.String()
	if p == "" {
		return "", nil
	}
	digits := len(strings.TrimPrefix(p, "+"))
	if digits < 6 || digits > 15 {
		return "", InvalidField(field, "is not a valid phone number")
	}
	return p, nil
}

// CitizenService keeps the citizens' records.
type CitizenService interface {
	// Me returns the signed-in citizen's profile, creating it from the token's claims on first
	// use. Errors: UNAUTHENTICATED, FORBIDDEN (not a citizen).
	Me(ctx context.Context) (*Citizen, error)
	// UpdateMyProfile changes the signed-in citizen's contact details. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN.
	UpdateMyProfile(ctx context.Context, in ProfileInput) (*Citizen, error)
	// SearchCitizens finds citizens by name, fiscal code or e-mail, for staff. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	SearchCitizens(ctx context.Context, search string, first int) ([]*Citizen, error)
	// CreateCitizen registers a citizen at the desk. Errors: BAD_USER_INPUT, UNAUTHENTICATED,
	// FORBIDDEN, CONFLICT (fiscal code already registered).
	CreateCitizen(ctx context.Context, in CitizenInput) (*Citizen, error)
	// CitizensByID returns the citizens the caller may see among ids: staff see all of the
	// tenant's, a citizen only themselves. Missing ids are absent from the map.
	CitizensByID(ctx context.Context, ids []string) (map[string]*Citizen, error)
}
