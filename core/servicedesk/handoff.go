package servicedesk

import (
	"context"
	"fmt"
	"io"
)

// Handoff returns what a desk shows its agent about a hand-off, from the
// connect_to_agent item of m: the summary (transfer_info's
// summary_message_to_agent as plain text, else message_to_human_agent) and
// transfer_info's additional_data. ok is false when m has no such item.
func (m MessageResponse) Handoff() (summary string, data map[string]string, ok bool) {
	item, ok := m.ConnectToAgent()
	if !ok {
		return "", nil, false
	}
	summary = item.MessageToHumanAgent
	if ti := item.TransferInfo; ti != nil {
		data = ti.AdditionalData
		if len(ti.SummaryMessageToAgent) > 0 {
			summary = NewResponse(ti.SummaryMessageToAgent...).PlainText()
		}
	}
	return summary, data, true
}

// ReadAll opens the file and reads its content, at most Size bytes: a file
// longer than it says is an error, so a kit never sends more than it
// declared to the desk.
func (f File) ReadAll(ctx context.Context) ([]byte, error) {
	if f.Open == nil {
		return nil, fmt.Errorf("file %q: no content to read", f.Name)
	}
	rc, err := f.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("file %q: open: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, f.Size+1))
	if err != nil {
		return nil, fmt.Errorf("file %q: read: %w", f.Name, err)
	}
	if int64(len(b)) > f.Size {
		return nil, fmt.Errorf("file %q: longer than its size %d", f.Name, f.Size)
	}
	return b, nil
}
