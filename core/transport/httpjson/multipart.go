package httpjson

import (
	"bytes"
	"cmp"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
)

// Part is one part of a multipart/form-data body: a field (Content nil)
// named Name with Value, or a file: Size bytes of Content, sent as
// Filename of MIME type Type.
type Part struct {
	Name, Value    string
	Filename, Type string
	Size           int64
	Content        io.Reader
}

// Multipart lays parts out as a multipart/form-data body for a Call's
// Stream: the files' contents are read as the body is sent, so a large
// file is never in memory whole, and the length is known beforehand (the
// framing's and the files' Sizes), so the request has a Content-Length.
// A Content that ends before its Size, or goes past it, fails the
// request rather than sending a file other than the one declared.
func Multipart(parts []Part) (body io.Reader, contentType string, length int64) {
	var frame bytes.Buffer
	w := multipart.NewWriter(&frame)
	var pieces []io.Reader
	cut := func() { // the framing written so far becomes a piece
		b := bytes.Clone(frame.Bytes())
		frame.Reset()
		pieces, length = append(pieces, bytes.NewReader(b)), length+int64(len(b))
	}
	for _, p := range parts {
		if p.Content == nil {
			_ = w.WriteField(p.Name, p.Value) // writes to a buffer do not fail
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": p.Name, "filename": p.Filename}))
		h.Set("Content-Type", cmp.Or(p.Type, "application/octet-stream"))
		_, _ = w.CreatePart(h)
		cut()
		pieces, length = append(pieces, p.Content), length+p.Size
	}
	_ = w.Close()
	cut()
	return io.MultiReader(pieces...), w.FormDataContentType(), length
}
