package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"

	sportello "github.com/sportello/sportello"
)

// maxParts bounds how many MIME parts a message may have, so that a crafted message cannot make
// the parser work without end.
const maxParts = 100

// wordDecoder decodes RFC 2047 encoded words ("=?utf-8?q?Citt=C3=A0?="), in UTF-8 and in the
// Latin charsets Italian mail programs still use.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(charset, b)), nil
}}

// Parse reads a raw message as it arrived for channel, with its envelope sender.
func Parse(raw []byte, returnPath string, channel sportello.Channel) (*sportello.InboundMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	in := &sportello.InboundMail{Channel: channel, ReturnPath: returnPath, Headers: map[string]string{}}
	in.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	if in.MessageID == "" {
		sum := sha256.Sum256(raw)
		in.MessageID = "sha256:" + hex.EncodeToString(sum[:])
	}
	for _, h := range sportello.AutomaticHeaders {
		if v := msg.Header.Get(h); v != "" {
			in.Headers[h] = v
		}
	}
	p := &parser{in: in}
	if err := p.message(textproto.MIMEHeader(msg.Header), msg.Body, channel == sportello.ChannelPEC); err != nil {
		return nil, err
	}
	in.Body = strings.TrimSpace(in.Body)
	return in, nil
}

type parser struct {
	in    *sportello.InboundMail
	parts int
}

// message reads the sender, subject and parts of a message. A PEC arrives wrapped by the
// sender's provider: the envelope's body is the provider's notice, and the citizen's message is
// the attached postacert.eml, which is read in its place.
func (p *parser) message(h textproto.MIMEHeader, body io.Reader, pec bool) error {
	if a, err := (&mail.AddressParser{WordDecoder: wordDecoder}).Parse(h.Get("From")); err == nil {
		p.in.From, p.in.FromName = a.Address, a.Name
	}
	subject, err := wordDecoder.DecodeHeader(h.Get("Subject"))
	if err != nil {
		subject = h.Get("Subject")
	}
	p.in.Subject = subject
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if p.in.ContentType == "" {
		p.in.ContentType = mt
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if pec {
		if inner := p.findPostacert(h, bytes.NewReader(data)); inner != nil {
			msg, err := mail.ReadMessage(bytes.NewReader(inner))
			if err != nil {
				return err
			}
			return p.message(textproto.MIMEHeader(msg.Header), msg.Body, false)
		}
	}
	p.part(h, bytes.NewReader(data))
	return nil
}

// findPostacert returns a PEC envelope's postacert.eml, or nil when it has none.
func (p *parser) findPostacert(h textproto.MIMEHeader, body io.Reader) []byte {
	var inner []byte
	p.walk(h, body, func(ph textproto.MIMEHeader, data []byte) bool {
		if strings.EqualFold(filename(ph), "postacert.eml") {
			inner = data
			return true
		}
		return false
	})
	return inner
}

// part reads one part: the first text part not sent as a file is the body, and every file is
// an attachment.
func (p *parser) part(h textproto.MIMEHeader, body io.Reader) {
	p.walk(h, body, func(ph textproto.MIMEHeader, data []byte) bool {
		mt, params, _ := mime.ParseMediaType(ph.Get("Content-Type"))
		name := filename(ph)
		switch {
		case name == "" && (mt == "text/plain" || mt == "") && p.in.Body == "":
			p.in.Body = toUTF8(params["charset"], data)
		case name == "" && mt == "text/html" && p.in.Body == "":
			p.in.Body = stripTags(toUTF8(params["charset"], data))
		case name != "":
			p.in.Attachments = append(p.in.Attachments, &sportello.Upload{Filename: name, Data: data})
		}
		return false
	})
}

// walk calls leaf for every leaf part, decoded, until it returns true.
func (p *parser) walk(h textproto.MIMEHeader, body io.Reader, leaf func(textproto.MIMEHeader, []byte) bool) bool {
	p.parts++
	if p.parts > maxParts {
		return true
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err != nil {
				return false
			}
			if p.walk(part.Header, part, leaf) {
				return true
			}
		}
	}
	data, err := io.ReadAll(decode(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return false
	}
	return leaf(h, data)
}

func decode(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &skipSpace{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// skipSpace drops the line breaks of base64 bodies, which the standard decoder refuses.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	out := 0
	for _, c := range b[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			b[out] = c
			out++
		}
	}
	return out, err
}

// filename is the name a part is sent under, if it is a file.
func filename(h textproto.MIMEHeader) string {
	var name string
	if _, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = params["filename"]
	}
	if name == "" {
		if _, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
			name = params["name"]
		}
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec
	}
	return name
}

// toUTF8 converts text in a charset to UTF-8: UTF-8 and ASCII as they are, Latin-1 and
// Windows-1252 (the same for every letter Italian uses) byte by byte.
func toUTF8(charset string, b []byte) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso-8859-15", "windows-1252", "latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

// stripTags reduces an HTML body to its text, for messages without a plain text part.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
