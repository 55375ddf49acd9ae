package postgres

import (
	"context"

	"github.com/ssogate/ssogate/store"
)

func (q queries) WebhookReceiptGetMany(ctx context.Context, ids []string) (map[string]*store.WebhookReceipt, error) {
	panic("stub")
}
func (q queries) ProfileLockMany(ctx context.Context, userIDs []string) (map[string]*store.Profile, error) {
	panic("stub")
}
func (q queries) ProfileWriteMany(ctx context.Context, writes []store.ProfileWrite) error { panic("stub") }
func (q queries) WebhookAcceptMany(ctx context.Context, accepts []store.WebhookAcceptParams) error {
	panic("stub")
}
