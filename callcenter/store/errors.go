package store

import "errors"

var (
	// ErrNotDatabase is returned by Open when the file exists but is not an
	// SQLite database (or is encrypted or damaged in its header).
	ErrNotDatabase = errors.New("file is not an SQLite database")
	// ErrSchemaTooNew is returned by Open when the database was migrated by a
	// newer program than this one: running on it could lose data.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)
