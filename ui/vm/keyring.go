package vm

import "github.com/zalando/go-keyring"

// KeyringService is the service name under which passwords are saved.
const KeyringService = "AgentPhone"

// KeyringUser is the keyring key for one account on one server: the same work
// number on two servers are two different accounts.
func KeyringUser(server, workNumber string) string { return server + "|" + workNumber }

// DefaultKeyring is the operating system keyring through go-keyring
// (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
type DefaultKeyring struct{}

func (DefaultKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (DefaultKeyring) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (DefaultKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }
