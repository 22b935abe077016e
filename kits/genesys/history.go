package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// fetchHistory asks for a JWT (getJwt) and reads the history newest first
// until the last message delivered, and returns what came after it, oldest
// first.
func (d *desk) fetchHistory(ctx context.Context) ([]wire.Message, error) {
	env, err := d.request(ctx, "getJwt", map[string]any{"action": "getJwt"}, withAnswer)
	if err != nil {
		return nil, err
	}
	var jwt struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(env.Body, &jwt); err != nil || jwt.JWT == "" {
		return nil, fmt.Errorf("genesys: getJwt: no jwt in %s", env.Body)
	}
	d.mu.Lock()
	last := d.st.LastMessageID
	d.mu.Unlock()
	var newer []wire.Message
	for page := 1; page <= 50; page++ {
		list, err := d.historyPage(ctx, jwt.JWT, page)
		if err != nil {
			return nil, err
		}
		for _, m := range list.Entities {
			if last != "" && m.ID == last {
				slices.Reverse(newer)
				return newer, nil
			}
			newer = append(newer, m)
		}
		if page >= list.PageCount || len(list.Entities) == 0 {
			break
		}
	}
	slices.Reverse(newer)
	return newer, nil
}

func (d *desk) historyPage(ctx context.Context, jwt string, page int) (wire.MessageEntityList, error) {
	const op = "history"
	var out wire.MessageEntityList
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.k.api+"/api/v2/webmessaging/messages?pageSize=25&pageNumber="+strconv.Itoa(page), nil)
		if err != nil {
			return fmt.Errorf("genesys: %s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := d.k.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
		}
		if resp.StatusCode != http.StatusOK {
			e := &Error{Op: op, Code: resp.StatusCode, Message: strings.TrimSpace(string(b))}
			if wait, ok := retry.RetryAfter(resp, time.Now()); ok {
				e.RetryAfter = int(wait / time.Second)
			}
			return e
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return fmt.Errorf("genesys: %s: decode: %w", op, err)
		}
		return nil
	})
	return out, err
}
