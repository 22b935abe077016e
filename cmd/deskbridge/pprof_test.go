package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPprofListen: profiles are served on a loopback address of their own
// and refused anywhere else.
func TestPprofListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "example.com:0", "127.0.0.1"} {
		if _, err := servePprof(addr, quietLog()); err == nil || !strings.Contains(err.Error(), "--pprof-listen") {
			t.Errorf("servePprof(%q) = %v, want a refusal naming --pprof-listen", addr, err)
		}
	}
	var logs strings.Builder
	log, _ := newLogger(&logs, "info", "text")
	stop, err := servePprof("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/debug/pprof/`).FindString(logs.String())
	if url == "" {
		t.Fatalf("no profile URL in the log: %s", logs.String())
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.200s", resp.StatusCode, body)
	}
}
