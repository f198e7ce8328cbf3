package sportello

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// zipFile builds a ZIP archive with the named entries, the first stored uncompressed as
// OpenDocument requires of its mimetype entry.
func zipFile(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i, e := range entries {
		method := zip.Deflate
		if i == 0 {
			method = zip.Store
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniffContentTypeReadsTheContentNotTheName(t *testing.T) {
	odt := zipFile(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<x/>"})
	docx := zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w/>"})
	xlsx := zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"xl/workbook.xml", "<w/>"})
	fakeODF := zipFile(t, [2]string{"mimetype", "application/x-msdownload"})
	plainZip := zipFile(t, [2]string{"a.txt", "ciao"})
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"pdf", []byte("%PDF-1.7\n1 0 obj"), "application/pdf"},
		{"utf-8 text", []byte("Buongiorno, è rotto il lampione."), "text/plain"},
		{"latin-1 text", []byte("Buongiorno, \xe8 rotto"), "application/octet-stream"},
		{"html", []byte("<html><script>alert(1)</script>"), "application/octet-stream"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>`), "application/octet-stream"},
		{"executable", []byte("MZ\x90\x00\x03\x00\x00\x00"), "application/octet-stream"},
		{"odt", odt, "application/vnd.oasis.opendocument.text"},
		{"docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xlsx", xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"zip claiming an unknown type", fakeODF, "application/octet-stream"},
		{"plain zip", plainZip, "application/octet-stream"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SniffContentType(c.data); got != c.want {
				t.Fatalf("SniffContentType = %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckUploadsRefusesWhatTheLimitsExclude(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	cases := []struct {
		name    string
		uploads []*Upload
		field   string
	}{
		{"empty file", []*Upload{{Filename: "a.png"}}, "attachments.0"},
		{"too large", []*Upload{{Filename: "a.txt", Data: bytes.Repeat([]byte("a"), MaxAttachmentSize+1)}}, "attachments.0"},
		{"name disagrees with content", []*Upload{{Filename: "a.png", Data: png}, {Filename: "b.pdf", Data: png}}, "attachments.1"},
		{"type not accepted", []*Upload{{Filename: "a.html", Data: []byte("<html></html>")}}, "attachments.0"},
		{"no name", []*Upload{{Filename: "../", Data: png}}, "attachments.0"},
		{"too many", []*Upload{{"1.png", png}, {"2.png", png}, {"3.png", png}, {"4.png", png}, {"5.png", png}, {"6.png", png}}, "attachments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckUploads("attachments", c.uploads)
			if ErrorCode(err) != CodeBadUserInput || err.(*Error).Field != c.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, c.field)
			}
		})
	}
	got, err := CheckUploads("attachments", []*Upload{{Filename: `C:\Users\anna\Foto "buca".PNG`, Data: png}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Filename != "Foto buca.PNG" || got[0].ContentType != "image/png" || len(got[0].SHA256) != 64 {
		t.Fatalf("checked = %+v", got[0])
	}
}

func TestCleanFilenameKeepsAShortLastElement(t *testing.T) {
	long := strings.Repeat("à", 300) + ".pdf"
	if got := CleanFilename(long); len([]rune(got)) != MaxFilenameLen || !strings.HasSuffix(got, ".pdf") {
		t.Fatalf("CleanFilename(long) = %q", got)
	}
	if got := CleanFilename("/etc/passwd\x00.txt"); got != "passwd.txt" {
		t.Fatalf("CleanFilename = %q", got)
	}
}

// BenchmarkCheckUploads measures checking the largest photo accepted: sniffing its type and
// hashing it.
func BenchmarkCheckUploads(b *testing.B) {
	data := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, MaxAttachmentSize-16)...)
	uploads := []*Upload{{Filename: "foto.png", Data: data}}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := CheckUploads("attachments", uploads); err != nil {
			b.Fatal(err)
		}
	}
}
