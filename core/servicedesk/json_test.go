package servicedesk

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// roundTrip decodes a sample into T, encodes it again, and requires the two
// JSON documents to be equal as values.
func roundTrip[T any](t *testing.T, file string) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: decode: %v", file, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: encode: %v", file, err)
	}
	var want, got any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: round trip changed the document\nwant %s\ngot  %s", file, compact(raw), out)
	}
	return v
}

func compact(b []byte) string {
	var buf bytes.Buffer
	_ = json.Compact(&buf, b)
	return buf.String()
}

func TestRoundTripMessageRequest(t *testing.T) {
	m := roundTrip[MessageRequest](t, "message_request.json")
	if m.ID != "msg-7f3a" || m.Input.Text != "My card was declined" || m.Input.AgentMessageType != AgentMsgFromUser {
		t.Errorf("decoded %+v", m)
	}
	if m.History == nil || m.History.ErrorState != MessageErrorFailed || m.History.Timestamp != 1764000000000 {
		t.Errorf("history %+v", m.History)
	}
	ev := roundTrip[MessageRequest](t, "message_request_event.json")
	if ev.Input.MessageType != InputEvent || !strings.Contains(string(ev.Input.Event), "page_change") {
		t.Errorf("event input %+v", ev.Input)
	}
}

func TestRoundTripAgentResponse(t *testing.T) {
	m := roundTrip[MessageResponse](t, "message_response_agent.json")
	g := m.Output.Generic
	if len(g) != 6 {
		t.Fatalf("items = %d", len(g))
	}
	checks := []struct {
		got, want any
	}{
		{g[0].ResponseType, ResponseText}, {g[0].AgentMessageType, AgentMsgFromAgent},
		{g[1].Source, "https://example.com/receipt.png"}, {g[1].Dimensions.BaseHeight, 180.0},
		{g[2].ResponseType, ResponseVideo}, {len(g[2].Extra), 1},
		{g[3].Debug.StatusCode, 404},
		{g[4].ButtonType, ButtonURL}, {g[4].Kind, ButtonKindLink}, {g[4].URL, "https://example.com/form"},
		{g[5].FullWidth, true},
		{m.MessageOptions.ResponseUserProfile.Nickname, "Ada"},
		{m.MessageOptions.ResponseUserProfile.UserType, UserHuman},
	}
	for i, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("check %d: got %v, want %v", i, c.got, c.want)
		}
	}
}

func TestRoundTripConnectToAgent(t *testing.T) {
	m := roundTrip[MessageResponse](t, "connect_to_agent.json")
	it, ok := m.ConnectToAgent()
	if !ok {
		t.Fatal("no connect_to_agent item")
	}
	if it.AgentAvailable.Message != "An agent can help you now." || it.AgentUnavailable == nil {
		t.Errorf("availability messages %+v %+v", it.AgentAvailable, it.AgentUnavailable)
	}
	ti := it.TransferInfo
	if ti.AdditionalData["queue"] != "billing" || len(ti.SummaryMessageToAgent) != 1 || ti.SummaryMessageToAgent[0].Text != "Card ending 4242 declined twice." {
		t.Errorf("transfer info %+v", ti)
	}
	if it.MessageToHumanAgent == "" || len(it.UserDefined) == 0 {
		t.Errorf("item %+v", it)
	}
}

func TestRoundTripKeepsUnmodelledItems(t *testing.T) {
	m := roundTrip[MessageResponse](t, "option_item.json")
	it := m.Output.Generic[0]
	if it.ResponseType != ResponseOption || it.Title != "Pick one" {
		t.Errorf("item %+v", it)
	}
	for _, k := range []string{"options", "preference", "streaming_metadata"} {
		if _, ok := it.Extra[k]; !ok {
			t.Errorf("Extra lacks %q: %v", k, it.Extra)
		}
	}
}

func TestRoundTripValues(t *testing.T) {
	p := roundTrip[AgentProfile](t, "agent_profile.json")
	if p.ID != "agent-ada" || p.ProfilePictureURL == "" {
		t.Errorf("profile %+v", p)
	}
	a := roundTrip[AgentAvailability](t, "agent_availability.json")
	if a.PositionInQueue == nil || *a.PositionInQueue != 0 || *a.EstimatedWaitTime != 3 {
		t.Errorf("availability %+v (zero must count as set)", a)
	}
	c := roundTrip[Capabilities](t, "capabilities.json")
	if !c.AllowFileUploads || c.MaxFiles != 3 || c.MaxFileSizeBytes != 10<<20 {
		t.Errorf("capabilities %+v", c)
	}
	u := roundTrip[CapabilitiesUpdate](t, "capabilities_update.json")
	if got := c.Apply(u); got.AllowFileUploads || got.MaxFiles != 3 {
		t.Errorf("partial update applied wrongly: %+v", got)
	}
	f := roundTrip[FileUpload](t, "file_upload.json")
	if f.File.Name != "receipt.png" || f.Status != FileUploading || !f.IsError {
		t.Errorf("file %+v", f)
	}
	s := roundTrip[StartChatOptions](t, "start_chat_options.json")
	if !strings.Contains(string(s.PreStartChatPayload), "billing") {
		t.Errorf("start options %s", s.PreStartChatPayload)
	}
	e := roundTrip[EndChatInfo](t, "end_chat_info.json")
	if !e.EndedByHumanAgent {
		t.Errorf("end info %+v", e)
	}
	d := roundTrip[AdditionalDataToAgent](t, "additional_data_to_agent.json")
	if len(d.FilesToUpload) != 1 || d.FilesToUpload[0].File.Type != "text/plain" {
		t.Errorf("additional data %+v", d)
	}
}

func TestRoundTripErrorInfos(t *testing.T) {
	c := roundTrip[ErrorInfo](t, "error_connecting.json")
	if c.Type != ErrorConnecting || c.MessageToUser != "All our agents are offline" {
		t.Errorf("connecting %+v", c)
	}
	d := roundTrip[ErrorInfo](t, "error_disconnected.json")
	if d.Type != ErrorDisconnected || d.IsDisconnected {
		t.Errorf("disconnected %+v", d)
	}
	u := roundTrip[ErrorInfo](t, "error_user_message.json")
	if u.Type != ErrorUserMessage || u.MessageID != "msg-7f3a" {
		t.Errorf("user message %+v", u)
	}
}

func TestErrorInfoRejectsIncompleteUnions(t *testing.T) {
	for _, in := range []string{`{"type":2}`, `{"type":3}`, `{"type":9}`, `{"type":"1"}`} {
		var e ErrorInfo
		if err := json.Unmarshal([]byte(in), &e); err == nil {
			t.Errorf("%s: decoded without error: %+v", in, e)
		}
	}
}

func TestGenericItemRejectsInvalidExtra(t *testing.T) {
	it := TextItem("x")
	it.Extra = map[string]json.RawMessage{"bad": json.RawMessage("{")}
	if _, err := json.Marshal(it); err == nil {
		t.Fatal("invalid extra encoded")
	}
}

func TestGenericItemExtraNeverOverridesModelled(t *testing.T) {
	it := TextItem("real")
	it.Extra = map[string]json.RawMessage{"text": json.RawMessage(`"fake"`)}
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var back GenericItem
	if err := json.Unmarshal(b, &back); err != nil || back.Text != "real" {
		t.Fatalf("got %s (%v)", b, err)
	}
}

func FuzzGenericItemRoundTrip(f *testing.F) {
	for _, s := range []string{`{"response_type":"text","text":"hi"}`, `{"response_type":"option","options":[1,2],"x":{"y":null}}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var it GenericItem
		if json.Unmarshal(b, &it) != nil {
			return
		}
		out, err := json.Marshal(it)
		if err != nil {
			t.Fatalf("re-encode %q: %v", b, err)
		}
		var again GenericItem
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decode own output %s: %v", out, err)
		}
		out2, _ := json.Marshal(again)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable: %s vs %s", out, out2)
		}
	})
}

func FuzzDecodeDeskPayloads(f *testing.F) {
	for _, name := range []string{"message_response_agent.json", "connect_to_agent.json", "error_connecting.json", "error_disconnected.json", "file_upload.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m MessageResponse
		if json.Unmarshal(b, &m) == nil {
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("decoded response does not encode: %v", err)
			}
		}
		var e ErrorInfo
		if json.Unmarshal(b, &e) == nil {
			out, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("decoded error info does not encode: %v", err)
			}
			var back ErrorInfo
			if err := json.Unmarshal(out, &back); err != nil || back.Type != e.Type || back.MessageID != e.MessageID || back.IsDisconnected != e.IsDisconnected {
				t.Fatalf("error info round trip: %+v → %s → %+v (%v)", e, out, back, err)
			}
		}
		var fu FileUpload
		_ = json.Unmarshal(b, &fu)
	})
}

// TestDecodeWhatCarbonAllows: members Carbon types as number, or as
// Record<string, unknown>, decode as Carbon writes them.
func TestDecodeWhatCarbonAllows(t *testing.T) {
	var m MessageResponse
	in := `{"output":{"generic":[
	  {"response_type":"inline_error","text":"oops","debug":{"statusCode":500,"text":"dev","info":{"trace":"abc","n":1}}},
	  {"response_type":"image","source":"https://x/y.png","dimensions":{"base_height":180.5}},
	  {"response_type":"connect_to_agent","transfer_info":{"additional_data":{"order":"42","count":3,"vip":true,"tags":["a"]}}}]}}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	g := m.Output.Generic
	if g[0].Debug == nil || string(g[0].Debug.Info) != `{"trace":"abc","n":1}` {
		t.Errorf("debug.info = %+v", g[0].Debug)
	}
	if g[1].Dimensions == nil || g[1].Dimensions.BaseHeight != 180.5 {
		t.Errorf("dimensions = %+v", g[1].Dimensions)
	}
	want := map[string]string{"order": "42", "count": "3", "vip": "true", "tags": `["a"]`}
	if got := g[2].TransferInfo.AdditionalData; !reflect.DeepEqual(got, want) {
		t.Errorf("additional_data = %v, want %v", got, want)
	}
	out, err := json.Marshal(g[0])
	if err != nil || !strings.Contains(string(out), `"info":{"trace":"abc","n":1}`) {
		t.Errorf("debug.info not written back: %s %v", out, err)
	}
}

// Carbon's queue numbers are numbers, not integers.
func TestAvailabilityNumbers(t *testing.T) {
	var a AgentAvailability
	if err := json.Unmarshal([]byte(`{"positionInQueue":2.5,"estimatedWaitTime":0.5}`), &a); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if a.PositionInQueue == nil || *a.PositionInQueue != 2.5 || a.EstimatedWaitTime == nil || *a.EstimatedWaitTime != 0.5 {
		t.Fatalf("decoded %+v", a)
	}
	b, _ := json.Marshal(QueuePosition(3))
	if string(b) != `{"positionInQueue":3}` {
		t.Fatalf("QueuePosition(3) encodes as %s", b)
	}
}
