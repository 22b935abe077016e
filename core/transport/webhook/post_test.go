package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type breakingReader struct{}

func (breakingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReadPost(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		body         io.Reader
		status       int
		allow        string
	}{
		{"post", http.MethodPost, strings.NewReader("12345"), 0, ""},
		{"get", http.MethodGet, strings.NewReader(""), http.StatusMethodNotAllowed, http.MethodPost},
		{"too large", http.MethodPost, strings.NewReader("123456"), http.StatusRequestEntityTooLarge, ""},
		{"broken", http.MethodPost, breakingReader{}, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			body, ref := ReadPost(w, httptest.NewRequest(tc.method, "/hook", tc.body), 5)
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			if tc.status == 0 {
				if ref != nil || string(body) != "12345" {
					t.Fatalf("ReadPost = %q, %v; want the body", body, ref)
				}
				return
			}
			if ref == nil || ref.Status != tc.status || ref.Code == "" || ref.Error() == "" {
				t.Fatalf("refusal = %+v, want status %d", ref, tc.status)
			}
		})
	}
}
