package sportello

import (
	"strings"
	"testing"
)

func TestCitizenInputValidateNormalizesTheRecord(t *testing.T) {
	in := CitizenInput{
		GivenName:  "  Maria Teresa ",
		FamilyName: "\tD'Angelo\n",
		FiscalCode: " rssmra85t10a562s ",
		Email:      " Maria.DAngelo@Comune.Roma.IT ",
		Phone:      "+39 06 1234 5678",
	}
	wantNoError(t, in.Validate())
	want := CitizenInput{
		GivenName:  "Maria Teresa",
		FamilyName: "D'Angelo",
		FiscalCode: "RSSMRA85T10A562S",
		Email:      "Maria.DAngelo@comune.roma.it",
		Phone:      "+390612345678",
	}
	if in != want {
		t.Errorf("got %+v, want %+v", in, want)
	}
}

func TestCitizenInputNamesTheFieldAtFault(t *testing.T) {
	valid := func() CitizenInput { return CitizenInput{GivenName: "Niccolò", FamilyName: "Rossi"} }
	cases := []struct {
		name  string
		edit  func(*CitizenInput)
		code  Code
		field string
	}{
		{name: "names only", edit: func(*CitizenInput) {}},
		{name: "no fiscal code, email or phone", edit: func(in *CitizenInput) { in.FiscalCode, in.Email, in.Phone = "", "", "" }},
		{name: "given name of 100 characters", edit: func(in *CitizenInput) { in.GivenName = chars(100) }},
		{name: "family name of 100 characters", edit: func(in *CitizenInput) { in.FamilyName = chars(100) }},
		{name: "empty given name", edit: func(in *CitizenInput) { in.GivenName = "" }, code: CodeBadUserInput, field: "givenName"},
		{name: "blank given name", edit: func(in *CitizenInput) { in.GivenName = "  \t" }, code: CodeBadUserInput, field: "givenName"},
		{name: "given name of 101 characters", edit: func(in *CitizenInput) { in.GivenName = chars(101) }, code: CodeBadUserInput, field: "givenName"},
		{name: "empty family name", edit: func(in *CitizenInput) { in.FamilyName = " " }, code: CodeBadUserInput, field: "familyName"},
		{name: "family name of 101 characters", edit: func(in *CitizenInput) { in.FamilyName = chars(101) }, code: CodeBadUserInput, field: "familyName"},
		{name: "bad fiscal code", edit: func(in *CitizenInput) { in.FiscalCode = "RSSMRA85T10A562X" }, code: CodeBadUserInput, field: "fiscalCode"},
		{name: "bad email", edit: func(in *CitizenInput) { in.Email = "maria@rossi" }, code: CodeBadUserInput, field: "email"},
		{name: "bad phone", edit: func(in *CitizenInput) { in.Phone = "06 ROSSI" }, code: CodeBadUserInput, field: "phone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			check(t, in.Validate(), tc.code, tc.field)
		})
	}
}

func TestProfileInputLeavesNilFieldsAndNormalizesTheOthers(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name               string
		email, phone       *string
		wantEmail, wantPhn *string
		code               Code
		field              string
	}{
		{name: "nothing changes"},
		{name: "clear both", email: str(""), phone: str(""), wantEmail: str(""), wantPhn: str("")},
		{name: "clear with blanks", email: str("  "), phone: str(" "), wantEmail: str(""), wantPhn: str("")},
		{name: "set both", email: str(" Anna@Example.IT "), phone: str("(06) 123-456"), wantEmail: str("Anna@example.it"), wantPhn: str("06123456")},
		{name: "email only", email: str("anna@example.it"), wantEmail: str("anna@example.it")},
		{name: "phone only", phone: str("333.123.4567"), wantPhn: str("3331234567")},
		{name: "bad email", email: str("Anna <anna@example.it>"), code: CodeBadUserInput, field: "email"},
		{name: "bad phone", phone: str("333-CALL-ME"), code: CodeBadUserInput, field: "phone"},
		{name: "bad phone after a good email", email: str("anna@example.it"), phone: str("12"), code: CodeBadUserInput, field: "phone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ProfileInput{Email: tc.email, Phone: tc.phone}
			err := in.Validate()
			check(t, err, tc.code, tc.field)
			if tc.code != "" {
				return
			}
			for _, f := range []struct {
				name      string
				got, want *string
			}{{"Email", in.Email, tc.wantEmail}, {"Phone", in.Phone, tc.wantPhn}} {
				switch {
				case f.want == nil && f.got != nil:
					t.Errorf("%s = %q, want nil (left as it is)", f.name, *f.got)
				case f.want != nil && f.got == nil:
					t.Errorf("%s = nil, want %q", f.name, *f.want)
				case f.want != nil && *f.got != *f.want:
					t.Errorf("%s = %q, want %q", f.name, *f.got, *f.want)
				}
			}
		})
	}
}

func TestNormalizeEmailAcceptsPlainAddressesAndLowerCasesTheDomain(t *testing.T) {
	// The longest address allowed: 64 + 1 + 186 + 3 = 254 characters.
	longest := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".it"
	cases := []struct{ in, want string }{
		{"anna@example.it", "anna@example.it"},
		{"  anna@example.it\t\n", "anna@example.it"},
		{"anna.bianchi+urp@comune.roma.it", "anna.bianchi+urp@comune.roma.it"},
		{"anna@Comune.Roma.IT", "anna@comune.roma.it"},
		// The local part is the mailbox owner's to interpret (RFC 5321 §2.4): keep its case.
		{"Anna.Bianchi@EXAMPLE.IT", "Anna.Bianchi@example.it"},
		{"ufficio.protocollo@pec.comune.example.it", "ufficio.protocollo@pec.comune.example.it"},
		{longest, longest},
		{"", ""},
		{"   ", ""},
	}
	for _, tc := range cases {
		got, err := NormalizeEmail("email", tc.in)
		wantNoError(t, err)
		if got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeEmailRejectsAnythingButAPlainAddress(t *testing.T) {
	tooLong := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 187) + ".it" // 255 characters
	for _, in := range []string{
		"A <a@b.it>",
		"Anna Bianchi <anna@example.it>",
		"<anna@example.it>",
		"anna@example",
		"anna@localhost",
		"anna",
		"anna@",
		"@example.it",
		"anna@@example.it",
		"anna bianchi@example.it",
		"anna@exam ple.it",
		"anna@example.it bianchi",
		"anna@example..it",
		"anna.@example.it",
		"anna@example.it, bruno@example.it",
		`"anna bianchi"@example.it`,
		"anna@example.it (Anna)",
		tooLong,
	} {
		t.Run(in, func(t *testing.T) {
			got, err := NormalizeEmail("contact.email", in)
			wantError(t, err, CodeBadUserInput, "contact.email")
			if got != "" {
				t.Errorf("got %q with the error, want \"\"", got)
			}
		})
	}
}

func TestNormalizePhoneStripsSeparatorsAndBoundsTheDigits(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{in: "+39 06 1234 5678", want: "+390612345678", ok: true},
		{in: "(06) 123-456", want: "06123456", ok: true},
		{in: "06.1234.5678", want: "0612345678", ok: true},
		{in: "06/12345678", want: "0612345678", ok: true},
		{in: "  333 123 4567  ", want: "3331234567", ok: true},
		{in: "0039 06 12345678", want: "00390612345678", ok: true},
		{in: "123456", want: "123456", ok: true},                     // 6 digits, the fewest
		{in: "+123456789012345", want: "+123456789012345", ok: true}, // 15 digits, the E.164 maximum
		{in: "", want: "", ok: true},
		{in: "   ", want: "", ok: true},
		{in: "12345"},             // 5 digits
		{in: "+39 0"},             // 3 digits
		{in: "+1234567890123456"}, // 16 digits
		{in: "06 1234 5678 9012 34"},
		{in: "06 CALL ME"},
		{in: "O6 1234567"}, // the letter O
		{in: "06 1234567 int. 2"},
		{in: "+"},
		{in: "++39 06 1234567"},
		{in: "39+06 1234567"},
		{in: "06 1234567#"},
		{in: "٠٦١٢٣٤٥٦٧"}, // Arabic-Indic digits
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizePhone("phone", tc.in)
			if !tc.ok {
				wantError(t, err, CodeBadUserInput, "phone")
				return
			}
			wantNoError(t, err)
			if got != tc.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
