package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process that can be killed, stopped and started again
// with the same command line (so on the same port and directory).
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	dir  string
	log  string // its stdout and stderr, appended across restarts
	// ready waits until the process serves; exited is closed if it dies.
	ready func(ctx context.Context, exited <-chan struct{}) error

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// start starts the process and waits until it is ready.
func (p *proc) start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s is running", p.name)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.starts++
	fmt.Fprintf(logf, "---- soak: start #%d at %s\n", p.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// The driver dying (a panic, a kill) takes its children with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	if err := p.ready(ctx, exited); err != nil {
		p.signal(syscall.SIGKILL, 5*time.Second)
		return fmt.Errorf("%s not ready: %w (log: %s)", p.name, err, p.log)
	}
	return nil
}

// signal sends sig and waits up to wait for the exit; a process still there
// then is killed. It reports whether the process exited within wait.
func (p *proc) signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	_ = cmd.Process.Signal(syscall.SIGCONT)
	clean := true
	select {
	case <-exited:
	case <-time.After(wait):
		clean = false
		_ = cmd.Process.Kill()
		<-exited
	}
	p.mu.Lock()
	p.cmd, p.exited = nil, nil
	p.mu.Unlock()
	return clean
}

// kill is kill -9.
func (p *proc) kill() { p.signal(syscall.SIGKILL, 10*time.Second) }

// term is SIGTERM: a graceful stop, killed after wait.
func (p *proc) term(wait time.Duration) bool { return p.signal(syscall.SIGTERM, wait) }

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// lastLines is the tail of the process's log, for error messages.
func (p *proc) lastLines(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("soak: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// poll calls f every 20 ms until it succeeds, ctx ends, timeout passes or
// the process exits.
func poll(ctx context.Context, exited <-chan struct{}, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := errors.New("not tried")
	for {
		if last = f(); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited (last: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func httpOK(url string) func() error {
	c := &http.Client{Timeout: time.Second}
	return func() error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// newRedis is a redis-server on addr with its AOF in dir, fsynced on every
// write: a kill -9 loses nothing it acknowledged.
func newRedis(bin, addr, dir string) (*proc, error) {
	_, port, _ := net.SplitHostPort(addr)
	conf := strings.Join([]string{
		"bind 127.0.0.1",
		"port " + port,
		"dir " + strconv.Quote(dir),
		"daemonize no",
		"appendonly yes",
		"appendfsync always",
		`save ""`,
		"databases 1",
		"",
	}, "\n")
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("soak: redis config: %w", err)
	}
	return &proc{
		name: "redis", bin: bin, args: []string{confPath}, dir: dir, log: filepath.Join(dir, "redis.log"),
		ready: func(ctx context.Context, exited <-chan struct{}) error {
			return poll(ctx, exited, 30*time.Second, func() error { return redisPing(addr) })
		},
	}, nil
}

// redisPing wants +PONG (a Redis still loading its AOF answers LOADING).
func redisPing(addr string) error {
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

// newMockDesk is the mock-desk binary on addr with args (agents, faults),
// its control API behind controlToken.
func newMockDesk(bin, addr, dir, controlToken string, args []string) *proc {
	_, port, _ := net.SplitHostPort(addr)
	return &proc{
		name: "mock-desk", bin: bin, dir: dir, log: filepath.Join(dir, "mock-desk.log"),
		env:  []string{"MOCKDESK_CONTROL_TOKEN=" + controlToken},
		args: append([]string{"-addr", "127.0.0.1", "-port", port, "-log-level", "warn"}, args...),
		ready: func(ctx context.Context, exited <-chan struct{}) error {
			return poll(ctx, exited, 30*time.Second, httpOK("http://"+addr+"/v1/availability"))
		},
	}
}

// newServe is `deskbridge serve` on addr.
func newServe(name, bin, addr, dir string, env, args []string) *proc {
	return &proc{
		name: name, bin: bin, dir: dir, env: env, log: filepath.Join(dir, "serve.log"),
		args: append([]string{"serve", "--listen", addr, "--data-dir", dir}, args...),
		ready: func(ctx context.Context, exited <-chan struct{}) error {
			// A restart resumes every running chat before it listens.
			return poll(ctx, exited, 90*time.Second, httpOK("http://"+addr+"/healthz"))
		},
	}
}
