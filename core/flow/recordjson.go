package flow

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// EventJSON returns ev's JSON, as json.Marshal would. An event the engine
// published is encoded once for all its readers (the Store, every socket):
// the bytes are shared and must not be modified.
func EventJSON(ev *Event) ([]byte, error) { return ev.MarshalJSON() }

// RecordJSON returns rec's JSON, byte for byte what json.Marshal(rec)
// returns, at a fraction of its cost: a durable store encodes a record on
// every save. The parts of a record that seldom change (the connect
// message, the agent profiles, the desk's state) are encoded once per
// session for the records the engine saves.
func RecordJSON(rec *Record) ([]byte, error) {
	c := rec.enc
	if c == nil {
		c = new(recordCache)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.encode(make([]byte, 0, c.size+64), rec)
}

// recordCache keeps the encoding of a session's seldom-changing record
// parts, each beside the value it was made from: a part is encoded again
// when the record holds another value (another pointer, map or slice; the
// engine replaces these values, never changes them in place).
type recordCache struct {
	mu   sync.Mutex
	size int // of the last encoding: the next buffer's capacity

	connect     *servicedesk.MessageResponse
	connectJSON []byte

	profile     *servicedesk.AgentProfile
	profileJSON []byte

	customer     *servicedesk.Customer
	customerJSON []byte

	handoff     *servicedesk.Handoff
	handoffJSON []byte

	profiles     uintptr // the map's identity
	profilesJSON []byte

	desk     []byte
	deskJSON []byte

	caps     servicedesk.Capabilities
	capsJSON []byte
}

func (c *recordCache) encode(b []byte, r *Record) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"state":`...)
	b = appendString(b, r.State.String())
	b = append(b, `,"chat":`...)
	b = strconv.AppendUint(b, r.Chat, 10)
	if r.Joined {
		b = append(b, `,"joined":true`...)
	}
	if r.Started {
		b = append(b, `,"started":true`...)
	}
	if r.ConnectMessage != nil {
		if c.connect != r.ConnectMessage || c.connectJSON == nil {
			if c.connectJSON, err = json.Marshal(r.ConnectMessage); err != nil {
				return nil, err
			}
			c.connect = r.ConnectMessage
		}
		b = append(append(b, `,"connect_message":`...), c.connectJSON...)
	}
	if r.Profile != nil {
		if c.profile != r.Profile || c.profileJSON == nil {
			if c.profileJSON, err = json.Marshal(r.Profile); err != nil {
				return nil, err
			}
			c.profile = r.Profile
		}
		b = append(append(b, `,"profile":`...), c.profileJSON...)
	}
	if len(r.Profiles) > 0 {
		if id := reflect.ValueOf(r.Profiles).Pointer(); c.profiles != id || c.profilesJSON == nil {
			if c.profilesJSON, err = json.Marshal(r.Profiles); err != nil {
				return nil, err
			}
			c.profiles = id
		}
		b = append(append(b, `,"profiles":`...), c.profilesJSON...)
	}
	if r.Customer != nil {
		if c.customer != r.Customer || c.customerJSON == nil {
			if c.customerJSON, err = json.Marshal(r.Customer); err != nil {
				return nil, err
			}
			c.customer = r.Customer
		}
		b = append(append(b, `,"customer":`...), c.customerJSON...)
	}
	if r.Handoff != nil {
		if c.handoff != r.Handoff || c.handoffJSON == nil {
			if c.handoffJSON, err = json.Marshal(r.Handoff); err != nil {
				return nil, err
			}
			c.handoff = r.Handoff
		}
		b = append(append(b, `,"handoff":`...), c.handoffJSON...)
	}
	if len(r.DeskState) > 0 {
		if !sameBytes(c.desk, r.DeskState) || c.deskJSON == nil {
			// As json.Marshal does with a RawMessage: checked and compacted.
			var buf bytes.Buffer
			if err := json.Compact(&buf, r.DeskState); err != nil {
				return nil, &json.MarshalerError{Type: reflect.TypeFor[json.RawMessage](), Err: err}
			}
			c.desk, c.deskJSON = r.DeskState, buf.Bytes()
		}
		b = append(append(b, `,"desk_state":`...), c.deskJSON...)
	}
	if c.caps != r.Capabilities || c.capsJSON == nil {
		if c.capsJSON, err = json.Marshal(r.Capabilities); err != nil {
			return nil, err
		}
		c.caps = r.Capabilities
	}
	b = append(append(b, `,"capabilities":`...), c.capsJSON...)
	if len(r.Outbox) > 0 {
		// Each message is encoded each time: few wait, and each only once
		// or twice.
		out, err := json.Marshal(r.Outbox)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"outbox":`...), out...)
	}
	if len(r.RecentSent) > 0 {
		b = append(b, `,"recent_sent":[`...)
		for i, id := range r.RecentSent {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, id)
		}
		b = append(b, ']')
	}
	if r.Suspended {
		b = append(b, `,"suspended":true`...)
	}
	if r.LastAgentText != "" {
		b = appendString(append(b, `,"last_agent_text":`...), r.LastAgentText)
	}
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendUint(b, r.LastSeq, 10)
	if r.AsOf != nil {
		b = append(b, `,"as_of":`...)
		b = strconv.AppendUint(b, *r.AsOf, 10)
	}
	b = append(b, '}')
	c.size = len(b)
	return b, nil
}

// sameBytes reports whether a and b are the same slice (not merely equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// appendString appends s as a JSON string the way encoding/json does: ids
// and names are plain ASCII and go straight in; anything else goes through
// encoding/json (HTML characters escaped, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
