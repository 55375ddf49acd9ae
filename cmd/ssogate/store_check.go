package main

import (
	"github.com/ssogate/ssogate/authdelegate"
	"github.com/ssogate/ssogate/hub"
	"github.com/ssogate/ssogate/pingpull"
	"github.com/ssogate/ssogate/store"
	"github.com/ssogate/ssogate/store/postgres"
	"github.com/ssogate/ssogate/store/sqlite"
)

// Both backends satisfy the contract and every domain's narrow store.
var (
	_ store.Store        = (*sqlite.Store)(nil)
	_ store.Store        = (*postgres.Store)(nil)
	_ pingpull.Store     = (*sqlite.Store)(nil)
	_ pingpull.Store     = (*postgres.Store)(nil)
	_ hub.Store          = (*sqlite.Store)(nil)
	_ hub.Store          = (*postgres.Store)(nil)
	_ authdelegate.Store = (*sqlite.Store)(nil)
	_ authdelegate.Store = (*postgres.Store)(nil)
)
