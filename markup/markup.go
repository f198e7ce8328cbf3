// Package markup turns the Markdown that editors write into the HTML the portal and the app
// show. The HTML is sanitized after rendering, so whatever an editor's account writes (or
// whoever took it over) cannot run a script in a citizen's browser.
package markup

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// The Markdown dialect: CommonMark with GitHub's tables and strikethrough. Raw HTML is passed
// on to the sanitizer rather than dropped by the renderer, so that one policy (the sanitizer's)
// decides what survives, and editors may use the harmless tags Markdown has no syntax for.
var md = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
)

// policy is bluemonday's policy for user-generated content (no scripts, styles, event handlers,
// forms or frames; only http, https, mailto and relative URLs), with links that tell search
// engines not to follow them and that open external sites in a new tab without giving them a
// handle on the portal's window.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// text strips every tag, for the plain text that search indexes.
var text = bluemonday.StrictPolicy().AddSpaceWhenStrippingTag(true)

// Render returns the sanitized HTML of a Markdown text and its plain text.
func Render(markdown string) (htmlOut, plain string, err error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		return "", "", fmt.Errorf("render markdown: %w", err)
	}
	safe := policy.Sanitize(buf.String())
	plain = strings.Join(strings.Fields(html.UnescapeString(text.Sanitize(safe))), " ")
	return safe, plain, nil
}
