package gateway

import (
	"bytes"
	"context"
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
	c := r.connect("", ModeDesk, 0)
	chat := r.startAndJoin(c)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("before")), "say")
	c.callback(CbSendMessageToUser)
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
	c2 := r.connect(token, ModeDesk, last)
	if c2.welcome.Session != session || c2.welcome.Reset || !c2.welcome.Resumed {
		t.Fatalf("welcome after the restart: %+v", c2.welcome)
	}
	// The agent is still there. (memdesk keeps nothing said while no kit
	// was attached; the server's process tests cover that with mock-desk.)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("after")), "say")
	if got := c2.callback(CbSendMessageToUser); got.Event.Message.PlainText() != "after" || got.Seq <= last {
		t.Fatalf("first message after the restart: %q at seq %d (last seen %d)", got.Event.Message.PlainText(), got.Seq, last)
	}
	// The file taken before the restart goes with a message after it.
	c2.mustCall(OpSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("the picture"), "messageID": "m1", "fileIDs": []string{"img-1"}})
	m, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await")
	if m.Text != "the picture" || len(m.Files) != 1 || !bytes.Equal(m.Files[0].Data, pngBytes) {
		t.Fatalf("desk got %+v", m)
	}
	// And the chat ends normally.
	c2.mustCall(OpEndChat, nil)
	mustf(t, chat.AwaitEnded(ctxT(t)), "await ended")
}
