package sportello

import "testing"

func TestAutomaticTellsBouncesAndAutoRepliesFromPeople(t *testing.T) {
	person := InboundMail{ReturnPath: "anna@example.it", From: "anna@example.it", ContentType: "text/plain"}
	with := func(f func(*InboundMail)) InboundMail {
		m := person
		m.Headers = map[string]string{}
		f(&m)
		return m
	}
	cases := []struct {
		name      string
		mail      InboundMail
		automatic bool
	}{
		{"a person", person, false},
		{"Auto-Submitted: no", with(func(m *InboundMail) { m.Headers["Auto-Submitted"] = "no" }), false},
		{"Precedence: first-class", with(func(m *InboundMail) { m.Headers["Precedence"] = "first-class" }), false},
		{"null return path", with(func(m *InboundMail) { m.ReturnPath = "" }), true},
		{"delivery report", with(func(m *InboundMail) { m.ContentType = "multipart/report" }), true},
		{"mailer daemon", with(func(m *InboundMail) { m.From = "MAILER-DAEMON@mx.example.it" }), true},
		{"postmaster", with(func(m *InboundMail) { m.From = "postmaster@mx.example.it" }), true},
		{"Auto-Submitted", with(func(m *InboundMail) { m.Headers["Auto-Submitted"] = "auto-replied" }), true},
		{"X-Autoreply", with(func(m *InboundMail) { m.Headers["X-Autoreply"] = "yes" }), true},
		{"X-Autorespond", with(func(m *InboundMail) { m.Headers["X-Autorespond"] = "yes" }), true},
		{"X-Auto-Response-Suppress", with(func(m *InboundMail) { m.Headers["X-Auto-Response-Suppress"] = "OOF" }), true},
		{"Precedence: bulk", with(func(m *InboundMail) { m.Headers["Precedence"] = "Bulk" }), true},
		{"Precedence: auto_reply", with(func(m *InboundMail) { m.Headers["Precedence"] = "auto_reply" }), true},
		{"PEC receipt", with(func(m *InboundMail) { m.Headers["X-Ricevuta"] = "accettazione" }), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.mail.Automatic(); (got != "") != c.automatic {
				t.Fatalf("Automatic() = %q, want automatic %v", got, c.automatic)
			}
		})
	}
}

func TestProtocolInSubjectFindsTheNumberAnywhere(t *testing.T) {
	cases := []struct {
		subject string
		want    ProtocolNumber
		ok      bool
	}{
		{"Re: Prot. 2026/0000123 – Rinnovo", ProtocolNumber{2026, 123}, true},
		{"R: pratica 2025/42", ProtocolNumber{2025, 42}, true},
		{"2026/0000007", ProtocolNumber{2026, 7}, true},
		{"Delibera 12/2026", ProtocolNumber{}, false},
		{"Codice 12026/0000001", ProtocolNumber{}, false},
		{"Prot. 2026/0000000", ProtocolNumber{}, false},
		{"Buongiorno", ProtocolNumber{}, false},
	}
	for _, c := range cases {
		got, ok := ProtocolInSubject(c.subject)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ProtocolInSubject(%q) = %v, %v; want %v, %v", c.subject, got, ok, c.want, c.ok)
		}
	}
}
