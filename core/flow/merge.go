package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// mergeDeskState implements Carbon's updatePersistedState: with merge, src is
// deep-merged into cur (objects key by key, arrays element by element; any
// other value, null included, replaces); without, src replaces cur.
func mergeDeskState(cur json.RawMessage, src any, merge bool, limit int) (json.RawMessage, error) {
	raw, ok := src.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(src)
		if err != nil {
			return nil, fmt.Errorf("%w: persisted state does not marshal: %v", ErrInvalid, err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%w: persisted state is not valid JSON", ErrInvalid)
	}
	var out json.RawMessage
	if !merge || len(cur) == 0 {
		out = compactJSON(raw)
	} else {
		var a, b any
		if err := json.Unmarshal(cur, &a); err != nil {
			return nil, fmt.Errorf("%w: current persisted state: %v", ErrInvalid, err)
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("%w: persisted state: %v", ErrInvalid, err)
		}
		if _, isObj := b.(map[string]any); !isObj {
			return nil, fmt.Errorf("%w: merging needs a JSON object, got %s", ErrInvalid, kindOf(b))
		}
		merged, err := json.Marshal(deepMerge(a, b))
		if err != nil {
			return nil, fmt.Errorf("%w: merged persisted state: %v", ErrInvalid, err)
		}
		out = merged
	}
	if limit > 0 && len(out) > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrStateTooLarge, len(out), limit)
	}
	return out, nil
}

func deepMerge(dst, src any) any {
	switch s := src.(type) {
	case map[string]any:
		d, ok := dst.(map[string]any)
		if !ok {
			return s
		}
		for k, v := range s {
			d[k] = deepMerge(d[k], v)
		}
		return d
	case []any:
		d, ok := dst.([]any)
		if !ok {
			return s
		}
		for i, v := range s {
			if i < len(d) {
				d[i] = deepMerge(d[i], v)
			} else {
				d = append(d, v)
			}
		}
		return d
	}
	return src
}

func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return json.RawMessage(b)
	}
	return json.RawMessage(buf.Bytes())
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}
