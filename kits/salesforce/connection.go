package salesforce

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// openStream starts the end user's SSE stream, unless one is open. Every
// connection sends the last event id seen; every connection is followed
// by the entries fill (the Recovery).
func (d *desk) openStream() error {
	if d.Life.Closed() {
		return fmt.Errorf("salesforce: open stream: %w", errEnded)
	}
	d.Stream.Open(func() *sse.Stream {
		cfg := d.k.cfg
		last := d.State().LastEventID
		return sse.Open(sse.Config{
			URL:         d.k.base + "/eventrouter/v1/sse",
			Client:      cfg.StreamClient,
			LastEventID: last,
			Header: func(ctx context.Context) (http.Header, error) {
				tok, err := d.bearer(ctx)
				if err != nil {
					return nil, err
				}
				return http.Header{"Authorization": {"Bearer " + tok}, "X-Org-Id": {cfg.OrgID}}, nil
			},
			OnEvent: d.onEvent,
			OnState: d.recovery.Handle(&d.Life),
			Fatal:   d.streamFatal,
			OnStop: func(err error) {
				d.log.Warn("salesforce: event stream lost for good", "err", err)
				d.over("The connection to the agent was lost.")
			},
			HeartbeatTimeout: cfg.HeartbeatTimeout,
			Delay:            cfg.StreamBackoff.Delay,
			MaxAttempts:      cfg.StreamAttempts,
			Logger:           d.log,
		})
	})
	return nil
}

// streamFatal tells the stream's errors that end the chat: an expired
// token is renewed for the next connection; only one that cannot be is.
func (d *desk) streamFatal(err error) bool {
	var se *sse.StatusError
	if errors.As(err, &se) && (se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden) {
		tok, _ := d.bearer(d.Life.Context())
		return d.renew(d.Life.Context(), tok) != nil
	}
	return errors.Is(err, errExpired) || errors.Is(err, servicedesk.ErrNoChat)
}

// onEvent routes one SSE event: entries of this conversation through the
// gap filler, pings and unknown types logged and ignored.
func (d *desk) onEvent(e sse.Event) {
	switch e.Type {
	case wire.EventPing:
		return
	case wire.EventMessage, wire.EventParticipant, wire.EventRouting, wire.EventTypingStarted, wire.EventTypingStopped,
		wire.EventDelivered, wire.EventRead, wire.EventClose:
	default:
		d.log.Info("salesforce: ignored an unknown event type", "type", e.Type)
		d.saveEventID(e.ID)
		return
	}
	ev, err := wire.DecodeEvent([]byte(e.Data))
	if err != nil {
		d.log.Warn("salesforce: ignored an event that does not decode", "type", e.Type, "err", err)
		return
	}
	if !strings.EqualFold(ev.ConversationID, d.conversation()) {
		return // another conversation of the subject, or the last chat's
	}
	entry := ev.ConversationEntry
	if entry.EntryType == "" {
		entry.EntryType = entry.Payload.EntryType
	}
	if e.Type == wire.EventClose && entry.EntryType == "" {
		entry.EntryType = wire.EntryClose
	}
	if entry.Identifier == "" {
		entry.Identifier = e.ID
	}
	d.gap.Live(entry)
	d.saveEventID(e.ID)
}

// saveEventID keeps the stream's position for a restart.
func (d *desk) saveEventID(id string) {
	if id == "" {
		return
	}
	d.Merge(func(s *saved) map[string]any {
		if s.LastEventID == id {
			return nil
		}
		s.LastEventID = id
		return map[string]any{"last_event_id": id}
	})
}

// fetchEntries reads the conversation's entries since the last one
// delivered, oldest first, page by page; a conversation no longer open
// adds a close entry at the end.
func (d *desk) fetchEntries(ctx context.Context) ([]wire.Entry, error) {
	st := d.State()
	conv, since := st.ConversationID, st.LastEntryTime
	d.mu.Lock()
	created := d.created
	d.mu.Unlock()
	if conv == "" {
		return nil, errEnded
	}
	if !created {
		return nil, nil // nothing to read yet; the stream brings it all
	}
	// Page forward from the last entry delivered; the gap filler drops
	// what was delivered already (a page starts at its last timestamp).
	var out []wire.Entry
	for page := 0; page < 40; page++ {
		q := url.Values{"limit": {"50"}, "direction": {"FromStart"}}
		if since > 0 {
			q.Set("startTimestamp", strconv.FormatInt(since, 10))
		}
		var raw []byte
		if err := d.call(ctx, "list entries", http.MethodGet, "/iamessage/api/v2/conversation/"+conv+"/entries?"+q.Encode(), nil, &raw); err != nil {
			return nil, err
		}
		entries, err := wire.DecodeEntries(raw)
		if err != nil {
			return nil, fmt.Errorf("salesforce: list entries: %w", err)
		}
		slices.SortStableFunc(entries, func(a, b wire.Entry) int { return cmp.Compare(a.TranscriptedTimestamp, b.TranscriptedTimestamp) })
		out = append(out, entries...)
		if len(entries) < 50 || entries[len(entries)-1].TranscriptedTimestamp <= since {
			break
		}
		since = entries[len(entries)-1].TranscriptedTimestamp
	}
	open, err := d.isOpen(ctx)
	if err != nil {
		return nil, err
	}
	if !open {
		out = append(out, wire.Entry{Identifier: "closed:" + conv, EntryType: wire.EntryClose})
	}
	return out, nil
}
