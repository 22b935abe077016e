package oracle

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/oracle/internal/wire"
)

// session is what the consumer calls carry: the JWT of establishSessions,
// the chat session server and pool it named, and, once requestEngagement
// answered, the SessionId. It renews the JWT before it expires (and once
// when a call is refused for it) with establishSessions again: the pages
// name no refresh call, so a new JWT is the only way (inferred).
type session struct {
	k      *Kit
	info   wire.SessionInformation // what the first JWT was made for
	onJWT  func(jwt string)        // a renewed JWT, to persist
	renew  sync.Mutex              // one establishSessions at a time
	mu     sync.Mutex
	jwt    string
	base   string // the consumer API's base URL
	pool   string
	id     string // SessionId
	expiry time.Time
}

func (s *session) get() (jwt, base, pool, id string, expiry time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jwt, s.base, s.pool, s.id, s.expiry
}

// token returns a JWT that is not about to expire, establishing a new one
// when needed; stale names the JWT a call was refused with (renew it).
func (s *session) token(ctx context.Context, stale string) (string, error) {
	s.renew.Lock()
	defer s.renew.Unlock()
	jwt, _, _, _, expiry := s.get()
	fresh := jwt != "" && jwt != stale && (expiry.IsZero() || time.Until(expiry) > s.k.cfg.RefreshBefore)
	if fresh {
		return jwt, nil
	}
	e, err := s.k.establish(ctx, s.info)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.jwt, s.expiry = e.Token(), vendorkit.TokenExpiry(e.Token())
	if s.base == "" { // a session keeps the server it started on
		s.base, s.pool = s.k.server(e), e.Server.Pool
	}
	jwt, renewed := s.jwt, s.id != ""
	s.mu.Unlock()
	if renewed && s.onJWT != nil {
		s.onJWT(jwt)
	}
	return jwt, nil
}

// call makes one consumer call (sessional: with the SessionId header),
// bounded by the request timeout, or the poll timeout for a held
// getMessages. A 401 renews the JWT and tries once more.
func (s *session) call(ctx context.Context, op, method, path string, body, out any, sessional bool) error {
	timeout := s.k.cfg.RequestTimeout
	if op == "getMessages" {
		timeout = s.k.cfg.PollTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stale := ""
	for try := 0; ; try++ {
		jwt, err := s.token(ctx, stale)
		if err != nil {
			return err
		}
		_, base, pool, id, _ := s.get()
		c := &httpjson.Client{Name: "oracle", Base: base, HTTP: s.k.cfg.HTTPClient, ErrorBody: wire.ErrorBody,
			Kinds: map[int]servicedesk.ErrorCode{http.StatusConflict: servicedesk.CodeNotFound}}
		if sessional {
			c = c.WithHeader(http.Header{"SessionId": {id}})
		}
		q := "?pool=" + pool
		if op == "getQueueStats" {
			q = wire.QueueStatsQuery(s.k.cfg.QueueID, pool)
		}
		err = c.Call(ctx, httpjson.Call{Op: op, Method: method, Path: path + q, Body: body, Bearer: jwt, Out: out})
		var he *httpjson.Error
		if try == 0 && errors.As(err, &he) && he.Status == http.StatusUnauthorized {
			stale = jwt
			continue
		}
		return err
	}
}
