package redistest_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/stores/redis/redistest"
)

// do sends one inline command and returns the first reply line.
func do(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		line, _ = r.ReadString('\n')
	}
	return strings.TrimSpace(line)
}

func TestKillKeepsAckedWrites(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	if got := do(t, s.Addr(), "SET k v1"); got != "+OK" {
		t.Fatalf("SET: %s", got)
	}
	port := s.Addr()
	s.Kill()
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatal("a killed server still accepts connections")
	}
	s.Start()
	if s.Addr() != port {
		t.Fatalf("restarted on %s, was %s", s.Addr(), port)
	}
	if got := do(t, s.Addr(), "GET k"); got != "v1" {
		t.Fatalf("GET after kill -9 and start: %q, want v1 (from the AOF)", got)
	}
	s.Stop()
	s.Start()
	if got := do(t, s.Addr(), "GET k"); got != "v1" {
		t.Fatalf("GET after stop and start: %q", got)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/0") {
		t.Fatalf("URL %s", s.URL())
	}
}

func TestPauseResume(t *testing.T) {
	s := redistest.Start(t, redistest.Options{AppendFsync: "everysec"})
	s.Pause()
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial a paused server: %v", err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("PING\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Fatal("a paused server answered")
	}
	s.Resume()
	if got := do(t, s.Addr(), "PING"); got != "+PONG" {
		t.Fatalf("PING after Resume: %s", got)
	}
}

func TestTwoServers(t *testing.T) {
	a := redistest.Start(t, redistest.Options{})
	b := redistest.Start(t, redistest.Options{})
	if a.Addr() == b.Addr() {
		t.Fatal("two servers on one port")
	}
	do(t, a.Addr(), "SET k a")
	if got := do(t, b.Addr(), "GET k"); got == "a" {
		t.Fatal("the servers share data")
	}
}
