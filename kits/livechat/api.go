package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// The REST side: the customer token grant (accounts) and the two Web API
// actions the kit uses over HTTP: list_group_statuses, before a chat has a
// socket, and upload_file, which RTM does not offer.

// customerToken issues a customer access token for entity ("" makes a new
// customer identity) by the agent token grant.
func (k *Kit) customerToken(ctx context.Context, entity string) (tok, id string, expires time.Time, err error) {
	if k.cfg.CustomerToken != nil {
		return k.cfg.CustomerToken(ctx, entity)
	}
	var out wire.Token
	err = retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}.Do(ctx, func(int) error {
		agent, err := k.cfg.AgentToken(ctx)
		if err != nil {
			return fmt.Errorf("livechat: agent token: %w", err)
		}
		c := httpjson.Client{Name: "livechat", Base: k.cfg.AccountsURL, HTTP: k.cfg.HTTPClient}
		return c.Do(ctx, "customer token", http.MethodPost, "/v2/customer/token", agent,
			wire.TokenRequest{GrantType: "agent_token", ClientID: k.cfg.ClientID, ResponseType: "token", EntityID: entity, OrganizationID: k.cfg.OrganizationID}, &out)
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	if out.AccessToken == "" || out.EntityID == "" {
		return "", "", time.Time{}, fmt.Errorf("livechat: customer token: an answer without access_token or entity_id: %w", servicedesk.ErrUnavailable)
	}
	return out.AccessToken, out.EntityID, time.Now().Add(time.Duration(out.ExpiresIn) * time.Second), nil
}

// webAction calls one Web API action with a customer access token.
func (k *Kit) webAction(ctx context.Context, action, token string, body, out any) error {
	c := httpjson.Client{Name: "livechat", Base: k.api, HTTP: k.cfg.HTTPClient}
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}.Do(ctx, func(int) error {
		return c.Do(ctx, action, http.MethodPost, "/"+action+"?"+k.orgQuery(), token, body, out)
	})
}

func (k *Kit) orgQuery() string {
	return url.Values{"organization_id": {k.cfg.OrganizationID}}.Encode()
}

// uploadFile sends one file to upload_file (multipart, field "file") and
// returns its URL for the file event. A file over the limit is sent cut
// just past it, so that LiveChat refuses it with its own reason (the desk
// records the refusal) without the kit reading all of it.
func (k *Kit) uploadFile(ctx context.Context, token string, f servicedesk.FileUpload) (string, error) {
	var out wire.UploadFile
	err := retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}.Do(ctx, func(int) error {
		body, ctype, err := multipartFile(ctx, f)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.api+"/upload_file?"+k.orgQuery(), body)
		if err != nil {
			return fmt.Errorf("livechat: upload_file: %w", err)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := k.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("livechat: upload_file: %w: %w", servicedesk.ErrUnavailable, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, httpjson.MaxBody))
		if err != nil {
			return fmt.Errorf("livechat: upload_file: %w: %w", servicedesk.ErrUnavailable, err)
		}
		if resp.StatusCode/100 != 2 {
			return webError("upload_file", resp, b)
		}
		if err := json.Unmarshal(b, &out); err != nil || out.URL == "" {
			return fmt.Errorf("livechat: upload_file: an answer without a url: %w", servicedesk.ErrUnavailable)
		}
		return nil
	})
	return out.URL, err
}

// webError is a Web API error answer: its error.type and message when the
// body has them.
func webError(action string, resp *http.Response, b []byte) error {
	var eb wire.ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Type != "" {
		e := &Error{Action: action, Type: eb.Error.Type, Message: eb.Error.Message, Status: resp.StatusCode}
		e.RetryAfter, _ = retry.RetryAfter(resp, time.Now())
		return e
	}
	he := &httpjson.Error{Name: "livechat", Op: action, Status: resp.StatusCode, Message: httpjson.Message(b), Kind: servicedesk.CodeForStatus(resp.StatusCode)}
	he.RetryAfter, _ = retry.RetryAfter(resp, time.Now())
	return he
}

func multipartFile(ctx context.Context, f servicedesk.FileUpload) (io.Reader, string, error) {
	rc, err := f.File.Open(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("livechat: upload_file: open %s: %w", f.ID, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(f.File.Name)))
	h.Set("Content-Type", f.File.Type)
	part, err := mw.CreatePart(h)
	if err == nil {
		_, err = io.Copy(part, io.LimitReader(rc, MaxFileBytes+1))
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("livechat: upload_file: read %s: %w", f.ID, err)
	}
	return &buf, mw.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")
