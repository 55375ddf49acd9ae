package sqlite

import (
	"context"
	"database/sql/driver"
	"strings"
)

// stmtCacheSize bounds the prepared statements kept per connection.
const stmtCacheSize = 256

// cachingConnector wraps modernc.org/sqlite's connector so that every
// connection keeps its prepared statements. modernc prepares (parses and
// plans) every query anew; River's big UPDATEs (JobSetStateIfRunning, …)
// spent more time in sqlite3Prepare than in running, on the one connection
// everything waits for.
type cachingConnector struct{ base driver.Connector }

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// cachingConn is a connection with a statement cache. database/sql uses a
// connection (and its statements and rows) from one goroutine at a time,
// so the cache needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
	order []string // insertion order, for eviction
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool // rows of it are open: a second use prepares afresh
}

// The optional interfaces the wrapped connection implements are forwarded
// (modernc.org/sqlite's NewConnector documentation lists them).
var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.NamedValueChecker  = (*cachingConn)(nil)
)

func (c *cachingConn) Unwrap() driver.Conn { return c.Conn }

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cacheable reports whether query is one statement: scripts (migrations)
// run through the driver's multi-statement path. A ';' in a comment or a
// quoted string does not count (River's SQL has one in a comment).
func cacheable(query string) bool {
	end := false // a ';' was seen: only blanks and comments may follow
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 3
		case c == '\'' || c == '"' || c == '`':
			if end {
				return false
			}
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				return false
			}
			i += j + 1 // a doubled quote reads as two strings: fine here
		case c == ';':
			end = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			if end {
				return false
			}
		}
	}
	return true
}

// get returns the cached statement for query, preparing it when missing;
// nil when query is not cacheable or its statement is in use.
func (c *cachingConn) get(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	if cs := c.stmts[query]; cs != nil {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.order) >= stmtCacheSize {
		old := c.order[0]
		c.order = c.order[1:]
		if cs := c.stmts[old]; cs != nil && !cs.busy {
			_ = cs.stmt.Close()
			delete(c.stmts, old)
		}
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[query] = cs
	c.order = append(c.order, query)
	return cs, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	cs.busy = true
	defer func() { cs.busy = false }()
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	cs.busy = true
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		cs.busy = false
		return nil, err
	}
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *cachingConn) Close() error {
	for _, cs := range c.stmts {
		_ = cs.stmt.Close()
	}
	c.stmts = nil
	return c.Conn.Close()
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}
