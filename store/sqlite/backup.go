package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Backup writes a consistent copy of the database file at path to dest,
// while other connections (a running server) keep reading and writing it.
//
// The copy is made with VACUUM INTO on a read-only connection: one read
// transaction, so the copy is the database as of one instant, with WAL
// frames included, compacted. dest is created with mode 0600 (the database
// holds encrypted refresh tokens and profiles); it is written under a
// temporary name in dest's directory and linked into place only when
// complete, so a failed or interrupted backup never leaves a partial file
// at dest. Backup refuses to overwrite an existing dest and to create path
// when it does not exist.
func Backup(ctx context.Context, path, dest string) (err error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("sqlite: backup: %q is not a database file", path)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists; choose a new file", dest)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}

	// VACUUM INTO needs an absent or empty target: an empty file created
	// 0600 by CreateTemp keeps the mode the copy is written with.
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
			err = fmt.Errorf("sqlite: backup: %w", rmErr)
		}
	}()
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}

	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", (10*time.Second).Milliseconds()))
	db, err := openDB("file:" + path + "?" + q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: backup: open %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("sqlite: backup %s: %w", path, mapError(err))
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// Link, not rename: fails rather than replace a dest created meanwhile.
	if err := os.Link(tmpName, dest); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// syncFile flushes name to disk, so a backup reported done survives a crash.
func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
