package httpjson

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMultipart: a Multipart body reaches the server with its declared
// length, its fields and its files whole, a file's name and type in its
// part's header (a name that needs quoting too); a file shorter or longer
// than its Size fails the request instead of sending another file.
func TestMultipart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fh := r.MultipartForm.File["attachments[]"]
		var files []string
		for _, h := range fh {
			f, _ := h.Open()
			b, _ := io.ReadAll(f)
			f.Close()
			files = append(files, fmt.Sprintf("%s|%s|%s", h.Filename, h.Header.Get("Content-Type"), b))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"length": r.ContentLength, "content": r.FormValue("content"), "files": strings.Join(files, ",")})
	}))
	defer srv.Close()
	c := &Client{Name: "acme", Base: srv.URL, HTTP: srv.Client()}
	send := func(parts []Part) (struct {
		Length         int64
		Content, Files string
	}, int64, error) {
		var got struct {
			Length         int64
			Content, Files string
		}
		body, ctype, n := Multipart(parts)
		err := c.Call(context.Background(), Call{Op: "upload", Method: http.MethodPost, Path: "/m", Stream: body, Length: n, ContentType: ctype, Out: &got})
		return got, n, err
	}
	got, n, err := send([]Part{{Name: "content", Value: "see attached"},
		{Name: "attachments[]", Filename: "receipt.png", Type: "image/png", Size: 3, Content: strings.NewReader("PNG")},
		{Name: "attachments[]", Filename: `a "quoted" name.txt`, Size: 2, Content: strings.NewReader("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Length != n || got.Content != "see attached" || got.Files != "receipt.png|image/png|PNG,a \"quoted\" name.txt|application/octet-stream|hi" {
		t.Fatalf("the server saw %+v (length %d sent)", got, n)
	}
	for _, content := range []string{"h", "hello"} {
		if _, _, err := send([]Part{{Name: "attachments[]", Filename: "a.txt", Size: 2, Content: strings.NewReader(content)}}); err == nil {
			t.Errorf("a %d-byte file declared as 2 bytes was sent", len(content))
		}
	}
}
