package mockdesk

import (
	"bytes"
	"errors"
	"mime/multipart"
	"testing"
	"time"
)

// Every decoder of outside input: it never panics, and every failure is a
// protocol error with a code (so the client gets a clear JSON error).

func checkCoded(t *testing.T, err error) {
	t.Helper()
	var ce *CodeError
	if err != nil && !errors.As(err, &ce) {
		t.Fatalf("error without a code: %v", err)
	}
}

func FuzzDecodeStart(f *testing.F) {
	f.Add([]byte(`{"customer":{"id":"u1","name":"Uma"},"connect_item":{"response_type":"connect_to_agent","transfer_info":{"summary_message_to_agent":[{"response_type":"text","text":"hi"}]}},"webhook_url":"http://127.0.0.1/x","pre_chat":{"a":1}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"connect_item":{"response_type":"text"}}`))
	f.Add([]byte(`{"customer":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeStart(b)
		checkCoded(t, err)
		if err == nil && req.ConnectItem != nil {
			_ = summaryOf(*req.ConnectItem)
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"message":{"id":"m1","input":{"message_type":"text","text":"hi","agent_message_type":"from_user"}}}`))
	f.Add([]byte(`{"message":null}`))
	f.Add([]byte(`{"message":{"input":{"event":{"name":"x"}}}} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeMessage(b)
		checkCoded(t, err)
		_, err = decodeTyping(b)
		checkCoded(t, err)
		_, err = decodeScreenShare(b)
		checkCoded(t, err)
	})
}

func FuzzDecodeClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","chat_id":"ch_1","chat_token":"t","last_seq":3}`,
		`{"type":"start","start":{"customer":{"name":"x"}}}`,
		`{"type":"message","request_id":"r","idempotency_key":"k","message":{"input":{"text":"hi"}}}`,
		`{"type":"typing","typing":true}`,
		`{"type":"screen_share","screen_share_id":"ss_1","state":"accepted"}`,
		`{"type":"ping"}`, `{"type":""}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeClientFrame(b)
		checkCoded(t, err)
		if err == nil && fr.Type == "message" && fr.Message == nil {
			t.Fatal("message frame without message")
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	f.Add("12", "25")
	f.Add("", "1.5s")
	f.Add("-1", "-3")
	f.Add("99999999999999999999", "1e308")
	f.Fuzz(func(t *testing.T, cursor, wait string) {
		n, err := parseCursor(cursor)
		checkCoded(t, err)
		if err == nil && n < 0 {
			t.Fatal("negative cursor")
		}
		d, err := parseWait(wait, 30*time.Second)
		checkCoded(t, err)
		if err == nil && (d < 0 || d > 30*time.Second) {
			t.Fatalf("wait %v out of range", d)
		}
	})
}

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(`{"agents":[{"profile":{"id":"a"},"online":true,"script":[{"do":"say","text":"x"},{"do":"echo"}]}],"faults":{"seed":1}}`))
	f.Add([]byte(`{"average_handle_time":1000}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseScenario(b)
		checkCoded(t, err)
	})
}

func FuzzUploadParts(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("BOUNDARY")
	_ = mw.WriteField("file_id", "f1")
	w, _ := mw.CreateFormFile("file", "a.txt")
	_, _ = w.Write([]byte("hello"))
	_ = mw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../x\"\r\n\r\nabc\r\n--BOUNDARY--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := readUploadParts(multipart.NewReader(bytes.NewReader(b), "BOUNDARY"), 16, 2)
		checkCoded(t, err)
		for _, p := range parts {
			if len(p.content) > 16 || (p.tooLarge && p.content != nil) {
				t.Fatal("part over the limit kept")
			}
			if checkFileName(p.name) == nil && (bytes.ContainsAny([]byte(p.name), "/\\\x00")) {
				t.Fatalf("bad name accepted: %q", p.name)
			}
		}
	})
}
