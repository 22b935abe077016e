package mockdesk

import (
	"mime"
	"strings"
	"testing"
)

// TestAttachmentDisposition: a download's name reaches the browser whole
// in filename* and cannot end the header or the value; before, the name
// was Go-quoted into filename alone.
func TestAttachmentDisposition(t *testing.T) {
	for _, name := range []string{"receipt.png", `a "quoted" name.pdf`, "evil\r\nX-Injected: 1.png", "résumé 2026.pdf", `back\slash%20.txt`, "invoice\u202efdp.png"} {
		h := attachmentDisposition(name)
		if strings.ContainsAny(h, "\r\n\u202e") {
			t.Errorf("%q: header %q holds a raw control character", name, h)
		}
		typ, params, err := mime.ParseMediaType(h)
		if err != nil || typ != "attachment" || params["filename"] != name {
			t.Errorf("%q: header %q parses as %q %q (%v)", name, h, typ, params["filename"], err)
		}
	}
}
