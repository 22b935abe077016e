package amazonconnect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// StartChatContactAPI is the one Amazon Connect (SigV4) operation the kit
// calls; *connect.Client has it.
type StartChatContactAPI interface {
	StartChatContact(ctx context.Context, in *connect.StartChatContactInput, opts ...func(*connect.Options)) (*connect.StartChatContactOutput, error)
}

// Config configures the kit. Region, InstanceID and ContactFlowID are
// required; everything else has a default. Credentials never appear here:
// the AWS SDK's default chain finds them (environment, shared config, SSO,
// container or instance roles).
type Config struct {
	// Region is the Connect instance's AWS region, e.g. "us-east-1".
	Region string
	// InstanceID is the Connect instance id (the last part of its ARN).
	InstanceID string
	// ContactFlowID is the inbound contact flow that routes the chat.
	ContactFlowID string

	// DisplayName is the customer's name as the agent sees it. Default
	// "Customer".
	DisplayName string
	// SummaryAttribute is the contact attribute that carries the bot's
	// summary (transfer_info's summary_message_to_agent, else
	// message_to_human_agent) for the agent. Default "summary".
	SummaryAttribute string
	// Attributes are added to every contact (e.g. for routing in the flow).
	// transfer_info.additional_data is added too.
	Attributes map[string]string
	// ChatDurationInMinutes bounds a chat (Connect: 60 to 10080; 0 means
	// Connect's default of 25 hours).
	ChatDurationInMinutes int32

	// Connect makes StartChatContact calls. Default: a *connect.Client from
	// AWSConfig.
	Connect StartChatContactAPI
	// AWSConfig is used to build Connect. Default: the SDK's default
	// configuration for Region.
	AWSConfig *aws.Config
	// ConnectEndpoint overrides Connect's endpoint (a VPC endpoint; tests).
	ConnectEndpoint string
	// ParticipantEndpoint is the Participant Service's base URL. Default
	// https://participant.connect.<Region>.amazonaws.com.
	ParticipantEndpoint string
	// HTTPClient makes the Participant Service calls and uploads. Default:
	// a client of the kit's own.
	HTTPClient *http.Client
	// Dialer dials the participant WebSocket. Default: 10 s handshake.
	Dialer *websocket.Dialer

	// Attachments are the file limits reported as capabilities. Default:
	// Connect's (DefaultAttachments). AllowFileUploads false turns files off.
	Attachments *servicedesk.Capabilities
	// AgentProfile completes the profile Connect gives for an agent (a
	// participant id and a display name) from a directory of your own, e.g.
	// with a picture. Default: the profile as it is.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HeartbeatInterval is the aws/heartbeat period. Default 10 s (ChatJS).
	HeartbeatInterval time.Duration
	// TransportLifetime recycles the WebSocket before Connect's limit.
	// Default 59 minutes (ChatJS).
	TransportLifetime time.Duration
	// TypingInterval is the least time between two typing events sent, and
	// how long an agent's typing event counts. Default 10 s (ChatJS).
	TypingInterval time.Duration
	// Retries is how many times a throttled or failed call is retried.
	// Default 10.
	Retries int
	// Backoff spaces retries and reconnects. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// DefaultAttachments are Amazon Connect chat's attachment limits (Connect
// feature specifications: 20 MB, these file types).
var DefaultAttachments = servicedesk.Capabilities{
	AllowFileUploads:         true,
	AllowMultipleFileUploads: true,
	AllowedFileUploadTypes:   ".csv,.doc,.docx,.heic,.jpg,.jpeg,.mp4,.pdf,.png,.ppt,.pptx,.rtf,.txt,.wav,.xls,.xlsx",
	MaxFileSizeBytes:         20 << 20,
}

// Kit makes Amazon Connect desks, one per chat session.
type Kit struct {
	cfg         Config
	connect     StartChatContactAPI
	participant *participantAPI
	log         *slog.Logger

	desks vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit.
func New(cfg Config) (*Kit, error) {
	if cfg.InstanceID == "" || cfg.ContactFlowID == "" {
		return nil, errors.New("amazonconnect: Config.InstanceID and Config.ContactFlowID are required")
	}
	if cfg.Region == "" && (cfg.ParticipantEndpoint == "" || (cfg.Connect == nil && cfg.ConnectEndpoint == "")) {
		return nil, errors.New("amazonconnect: Config.Region is required")
	}
	cfg.DisplayName = cmp.Or(cfg.DisplayName, "Customer")
	cfg.SummaryAttribute = cmp.Or(cfg.SummaryAttribute, "summary")
	cfg.ParticipantEndpoint = cmp.Or(cfg.ParticipantEndpoint, "https://participant.connect."+cfg.Region+".amazonaws.com")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	if cfg.Attachments == nil {
		a := DefaultAttachments
		cfg.Attachments = &a
	}
	cfg.HeartbeatInterval = cmp.Or(cfg.HeartbeatInterval, 10*time.Second)
	cfg.TransportLifetime = cmp.Or(cfg.TransportLifetime, 59*time.Minute)
	cfg.TypingInterval = cmp.Or(cfg.TypingInterval, 10*time.Second)
	cfg.Retries = cmp.Or(cfg.Retries, 10)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	k := &Kit{cfg: cfg, connect: cfg.Connect, log: cfg.Logger.With("kit", "amazonconnect")}
	if k.connect == nil {
		var ac aws.Config
		if cfg.AWSConfig != nil {
			ac = cfg.AWSConfig.Copy()
		} else {
			var err error
			ac, err = awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(cfg.Region))
			if err != nil {
				return nil, fmt.Errorf("amazonconnect: load AWS configuration: %w", err)
			}
		}
		if ac.Region == "" {
			ac.Region = cfg.Region
		}
		k.connect = connect.NewFromConfig(ac, func(o *connect.Options) {
			if cfg.ConnectEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.ConnectEndpoint)
			}
		})
	}
	k.participant = newParticipantAPI(cfg.ParticipantEndpoint, cfg.HTTPClient, cfg.Retries, cfg.Backoff)
	return k, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "amazonconnect", func() (*desk, error) { return newDesk(k, p) })
}

// Capabilities returns the file limits the kit reports to chats.
func (k *Kit) Capabilities() servicedesk.Capabilities { return *k.cfg.Attachments }

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }
