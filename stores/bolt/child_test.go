package boltstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
)

// The tests below re-execute the test binary as a second process, which
// TestMain sends to runChild.
const (
	childEnv     = "BOLTSTORE_TEST_CHILD" // "hold" or "crash"
	childPathEnv = "BOLTSTORE_TEST_PATH"
)

const crashSessions = 4

func runChild(mode string) int {
	path := os.Getenv(childPathEnv)
	s, err := Open(path, Options{Tail: 1 << 20, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch mode {
	case "hold":
		// Hold the file until the parent closes stdin.
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = s.Close()
		return 0
	case "crash":
		// Save until killed; print each seq once Save returned. The log
		// is applied every few saves, so that kills land in applies too.
		s.bounds = applyBounds{every: time.Millisecond, entries: 7, bytes: 1 << 20}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range crashSessions {
			wg.Go(func() {
				id := fmt.Sprintf("crash-%d", i)
				for seq := uint64(1); seq <= 100_000; seq++ {
					rec := &flow.Record{ID: id, State: flow.StateConnected, Chat: seq}
					ev := &flow.Event{Seq: seq, Type: flow.EventAgentMessage, Time: int64(seq), MessageID: fmt.Sprint("m", seq)}
					if err := s.Save(context.Background(), id, rec, []*flow.Event{ev}); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(3)
					}
					mu.Lock()
					fmt.Printf("acked %s %d\n", id, seq)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return 4 // the parent should have killed us long before
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", mode)
	return 2
}

func child(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestLockedBySecondOpenInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	defer s.Close()
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond, Logger: quiet})
	if err == nil {
		t.Fatal("a second Open of the same file succeeded")
	}
	checkLockErr(t, err, path)
	// bbolt gives up one retry interval (50ms) before the timeout.
	if d := time.Since(start); d < 40*time.Millisecond || d > 5*time.Second {
		t.Errorf("the second Open gave up after %v, want about the lock timeout of 100ms", d)
	}
	// The first store still works.
	if err := s.Save(context.Background(), "s", &flow.Record{ID: "s"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	cmd := child(t, "hold", path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond, Logger: quiet})
	if err == nil {
		t.Error("Open succeeded while another process holds the file")
	} else {
		checkLockErr(t, err, path)
	}
	// Once the other process let go, the file opens.
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	s := openTest(t, path, Options{LockTimeout: 100 * time.Millisecond})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func checkLockErr(t *testing.T, err error, path string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "in use by another process") {
		t.Errorf("lock error %q: want the path and \"in use by another process\"", msg)
	}
	if !errors.Is(err, flow.ErrStoreUnavailable) {
		t.Errorf("lock error %q does not match ErrStoreUnavailable", msg)
	}
}

// TestCrash kills a process mid-run with SIGKILL: every save it acked is
// there after a reopen, with its record, and no seq is missing. (A killed
// process leaves the page cache to the kernel; power loss is fsync's part,
// which bbolt does on every commit.)
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	for round := range 3 { // kill, reopen in a new child, kill again
		cmd := child(t, "crash", path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := make(map[string]uint64)
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			var id string
			var seq uint64
			if _, err := fmt.Sscanf(sc.Text(), "acked %s %d", &id, &seq); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			if seq > acked[id] {
				acked[id] = seq
			}
			if n++; n == 300 {
				_ = cmd.Process.Kill() // SIGKILL; the acks already in the pipe are read on
			}
		}
		err = cmd.Wait()
		if n < 300 || err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: child ended by itself after %d acks: %v", round, n, err)
		}
		s := openTest(t, path, Options{Tail: 1 << 20})
		for id, seq := range acked {
			rec, err := s.Load(context.Background(), id)
			if err != nil {
				t.Fatalf("round %d: %s acked up to %d: %v", round, id, seq, err)
			}
			if rec.LastSeq < seq {
				t.Errorf("round %d: %s acked up to %d, holds up to %d", round, id, seq, rec.LastSeq)
			}
			if rec.Chat != rec.LastSeq {
				t.Errorf("round %d: %s record of save %d beside events up to %d: a save was split", round, id, rec.Chat, rec.LastSeq)
			}
			evs, err := s.Events(context.Background(), id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, ev := range evs {
				if ev.Seq != uint64(i+1) {
					t.Fatalf("round %d: %s event %d has seq %d: a gap", round, id, i, ev.Seq)
				}
			}
			if uint64(len(evs)) != rec.LastSeq {
				t.Errorf("round %d: %s: %d events, last seq %d", round, id, len(evs), rec.LastSeq)
			}
		}
		if len(acked) != crashSessions {
			t.Errorf("round %d: acks from %d sessions", round, len(acked))
		}
		ids, _ := s.List(context.Background())
		t.Logf("round %d: %d acks read; sessions %v", round, n, ids)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Each round starts its sessions again at seq 1: clear them.
		s = openTest(t, path, Options{})
		for _, id := range slices.Sorted(mapsKeys(acked)) {
			if err := s.Delete(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Close()
	}
}

func mapsKeys(m map[string]uint64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
