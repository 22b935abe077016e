package flow

import (
	"encoding/json"
	"testing"
)

func TestDeepMerge(t *testing.T) {
	cases := []struct{ cur, src, want string }{
		{`{"a":{"b":1,"c":2}}`, `{"a":{"b":3}}`, `{"a":{"b":3,"c":2}}`},
		{`{"a":[1,{"x":1}]}`, `{"a":[9,{"y":2},3]}`, `{"a":[9,{"x":1,"y":2},3]}`},
		{`{"a":1}`, `{"a":null}`, `{"a":null}`},
		{`{"a":{"b":1}}`, `{"a":"s"}`, `{"a":"s"}`},
		{``, `{"a":1}`, `{"a":1}`},
	}
	for _, c := range cases {
		out, err := mergeDeskState(rawOf(c.cur), rawOf(c.src), true, 0)
		if err != nil || string(out) != c.want {
			t.Errorf("merge %s into %s = %s (%v), want %s", c.src, c.cur, out, err, c.want)
		}
	}
}

func rawOf(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
