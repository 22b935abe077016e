package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// restartable is a gateway that can be stopped and started again over the
// same Store, token secret and desk: a process restart without a process.
type restartable struct {
	*env
	store  flow.Store
	secret []byte
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{store: flow.NewMemoryStore(1024), secret: bytes.Repeat([]byte("k"), 32)}
	r.env = &env{t: t, desk: memdesk.New()}
	r.start()
	return r
}

func (r *restartable) start() {
	gw, err := New(Options{Factory: r.desk.Factory(), TokenSecret: r.secret, Flow: flow.Options{Store: r.store, AssistantReturnDelay: -1}})
	if err != nil {
		r.t.Fatal(err)
	}
	n, err := gw.Resume(ctxT(r.t))
	if err != nil {
		r.t.Fatalf("resume: %v", err)
	}
	r.t.Logf("resumed %d sessions", n)
	r.gw, r.srv = gw, httptest.NewServer(gw)
	r.t.Cleanup(r.stop)
}

func (r *restartable) stop() {
	if r.gw == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.gw.Shutdown(ctx); err != nil {
		r.t.Errorf("shutdown: %v", err)
	}
	r.srv.Close()
	r.gw = nil
}

func TestRestartResumesTheChatTheSocketAndTheFiles(t *testing.T) {
	r := newRestartable(t)
	c := r.connect("", modeDesk, 0)
	chat := r.startAndJoin(c)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("before")), "say")
	c.callback(cbSendMessageToUser)
	if st, code := r.upload(c.welcome.Token, "img-1", "cat.png", "image/png", pngBytes); st != 201 {
		t.Fatalf("upload before the restart: %d %s", st, code)
	}
	token, session, last := c.welcome.Token, c.welcome.Session, c.lastSeq
	r.stop() // the socket goes with the process
	<-c.done

	r.start()
	if r.gw.Stats().Sessions != 1 {
		t.Fatalf("sessions after Resume: %d, want the one restored", r.gw.Stats().Sessions)
	}
	c2 := r.connect(token, modeDesk, last)
	if c2.welcome.Session != session || c2.welcome.Reset || !c2.welcome.Resumed {
		t.Fatalf("welcome after the restart: %+v", c2.welcome)
	}
	// The agent is still there. (memdesk keeps nothing said while no kit
	// was attached; the server's process tests cover that with mock-desk.)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("after")), "say")
	if got := c2.callback(cbSendMessageToUser); got.Event.Message.PlainText() != "after" || got.Seq <= last {
		t.Fatalf("first message after the restart: %q at seq %d (last seen %d)", got.Event.Message.PlainText(), got.Seq, last)
	}
	// The file taken before the restart goes with a message after it.
	c2.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("the picture"), "messageID": "m1", "fileIDs": []string{"img-1"}})
	m, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await")
	if m.Text != "the picture" || len(m.Files) != 1 || !bytes.Equal(m.Files[0].Data, pngBytes) {
		t.Fatalf("desk got %+v", m)
	}
	// And the chat ends normally.
	c2.mustCall(opEndChat, nil)
	mustf(t, chat.AwaitEnded(ctxT(t)), "await ended")
}

// heldReconnect is a desk whose Reconnect waits for release: a chat the
// engine is re-attaching after a restart.
type heldReconnect struct {
	servicedesk.ServiceDesk
	release chan struct{}
}

func (d heldReconnect) Unwrap() servicedesk.ServiceDesk { return d.ServiceDesk }

func (d heldReconnect) Reconnect(ctx context.Context) (bool, error) {
	select {
	case <-d.release:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return servicedesk.NewController(d.ServiceDesk).Reconnect(ctx)
}

// TestReconnectWaitsForTheResume: Carbon's reconnect during the engine's
// own re-attach after a restart answers once the desk did, at once: it
// waits on the session's events, not on a timer.
func TestReconnectWaitsForTheResume(t *testing.T) {
	r := newRestartable(t)
	c := r.connect("", modeDesk, 0)
	r.startAndJoin(c)
	token := c.welcome.Token
	r.stop()
	<-c.done

	release := make(chan struct{})
	inner := r.desk.Factory()
	gw, err := New(Options{TokenSecret: r.secret, Flow: flow.Options{Store: r.store, AssistantReturnDelay: -1},
		Factory: func(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
			d, err := inner(ctx, p)
			return heldReconnect{d, release}, err
		}})
	mustf(t, err, "new")
	_, err = gw.Resume(ctxT(t))
	mustf(t, err, "resume")
	r.gw, r.srv = gw, httptest.NewServer(gw)
	c2 := r.connect(token, modeDesk, c.lastSeq)
	if st := c2.welcome.Snapshot.State; st != flow.StateReconnecting {
		t.Fatalf("state after the restart %s; want reconnecting", st)
	}
	c2.send(map[string]any{"op": opReconnect, "id": "rc"})
	answered := func() bool {
		for _, f := range c2.pending {
			if f.Re == "rc" {
				return true
			}
		}
		select {
		case f := <-c2.frames:
			c2.pending = append(c2.pending, f)
			return f.Re == "rc"
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}
	if answered() {
		t.Fatal("reconnect answered before the desk re-attached")
	}
	released := time.Now()
	close(release)
	f := c2.next("reconnect answer", func(f frame) bool { return f.Re == "rc" })
	var res struct {
		Reconnected bool       `json:"reconnected"`
		State       flow.State `json:"state"`
	}
	mustf(t, json.Unmarshal(f.Result, &res), "decode")
	if !res.Reconnected || res.State != flow.StateConnected {
		t.Fatalf("reconnect %+v (%+v)", res, f.Error)
	}
	if took := time.Since(released); took > time.Second {
		t.Fatalf("reconnect answered %s after the desk re-attached", took)
	}
}
