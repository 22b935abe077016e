// Package redistest runs a real redis-server for tests: on a free loopback
// port, with its data and log in a temporary directory, stopped when the
// test ends. A test can kill it, stop it, start it again over the same AOF,
// and pause it (SIGSTOP) to play a Redis that does not answer for a while.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure the server.
type Options struct {
	// AppendFsync is the AOF's appendfsync: "always" (the default: every
	// acknowledged write is on disk) or "everysec".
	AppendFsync string
}

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Bounds on the waits: a server that does not answer by then fails the test.
const (
	readyTimeout = 15 * time.Second // an AOF replay is included
	exitTimeout  = 10 * time.Second
)

// Start starts a redis-server on a free 127.0.0.1 port and waits until it
// answers PING; t.Cleanup stops it. It fails the test if redis-server is
// not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: run scripts/install-deps.sh (Debian package redis-server)")
	}
	fsync := opts.AppendFsync
	if fsync == "" {
		fsync = "always"
	}
	if fsync != "always" && fsync != "everysec" {
		t.Fatalf("redistest: AppendFsync %q, want always or everysec", fsync)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.cleanup)
	// A free port may be taken between the probe and the bind: try again.
	for try := 0; ; try++ {
		s.port = freePort(t)
		if err := s.writeConfig(fsync); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		err := s.start()
		if err == nil {
			return s
		}
		if try == 2 || !strings.Contains(s.log(), "Address already in use") {
			s.dumpLog()
			t.Fatalf("redistest: %v", err)
		}
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) writeConfig(fsync string) error {
	conf := strings.Join([]string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(s.port),
		"dir " + strconv.Quote(s.dir),
		"logfile " + strconv.Quote(filepath.Join(s.dir, "redis.log")),
		"daemonize no",
		"appendonly yes",
		"appendfsync " + fsync,
		`save ""`,
		"databases 1",
		"",
	}, "\n")
	return os.WriteFile(filepath.Join(s.dir, "redis.conf"), []byte(conf), 0o600)
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL returns a redis:// URL of the server's database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Start starts the server again after Kill or Stop, on the same port and
// directory: what the AOF holds is back.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.dumpLog()
		s.t.Fatalf("redistest: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("start: the server is running")
	}
	cmd := exec.Command(s.bin, filepath.Join(s.dir, "redis.conf"))
	cmd.Dir = s.dir
	// A test binary that dies without its cleanups (a -timeout panic, a
	// kill) takes the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := waitReady(s.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		s.cmd, s.exited = nil, nil
		return err
	}
	return nil
}

// waitReady waits until the server answers PING with PONG (not LOADING).
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on %s exited before it answered PING", addr)
		default:
		}
		if last = ping(addr); last == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer PING within %v: %v", addr, readyTimeout, last)
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Kill kills the server with SIGKILL and waits until it is gone: what it
// had not written to its AOF is lost.
func (s *Server) Kill() {
	s.t.Helper()
	s.signalAndWait(syscall.SIGKILL)
}

// Stop stops the server with SIGTERM (it writes its AOF and exits) and
// waits until it is gone.
func (s *Server) Stop() {
	s.t.Helper()
	s.signalAndWait(syscall.SIGTERM)
}

func (s *Server) signalAndWait(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("redistest: %v: the server is not running", sig)
	}
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server acts on it
	select {
	case <-s.exited:
	case <-time.After(exitTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.cmd, s.exited = nil, nil
		s.dumpLog()
		s.t.Fatalf("redistest: redis-server did not exit within %v of %v", exitTimeout, sig)
	}
	s.cmd, s.exited = nil, nil
}

// Pause stops the server's process (SIGSTOP): connections and the port stay
// open, nothing is answered, until Resume.
func (s *Server) Pause() { s.t.Helper(); s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.t.Helper(); s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("redistest: %v: the server is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v: %v", sig, err)
	}
}

func (s *Server) cleanup() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Process.Signal(syscall.SIGCONT)
		select {
		case <-exited:
		case <-time.After(exitTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if s.t.Failed() {
		s.dumpLog()
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return string(b)
}

func (s *Server) dumpLog() {
	if l := s.log(); l != "" {
		s.t.Logf("redis-server log (%s):\n%s", s.Addr(), l)
	}
}

// CPUTime returns the CPU time (user and system) the server's process has
// used, read from /proc: benchmarks add it to their own, since on one
// machine the store's server takes its share of the same cores. It is 0
// where /proc is not there, or when the server is not running.
func (s *Server) CPUTime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after it. utime and stime are fields 14 and 15, in clock ticks
	// (100 a second on Linux).
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100)
}
