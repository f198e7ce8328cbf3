package sportello

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wantError fails the test unless err is an *Error with the code and field (an empty field for
// errors that name none).
func wantError(t *testing.T, err error, code Code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s (field %q)", code, field)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *sportello.Error %s (field %q)", err, err, code, field)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("got %s (field %q): %v; want %s (field %q)", e.Code, e.Field, err, code, field)
	}
}

// wantNoError fails the test if err is not nil.
func wantNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
}

// check asserts err against a table row: no error when code is empty, else that code and field.
func check(t *testing.T, err error, code Code, field string) {
	t.Helper()
	if code == "" {
		wantNoError(t, err)
		return
	}
	wantError(t, err, code, field)
}

// chars returns n copies of "è": n characters but 2n bytes, so a limit counted in bytes fails.
func chars(n int) string { return strings.Repeat("è", n) }

// textCase is a subject and body to validate and the outcome expected.
type textCase struct {
	name          string
	subject, body string
	code          Code
	field         string
}

// ticketTextCases are the rules on subject and body shared by every way of filing a ticket.
var ticketTextCases = []textCase{
	{name: "plain text", subject: "Orari dell'anagrafe", body: "Quando è aperto lo sportello?"},
	{name: "empty subject", subject: "", body: "body", code: CodeBadUserInput, field: "subject"},
	{name: "blank subject", subject: " \t\n ", body: "body", code: CodeBadUserInput, field: "subject"},
	{name: "subject of 200 characters", subject: chars(200), body: "body"},
	{name: "subject of 200 characters padded with spaces", subject: "  " + chars(200) + " \n", body: "body"},
	{name: "subject of 201 characters", subject: chars(201), body: "body", code: CodeBadUserInput, field: "subject"},
	{name: "subject not UTF-8", subject: "caff\xe8", body: "body", code: CodeBadUserInput, field: "subject"},
	{name: "empty body", subject: "subject", body: "", code: CodeBadUserInput, field: "body"},
	{name: "blank body", subject: "subject", body: "\n\t  \n", code: CodeBadUserInput, field: "body"},
	{name: "body of 10000 characters", subject: "subject", body: chars(10000)},
	{name: "body of 10001 characters", subject: "subject", body: chars(10001), code: CodeBadUserInput, field: "body"},
	{name: "subject checked before body", subject: "", body: "", code: CodeBadUserInput, field: "subject"},
}

func validSubmit() SubmitTicketInput {
	return SubmitTicketInput{
		Kind:    KindInformation,
		Subject: "Orari dell'anagrafe",
		Body:    "Vorrei sapere quando è aperto lo sportello dell'anagrafe.",
	}
}

func validRegister() RegisterTicketInput {
	return RegisterTicketInput{
		Kind:      KindPetition,
		Channel:   ChannelCounter,
		Subject:   "Petizione per il parco",
		Body:      "Si chiede la riapertura del parco comunale.",
		CitizenID: "citizen-1",
	}
}

func TestSubmitTicketInputBoundsSubjectAndBodyInCharacters(t *testing.T) {
	for _, tc := range ticketTextCases {
		t.Run(tc.name, func(t *testing.T) {
			in := validSubmit()
			in.Subject, in.Body = tc.subject, tc.body
			check(t, in.Validate(), tc.code, tc.field)
		})
	}
}

func TestRegisterTicketInputBoundsSubjectAndBodyInCharacters(t *testing.T) {
	for _, tc := range ticketTextCases {
		t.Run(tc.name, func(t *testing.T) {
			in := validRegister()
			in.Subject, in.Body = tc.subject, tc.body
			check(t, in.Validate(), tc.code, tc.field)
		})
	}
}

func TestSubmitTicketInputTrimsSubjectAndBody(t *testing.T) {
	in := validSubmit()
	in.Subject = " \t Buca in via Roma \n"
	in.Body = "\n  C'è una buca pericolosa davanti al civico 3.  \n\n"
	wantNoError(t, in.Validate())
	if in.Subject != "Buca in via Roma" {
		t.Errorf("Subject = %q, want it trimmed", in.Subject)
	}
	if in.Body != "C'è una buca pericolosa davanti al civico 3." {
		t.Errorf("Body = %q, want it trimmed", in.Body)
	}
}

func TestRegisterTicketInputTrimsSubjectAndBody(t *testing.T) {
	in := validRegister()
	in.Subject = "  Petizione  "
	in.Body = "\tTesto della petizione.\n"
	wantNoError(t, in.Validate())
	if in.Subject != "Petizione" || in.Body != "Testo della petizione." {
		t.Errorf("Subject, Body = %q, %q; want them trimmed", in.Subject, in.Body)
	}
}

func TestSubmitTicketInputRefusesUnknownKinds(t *testing.T) {
	for _, k := range []Kind{"", "COMPLAINTS", "information", "OTHER"} {
		t.Run(string(k), func(t *testing.T) {
			in := validSubmit()
			in.Kind = k
			wantError(t, in.Validate(), CodeBadUserInput, "kind")
		})
	}
	for _, k := range []Kind{KindInformation, KindAssistance, KindPetition, KindProposal, KindComplaint, KindReport, KindSuggestion} {
		t.Run(string(k), func(t *testing.T) {
			in := validSubmit()
			in.Kind = k
			wantNoError(t, in.Validate())
		})
	}
}

func TestSubmitTicketInputDefaultsToWebAndRefusesDeskChannels(t *testing.T) {
	cases := []struct {
		channel Channel
		want    Channel // the channel after validation, when valid
		code    Code
	}{
		{channel: "", want: ChannelWeb},
		{channel: ChannelWeb, want: ChannelWeb},
		{channel: ChannelApp, want: ChannelApp},
		{channel: ChannelCounter, code: CodeBadUserInput},
		{channel: ChannelPhone, code: CodeBadUserInput},
		{channel: ChannelEmail, code: CodeBadUserInput},
		{channel: ChannelPEC, code: CodeBadUserInput},
		{channel: ChannelPost, code: CodeBadUserInput},
		{channel: ChannelSocial, code: CodeBadUserInput},
		{channel: "FAX", code: CodeBadUserInput},
		{channel: "web", code: CodeBadUserInput},
	}
	for _, tc := range cases {
		t.Run("channel "+string(tc.channel), func(t *testing.T) {
			in := validSubmit()
			in.Channel = tc.channel
			err := in.Validate()
			if tc.code != "" {
				wantError(t, err, tc.code, "channel")
				return
			}
			wantNoError(t, err)
			if in.Channel != tc.want {
				t.Errorf("Channel = %q, want %q", in.Channel, tc.want)
			}
		})
	}
}

func TestSubmitTicketInputNormalizesTheAnonymousContact(t *testing.T) {
	in := validSubmit()
	in.Kind = KindReport
	in.Contact = &Contact{Name: "  Anna Bianchi ", Email: " anna.bianchi@Example.IT ", Phone: "+39 06 1234 5678"}
	wantNoError(t, in.Validate())
	want := Contact{Name: "Anna Bianchi", Email: "anna.bianchi@example.it", Phone: "+390612345678"}
	if *in.Contact != want {
		t.Errorf("Contact = %+v, want %+v", *in.Contact, want)
	}
}

func TestSubmitTicketInputNamesTheContactFieldAtFault(t *testing.T) {
	cases := []struct {
		name    string
		contact Contact
		code    Code
		field   string
	}{
		{name: "email only", contact: Contact{Email: "a@b.it"}},
		{name: "phone only", contact: Contact{Phone: "06 1234567"}},
		{name: "name of 100 characters", contact: Contact{Name: chars(100)}},
		{name: "name of 101 characters", contact: Contact{Name: chars(101)}, code: CodeBadUserInput, field: "contact.name"},
		{name: "email without domain", contact: Contact{Email: "anna@"}, code: CodeBadUserInput, field: "contact.email"},
		{name: "email with display name", contact: Contact{Email: "Anna <anna@b.it>"}, code: CodeBadUserInput, field: "contact.email"},
		{name: "email without dot in the domain", contact: Contact{Email: "anna@localhost"}, code: CodeBadUserInput, field: "contact.email"},
		{name: "phone with letters", contact: Contact{Phone: "06 CALL ANNA"}, code: CodeBadUserInput, field: "contact.phone"},
		{name: "phone too short", contact: Contact{Phone: "12345"}, code: CodeBadUserInput, field: "contact.phone"},
		{name: "phone too long", contact: Contact{Phone: "+39 06123456789012"}, code: CodeBadUserInput, field: "contact.phone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validSubmit()
			in.Kind = KindSuggestion
			c := tc.contact
			in.Contact = &c
			check(t, in.Validate(), tc.code, tc.field)
		})
	}
}

func TestContactValidateNamesFieldsUnderThePrefix(t *testing.T) {
	for _, tc := range []struct {
		contact Contact
		field   string
	}{
		{Contact{Name: chars(101)}, "filer.name"},
		{Contact{Email: "not an address"}, "filer.email"},
		{Contact{Phone: "abc"}, "filer.phone"},
	} {
		c := tc.contact
		wantError(t, c.Validate("filer"), CodeBadUserInput, tc.field)
	}
}

func TestRegisterTicketInputTakesOnlyDeskChannels(t *testing.T) {
	cases := []struct {
		channel Channel
		ok      bool
	}{
		{ChannelCounter, true},
		{ChannelPhone, true},
		{ChannelEmail, true},
		{ChannelPEC, true},
		{ChannelPost, true},
		{ChannelWeb, false},
		{ChannelApp, false},
		{ChannelSocial, false},
		{"", false},
		{"FAX", false},
	}
	for _, tc := range cases {
		t.Run("channel "+string(tc.channel), func(t *testing.T) {
			in := validRegister()
			in.Channel = tc.channel
			err := in.Validate()
			if tc.ok {
				wantNoError(t, err)
			} else {
				wantError(t, err, CodeBadUserInput, "channel")
			}
		})
	}
}

func TestRegisterTicketInputNeedsTheCitizenForKindsThatRequireIdentity(t *testing.T) {
	kinds := []struct {
		kind      Kind
		anonymous bool // may be registered without a citizen
	}{
		{KindInformation, false},
		{KindAssistance, false},
		{KindPetition, false},
		{KindProposal, false},
		{KindComplaint, false},
		{KindReport, true},
		{KindSuggestion, true},
	}
	for _, k := range kinds {
		var code Code // expected without a citizen
		if !k.anonymous {
			code = CodeBadUserInput
		}
		t.Run(string(k.kind)+"/citizen", func(t *testing.T) {
			in := validRegister()
			in.Kind = k.kind
			wantNoError(t, in.Validate())
		})
		t.Run(string(k.kind)+"/nobody", func(t *testing.T) {
			in := validRegister()
			in.Kind, in.CitizenID = k.kind, ""
			check(t, in.Validate(), code, "citizenId")
		})
		t.Run(string(k.kind)+"/empty contact", func(t *testing.T) {
			in := validRegister()
			in.Kind, in.CitizenID, in.Contact = k.kind, "", &Contact{}
			check(t, in.Validate(), code, "citizenId")
		})
		// A contact is how to reach an anonymous filer, not an identity: it does not stand in
		// for the citizen a request with legal effects needs.
		t.Run(string(k.kind)+"/contact only", func(t *testing.T) {
			in := validRegister()
			in.Kind, in.CitizenID = k.kind, ""
			in.Contact = &Contact{Name: "Anna Bianchi", Phone: "06 1234567"}
			check(t, in.Validate(), code, "citizenId")
		})
	}
}

func TestRegisterTicketInputRefusesBothCitizenAndContact(t *testing.T) {
	for _, kind := range []Kind{KindPetition, KindReport} {
		t.Run(string(kind), func(t *testing.T) {
			in := validRegister()
			in.Kind = kind
			in.Contact = &Contact{Email: "anna@example.it"}
			wantError(t, in.Validate(), CodeBadUserInput, "contact")
		})
	}
}

func TestRegisterTicketInputValidatesTheAnonymousContact(t *testing.T) {
	cases := []struct {
		name    string
		contact Contact
		code    Code
		field   string
	}{
		{name: "valid", contact: Contact{Name: " Anna ", Email: "Anna@Example.it", Phone: "(06) 123-456"}},
		{name: "bad email", contact: Contact{Email: "anna@example"}, code: CodeBadUserInput, field: "contact.email"},
		{name: "bad phone", contact: Contact{Phone: "06-ABC-123"}, code: CodeBadUserInput, field: "contact.phone"},
		{name: "long name", contact: Contact{Name: chars(101)}, code: CodeBadUserInput, field: "contact.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validRegister()
			in.Kind, in.CitizenID = KindReport, ""
			c := tc.contact
			in.Contact = &c
			check(t, in.Validate(), tc.code, tc.field)
			if tc.code == "" {
				want := Contact{Name: "Anna", Email: "Anna@example.it", Phone: "06123456"}
				if c != want {
					t.Errorf("Contact = %+v, want %+v", c, want)
				}
			}
		})
	}
}

func TestPostMessageInputTrimsAndBoundsTheBody(t *testing.T) {
	cases := []struct {
		name, body, want string
		code             Code
	}{
		{name: "plain", body: "Grazie, attendo risposta.", want: "Grazie, attendo risposta."},
		{name: "trimmed", body: "\n  Grazie.  \t", want: "Grazie."},
		{name: "empty", body: "", code: CodeBadUserInput},
		{name: "blank", body: " \n\t ", code: CodeBadUserInput},
		{name: "10000 characters", body: chars(10000), want: chars(10000)},
		{name: "10001 characters", body: chars(10001), code: CodeBadUserInput},
		{name: "not UTF-8", body: "perch\xe9", code: CodeBadUserInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := PostMessageInput{TicketID: "t1", Body: tc.body}
			err := in.Validate()
			check(t, err, tc.code, "body")
			if tc.code == "" && in.Body != tc.want {
				t.Errorf("Body = %q, want %q", in.Body, tc.want)
			}
		})
	}
}

func TestTicketFilterNamesTheFieldAtFault(t *testing.T) {
	day := func(d int) *time.Time {
		t := time.Date(2026, 3, d, 0, 0, 0, 0, Rome)
		return &t
	}
	yes := true
	cases := []struct {
		name   string
		filter TicketFilter
		code   Code
		field  string
	}{
		{name: "zero filter", filter: TicketFilter{}},
		{name: "known values", filter: TicketFilter{
			Statuses: []Status{StatusSubmitted, StatusClosed},
			Kinds:    []Kind{KindComplaint, KindReport},
			Channels: []Channel{ChannelWeb, ChannelPEC},
			Overdue:  &yes,
			Text:     "buca",
		}},
		{name: "unknown status", filter: TicketFilter{Statuses: []Status{StatusInProgress, "OPEN"}}, code: CodeBadUserInput, field: "filter.statuses"},
		{name: "unknown kind", filter: TicketFilter{Kinds: []Kind{"QUESTION"}}, code: CodeBadUserInput, field: "filter.kinds"},
		{name: "unknown channel", filter: TicketFilter{Channels: []Channel{"FAX"}}, code: CodeBadUserInput, field: "filter.channels"},
		{name: "createdFrom only", filter: TicketFilter{CreatedFrom: day(10)}},
		{name: "createdTo only", filter: TicketFilter{CreatedTo: day(10)}},
		{name: "createdTo after createdFrom", filter: TicketFilter{CreatedFrom: day(10), CreatedTo: day(11)}},
		{name: "createdTo equal to createdFrom", filter: TicketFilter{CreatedFrom: day(10), CreatedTo: day(10)}},
		{name: "createdTo before createdFrom", filter: TicketFilter{CreatedFrom: day(10), CreatedTo: day(9)}, code: CodeBadUserInput, field: "filter.createdTo"},
		{name: "text of 200 characters", filter: TicketFilter{Text: chars(200)}},
		{name: "text of 201 characters", filter: TicketFilter{Text: chars(201)}, code: CodeBadUserInput, field: "filter.text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			check(t, f.Validate(), tc.code, tc.field)
		})
	}
}

func TestTicketFilterTrimsTheText(t *testing.T) {
	f := TicketFilter{Text: "  via Roma \n"}
	wantNoError(t, f.Validate())
	if f.Text != "via Roma" {
		t.Errorf("Text = %q, want %q", f.Text, "via Roma")
	}
}

func TestPageDefaultsTo20AndAllowsAtMost100(t *testing.T) {
	cases := []struct {
		first, want int
		ok          bool
	}{
		{first: 0, want: 20, ok: true},
		{first: 1, want: 1, ok: true},
		{first: 50, want: 50, ok: true},
		{first: 100, want: 100, ok: true},
		{first: 101},
		{first: 1000000},
		{first: -1},
		{first: -20},
	}
	for _, tc := range cases {
		p := Page{First: tc.first, After: "cursor"}
		err := p.Validate()
		if !tc.ok {
			wantError(t, err, CodeBadUserInput, "first")
			continue
		}
		wantNoError(t, err)
		if p.First != tc.want || p.After != "cursor" {
			t.Errorf("Page{First: %d} became %+v, want First %d and the cursor kept", tc.first, p, tc.want)
		}
	}
}
